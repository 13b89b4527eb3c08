"""The headline metrics: their names, the order every table lists them in, which way is better.

`mlops evaluate` writes these to eval/metrics.json; the summary, the report, the image labels and
the quality gate in params.yaml all take the list from here. No heavy imports: `params` uses it.
"""

from __future__ import annotations

from typing import Literal, get_args

Metric = Literal["roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"]
HEADLINE: tuple[str, ...] = get_args(Metric)
LOWER_IS_BETTER = frozenset({"log_loss", "brier"})
HIGHER_IS_BETTER: dict[str, bool] = {name: name not in LOWER_IS_BETTER for name in HEADLINE}

# The probability at or above which a row is positive when nothing else says so: the training
# metrics in model.json, and the service before eval/metrics.json (which carries
# params.yaml's evaluate.threshold) exists.
DEFAULT_THRESHOLD = 0.5
