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
from typing import Any

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
    from mlops.spec.params import load_params
    from mlops.spec.schema import load_schema

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
    return {"rows": rows, **evidently_on(python, *make_frames(rows))}


def evidently_on(python: str, reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, object]:
    """evidently's DataDriftPreset on two frames, in its own environment: time, memory, verdicts."""
    with tempfile.TemporaryDirectory() as tmp:
        ref, cur = Path(tmp) / "ref.parquet", Path(tmp) / "cur.parquet"
        # evidently infers column kinds: give categorical features as strings, like the schema says
        categorical = [c for c in reference.columns if reference[c].dtype != "float64"]
        for frame, path in ((reference, ref), (current, cur)):
            frame.astype({c: "object" for c in categorical}).astype({c: str for c in categorical}).to_parquet(
                path
            )
        done = subprocess.run([python, "-c", EVIDENTLY, ref, cur], capture_output=True, text=True, check=True)
    payload = json.loads(done.stdout.splitlines()[-1])
    return {"seconds": round(payload["seconds"], 3), "maxrss_mb": round(payload["maxrss_mb"]),
            "verdicts": evidently_verdicts(payload["metrics"])}  # fmt: skip


def demo_batches(python: str) -> list[dict[str, object]]:
    """Both tools on the demo production batches against the training split: real data, borderline columns."""
    from mlops.drift import check_drift
    from mlops.drift.sources import read_file
    from mlops.spec.params import load_params
    from mlops.spec.schema import load_schema

    schema, params = load_schema(REPO / "schema.yaml"), load_params(REPO / "params.yaml").drift
    reference = pd.read_parquet(REPO / "artifacts/prepared/train.parquet")[schema.feature_names]
    rows = []
    for batch in sorted((REPO / "production").glob("*.csv")):
        current = read_file(batch, schema, params.prediction_column)[schema.feature_names]
        start = time.perf_counter()
        result = check_drift(reference, current, schema, params)
        mine = {
            "seconds": time.perf_counter() - start,
            "verdicts": {c.column: c.drifted for c in result.columns},
        }
        rows.append(
            {"batch": batch.name, **compare(len(current), mine, evidently_on(python, reference, current))}
        )
    return rows


def evidently_verdicts(metrics: list[dict[str, object]]) -> dict[str, bool]:
    """Per-column verdicts from evidently 0.7's snapshot: one `ValueDrift` metric per column.

    Its `config` names the column, the method and the threshold; the `value` is a p-value when the
    method's name says so (K-S, chi-square, Z-test: drift when below), else a distance (drift at or above).
    """
    verdicts = {}
    for metric in metrics:
        config = metric.get("config") or {}
        if not isinstance(config, dict) or not str(config.get("type", "")).endswith(":ValueDrift"):
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        is_p_value = "p_value" in str(config["method"])
        verdicts[str(config["column"])] = value < threshold if is_p_value else value >= threshold
    return verdicts


def _vm_rss_mb(pid: int) -> float:
    """A process's resident memory in MB (0 once it has gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(x.split()[1]) / 1024 for x in lines if x.startswith("VmRSS:")), 0.0)


def watch(child: subprocess.Popen[Any], max_mb: float, max_seconds: float) -> float:
    """Wait for a child, sampling its resident memory every 50 ms; its peak RSS (MB). Past `max_mb` or
    `max_seconds` it is killed and RuntimeError says where it stopped."""
    peak, start = 0.0, time.monotonic()
    while child.poll() is None:
        peak = max(peak, _vm_rss_mb(child.pid))
        if peak > max_mb or time.monotonic() - start > max_seconds:
            child.kill()
            child.wait()
            raise RuntimeError(f"stopped at {peak:,.0f} MB after {time.monotonic() - start:,.0f} s")
        time.sleep(0.05)
    return peak


def bounded(cmd: list[str], max_mb: float, max_seconds: float) -> tuple[str, float]:
    """Run a child; kill it past `max_mb` resident memory or `max_seconds`. Its stdout and peak RSS (MB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        peak = watch(child, max_mb, max_seconds)
        if child.returncode:
            err.seek(0)
            raise RuntimeError(f"exit {child.returncode}: {err.read()[-2000:]}")
        out.seek(0)
        return out.read(), peak


def ours(rows: int, max_mb: float, max_seconds: float) -> dict[str, object]:
    """One size in a fresh process: time and memory of the check alone, and the process's peak RSS."""
    text, process_peak = bounded([sys.executable, __file__, "--child", str(rows)], max_mb, max_seconds)
    return {**json.loads(text.splitlines()[-1]), "process_peak_mb": round(process_peak)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--evidently-python")
    parser.add_argument("--evidently-rows", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--max-mb", type=float, default=12_000, help="kill a run past this resident memory")
    parser.add_argument("--max-seconds", type=float, default=900, help="kill a run past this time")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    results: dict[str, list[dict[str, object]]] = {"ours": [], "evidently": [], "demo": []}
    mine: dict[int, dict[str, object]] = {}
    for rows in sorted(set(args.rows) | set(args.evidently_rows if args.evidently_python else [])):
        try:
            mine[rows] = ours(rows, args.max_mb, args.max_seconds)
        except RuntimeError as error:
            print(f"mlops drift  {rows:>10,} rows: not measured: {error}")
            continue
        results["ours"].append({k: v for k, v in mine[rows].items() if k != "verdicts"})
        got = mine[rows]
        print(f"mlops drift  {rows:>10,} rows: {got['seconds']:8.2f} s, check +{got['peak_mb']} MB, "
              f"process peak {got['process_peak_mb']} MB")  # fmt: skip
    for rows in args.evidently_rows if args.evidently_python else []:
        theirs = evidently(args.evidently_python, rows)
        results["evidently"].append(compare(rows, mine[rows], theirs))
    if args.evidently_python:
        results["demo"] = demo_batches(args.evidently_python)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def compare(rows: int, mine: dict[str, object], theirs: dict[str, object]) -> dict[str, object]:
    """Side by side at one size: the time ratio and the per-column verdicts both tools gave."""
    ours_v, theirs_v = mine["verdicts"], theirs["verdicts"]
    assert isinstance(ours_v, dict) and isinstance(theirs_v, dict)
    both = sorted(set(ours_v) & set(theirs_v))
    differ = [c for c in both if ours_v[c] != theirs_v[c]]
    row = {
        "rows": rows, "seconds": theirs["seconds"], "maxrss_mb": theirs["maxrss_mb"],
        "ours_seconds": mine["seconds"], "ratio": round(float(theirs["seconds"]) / float(mine["seconds"]), 1),
        "agree": len(both) - len(differ), "compared": len(both), "differ": differ,
        "ours_drifted": sorted(c for c in both if ours_v[c]),
        "evidently_drifted": sorted(c for c in both if theirs_v[c]),
    }  # fmt: skip
    print(f"evidently    {rows:>10,} rows: {row['seconds']:8.2f} s, max RSS {row['maxrss_mb']} MB; "
          f"{row['ratio']}x ours; verdicts agree on {row['agree']}/{row['compared']} columns "
          f"(ours drifted: {row['ours_drifted']}, evidently: {row['evidently_drifted']})")  # fmt: skip
    if not both:
        raise SystemExit("no per-column verdicts in common: the evidently output format changed?")
    return row


if __name__ == "__main__":
    main()
