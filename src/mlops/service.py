"""The BentoML service: load the verified model from models/, predict, log every prediction.

Thin on purpose: settings, verification, the fast inference path and the inference log live in
`mlops.serving`. The request model is derived at import from the schema stored in
models/model.json; eval/metrics.json (MLOPS_METRICS_FILE) gives the decision threshold and held-out metrics.

Routes (all POST, JSON): /predict (one record), /predict_batch ({"records": [...]}, at most
MLOPS_MAX_BATCH), /predict_adaptive (a bare JSON array; BentoML merges concurrent calls into one
model call), /metadata; GET /card (the model card, HTML). `"explain": true` in a /predict body adds
the record's top feature contributions (mlops.explain; docs/governance.md gives the latency budget).
Built in: /livez, /readyz (503 until the model is verified and loaded), /metrics, /docs.json.
"""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import bentoml
from pydantic import BaseModel, ConfigDict, Field, create_model
from threadpoolctl import threadpool_limits

from mlops.errors import MlopsError
from mlops.explain import explain
from mlops.metrics import DEFAULT_THRESHOLD
from mlops.schema import request_model
from mlops.serving.bundle import (
    Predictor,
    ServingSettings,
    load_verified,
    metadata_schema,
    read_evaluation,
    read_metadata,
)
from mlops.serving.card import CardRoute
from mlops.serving.inference_log import InferenceLog
from mlops.serving.limits import RequestGuard

log = logging.getLogger(__name__)

SETTINGS = ServingSettings.from_env()
METADATA = read_metadata(SETTINGS.models_dir)
SCHEMA = metadata_schema(METADATA)
EVALUATION = read_evaluation(SETTINGS.metrics_file)
THRESHOLD = float(EVALUATION.get("threshold", DEFAULT_THRESHOLD))
ADAPTIVE_MAX_BATCH = 64

TASK = SCHEMA.target.task
Label = Literal[SCHEMA.target.labels or ("",)]  # type: ignore[valid-type]
Record = request_model(SCHEMA, "Record")
REFERENCE: dict[str, Any] | None = METADATA.get("reference")
EXPLAIN_TOP = 5
PredictRequest = create_model(
    "PredictRequest",
    __base__=Record,
    explain=(bool, Field(default=False, description=f"add the top {EXPLAIN_TOP} feature contributions")),
)


class Contribution(BaseModel):
    """How far the probability would move had `feature` its reference (typical training) value."""

    feature: str
    value: Any
    reference: Any
    contribution: float = Field(description="probability minus the probability with the reference value")


class Prediction(BaseModel):
    """One prediction: the class, the probability of the positive class and the model that made it."""

    model_config = ConfigDict(frozen=True)
    label: Label = Field(description=f"'{SCHEMA.target.positive}' when probability >= {THRESHOLD}")
    probability: float = Field(ge=0, le=1, description=f"probability that {SCHEMA.target.name} is positive")
    model_version: str
    contributions: list[Contribution] | None = Field(
        default=None,
        description='with "explain": true; absent otherwise',
        exclude_if=lambda value: value is None,
    )


class ClassPrediction(BaseModel):
    """One multi-class prediction: the most probable class, every class's probability, the model."""

    model_config = ConfigDict(frozen=True)
    label: Label = Field(description="the most probable class")
    probabilities: dict[str, float] = Field(description="probability of each class, by its label")
    model_version: str


class ValuePrediction(BaseModel):
    """One regression prediction: the predicted value and the model that made it."""

    model_config = ConfigDict(frozen=True)
    value: float = Field(description=f"predicted {SCHEMA.target.name}")
    model_version: str
    contributions: list[Contribution] | None = Field(
        default=None,
        description='with "explain": true; absent otherwise (value minus the value with the reference)',
        exclude_if=lambda value: value is None,
    )


# What /predict returns for the model's task: binary keeps label + positive probability.
Output = {"binary": Prediction, "multiclass": ClassPrediction, "regression": ValuePrediction}[TASK]


class Metadata(BaseModel):
    """What /metadata returns: lineage from model.json and the feature schema requests are checked with."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)
    model_version: str
    model_sha256: str
    task: str = Field(default=TASK, description="binary, multiclass or regression (schema.yaml)")
    estimator: str | None = None
    threshold: float | None = Field(description="the positive class's decision threshold (binary only)")
    training_data: dict[str, Any] | None = None
    training_metrics: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = Field(default=None, description="held-out metrics from evaluation")
    schema_: dict[str, Any] = Field(alias="schema")


Records = Annotated[list[Record], Field(min_length=1, max_length=SETTINGS.max_batch)]  # type: ignore[valid-type]


@functools.cache
def log_write_failures() -> Any:
    """The /metrics counter of failed inference-log writes.

    prometheus_client is imported here, in the worker, after BentoML has set
    PROMETHEUS_MULTIPROC_DIR: imported earlier it would count in a registry /metrics never reads.
    """
    import prometheus_client

    return prometheus_client.Counter(
        "mlops_inference_log_write_failures",
        "Predictions served but not written to the inference log (full or unwritable volume)",
    )


@bentoml.service(name="model-service", traffic={"timeout": 30})
class ModelService:
    """Serves models/model.skops; refuses to become ready unless its SHA-256 matches model.json."""

    def __init__(self) -> None:
        threadpool_limits(SETTINGS.threads, user_api="openmp")
        self.version: str = METADATA["model_version"]
        self.predictor: Predictor | None = None
        try:
            self.predictor = load_verified(SETTINGS.models_dir, METADATA)
            log.info("serving model %s from %s", self.version, SETTINGS.models_dir)
        except MlopsError as error:
            log.error("not ready: %s", error)
        folder = SETTINGS.inference_log_dir
        self.inference_log = None
        if folder is not None:
            self.inference_log = InferenceLog(
                folder,
                SETTINGS.inference_log_max_bytes,
                SETTINGS.inference_log_max_total_bytes,
                on_failure=log_write_failures().inc,
            )
        # What is loaded by now (BentoML, pandas, scikit-learn, the model) lives as long as the
        # process: move it out of the collector's reach. Otherwise every full collection walks it
        # all, and stalls the request that triggers it for 100-400 ms every few seconds under load
        # (the p99 tail in docs/performance.md).
        gc.collect()
        gc.freeze()

    def __is_ready__(self) -> bool:
        return self.predictor is not None

    @bentoml.api(route="/predict", input_spec=PredictRequest)
    async def predict(self, **record: Any) -> Output:  # type: ignore[valid-type]
        """Predict one record (the body is the record itself); ~1 ms of CPU, run on the event loop."""
        wanted = record.pop("explain", False)
        prediction = self._predict([record])[0]
        return self._explained(prediction, record) if wanted else prediction

    @bentoml.api(route="/predict_batch")
    async def predict_batch(self, records: Records) -> list[Output]:  # type: ignore[valid-type]
        """Predict up to MLOPS_MAX_BATCH records in one call: {"records": [...]}.

        `async` on purpose: a 100-record call costs ~3 ms of CPU under the GIL, less than the hop
        to a worker thread and back costs under load (benchmarks/serving.py).
        """
        return self._predict([r.model_dump() for r in records])

    @bentoml.api(
        route="/predict_adaptive",
        batchable=True,
        max_batch_size=ADAPTIVE_MAX_BATCH,
        max_latency_ms=10_000,
    )
    def predict_adaptive(self, records: Records, /) -> list[Output]:  # type: ignore[valid-type]
        """A bare JSON array of records; concurrent calls are merged into one model call."""
        return self._predict([r.model_dump() for r in records])

    @bentoml.api(route="/metadata")
    def metadata(self) -> Metadata:
        """The model's version, hash, training data, metrics, threshold and feature schema."""
        threshold = THRESHOLD if TASK == "binary" else None
        return Metadata.model_validate({**METADATA, "threshold": threshold, "metrics": EVALUATION or None})

    @bentoml.on_shutdown
    def close(self) -> None:
        if self.inference_log is not None:
            self.inference_log.close()

    def _explained(self, prediction: Any, record: Mapping[str, Any]) -> Any:
        if self.predictor is None or REFERENCE is None or TASK == "multiclass":
            raise bentoml.exceptions.BadInput(
                "explanations need a binary or regression model with a reference"
            )
        predict = self.predictor.positive_proba if TASK == "binary" else self.predictor.outputs
        _, found = explain(predict, record, REFERENCE, EXPLAIN_TOP)
        return prediction.model_copy(update={"contributions": [Contribution(**vars(c)) for c in found]})

    def _predict(self, records: Sequence[Mapping[str, Any]]) -> list[Any]:
        if self.predictor is None:
            raise bentoml.exceptions.ServiceUnavailable("the model failed verification; see the server log")
        binary = TASK == "binary"
        raw = self.predictor.positive_proba(records) if binary else self.predictor.outputs(records)
        outputs = task_outputs(raw)
        if self.inference_log is not None:
            self.inference_log.write(self.version, records, outputs)
        return [Output(**o, model_version=self.version) for o in outputs]


def task_outputs(raw: Any) -> list[dict[str, Any]]:
    """The model's outputs as the task's response fields (the inference log records them too):
    binary from the positive class's probabilities, multi-class from every class's, regression
    from the values."""
    if TASK == "regression":
        return [{"value": v} for v in raw.tolist()]
    if TASK == "multiclass":
        labels = SCHEMA.target.labels
        return [
            {
                "label": labels[int(row.argmax())],
                "probabilities": dict(zip(map(str, labels), row.tolist(), strict=True)),
            }
            for row in raw
        ]
    positive, negative = SCHEMA.target.positive, SCHEMA.target.negative
    return [{"label": positive if p >= THRESHOLD else negative, "probability": p} for p in raw.tolist()]


ModelService.add_asgi_middleware(CardRoute, card_file=SETTINGS.models_dir / "card.html")
ModelService.add_asgi_middleware(
    RequestGuard, max_bytes=SETTINGS.max_body_bytes, json_paths=[ModelService.apis["predict_adaptive"].route]
)
