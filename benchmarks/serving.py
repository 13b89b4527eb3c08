"""Serving benchmark: in-process, FastAPI + uvicorn, BentoML plain and with adaptive batching, in ONE run.

    .venv/bin/python benchmarks/serving.py --models models --test artifacts/prepared/test.parquet \
        [--image "$(cat build/image-ref)"]

With --image, the image from `make image` runs too (podman, as tests/image runs it): the same
routes inside the container, its cold start (container start to the first 200) and its memory.
With --before-src, the service is also served from an earlier source tree, to compare with in the
same run: `mkdir /tmp/before && git archive <commit> src | tar -x -C /tmp/before`, then
`--before-src /tmp/before/src`.

With --fastapi-in-image, benchmarks/fastapi_app.py runs inside the same image too (the image's
Python and packages), so the comparison inside the container is like for like.

With --scikit-learn, the BentoML service and the FastAPI same-work app are also served with the
compiled trees switched off: the same source and model, with a `treelite` on PYTHONPATH that fails
to import, so mlops.serving.compiled falls back to scikit-learn's trees as a build without the
wheel does. With --image too, the image runs that way as well (the stand-in mounted read-only), and
`--cold-starts N` starts and stops each image target N more times, in turns, for its cold start.

All servers run at once and take turns under the same load (`--rounds` turns of `--seconds`
each), so the ratios between them hold on a shared machine whose background load shifts.
`--against NAME ...` prints every server's throughput against NAME round by round (the median
round, with the lowest and highest), and each server's CPU per request is measured over its
rounds. `--pin` runs the servers on CPU 0 and wrk on CPU 1.
Needs `wrk` (Debian: apt-get install wrk). Every server gets OMP_NUM_THREADS=1 and listens on
127.0.0.1. Prints Markdown tables for docs/performance.md and writes the raw figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import psutil

from mlops.artifacts import read_metadata
from mlops.pipeline.model import load_model
from mlops.serving.bundle import PipelinePredictor, metadata_schema
from mlops.serving.compiled import CompiledTrees, compile_trees, model_outputs
from mlops.serving.fast import CompiledPipeline, compile_pipeline
from mlops.serving.inference_log import InferenceLog
from mlops.serving.overhead import PROBE_ROUTES
from mlops.spec.schema import request_model

# BentoML's own defaults back, through the operator's override (mlops.serving.overhead): every
# prediction traced (unsampled spans) and access-logged. The service's settings against BentoML's.
BENTOML_DEFAULTS = {
    "services": {
        "model-service": {
            "tracing": {"excluded_urls": []},
            "logging": {"access": {"skip_paths": PROBE_ROUTES}},
        }
    }
}
# FastAPI doing on each request what the service does besides BentoML's own work (fastapi_app.py)
SAME_WORK = "FastAPI + compiled, the service's work"
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
BATCH = 100
# --scikit-learn: a `treelite` package that fails to import, first on PYTHONPATH (mlops.serving.compiled)
NO_TREELITE = 'raise ImportError("treelite switched off for the benchmark (benchmarks/serving.py)")\n'
SKLEARN = ", scikit-learn trees"
# --pin: the servers on one core, wrk on the other, so that the two never compete for a core
PIN_SERVER = ["taskset", "-c", "0"]
PIN_CLIENT = ["taskset", "-c", "1"]


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def records_of(test: Path, names: list[str]) -> list[dict[str, Any]]:
    frame = pd.read_parquet(test)[names]
    rows = json.loads(frame.to_json(orient="records"))
    return rows


def in_process(models: Path, records: list[dict[str, Any]], repeat: int) -> dict[str, float]:
    """Median ms for one record on each path, the inference log's cost, and batch rows/s."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="openmp")
    metadata = read_metadata(models)
    schema = metadata_schema(metadata)
    model = load_model(models / metadata["model_file"])
    plain = PipelinePredictor(model, tuple(schema.feature_names))
    compiled = compile_pipeline(model)
    record_model = request_model(schema)
    one = records[:1]
    frame = pd.DataFrame(one)
    log = InferenceLog(Path(tempfile.mkdtemp()) / "log")
    output = [{"label": "No", "probability": 0.1}]
    rows = records[:1000]
    hundred = records[:100]
    outputs = output * 100
    result = {
        "pipeline_one_row_ms": statistics.median(timed(lambda: model.predict_proba(frame), repeat)),
        "pipeline_predictor_one_row_ms": statistics.median(timed(lambda: plain.positive_proba(one), repeat)),
        "compiled_one_row_ms": statistics.median(timed(lambda: compiled.positive_proba(one), repeat)),
        "compiled_transform_one_row_ms": statistics.median(timed(lambda: compiled.transform(one), repeat)),
        "validate_one_record_ms": statistics.median(
            timed(lambda: record_model.model_validate(one[0]), repeat)
        ),
        "log_one_record_ms": statistics.median(timed(lambda: log.write("v", one, output), repeat)),
        "compiled_100_rows_ms": statistics.median(timed(lambda: compiled.positive_proba(hundred), 200)),
        "log_100_records_ms": statistics.median(timed(lambda: log.write("v", hundred, outputs), 200)),
        "pipeline_rows_per_s": len(rows)
        / (statistics.median(timed(lambda: plain.positive_proba(rows), 5)) / 1000),
        "compiled_rows_per_s": len(rows)
        / (statistics.median(timed(lambda: compiled.positive_proba(rows), 5)) / 1000),
    }
    log.close()
    return result | trees_side_by_side(compiled, records, repeat) | start_up_cost(model)


def start_up_cost(model: Any) -> dict[str, float]:
    """What the compiled trees add to a worker's start-up: importing treelite once scikit-learn is
    imported (in a fresh interpreter, median of 3), then building the compiled form with its probe
    check (median of 5)."""
    imports = (  # what the worker has imported by then (the model is loaded) comes first, untimed
        "import time, numpy, scipy.special, sklearn.ensemble; t = time.perf_counter(); "
        "import treelite.gtil, treelite.sklearn; "
    )
    code = imports + "print((time.perf_counter() - t) * 1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout) for _ in range(3)]  # fmt: skip
    estimator = model.steps[-1][1]
    return {
        "import_treelite_ms": statistics.median(runs),
        "compile_trees_and_probe_ms": statistics.median(timed(lambda: compile_trees(estimator), 5)),
    }


CROSSOVER_SIZES = (1, 2, 5, 10, 20, 50, 64, 100, 150, 200, 300, 500, 1000)


def trees_side_by_side(
    compiled: CompiledPipeline, records: list[dict[str, Any]], repeat: int
) -> dict[str, float]:
    """scikit-learn's and treelite's trees on the same transformed rows, one thread each: one record
    (the transform and the trees, then the trees alone) and the median ms per batch size, whose first
    size where scikit-learn is the faster is the crossover (mlops.serving.compiled.CROSSOVER_ROWS)."""
    trees = compiled.classifier
    if not isinstance(trees, CompiledTrees):
        return {}
    sklearn_path = replace(compiled, classifier=trees.estimator)
    one = records[:1]
    row = compiled.transform(one)
    result = {
        "one_record_sklearn_trees_ms": statistics.median(timed(lambda: sklearn_path.outputs(one), repeat)),
        "one_record_treelite_ms": statistics.median(timed(lambda: compiled.outputs(one), repeat)),
        "trees_only_one_row_sklearn_ms": statistics.median(
            timed(lambda: model_outputs(trees.estimator, row), repeat)
        ),
        "trees_only_one_row_treelite_ms": statistics.median(
            timed(lambda: trees.compiled_outputs(row), repeat)
        ),
    }
    crossover = float("inf")
    for size in CROSSOVER_SIZES:
        matrix = compiled.transform((records * (size // len(records) + 1))[:size])
        calls = max(20, repeat // (10 * size))
        sk = statistics.median(timed(lambda m=matrix: model_outputs(trees.estimator, m), calls))
        tl = statistics.median(timed(lambda m=matrix: trees.compiled_outputs(m), calls))
        result[f"batch_{size}_sklearn_ms"], result[f"batch_{size}_treelite_ms"] = sk, tl
        if sk < tl:
            crossover = min(crossover, size)
    result["crossover_rows"] = crossover
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Target:
    name: str
    command: list[str]
    env: dict[str, str]
    single: str  # route for one record
    batch: str  # route for a batch
    wrap: Callable[[dict[str, Any]], Any]  # the single-record body
    port: int = 0
    container: str = ""  # the podman container's name, when the target runs in one
    image: str = ""  # the image it runs, when it runs in a container


PODMAN = ["podman", "run", "--rm", "--runtime", "/usr/sbin/runc", "--ulimit", "nofile=1024:1024",
          "--ulimit", "nproc=4096:4096", "--read-only", "--tmpfs", "/tmp",
          "--env", "BENTOML_HOME=/tmp/bentoml", "--env", "MLOPS_INFERENCE_LOG_DIR=/tmp/log"]  # fmt: skip


def image_target(
    image: str, title: str = "BentoML plain, in the image", options: tuple[str, ...] = ()
) -> Target:
    """The image served by podman, read-only as deploy/ runs it; `{port}` is filled in at start."""
    name = f"mlops-bench-{os.getpid()}-{zlib.crc32(title.encode())}"
    command = [*PODMAN, *options, "--name", name, "-p", "127.0.0.1:{port}:3000", image, "--host", "0.0.0.0"]
    return Target(title, command, {}, "/predict", "/predict_batch", dict, 0, name, image)


def fastapi_image_targets(image: str) -> list[Target]:
    """fastapi_app.py (bare and doing the service's work) in the same image, on the image's Python
    and packages, read-only like the service: the comparison inside the container. FastAPI and
    annotated-doc (pure Python, not in the image) are mounted from this environment, read-only."""
    import annotated_doc
    import fastapi

    mounts = ["-v", f"{HERE}:/bench:ro"]
    for package in (fastapi, annotated_doc):
        folder = Path(package.__file__).parent
        mounts += ["-v", f"{folder}:/extra/{folder.name}:ro"]
    found = []
    for title, features in (
        ("FastAPI + compiled, in the image", "bare"),
        (f"{SAME_WORK}, in the image", "service"),
    ):
        name = f"mlops-bench-{os.getpid()}-fastapi-{features}"
        command = [
            *PODMAN, *mounts, "--name", name, "-p", "127.0.0.1:{port}:3000",
            "--workdir", "/home/bentoml/bento/src", "--entrypoint", "/app/.venv/bin/python",
            "--env", "PYTHONPATH=/extra", "--env", "MODELS_DIR=models", "--env", "FASTAPI_PATH=compiled",
            "--env", f"FASTAPI_FEATURES={features}",
            image, "-m", "uvicorn", "fastapi_app:app", "--app-dir", "/bench", "--host", "0.0.0.0",
            "--port", "3000", "--log-level", "warning",
        ]  # fmt: skip
        found.append(Target(title, command, {}, "/predict", "/predict_batch", dict, 0, name, image))
    return found


def image_size_mb(image: str) -> float:
    out = subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", image],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return int(out.stdout.strip()) / 1e6


def targets(models: Path, log_dir: Path) -> list[Target]:
    uvicorn = [
        str(BIN / "uvicorn"),
        "fastapi_app:app",
        "--app-dir",
        str(HERE),
        "--host",
        "127.0.0.1",
        "--log-level",
        "warning",
    ]
    bento = [str(BIN / "bentoml"), "serve", "mlops.service:ModelService", "--host", "127.0.0.1"]
    bento_env = {"MLOPS_MODELS_DIR": str(models), "MLOPS_INFERENCE_LOG_DIR": str(log_dir)}
    fastapi_env = {"MODELS_DIR": str(models)}
    batch = "/predict_batch"
    return [
        Target(
            "FastAPI + Pipeline",
            uvicorn,
            {**fastapi_env, "FASTAPI_PATH": "pipeline"},
            "/predict",
            batch,
            dict,
        ),
        Target(
            "FastAPI + compiled",
            uvicorn,
            {**fastapi_env, "FASTAPI_PATH": "compiled"},
            "/predict",
            batch,
            dict,
        ),
        Target(
            SAME_WORK,
            uvicorn,
            {
                **fastapi_env,
                "FASTAPI_PATH": "compiled",
                "FASTAPI_FEATURES": "service",
                "MLOPS_INFERENCE_LOG_DIR": str(log_dir.with_name("fastapi-log")),
            },
            "/predict",
            batch,
            dict,
        ),
        Target("BentoML plain", bento, bento_env, "/predict", batch, dict),
        Target(
            "BentoML plain, BentoML's tracing and access log",
            bento,
            {**bento_env, "BENTOML_CONFIG_OVERRIDES": json.dumps(BENTOML_DEFAULTS)},
            "/predict",
            batch,
            dict,
        ),
        Target("BentoML adaptive", bento, bento_env, "/predict_adaptive", batch, lambda r: [r]),
    ]


def no_treelite(folder: Path) -> Path:
    """A folder to put first on PYTHONPATH: its `treelite` fails to import (--scikit-learn)."""
    (folder / "treelite").mkdir(parents=True)
    (folder / "treelite" / "__init__.py").write_text(NO_TREELITE)
    return folder


def sklearn_targets(
    local: list[Target], shim: Path, image: str | None, options: tuple[str, ...]
) -> list[Target]:
    """The BentoML service and the FastAPI same-work app (and the image) on scikit-learn's trees."""
    found = []
    for target in (t for t in local if t.name in ("BentoML plain", SAME_WORK)):
        env = {**target.env, "PYTHONPATH": str(shim)}
        env["MLOPS_INFERENCE_LOG_DIR"] = env["MLOPS_INFERENCE_LOG_DIR"] + "-sklearn"  # a log of its own
        found.append(replace(target, name=target.name + SKLEARN, env=env))
    if image:
        switched_off = (*options, "-v", f"{shim}:/shim:ro", "--env", "PYTHONPATH=/shim")
        found.append(image_target(image, "BentoML plain, in the image" + SKLEARN, switched_off))
    return found


def cold_starts(chosen: list[Target], records: list[dict[str, Any]], times: int) -> dict[str, list[float]]:
    """Each image target started and stopped `times` times, in turns: seconds to the first 200."""
    images = [t for t in chosen if t.image]
    found: dict[str, list[float]] = {t.name: [] for t in images}
    for _ in range(times):
        for target in images:
            process, cold = start(target, target.wrap(records[0]), [])
            found[target.name].append(cold)
            process.terminate()
            process.wait(60)
    return found


def before_target(models: Path, log_dir: Path, src: Path) -> Target:
    """The service as an earlier source tree has it (its `mlops` package first on the path)."""
    bento = [str(BIN / "bentoml"), "serve", "mlops.service:ModelService", "--host", "127.0.0.1"]
    env = {"MLOPS_MODELS_DIR": str(models), "MLOPS_INFERENCE_LOG_DIR": str(log_dir), "PYTHONPATH": str(src)}
    return Target("BentoML plain, before", bento, env, "/predict", "/predict_batch", dict)


def start(target: Target, body: Any, prefix: list[str]) -> tuple[subprocess.Popen[bytes], float]:
    """Start the server (its command after `prefix`); seconds until its first successful prediction."""
    target.port = free_port()
    command = [*prefix, *(part.replace("{port}", str(target.port)) for part in target.command)]
    if not target.container:
        command += ["--port", str(target.port)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "BENTOML_DO_NOT_TRACK": "true", **target.env}
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{target.port}{target.single}"
    while time.perf_counter() - began < 180:
        try:
            if httpx.post(url, json=body, timeout=5).status_code == 200:
                return process, time.perf_counter() - began
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"{target.name} did not answer within 180 s")


def server_processes(process: subprocess.Popen[bytes], container: str = "") -> list[psutil.Process]:
    if container:  # the container's processes are podman's (conmon), not children of `podman run`
        top = subprocess.run(["podman", "top", container, "hpid"], capture_output=True, text=True, check=True)
        return [psutil.Process(int(p)) for p in top.stdout.split()[1:]]
    parent = psutil.Process(process.pid)
    return [parent, *parent.children(recursive=True)]


def rss_mb(process: subprocess.Popen[bytes], container: str = "") -> float:
    return sum(p.memory_info().rss for p in server_processes(process, container)) / 2**20


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User and system CPU the server's processes have used so far."""
    return sum(sum(p.cpu_times()[:2]) for p in processes)


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BODY_FILE")):read("*a")
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(
    url: str, body: Any, connections: int, seconds: int, workdir: Path, prefix: list[str]
) -> dict[str, float]:
    (workdir / "body.json").write_text(json.dumps(body))
    (workdir / "post.lua").write_text(WRK_SCRIPT)
    out = subprocess.run(
        [*prefix, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(workdir / "post.lua"), url],
        env={**os.environ, "BODY_FILE": str(workdir / "body.json")},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    requests, micros, p50, p99, non2xx, errors = map(int, line.split()[1:])
    return {
        "requests": requests,
        "seconds": micros / 1e6,
        "rps": requests / (micros / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "non2xx": non2xx,
        "errors": errors,
    }


def measure(
    chosen: list[Target], records: list[dict[str, Any]], args: argparse.Namespace, workdir: Path
) -> dict[str, dict[str, Any]]:
    """Start every server, then load them in turns: round after round, each server gets the same
    load for `args.seconds`, so a change in the machine's background load hits all of them alike."""
    started: list[tuple[Target, subprocess.Popen[bytes]]] = []
    serving: dict[str, list[psutil.Process]] = {}  # each server's processes, for its CPU time
    results: dict[str, dict[str, Any]] = {}
    server_prefix, client_prefix = (PIN_SERVER, PIN_CLIENT) if args.pin else ([], [])
    try:
        for target in chosen:
            process, cold = start(target, target.wrap(records[0]), server_prefix)
            started.append((target, process))
            serving[target.name] = server_processes(process, target.container)
            idle = rss_mb(process, target.container)
            results[target.name] = {"cold_start_s": cold, "rss_idle_mb": idle, "single": {}, "batch": {}}
        for kind in ("single", "batch"):
            for connections in args.concurrency:
                rounds: dict[str, list[dict[str, float]]] = {target.name: [] for target, _ in started}
                for _ in range(args.rounds):
                    for target, _ in started:
                        route = target.single if kind == "single" else target.batch
                        body = target.wrap(records[0]) if kind == "single" else {"records": records[:BATCH]}
                        url = f"http://127.0.0.1:{target.port}{route}"
                        before = cpu_seconds(serving[target.name])
                        measured = wrk(url, body, connections, args.seconds, workdir, client_prefix)
                        used = cpu_seconds(serving[target.name]) - before
                        measured["cpu_ms"] = used * 1000 / measured["requests"]
                        rounds[target.name].append(measured)
                for name, runs in rounds.items():
                    results[name][kind][connections] = combined(runs)
        for target, process in started:
            results[target.name]["rss_loaded_mb"] = rss_mb(process, target.container)
        return results
    finally:
        for _, process in started:
            process.terminate()
            process.wait(60)


def combined(rounds: list[dict[str, float]]) -> dict[str, Any]:
    """Throughput over all rounds, and each round's; p50, p99 and CPU are the median of the rounds' own."""
    return {
        "rps": sum(r["requests"] for r in rounds) / sum(r["seconds"] for r in rounds),
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "cpu_ms": statistics.median(r["cpu_ms"] for r in rounds),
        "non2xx": sum(r["non2xx"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "rounds": len(rounds),
        "rps_rounds": [r["rps"] for r in rounds],
    }


def ratios(
    servers: dict[str, dict[str, Any]], reference: str, kind: str, concurrency: int
) -> dict[str, tuple[float, float, float]]:
    """Each server's throughput against `reference`'s, round by round (the two measured seconds
    apart, under the same background load): the median ratio, and the lowest and highest."""
    against = servers[reference][kind][concurrency]["rps_rounds"]
    found = {}
    for name, result in servers.items():
        if name != reference:
            paired = [a / b for a, b in zip(result[kind][concurrency]["rps_rounds"], against, strict=True)]
            found[name] = (statistics.median(paired), min(paired), max(paired))
    return found


def markdown(
    inproc: dict[str, float],
    servers: dict[str, dict[str, Any]],
    concurrency: list[int],
    references: list[str],
) -> str:
    memory = psutil.virtual_memory().total / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Machine: {platform.machine()}, {psutil.cpu_count()} cores, {memory:.0f} GB, "
        f"Python {platform.python_version()}; load average {load}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| in-process, one thread | value |",
        "|---|---|",
        *(f"| {key} | {value:,.3f} |" for key, value in inproc.items()),
        "",
    ]
    if not servers:
        return "\n".join(lines)
    lines += [
        "| server | cold start (s) | RSS idle / loaded (MB) | image (MB) |",
        "|---|---|---|---|",
        *(
            f"| {name} | {', '.join(f'{c:.1f}' for c in r.get('cold_starts_s', [r['cold_start_s']]))} | "
            f"{r['rss_idle_mb']:.0f} / {r['rss_loaded_mb']:.0f} | "
            + (f"{r['image_mb']:,.0f} |" if "image_mb" in r else "- |")
            for name, r in servers.items()
        ),
    ]
    for kind, title in (("single", "one record per request"), ("batch", f"{BATCH} records per request")):
        heads = " | ".join(f"c={c} req/s, p50, p99, server CPU/request (ms)" for c in concurrency)
        lines += ["", f"| {title} | {heads} |"]
        lines += ["|---|" + "---|" * len(concurrency)]
        for name, r in servers.items():
            cells = [
                f"{m['rps']:.0f}, {m['p50_ms']:.1f}, {m['p99_ms']:.1f}, {m['cpu_ms']:.2f}"
                + (f" ({m['non2xx'] + m['errors']} failed)" if m["non2xx"] + m["errors"] else "")
                for m in (r[kind][c] for c in concurrency)
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        for reference in references:
            found = {c: ratios(servers, reference, kind, c) for c in concurrency}
            heads = " | ".join(f"c={c}: median (lowest-highest)" for c in concurrency)
            lines += ["", f"| {title}: throughput against {reference}, round by round | {heads} |"]
            lines += ["|---|" + "---|" * len(concurrency)]
            for name in found[concurrency[0]]:
                cells = [
                    f"{m:.2f}x ({lo:.2f}-{hi:.2f})" for m, lo, hi in (found[c][name] for c in concurrency)
                ]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--test", type=Path, default=Path("artifacts/prepared/test.parquet"))
    parser.add_argument("--seconds", type=int, default=5, help="per server, per round")
    parser.add_argument("--rounds", type=int, default=3, help="turns each server gets at each load")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--only", nargs="*", help="names of the servers to run (default: all)")
    parser.add_argument("--image", help="also run this image (build/image-ref from `make image`) with podman")
    parser.add_argument("--image-before", help="and this one, an earlier build to compare with")
    parser.add_argument("--before-src", type=Path, help="also serve the service from this src/ folder")
    parser.add_argument(
        "--scikit-learn", action="store_true", help="also serve with the compiled trees switched off"
    )
    parser.add_argument(
        "--image-option",
        action="append",
        default=[],
        help="a podman option for every image target (repeat; --image-option=-v --image-option=A:B:ro)",
    )
    parser.add_argument("--cold-starts", type=int, default=0, help="more cold starts of each image target")
    parser.add_argument(
        "--fastapi-in-image", action="store_true", help="with --image, FastAPI in the same image too"
    )
    parser.add_argument(
        "--against",
        nargs="*",
        default=[],
        help="servers to give every other's throughput against, round by round",
    )
    parser.add_argument(
        "--in-process-only", action="store_true", help="the in-process figures only, no server"
    )
    parser.add_argument("--pin", action="store_true", help="servers on CPU 0, wrk on CPU 1 (taskset)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/serving.json"))
    args = parser.parse_args()
    models = args.models.resolve()
    schema = metadata_schema(read_metadata(models))
    records = records_of(args.test, schema.feature_names)
    inproc = in_process(models, records, args.repeat)
    if args.in_process_only:
        print(markdown(inproc, {}, [], []))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        options = tuple(args.image_option)
        extra = [image_target(args.image, options=options)] if args.image else []
        if args.image and args.fastapi_in_image:
            extra += fastapi_image_targets(args.image)
        if args.image_before:
            extra.append(image_target(args.image_before, "BentoML plain, in the image before"))
        if args.before_src:
            extra.append(before_target(models, Path(tmp) / "log-before", args.before_src.resolve()))
        local = targets(models, Path(tmp) / "log")
        if args.scikit_learn:
            extra += sklearn_targets(local, no_treelite(Path(tmp) / "no-treelite"), args.image, options)
        chosen = [t for t in [*local, *extra] if not args.only or t.name in args.only]
        servers = measure(chosen, records, args, Path(tmp))
        for name, seconds in cold_starts(chosen, records, args.cold_starts).items():
            servers[name]["cold_starts_s"] = [servers[name]["cold_start_s"], *seconds]
        for target in chosen:
            if target.image:
                servers[target.name]["image_mb"] = image_size_mb(target.image)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"in_process": inproc, "servers": servers}, indent=2) + "\n")
    print(markdown(inproc, servers, args.concurrency, args.against))
    return 0


if __name__ == "__main__":
    sys.exit(main())
