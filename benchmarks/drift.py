"""Benchmark the drift check: time and peak memory at 10k .. 10M rows x the schema's 19 features.

Rows are drawn with replacement from the prepared training split (the current batch with monthly
charges raised 12%), each size in a fresh process. Peak memory is the resident-set growth during the
check, sampled every 5 ms. With --evidently-python, the same Parquet files go through evidently's
DataDriftPreset in that (separate, pandas < 3) environment, and per-column verdicts are compared.

    .venv/bin/python benchmarks/drift.py --rows 10000 100000 1000000 10000000 \
        [--evidently-python /tmp/evvenv/bin/python --evidently-rows 10000 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
EVIDENTLY = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
start = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)
payload = snapshot.dict()
seconds = time.perf_counter() - start
import resource
print(json.dumps({"seconds": seconds, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "metrics": payload["metrics"]}, default=str))
"""


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = pd.read_parquet(REPO / "artifacts/prepared/train.parquet").drop(columns=["churn"])
    rng = np.random.default_rng(seed)
    reference = train.take(rng.integers(0, len(train), rows)).reset_index(drop=True)
    current = train.take(rng.integers(0, len(train), rows)).reset_index(drop=True)
    current["monthly_charges"] = current["monthly_charges"] * 1.12
    return reference, current


def measure(rows: int) -> dict[str, object]:
    """Run in a child process: one size, our check only."""
    from mlops.drift import check_drift
    from mlops.params import load_params
    from mlops.schema import load_schema

    schema, params = load_schema(REPO / "schema.yaml"), load_params(REPO / "params.yaml").drift
    reference, current = make_frames(rows)
    base, peak, done = _rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    result = check_drift(reference, current, schema, params)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    verdicts = {c.column: c.drifted for c in result.columns}
    return {"rows": rows, "seconds": round(seconds, 3), "peak_mb": round(max(peak[0] - base, 0), 1),
            "verdicts": verdicts}  # fmt: skip


def evidently(python: str, rows: int) -> dict[str, object]:
    reference, current = make_frames(rows)
    with tempfile.TemporaryDirectory() as tmp:
        ref, cur = Path(tmp) / "ref.parquet", Path(tmp) / "cur.parquet"
        # evidently infers column kinds: give categorical features as strings, like the schema says
        schema_cats = [c for c in reference.columns if reference[c].dtype != "float64"]
        for frame, path in ((reference, ref), (current, cur)):
            frame.astype({c: "object" for c in schema_cats}).astype({c: str for c in schema_cats}).to_parquet(
                path
            )
        done = subprocess.run([python, "-c", EVIDENTLY, ref, cur], capture_output=True, text=True, check=True)
    payload = json.loads(done.stdout.splitlines()[-1])
    verdicts = {}
    for metric in payload["metrics"]:
        name = str(metric.get("metric_id", ""))
        if name.startswith("ValueDrift(") and "column=" in name:
            column = name.split("column=")[1].split(",")[0].rstrip(")")
            value, threshold = metric["value"], float(name.split("threshold=")[1].rstrip(")"))
            is_pvalue = "method=K-S" in name or "chi-square" in name.lower() or "Z-test" in name
            verdicts[column] = value < threshold if is_pvalue else value >= threshold
    return {"rows": rows, "seconds": round(payload["seconds"], 3), "maxrss_mb": round(payload["maxrss_mb"]),
            "verdicts": verdicts}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--evidently-python")
    parser.add_argument("--evidently-rows", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    ours = {}
    for rows in args.rows:
        out = subprocess.run([sys.executable, __file__, "--child", str(rows)], capture_output=True, text=True)
        ours[rows] = json.loads(out.stdout)
        print(
            f"mlops drift  {rows:>10,} rows: {ours[rows]['seconds']:8.2f} s, peak +{ours[rows]['peak_mb']} MB"
        )
    for rows in args.evidently_rows if args.evidently_python else []:
        theirs = evidently(args.evidently_python, rows)
        mine = ours.get(rows) or json.loads(
            subprocess.run(
                [sys.executable, __file__, "--child", str(rows)], capture_output=True, text=True
            ).stdout
        )
        agree = sum(mine["verdicts"][c] == v for c, v in theirs["verdicts"].items() if c in mine["verdicts"])
        print(f"evidently    {rows:>10,} rows: {theirs['seconds']:8.2f} s, max RSS {theirs['maxrss_mb']} MB; "
              f"ratio {theirs['seconds'] / mine['seconds']:.0f}x; "
              f"verdicts agree on {agree}/{len(theirs['verdicts'])}"
              f" (ours drifted: {sorted(c for c, v in mine['verdicts'].items() if v)}, evidently: "
              f"{sorted(c for c, v in theirs['verdicts'].items() if v)})")  # fmt: skip


if __name__ == "__main__":
    main()
