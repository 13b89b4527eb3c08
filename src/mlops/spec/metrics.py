"""The headline metrics of each task: their names, the order tables list them in, which way is better.

`mlops evaluate` writes a task's metrics to eval/metrics.json; the summary, the report, the image
labels and the quality gate in params.yaml all take the lists from here. No heavy imports: `params`
uses it.
"""

from __future__ import annotations

from typing import Literal, get_args

Task = Literal["binary", "multiclass", "regression"]  # schema.yaml's `target.task`
TASKS: tuple[Task, ...] = get_args(Task)
AUTO = "auto"  # infer-schema's and copier's choice for "infer the task / the task's gate metric"

BinaryMetric = Literal["roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"]
MulticlassMetric = Literal[
    "accuracy", "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "log_loss"
]
RegressionMetric = Literal["mae", "rmse", "r2"]
# Every headline metric of any task, once (one Literal, so a wrong gate.metric gets one message).
Metric = Literal[
    "roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier",
    "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "mae", "rmse", "r2",
]  # fmt: skip

# The headline metrics of each task (mlops.spec.schema.Task), in the order every table lists them.
BY_TASK: dict[str, tuple[str, ...]] = {
    "binary": get_args(BinaryMetric),
    "multiclass": get_args(MulticlassMetric),
    "regression": get_args(RegressionMetric),
}
HEADLINE: tuple[str, ...] = get_args(Metric)
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "mae", "rmse"})
HIGHER_IS_BETTER: dict[str, bool] = {name: name not in LOWER_IS_BETTER for name in HEADLINE}
# The metric the quality gate checks when nothing else is said, per task.
DEFAULT_GATE: dict[str, str] = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "rmse"}

# What permutation importance measures the drop of, per task: scikit-learn's scorer (mlops.pipeline.evaluate)
# and its name in the card's and the report's words.
IMPORTANCE_SCORING: dict[str, str] = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
IMPORTANCE_SCORING_NAMES: dict[str, str] = {"binary": "ROC AUC", "multiclass": "accuracy", "regression": "R2"}

# The probability at or above which a row is positive when nothing else says so: the training
# metrics in model.json, and the service before eval/metrics.json (which carries
# params.yaml's evaluate.threshold) exists.
DEFAULT_THRESHOLD = 0.5
