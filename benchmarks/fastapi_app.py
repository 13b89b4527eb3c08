"""The same model behind FastAPI: what a user would write instead of the BentoML service.

uvicorn fastapi_app:app --app-dir benchmarks, with MODELS_DIR, FASTAPI_PATH=pipeline|compiled and
FASTAPI_FEATURES=bare|service.

- `pipeline` is the obvious version (a one-row DataFrame through the scikit-learn Pipeline);
  `compiled` uses the same lean path as the BentoML service, to separate framework from model cost.
- `bare` answers the prediction and nothing else. `service` does on every request the work the
  BentoML service does besides BentoML's own: the service's request limits and card route (the same
  ASGI middlewares), requests counted by route and status on /metrics with their duration (as
  BentoML's Prometheus middleware does), unseen categories counted, the inference log written
  (MLOPS_INFERENCE_LOG_DIR), the decision threshold from the metrics file, and the answer built as
  the service's validated response model. That is the same path; `bare` does less.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Annotated, Any, Literal

import prometheus_client
from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from threadpoolctl import threadpool_limits

from mlops.artifacts import read_evaluation, read_metadata
from mlops.pipeline.model import load_model
from mlops.serving.api import task_outputs
from mlops.serving.bundle import PipelinePredictor, ServingSettings, metadata_schema
from mlops.serving.card_route import CardRoute
from mlops.serving.fast import compile_pipeline
from mlops.serving.inference_log import InferenceLog
from mlops.serving.limits import RequestGuard
from mlops.spec.metrics import DEFAULT_THRESHOLD
from mlops.spec.schema import known_categories, request_model, unseen_counts

MODELS = Path(os.environ.get("MODELS_DIR", "models"))
FEATURES = os.environ.get("FASTAPI_FEATURES", "bare")
METADATA = read_metadata(MODELS)
SCHEMA = metadata_schema(METADATA)
Record = request_model(SCHEMA)
MODEL = load_model(MODELS / METADATA["model_file"])
PREDICTOR = (
    compile_pipeline(MODEL)
    if os.environ.get("FASTAPI_PATH") == "compiled"
    else PipelinePredictor(MODEL, tuple(SCHEMA.feature_names))
)
threadpool_limits(1, user_api="openmp")
app = FastAPI()


class Batch(BaseModel):
    records: Annotated[list[Record], Field(min_length=1, max_length=1000)]  # type: ignore[valid-type]


def _answer(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    target = SCHEMA.target
    return [
        {"label": target.positive if p >= 0.5 else target.negative, "probability": p, "model_version": "x"}
        for p in PREDICTOR.positive_proba(records).tolist()
    ]


if FEATURES == "bare":

    @app.post("/predict")
    async def predict(record: Record) -> dict[str, Any]:  # type: ignore[valid-type]
        return _answer([record.model_dump()])[0]

    @app.post("/predict_batch")
    async def predict_batch(batch: Batch) -> list[dict[str, Any]]:
        return _answer([r.model_dump() for r in batch.records])

else:
    SETTINGS = ServingSettings.from_env()
    THRESHOLD = float(read_evaluation(SETTINGS.metrics_file).get("threshold", DEFAULT_THRESHOLD))
    VERSION = METADATA["model_version"]
    KNOWN = known_categories(SCHEMA)
    LOG = InferenceLog(
        SETTINGS.inference_log_dir or Path(tempfile.mkdtemp()) / "log",
        SETTINGS.inference_log_max_bytes,
        SETTINGS.inference_log_max_total_bytes,
    )
    UNSEEN = prometheus_client.Counter("mlops_unseen_categories", "Unseen categories", ["column"])
    REQUESTS = prometheus_client.Counter("requests", "Requests by route and status", ["endpoint", "code"])
    DURATION = prometheus_client.Histogram("request_duration_seconds", "Duration", ["endpoint", "code"])
    IN_PROGRESS = prometheus_client.Gauge("request_in_progress", "Requests in progress", ["endpoint"])
    Label = Literal[SCHEMA.target.labels or ("",)]  # type: ignore[valid-type]

    class Prediction(BaseModel):
        model_config = ConfigDict(frozen=True)
        label: Label  # type: ignore[valid-type]
        probability: float = Field(ge=0, le=1)
        model_version: str

    def _served(rows: list[dict[str, Any]]) -> list[Prediction]:
        for name, count in unseen_counts(rows, KNOWN).items():
            UNSEEN.labels(column=name).inc(count)
        outputs = task_outputs(PREDICTOR.positive_proba(rows), SCHEMA.target, THRESHOLD)
        LOG.write(VERSION, rows, outputs)
        return [Prediction(**o, model_version=VERSION) for o in outputs]

    @app.post("/predict")
    async def predict(record: Record) -> Prediction:  # type: ignore[valid-type]
        return _served([record.model_dump()])[0]

    @app.post("/predict_batch")
    async def predict_batch(batch: Batch) -> list[Prediction]:
        return _served([r.model_dump() for r in batch.records])

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(prometheus_client.generate_latest(), media_type=prometheus_client.CONTENT_TYPE_LATEST)

    Message = MutableMapping[str, Any]
    Send = Callable[[Message], Awaitable[None]]

    class Counted:
        """Requests by route and status, their duration, and those in progress (BentoML's metrics)."""

        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Send) -> None:
            if scope["type"] != "http" or scope["path"] == "/metrics":
                await self.app(scope, receive, send)
                return
            endpoint, status, began = scope["path"], 500, time.perf_counter()

            async def counting(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            with IN_PROGRESS.labels(endpoint).track_inprogress():
                await self.app(scope, receive, counting)
            REQUESTS.labels(endpoint, status).inc()
            DURATION.labels(endpoint, status).observe(time.perf_counter() - began)

    app.add_middleware(RequestGuard, max_bytes=SETTINGS.max_body_bytes)
    app.add_middleware(CardRoute, card_file=MODELS / "card.html")
    app.add_middleware(Counted)
