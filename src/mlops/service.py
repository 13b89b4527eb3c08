"""The BentoML service: load the verified model from models/, predict, log every prediction.

Thin on purpose: settings, verification, the fast inference path and the inference log live in
`mlops.serving`. The request model is derived at import from the schema stored in
models/model.json; eval/metrics.json (MLOPS_METRICS_FILE) gives the decision threshold and held-out metrics.

Routes (all POST, JSON): /predict (one record), /predict_batch ({"records": [...]}, at most
MLOPS_MAX_BATCH), /predict_adaptive (a bare JSON array; BentoML merges concurrent calls into one
model call), /metadata. Built in: /livez, /readyz (503 until the model is verified and loaded),
/metrics, /docs.json.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import bentoml
from pydantic import BaseModel, ConfigDict, Field
from threadpoolctl import threadpool_limits

from mlops.errors import MlopsError
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
from mlops.serving.inference_log import InferenceLog
from mlops.serving.limits import RequestGuard

log = logging.getLogger(__name__)

SETTINGS = ServingSettings.from_env()
METADATA = read_metadata(SETTINGS.models_dir)
SCHEMA = metadata_schema(METADATA)
EVALUATION = read_evaluation(SETTINGS.metrics_file)
THRESHOLD = float(EVALUATION.get("threshold", DEFAULT_THRESHOLD))
ADAPTIVE_MAX_BATCH = 64

Label = Literal[(SCHEMA.target.negative, SCHEMA.target.positive)]  # type: ignore[valid-type]
Record = request_model(SCHEMA, "Record")


class Prediction(BaseModel):
    """One prediction: the class, the probability of the positive class and the model that made it."""

    model_config = ConfigDict(frozen=True)
    label: Label = Field(description=f"'{SCHEMA.target.positive}' when probability >= {THRESHOLD}")
    probability: float = Field(ge=0, le=1, description=f"probability that {SCHEMA.target.name} is positive")
    model_version: str


class Metadata(BaseModel):
    """What /metadata returns: lineage from model.json and the feature schema requests are checked with."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True, validate_by_alias=True)
    model_version: str
    model_sha256: str
    estimator: str | None = None
    threshold: float
    training_data: dict[str, Any] | None = None
    training_metrics: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = Field(default=None, description="held-out metrics from evaluation")
    schema_: dict[str, Any] = Field(alias="schema")


Records = Annotated[list[Record], Field(min_length=1, max_length=SETTINGS.max_batch)]  # type: ignore[valid-type]


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
                folder, SETTINGS.inference_log_max_bytes, SETTINGS.inference_log_keep
            )

    def __is_ready__(self) -> bool:
        return self.predictor is not None

    @bentoml.api(route="/predict", input_spec=Record)
    async def predict(self, **record: Any) -> Prediction:
        """Predict one record (the body is the record itself); ~1 ms of CPU, run on the event loop."""
        return self._predict([record])[0]

    @bentoml.api(route="/predict_batch")
    async def predict_batch(self, records: Records) -> list[Prediction]:  # type: ignore[valid-type]
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
    def predict_adaptive(self, records: Records, /) -> list[Prediction]:  # type: ignore[valid-type]
        """A bare JSON array of records; concurrent calls are merged into one model call."""
        return self._predict([r.model_dump() for r in records])

    @bentoml.api(route="/metadata")
    def metadata(self) -> Metadata:
        """The model's version, hash, training data, metrics, threshold and feature schema."""
        return Metadata.model_validate({**METADATA, "threshold": THRESHOLD, "metrics": EVALUATION or None})

    @bentoml.on_shutdown
    def close(self) -> None:
        if self.inference_log is not None:
            self.inference_log.close()

    def _predict(self, records: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        if self.predictor is None:
            raise bentoml.exceptions.ServiceUnavailable("the model failed verification; see the server log")
        probabilities = self.predictor.positive_proba(records).tolist()
        positive, negative = SCHEMA.target.positive, SCHEMA.target.negative
        outputs = [
            {"label": positive if p >= THRESHOLD else negative, "probability": p} for p in probabilities
        ]
        if self.inference_log is not None:
            self.inference_log.write(self.version, records, outputs)
        return [Prediction(**o, model_version=self.version) for o in outputs]


ModelService.add_asgi_middleware(
    RequestGuard, max_bytes=SETTINGS.max_body_bytes, json_paths=[ModelService.apis["predict_adaptive"].route]
)
