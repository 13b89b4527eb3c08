"""params.yaml, read once into typed, frozen models that refuse unknown keys."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from mlops.errors import ConfigError
from mlops.io import read_validated
from mlops.spec.metrics import BY_TASK, Metric
from mlops.spec.schema import Frozen, Schema


class PrepareParams(Frozen):
    test_size: float = Field(gt=0, lt=1, description="Share of rows held out for evaluation.")
    seed: int


class LogisticRegressionParams(Frozen):
    C: float = Field(gt=0, description="Inverse regularisation strength.")
    max_iter: int = Field(gt=0)
    class_weight: Literal["balanced"] | None = None


class HistGradientBoostingParams(Frozen):
    learning_rate: float = Field(gt=0, le=1)
    max_iter: int = Field(gt=0)
    max_leaf_nodes: int = Field(ge=2)
    min_samples_leaf: int = Field(ge=1)
    l2_regularization: float = Field(ge=0)
    class_weight: Literal["balanced"] | None = None


Estimator = Literal["logistic_regression", "hist_gradient_boosting"]


class TrainParams(Frozen):
    """`estimator` picks which of the sections below builds the model."""

    estimator: Estimator
    seed: int
    max_rows: int = Field(
        ge=100,
        description="Training rows at most: a larger training split is sampled, stratified on the "
        "target for classification and uniformly for regression, seeded by `seed`. Bounds the "
        "stage's memory (docs/performance.md).",
    )
    logistic_regression: LogisticRegressionParams
    hist_gradient_boosting: HistGradientBoostingParams


class EvaluateParams(Frozen):
    threshold: float = Field(gt=0, lt=1, description="Probability at or above which a row is positive.")
    segments: tuple[str, ...] = Field(description="Categorical features to break metrics down by.")
    importance_repeats: int = Field(ge=1)
    importance_max_rows: int = Field(
        ge=100, description="Rows sampled per repeat for permutation importance."
    )
    seed: int
    bootstrap_samples: int = Field(
        default=200, ge=10, description="Resamples of the test split for the metrics' confidence intervals."
    )
    bootstrap_max_rows: int = Field(
        default=20_000, ge=100, description="Test rows per resample at most (larger sets: m-out-of-n)."
    )
    confidence: float = Field(default=0.95, gt=0, lt=1, description="Level of the confidence intervals.")
    min_group_rows: int = Field(
        default=30, ge=1, description="Groups of a sensitive column with fewer test rows are not compared."
    )


FairnessMetric = Literal["selection_rate", "true_positive_rate", "false_positive_rate"]


class FairnessGateParams(Frozen):
    """Bounds on the gaps between groups of each sensitive column (schema.yaml `sensitive: true`).

    A difference is the largest group's value minus the smallest's; a ratio is smallest over largest
    (1 is parity). A metric not listed is reported but not bounded.
    """

    max_difference: dict[FairnessMetric, float] = Field(default_factory=dict)
    min_ratio: dict[FairnessMetric, float] = Field(default_factory=dict)

    @field_validator("max_difference", "min_ratio")
    @classmethod
    def _in_unit_interval(cls, bounds: dict[str, float]) -> dict[str, float]:
        outside = {name: value for name, value in bounds.items() if not 0 <= value <= 1}
        if outside:
            raise ValueError(f"bounds must lie between 0 and 1, found {outside}")
        return bounds


class GateParams(Frozen):
    """The quality gate a pull request must pass. The report applies the base revision's gate."""

    metric: Metric = Field(description="A headline metric of the task (mlops.spec.metrics.BY_TASK).")
    min: float = Field(description="The head's metric must be at least this.")
    max_drop: float = Field(ge=0, description="Largest allowed fall against the base, absolute.")
    fairness: FairnessGateParams = Field(default_factory=FairnessGateParams)


DriftTest = Literal["ks", "wasserstein", "chisquare", "jensenshannon"]


class DriftColumnParams(Frozen):
    """A per-column override of the drift test and/or its threshold."""

    test: DriftTest | None = None
    threshold: float | None = Field(default=None, gt=0)


class DriftParams(Frozen):
    """The drift check (docs/drift.md). `auto` picks the test the way Evidently documents its defaults."""

    min_rows: int = Field(ge=1, description="A current batch with fewer rows is refused (exit 3).")
    size_cutoff: int = Field(ge=1, description="Reference rows at or below: p-value tests; above: distances.")
    numeric_test: Literal["auto", "ks", "wasserstein"]
    categorical_test: Literal["auto", "chisquare", "jensenshannon"]
    max_unique_as_categorical: int = Field(
        ge=0,
        description="Numeric columns with at most this many distinct reference values: categorical tests.",
    )
    p_value: float = Field(gt=0, lt=1, description="KS / chi-square: drift when p < this.")
    wasserstein_threshold: float = Field(gt=0, description="Wasserstein distance / reference std.")
    jensenshannon_threshold: float = Field(gt=0, le=1, description="Jensen-Shannon distance (natural log).")
    drift_share: float = Field(gt=0, le=1, description="Dataset drift when this share of features drift.")
    key_columns: tuple[str, ...] = Field(default=(), description="Drift in any of these is dataset drift.")
    prediction_column: str = Field(description="Name of the prediction in the current data / inference log.")
    unseen_share: float = Field(
        default=0.01,
        gt=0,
        lt=1,
        description="A categorical column drifts when more of its current rows than this share hold "
        "values outside the schema's categories.",
    )
    columns: dict[str, DriftColumnParams] = Field(default_factory=dict)


class Params(Frozen):
    prepare: PrepareParams
    train: TrainParams
    evaluate: EvaluateParams
    gate: GateParams
    drift: DriftParams


def schema_problems(params: Params, schema: Schema) -> list[str]:
    """The params that name columns the schema does not have, one line each (empty when all fit)."""
    features = set(schema.feature_names)
    outputs = {schema.target.name, params.drift.prediction_column}
    named = {
        "evaluate.segments": [s for s in params.evaluate.segments if s not in features],
        "drift.key_columns": [c for c in params.drift.key_columns if c not in features],
        "drift.columns": [c for c in params.drift.columns if c not in features | outputs],
    }
    return [f"{key} names {sorted(bad)}, not features of the schema" for key, bad in named.items() if bad]


def load_params(path: Path) -> Params:
    """Read params.yaml; a misspelt or unknown key fails with its dotted path."""
    return read_validated(path, Params, "params")


def check_task(params: Params, task: str, source: Path) -> None:
    """The choices of params.yaml that depend on the schema's task (binary, multiclass, regression).

    The gate's metric must be one the task's evaluation writes, and class weights apply to
    classification only; either mistake is named with its key and the metrics that would do.
    """
    allowed = BY_TASK[task]
    if params.gate.metric not in allowed:
        raise ConfigError(
            f"{source}: gate.metric '{params.gate.metric}' is not a metric of a {task} task; "
            f"use one of {', '.join(allowed)}"
        )
    train = params.train
    weighted = [
        f"train.{name}.class_weight"
        for name in ("logistic_regression", "hist_gradient_boosting")
        if getattr(train, name).class_weight is not None
    ]
    if task == "regression" and weighted:
        raise ConfigError(f"{source}: {', '.join(weighted)} applies to classification only; set it to null")
