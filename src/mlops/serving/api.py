"""The service's request and response bodies, and its answers, derived from the model's schema.

Pure: nothing here reads a file or knows BentoML. `api_types` turns the schema stored in
models/model.json (the same schema.yaml that validated the training data), the decision threshold
and the batch bound into the pydantic models the service's routes are typed with, so the OpenAPI
spec, the 400 answers and the response bodies all follow the model being served.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, create_model

from mlops.spec.schema import Schema, Target, request_model

EXPLAIN_TOP = 5  # contributions added by "explain": true

# A request body's top level refuses an unknown key, like a record (mlops.spec.schema.request_model): else
# `{"records": [...], "explain": true}` on /predict_batch is answered as if the key were not there.
STRICT_BODY = ConfigDict(extra="forbid", frozen=True)


class NoInput(BaseModel):
    """/metadata's body: `{}` (or none); any key is refused, as on every other route."""

    model_config = STRICT_BODY


class Contribution(BaseModel):
    """How far the probability would move had `feature` its reference (typical training) value."""

    feature: str
    value: Any
    reference: Any
    contribution: float = Field(description="probability minus the probability with the reference value")


class Metadata(BaseModel):
    """What /metadata returns: lineage from model.json and the feature schema requests are checked with."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)
    model_version: str
    model_sha256: str
    task: str = Field(description="binary, multiclass or regression (schema.yaml)")
    estimator: str | None = None
    predictor: str | None = Field(
        default=None, description="what evaluates the model: treelite's compiled trees or scikit-learn"
    )
    threshold: float | None = Field(description="the positive class's decision threshold (binary only)")
    training_data: dict[str, Any] | None = None
    training_metrics: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = Field(default=None, description="held-out metrics from evaluation")
    schema_: dict[str, Any] = Field(alias="schema")


class Prediction(BaseModel):
    """One prediction: the class, the probability of the positive class and the model that made it."""

    model_config = ConfigDict(frozen=True)
    label: str
    probability: float = Field(ge=0, le=1)
    model_version: str
    contributions: list[Contribution] | None = Field(
        default=None,
        description='with "explain": true; absent otherwise',
        exclude_if=lambda value: value is None,
    )


class ClassPrediction(BaseModel):
    """One multi-class prediction: the most probable class, every class's probability, the model."""

    model_config = ConfigDict(frozen=True)
    label: str = Field(description="the most probable class")
    probabilities: dict[str, float] = Field(description="probability of each class, by its label")
    model_version: str


class ValuePrediction(BaseModel):
    """One regression prediction: the predicted value and the model that made it."""

    model_config = ConfigDict(frozen=True)
    value: float
    model_version: str
    contributions: list[Contribution] | None = Field(
        default=None,
        description='with "explain": true; absent otherwise (value minus the value with the reference)',
        exclude_if=lambda value: value is None,
    )


@dataclass(frozen=True)
class ApiTypes:
    """The routes' bodies for one model: what the service class's API methods are typed with."""

    request: type[BaseModel]  # /predict: one record, and "explain"
    records: Any  # /predict_adaptive: a bare list of 1 to max_batch records
    batch: type[BaseModel]  # /predict_batch: {"records": [...]}
    output: type[BaseModel]  # one answer, for the model's task
    outputs_json: Callable[[list[Any]], bytes]  # a list of answers as JSON, in one step


def api_types(schema: Schema, threshold: float, max_batch: int) -> ApiTypes:
    """The request and response models for `schema`'s features and task."""
    record = request_model(schema, "Record")
    request = create_model(  # the record's config: unknown keys refused
        "PredictRequest",
        __base__=record,
        explain=(
            StrictBool,  # JSON true or false only: "yes", "false", 1 are refused, not converted
            Field(default=False, description=f"add the top {EXPLAIN_TOP} feature contributions"),
        ),
    )
    records = Annotated[list[record], Field(min_length=1, max_length=max_batch)]  # type: ignore[valid-type]
    batch = create_model("PredictBatchRequest", __config__=STRICT_BODY, records=(records, ...))
    output = output_model(schema.target, threshold)
    outputs_json = TypeAdapter(list[output]).dump_json  # type: ignore[valid-type]
    return ApiTypes(request, records, batch, output, outputs_json)


def output_model(target: Target, threshold: float) -> type[BaseModel]:
    """What /predict answers for the target's task, its label narrowed to the target's labels."""
    label_type: Any = Literal[target.labels or ("",)]
    if target.task == "regression":
        value = (float, Field(description=f"predicted {target.name}"))
        return create_model("ValuePrediction", __base__=ValuePrediction, value=value)
    if target.task == "multiclass":
        label = (label_type, Field(description="the most probable class"))
        return create_model("ClassPrediction", __base__=ClassPrediction, label=label)
    label = (label_type, Field(description=f"'{target.positive}' when probability >= {threshold}"))
    probability = (
        float,
        Field(ge=0, le=1, description=f"probability that {target.name} is positive"),
    )
    return create_model("Prediction", __base__=Prediction, label=label, probability=probability)


def task_outputs(raw: Any, target: Target, threshold: float) -> list[dict[str, Any]]:
    """The model's outputs as the task's response fields (the inference log records them too):
    binary from the positive class's probabilities, multi-class from every class's, regression
    from the values."""
    if target.task == "regression":
        return [{"value": v} for v in raw.tolist()]
    if target.task == "multiclass":
        labels = target.labels
        return [
            {
                "label": labels[int(row.argmax())],
                "probabilities": dict(zip(map(str, labels), row.tolist(), strict=True)),
            }
            for row in raw
        ]
    positive, negative = target.positive, target.negative
    return [{"label": positive if p >= threshold else negative, "probability": p} for p in raw.tolist()]
