"""The BentoML service: load the verified model from models/, predict, log every prediction.

This module is the service's entry point (`bentoml serve mlops.service:ModelService`, bentofile.yaml's
`service:`), as `main` is a command's: importing it is starting the service. It reads its settings
from the MLOPS_* environment once (mlops.serving.bundle.ServingSettings), then models/model.json,
whose schema types the routes (mlops.serving.api), and eval/metrics.json (MLOPS_METRICS_FILE), the
decision threshold and held-out metrics. The model file itself is loaded and verified in
`ModelService.__init__`, when a server (or an ASGI app's start-up) creates the service.

Routes (all POST, JSON): /predict (one record), /predict_batch ({"records": [...]}, at most
MLOPS_MAX_BATCH), /predict_adaptive (a bare JSON array; BentoML merges concurrent calls into one
model call), /metadata; GET /card (the model card, HTML). `"explain": true` in a /predict body adds
the record's top feature contributions (mlops.pipeline.explain; docs/governance.md gives the latency budget).
Built in: /livez, /readyz (503 until the model is verified and loaded), /metrics, /docs.json.
"""

import functools
import gc
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import bentoml
from starlette.responses import Response
from threadpoolctl import threadpool_limits

from mlops.artifacts import decision_threshold, read_evaluation, read_metadata
from mlops.errors import MlopsError
from mlops.pipeline.explain import explain
from mlops.serving.api import (
    EXPLAIN_TOP,
    Contribution,
    Metadata,
    NoInput,
    api_types,
    task_outputs,
)
from mlops.serving.bundle import (
    Predictor,
    ServingSettings,
    load_verified,
    metadata_schema,
)
from mlops.serving.card_route import CardRoute
from mlops.serving.inference_log import InferenceLog
from mlops.serving.limits import RequestGuard
from mlops.serving.overhead import logging_config, tracing_config
from mlops.spec.schema import known_categories, unseen_counts

log = logging.getLogger(__name__)

ADAPTIVE_MAX_BATCH = 64

# Read once, at start-up: the service's class is typed by the model it serves.
SETTINGS = ServingSettings.from_env()
METADATA = read_metadata(SETTINGS.models_dir)
SCHEMA = metadata_schema(METADATA)
EVALUATION = read_evaluation(SETTINGS.metrics_file)
THRESHOLD = decision_threshold(EVALUATION)
API = api_types(SCHEMA, THRESHOLD, SETTINGS.max_batch)
TASK = SCHEMA.target.task
KNOWN = known_categories(SCHEMA)  # features whose unseen values are accepted, and counted


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


@functools.cache
def log_values_cut() -> Any:
    """The /metrics counter of input values logged cut to the inference log's MAX_VALUE_CHARS."""
    import prometheus_client

    return prometheus_client.Counter(
        "mlops_inference_log_values_cut",
        "Input values too long to log whole, written to the inference log cut, with a marker",
        ["column"],
    )


@functools.cache
def unseen_categories() -> Any:
    """The /metrics counter of values outside a feature's schema categories, encoded as unknown."""
    import prometheus_client

    return prometheus_client.Counter(
        "mlops_unseen_categories",
        "Values of a categorical feature outside its schema categories, accepted and encoded as unknown",
        ["column"],
    )


def open_inference_log(settings: ServingSettings) -> InferenceLog | None:
    """The inference log in `settings.inference_log_dir`, its failures and cut values on /metrics."""
    if settings.inference_log_dir is None:
        return None
    return InferenceLog(
        settings.inference_log_dir,
        settings.inference_log_max_bytes,
        settings.inference_log_max_total_bytes,
        on_failure=log_write_failures().inc,
        on_cut=lambda column: log_values_cut().labels(column=column).inc(),
    )


def bind_apis(instance: Any, apis: Mapping[str, Any]) -> None:
    """Bind each API method to `instance` once, as an attribute of the instance.

    BentoML looks the route's method up on the instance for every request, and its descriptor
    builds a new wrapper each time, reading the function's signature with `inspect`. The
    instance's own attribute comes first in that lookup, so the wrapper is built once here.
    """
    for name in apis:
        setattr(instance, name, getattr(instance, name))


def json_response(body: bytes) -> Any:
    """A prediction route's answer, already JSON: BentoML sends a Response as it is.

    BentoML's own serialisation validates the returned model again, dumps it to a dict, then to
    JSON, and streams it in two body messages; the route's return type still documents the body
    in the OpenAPI spec.
    """
    return Response(body, media_type="application/json")


@bentoml.service(
    name="model-service", traffic={"timeout": 30}, tracing=tracing_config(), logging=logging_config()
)
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
        self.inference_log = open_inference_log(SETTINGS)
        for name in KNOWN:  # every watched column on /metrics from the start, at 0
            unseen_categories().labels(column=name)
        bind_apis(self, ModelService.apis)
        # What is loaded by now (BentoML, pandas, scikit-learn, the model) lives as long as the
        # process: move it out of the collector's reach. Otherwise every full collection walks it
        # all, and stalls the request that triggers it for 100-400 ms every few seconds under load
        # (the p99 tail in docs/performance.md).
        gc.collect()
        gc.freeze()

    def __is_ready__(self) -> bool:
        return self.predictor is not None

    @bentoml.api(route="/predict")
    async def predict(self, request: API.request, /) -> API.output:  # type: ignore[name-defined]
        """Predict one record (the body is the record itself); ~1 ms of CPU, run on the event loop."""
        # One positional-only input: BentoML passes the validated model as it is (keyword inputs
        # cost a pydantic deprecation warning per request); the answer is made JSON here, once.
        fields = request.model_dump()
        wanted = fields.pop("explain")
        predicted = self._predict([fields])[0]
        if wanted:
            predicted = self._explained(predicted, fields)
        return json_response(predicted.__pydantic_serializer__.to_json(predicted))

    @bentoml.api(route="/predict_batch")
    async def predict_batch(self, request: API.batch, /) -> list[API.output]:  # type: ignore[name-defined]
        """Predict up to MLOPS_MAX_BATCH records in one call: {"records": [...]}.

        `async` on purpose: a 100-record call costs ~3 ms of CPU under the GIL, less than the hop
        to a worker thread and back costs under load (benchmarks/serving.py).
        """
        records = request.model_dump()["records"]
        return json_response(API.outputs_json(self._predict(records)))

    @bentoml.api(
        route="/predict_adaptive",
        batchable=True,
        max_batch_size=ADAPTIVE_MAX_BATCH,
        max_latency_ms=10_000,
    )
    def predict_adaptive(self, records: API.records, /) -> list[API.output]:  # type: ignore[name-defined]
        """A bare JSON array of records; concurrent calls are merged into one model call."""
        return self._predict([r.model_dump() for r in records])

    @bentoml.api(route="/metadata", input_spec=NoInput)
    def metadata(self) -> Metadata:
        """The model's version, hash, training data, metrics, threshold and feature schema."""
        return Metadata.model_validate(
            {
                **METADATA,
                "task": TASK,
                "threshold": THRESHOLD if TASK == "binary" else None,
                "metrics": EVALUATION or None,
                "predictor": None if self.predictor is None else self.predictor.served_by,
            }
        )

    @bentoml.on_shutdown
    def close(self) -> None:
        if self.inference_log is not None:
            self.inference_log.close()

    def _explained(self, predicted: Any, record: Mapping[str, Any]) -> Any:
        reference: dict[str, Any] | None = METADATA.get("reference")
        if self.predictor is None or reference is None or TASK == "multiclass":
            raise bentoml.exceptions.BadInput(
                "explanations need a binary or regression model with a reference"
            )
        predict = self.predictor.positive_proba if TASK == "binary" else self.predictor.outputs
        _, found = explain(predict, record, reference, EXPLAIN_TOP)
        return predicted.model_copy(update={"contributions": [Contribution(**vars(c)) for c in found]})

    def _predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        if self.predictor is None:
            raise bentoml.exceptions.ServiceUnavailable("the model failed verification; see the server log")
        for name, count in unseen_counts(rows, KNOWN).items():
            unseen_categories().labels(column=name).inc(count)
        binary = TASK == "binary"
        raw = self.predictor.positive_proba(rows) if binary else self.predictor.outputs(rows)
        outputs = task_outputs(raw, SCHEMA.target, THRESHOLD)
        if self.inference_log is not None:
            self.inference_log.write(self.version, rows, outputs)
        return [API.output(**o, model_version=self.version) for o in outputs]


ModelService.add_asgi_middleware(CardRoute, card_file=SETTINGS.models_dir / "card.html")
ModelService.add_asgi_middleware(
    RequestGuard,
    max_bytes=SETTINGS.max_body_bytes,
    json_paths=[ModelService.apis["predict_adaptive"].route],
)
