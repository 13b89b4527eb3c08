"""The stages' work, as functions from data to results: the `mlops` commands wire them to files.

`data` reads, validates and splits the raw data; `model` builds, saves and loads the one
scikit-learn Pipeline; `evaluate` computes metrics, curves, segments and importance; `fairness`
the per-group gate; `explain` per-feature contributions to one prediction; `metadata` the lineage
written beside a model; `infer` a schema.yaml inferred from a team's own CSV.
"""
