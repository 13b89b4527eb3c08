"""The BentoML service: load the verified model from models/, predict, log every prediction.

Thin on purpose: settings, verification, the fast inference path and the inference log live in
`mlops.serving`. Importing this module reads no file: `build_service(settings)` makes the service,
its request model derived from the schema stored in models/model.json, and eval/metrics.json
(MLOPS_METRICS_FILE) giving the decision threshold and held-out metrics. `ModelService` (what
`bentoml serve mlops.service:ModelService` and bentofile.yaml name) is built on first access, from
the MLOPS_* environment; the model file itself is loaded and verified when the service starts.

Routes (all POST, JSON): /predict (one record), /predict_batch ({"records": [...]}, at most
MLOPS_MAX_BATCH), /predict_adaptive (a bare JSON array; BentoML merges concurrent calls into one
model call), /metadata; GET /card (the model card, HTML). `"explain": true` in a /predict body adds
the record's top feature contributions (mlops.explain; docs/governance.md gives the latency budget).
Built in: /livez, /readyz (503 until the model is verified and loaded), /metrics, /docs.json.
"""

import functools
import gc
import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import bentoml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, create_model
from starlette.responses import Response
from threadpoolctl import threadpool_limits

from mlops.errors import MlopsError
from mlops.explain import explain
from mlops.metrics import DEFAULT_THRESHOLD
from mlops.schema import Target, known_categories, request_model, unseen_counts
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
from mlops.serving.overhead import lighten_bentoml, logging_config, tracing_config

log = logging.getLogger(__name__)

ADAPTIVE_MAX_BATCH = 64
EXPLAIN_TOP = 5


# A request body's top level refuses an unknown key, like a record (mlops.schema.request_model): else
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
    threshold: float | None = Field(description="the positive class's decision threshold (binary only)")
    training_data: dict[str, Any] | None = None
    training_metrics: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = Field(default=None, description="held-out metrics from evaluation")
    schema_: dict[str, Any] = Field(alias="schema")


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


def __getattr__(name: str) -> Any:
    """`ModelService`, built from the MLOPS_* environment the first time it is asked for."""
    if name != "ModelService":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    service = build_service(ServingSettings.from_env())
    globals()[name] = service
    return service


@functools.cache
def unseen_categories() -> Any:
    """The /metrics counter of values outside a feature's schema categories, encoded as unknown."""
    import prometheus_client

    return prometheus_client.Counter(
        "mlops_unseen_categories",
        "Values of a categorical feature outside its schema categories, accepted and encoded as unknown",
        ["column"],
    )


def build_service(settings: ServingSettings) -> Any:
    """The BentoML service for the model in `settings.models_dir`, its API typed by the model's schema.

    Reads model.json and the metrics file; the model file is loaded and verified in the service's
    __init__, when a server (or an ASGI app's start-up) creates it.
    """
    lighten_bentoml()
    metadata = read_metadata(settings.models_dir)
    schema = metadata_schema(metadata)
    evaluation = read_evaluation(settings.metrics_file)
    threshold = float(evaluation.get("threshold", DEFAULT_THRESHOLD))
    reference: dict[str, Any] | None = metadata.get("reference")
    known = known_categories(schema)  # features whose unseen values are accepted, and counted

    task = schema.target.task
    label_type = Literal[schema.target.labels or ("",)]  # type: ignore[valid-type]
    record_type = request_model(schema, "Record")
    request_type = create_model(  # the record's config: unknown keys refused
        "PredictRequest",
        __base__=record_type,
        explain=(
            StrictBool,  # JSON true or false only: "yes", "false", 1 are refused, not converted
            Field(default=False, description=f"add the top {EXPLAIN_TOP} feature contributions"),
        ),
    )

    class Prediction(BaseModel):
        """One prediction: the class, the probability of the positive class and the model that made it."""

        model_config = ConfigDict(frozen=True)
        label: label_type = Field(description=f"'{schema.target.positive}' when probability >= {threshold}")  # type: ignore[valid-type]
        probability: float = Field(
            ge=0, le=1, description=f"probability that {schema.target.name} is positive"
        )
        model_version: str
        contributions: list[Contribution] | None = Field(
            default=None,
            description='with "explain": true; absent otherwise',
            exclude_if=lambda value: value is None,
        )

    class ClassPrediction(BaseModel):
        """One multi-class prediction: the most probable class, every class's probability, the model."""

        model_config = ConfigDict(frozen=True)
        label: label_type = Field(description="the most probable class")  # type: ignore[valid-type]
        probabilities: dict[str, float] = Field(description="probability of each class, by its label")
        model_version: str

    class ValuePrediction(BaseModel):
        """One regression prediction: the predicted value and the model that made it."""

        model_config = ConfigDict(frozen=True)
        value: float = Field(description=f"predicted {schema.target.name}")
        model_version: str
        contributions: list[Contribution] | None = Field(
            default=None,
            description='with "explain": true; absent otherwise (value minus the value with the reference)',
            exclude_if=lambda value: value is None,
        )

    # What /predict returns for the model's task: binary keeps label + positive probability.
    output_type = {"binary": Prediction, "multiclass": ClassPrediction, "regression": ValuePrediction}[task]

    records_type = Annotated[list[record_type], Field(min_length=1, max_length=settings.max_batch)]  # type: ignore[valid-type]
    batch_type = create_model("PredictBatchRequest", __config__=STRICT_BODY, records=(records_type, ...))
    outputs_json = TypeAdapter(list[output_type]).dump_json  # type: ignore[valid-type]

    @bentoml.service(
        name="model-service", traffic={"timeout": 30}, tracing=tracing_config(), logging=logging_config()
    )
    class ModelService:
        """Serves models/model.skops; refuses to become ready unless its SHA-256 matches model.json."""

        def __init__(self) -> None:
            threadpool_limits(settings.threads, user_api="openmp")
            self.version: str = metadata["model_version"]
            self.predictor: Predictor | None = None
            try:
                self.predictor = load_verified(settings.models_dir, metadata)
                log.info("serving model %s from %s", self.version, settings.models_dir)
            except MlopsError as error:
                log.error("not ready: %s", error)
            folder = settings.inference_log_dir
            self.inference_log = None
            if folder is not None:
                self.inference_log = InferenceLog(
                    folder,
                    settings.inference_log_max_bytes,
                    settings.inference_log_max_total_bytes,
                    on_failure=log_write_failures().inc,
                    on_cut=lambda column: log_values_cut().labels(column=column).inc(),
                )
            for name in known:  # every watched column on /metrics from the start, at 0
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
        async def predict(self, request: request_type, /) -> output_type:  # type: ignore[valid-type]
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
        async def predict_batch(self, request: batch_type, /) -> list[output_type]:  # type: ignore[valid-type]
            """Predict up to MLOPS_MAX_BATCH records in one call: {"records": [...]}.

            `async` on purpose: a 100-record call costs ~3 ms of CPU under the GIL, less than the hop
            to a worker thread and back costs under load (benchmarks/serving.py).
            """
            records = request.model_dump()["records"]
            return json_response(outputs_json(self._predict(records)))

        @bentoml.api(
            route="/predict_adaptive",
            batchable=True,
            max_batch_size=ADAPTIVE_MAX_BATCH,
            max_latency_ms=10_000,
        )
        def predict_adaptive(self, records: records_type, /) -> list[output_type]:  # type: ignore[valid-type]
            """A bare JSON array of records; concurrent calls are merged into one model call."""
            return self._predict([r.model_dump() for r in records])

        @bentoml.api(route="/metadata", input_spec=NoInput)
        def metadata(self) -> Metadata:
            """The model's version, hash, training data, metrics, threshold and feature schema."""
            return Metadata.model_validate(
                {
                    **metadata,
                    "task": task,
                    "threshold": threshold if task == "binary" else None,
                    "metrics": evaluation or None,
                }
            )

        @bentoml.on_shutdown
        def close(self) -> None:
            if self.inference_log is not None:
                self.inference_log.close()

        def _explained(self, predicted: Any, record: Mapping[str, Any]) -> Any:
            if self.predictor is None or reference is None or task == "multiclass":
                raise bentoml.exceptions.BadInput(
                    "explanations need a binary or regression model with a reference"
                )
            predict = self.predictor.positive_proba if task == "binary" else self.predictor.outputs
            _, found = explain(predict, record, reference, EXPLAIN_TOP)
            return predicted.model_copy(update={"contributions": [Contribution(**vars(c)) for c in found]})

        def _predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
            if self.predictor is None:
                raise bentoml.exceptions.ServiceUnavailable(
                    "the model failed verification; see the server log"
                )
            for name, count in unseen_counts(rows, known).items():
                unseen_categories().labels(column=name).inc(count)
            binary = task == "binary"
            raw = self.predictor.positive_proba(rows) if binary else self.predictor.outputs(rows)
            outputs = task_outputs(raw, schema.target, threshold)
            if self.inference_log is not None:
                self.inference_log.write(self.version, rows, outputs)
            return [output_type(**o, model_version=self.version) for o in outputs]

    ModelService.add_asgi_middleware(CardRoute, card_file=settings.models_dir / "card.html")
    ModelService.add_asgi_middleware(
        RequestGuard,
        max_bytes=settings.max_body_bytes,
        json_paths=[ModelService.apis["predict_adaptive"].route],
    )
    return ModelService


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
