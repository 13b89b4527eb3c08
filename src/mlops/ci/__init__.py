"""The CI edge: what the GitHub workflows run, in two runtimes.

Standard library only (run as `python3 -m mlops.ci.NAME` with `PYTHONPATH=src`, by the runner's own
Python, in the write-token jobs that install nothing and never run a pull request's code):
`process` (the one subprocess wrapper), `rest` (GitHub's REST API through `gh api`), `git`
(the token handed to git), `outputs` (the step's outputs and summary), `post_comment`,
`post_check`, `drift_issue`, `drift_history`. tests/unit/test_ci_stdlib.py holds them to it.

The rest runs in the project's environment (`uv run`), where the whole package is at hand.
Importing this package does nothing.
"""
