"""Benchmark explanations: one prediction against one prediction with its top contributions.

Measured side by side in one run, one thread, on the pipeline's model and test split (run `make run`
first): the service's compiled path and the scikit-learn Pipeline, in-process; then the service's
/predict through its ASGI app (BentoML's request handling included, no network). Prints one
markdown table for docs/performance.md.

    uv run python benchmarks/explain.py [--records 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from mlops.artifacts import read_metadata
from mlops.pipeline.explain import explain
from mlops.pipeline.model import load_model
from mlops.serving.bundle import PipelinePredictor, load_verified

ROOT = Path(__file__).resolve().parents[1]
TOP = 5


def median_ms(call: Callable[[dict[str, Any]], object], records: list[dict[str, Any]]) -> float:
    call(records[0])
    timings = []
    for record in records:
        start = time.perf_counter()
        call(record)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def load_records(metadata: dict[str, Any], count: int) -> list[dict[str, Any]]:
    columns = [f["name"] for f in metadata["schema"]["features"]]
    frame = pd.read_parquet(ROOT / "artifacts/prepared/test.parquet")[columns].head(count)
    rows = json.loads(frame.to_json(orient="records"))
    return [{k: (None if v != v else v) for k, v in row.items()} for row in rows]  # NaN -> None


def in_process(metadata: dict[str, Any], records: list[dict[str, Any]]) -> list[tuple[str, float, float]]:
    models = ROOT / "models"
    reference = metadata["reference"]
    columns = tuple(f["name"] for f in metadata["schema"]["features"])
    paths = {
        "compiled path (the service's)": load_verified(models, metadata),
        "scikit-learn Pipeline": PipelinePredictor(load_model(models / metadata["model_file"]), columns),
    }
    rows = []
    for name, predictor in paths.items():
        plain = median_ms(lambda r, p=predictor: p.positive_proba([r]), records)
        explained = median_ms(lambda r, p=predictor: explain(p.positive_proba, r, reference, TOP), records)
        rows.append((name, plain, explained))
    return rows


def through_the_service(records: list[dict[str, Any]]) -> tuple[str, float, float]:
    os.environ.update({"MLOPS_MODELS_DIR": str(ROOT / "models"), "MLOPS_INFERENCE_LOG_DIR": ""})
    from starlette.testclient import TestClient

    import mlops.service as service

    with TestClient(service.ModelService.to_asgi()) as client:
        plain = median_ms(lambda r: client.post("/predict", json=r).raise_for_status(), records)
        explained = median_ms(
            lambda r: client.post("/predict", json=r | {"explain": True}).raise_for_status(), records
        )
    return "service /predict via its ASGI app", plain, explained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300, help="test records, one call each")
    args = parser.parse_args()
    metadata = read_metadata(ROOT / "models")
    records = load_records(metadata, args.records)
    with threadpool_limits(limits=1):
        rows = [*in_process(metadata, records), through_the_service(records)]
    print(
        f"`benchmarks/explain.py` ({platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {date.today()}; median of {len(records)} test records, one thread; "
        f"{len(metadata['schema']['features'])} features, top {TOP} contributions)\n"
    )
    print("| path | predict | predict + explain | ratio |")
    print("|---|---|---|---|")
    for name, plain, explained in rows:
        print(f"| {name} | {plain:.2f} ms | {explained:.2f} ms | {explained / plain:.1f}x |")


if __name__ == "__main__":
    main()
