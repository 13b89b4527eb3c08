"""What BentoML adds to one /predict, in-process: Python calls and CPU per request, through the
service's ASGI app (no HTTP server, no network), with the service's settings and with BentoML's
tracing and access-log defaults put back (benchmarks/serving.py BENTOML_DEFAULTS), next to the
FastAPI app doing the same work (benchmarks/fastapi_app.py, FASTAPI_FEATURES=service).

    .venv/bin/python benchmarks/serving_calls.py --models models --test artifacts/prepared/test.parquet

Each variant runs in its own process (BentoML's configuration is global), alternately, `--rounds`
times. Python calls per request are counted with sys.setprofile: a count, not a time, so it does
not move with the machine's load. CPU per request is the lowest over batches of 100 requests. The
access log's formatting and writing are not counted: in-process, logging is not set up. With
--constant-model the compiled model answers a constant, so the counts are the framework's and the
service's work only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from serving import BENTOML_DEFAULTS, SAME_WORK, records_of

from mlops.artifacts import read_metadata
from mlops.serving.bundle import metadata_schema

# name: (the app, its environment)
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "BentoML, the service's settings": ("bentoml", {}),
    "BentoML's tracing and access log": (
        "bentoml",
        {"BENTOML_CONFIG_OVERRIDES": json.dumps(BENTOML_DEFAULTS)},
    ),
    SAME_WORK: ("fastapi", {"FASTAPI_PATH": "compiled", "FASTAPI_FEATURES": "service"}),
    "FastAPI + compiled, bare": ("fastapi", {"FASTAPI_PATH": "compiled", "FASTAPI_FEATURES": "bare"}),
}


async def _call(app: Any, body: bytes) -> None:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/predict", "raw_path": b"/predict", "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 3000)}  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if statuses != [200]:
        raise RuntimeError(f"/predict answered {statuses}")


def _constant_model() -> None:
    """The compiled model answers a constant: what is left is the framework's and the service's work."""
    import numpy as np

    from mlops.serving.fast import CompiledPipeline

    def constant(self: CompiledPipeline, rows: Any) -> Any:
        return np.full(len(rows), 0.25)

    CompiledPipeline.positive_proba = constant  # type: ignore[method-assign]


def _app(kind: str) -> Any:
    if kind == "fastapi":
        sys.path.insert(0, str(Path(__file__).parent))
        import fastapi_app

        return fastapi_app.app
    import mlops.service as service

    return service.ModelService.to_asgi()


async def _measure(kind: str, body: bytes, requests: int) -> dict[str, float]:
    app = _app(kind)
    started: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, events.get, started.put)
    )
    if (await started.get())["type"] != "lifespan.startup.complete":
        raise RuntimeError("the service did not start")
    for _ in range(200):
        await _call(app, body)
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    await _call(app, body)
    sys.setprofile(None)
    batches = []
    for _ in range(requests // 100):
        began = time.process_time()
        for _ in range(100):
            await _call(app, body)
        batches.append((time.process_time() - began) / 100 * 1000)
    lifespan.cancel()
    return {"python_calls": calls, "cpu_ms": min(batches)}


def child(kind: str, body_file: Path, requests: int) -> None:
    result = asyncio.run(_measure(kind, body_file.read_bytes(), requests))
    print(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--test", type=Path, default=Path("artifacts/prepared/test.parquet"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before-src", type=Path, help="also the service from this src/ (serving.py)")
    parser.add_argument("--constant-model", action="store_true", help="count without the model's own calls")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--app", default="bentoml", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.constant_model:
            _constant_model()
        child(args.app, args.child, args.requests)
        return 0
    models = args.models.resolve()
    record = records_of(args.test, metadata_schema(read_metadata(models)).feature_names)[0]
    variants = dict(VARIANTS)
    if args.before_src:
        variants["BentoML, before"] = ("bentoml", {"PYTHONPATH": str(args.before_src.resolve())})
    found: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_text(json.dumps(record))
        for _ in range(args.rounds):
            for name, (kind, variant_env) in variants.items():
                env = {**os.environ, "OMP_NUM_THREADS": "1", "BENTOML_DO_NOT_TRACK": "true",
                       "MLOPS_MODELS_DIR": str(models), "MODELS_DIR": str(models),
                       "MLOPS_INFERENCE_LOG_DIR": str(Path(tmp) / kind), **variant_env}  # fmt: skip
                out = subprocess.run(
                    [sys.executable, __file__, "--child", str(body_file), "--requests", str(args.requests),
                     "--app", kind, *(["--constant-model"] if args.constant_model else [])],
                    env=env, capture_output=True, text=True, check=True,
                )  # fmt: skip
                found[name].append(json.loads(out.stdout.splitlines()[-1]))
    print("| /predict in-process | Python calls per request | CPU per request (ms, best batch) |")
    print("|---|---|---|")
    for name, runs in found.items():
        calls = statistics.median(r["python_calls"] for r in runs)
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        print(f"| {name} | {calls:,.0f} | {cpu:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
