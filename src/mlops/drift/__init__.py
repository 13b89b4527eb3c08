"""Data drift: per-column two-sample tests chosen from the schema, a dataset verdict, reports.

`check_drift` is the pure core; `sources` reads current data (CSV batches, inference logs),
`render` writes drift.md / drift.html and `issue` the text of the monitoring issue.
"""

from mlops.drift.check import ColumnDrift, Distribution, DriftResult, check_drift, choose_test

__all__ = ["ColumnDrift", "Distribution", "DriftResult", "check_drift", "choose_test"]
