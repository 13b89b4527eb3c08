"""BentoML settings that keep per-prediction overhead low (docs/performance.md, "Serving overhead").

These are BentoML defaults for this service. An operator's BentoML configuration overrides them
(`BENTOML_CONFIG`, under `services.model-service`).

- Tracing: BentoML's OpenTelemetry middleware starts five spans for every request, one for the
  request and one per ASGI message, even though its sampling rate defaults to 0 so none is
  recorded. That halved the Python calls a prediction makes. The prediction routes are excluded.
  To trace them, configure an exporter and a `sample_rate`, and set `tracing.excluded_urls` to `[]`.
  Excluded routes also lose BentoML's `X-BentoML-Request-ID` header, which it takes from the span.
- Access log: one formatted line per prediction repeats what the inference log records (every input
  and output, with the model version) and /metrics counts (requests by route and status). The
  prediction routes are skipped. Other routes are still logged, and so is every refused request
  (limits.py) and every server error.

The Prometheus middleware stays on: /metrics is how a deployment watches the service.

Only settings BentoML documents are used here: its own code is never changed (tests/unit/
test_private_imports.py keeps private BentoML modules out of src/).
"""

from __future__ import annotations

from typing import Any

PREDICTION_ROUTES = "/predict"  # matches /predict, /predict_batch and /predict_adaptive
PROBE_ROUTES = ["/metrics", "/healthz", "/livez", "/readyz"]  # BentoML's own skip list, kept


def tracing_config() -> dict[str, Any]:
    """`tracing` for `@bentoml.service`: prediction routes make no spans."""
    return {"excluded_urls": [PREDICTION_ROUTES]}


def logging_config() -> dict[str, Any]:
    """`logging` for `@bentoml.service`: prediction routes are not access-logged."""
    return {"access": {"skip_paths": [*PROBE_ROUTES, PREDICTION_ROUTES]}}
