"""The pull-request report: compare the head's pipeline results with a base revision's.

`results` reads a revision's results (working tree or git), `compare` turns two of them into a
`Comparison` (a pure function, quality gate included), `markdown` and `html` render it, and
`latency` measures the head's model. The `mlops report` command wires them together.
"""
