"""Benchmark `mlops drift` at production volume: the streamed check against the in-memory one it replaced.

Data: the prepared training split resampled (benchmarks/drift.py's shift: monthly charges raised 12%)
with each row's logged probability (the project's model on the sampled training row) and a timestamp,
written as a Parquet dataset partitioned by day (`date=YYYY-MM-DD/`, as the shipped log is), a million
rows per file; and the service's JSON-lines log at 1M rows (benchmarks/performance_estimation.make_log).
Each run is the whole command (`mlops drift --current ...`, reading, tests, estimate, reports) in a
fresh process: wall time and peak resident memory sampled every 50 ms. "before" is the package at
`--before` (a git revision) exported to a temporary folder and put first on PYTHONPATH.

    nice -n 19 .venv/bin/python benchmarks/drift_stream.py --rows 1000000 10000000 \
        --before-rows 1000000 10000000 --before 55abb52 [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.drift import watch  # noqa: E402

HEADING = "## Drift check at production volume: streamed against in-memory"
CHUNK = 1_000_000
ROWS_PER_DAY = 10_000_000


def make_dataset(rows: int, folder: Path, seed: int = 0) -> Path:
    """`rows` resampled log rows as a day-partitioned Parquet dataset (CHUNK rows per file)."""
    from mlops.artifacts import decision_threshold, read_evaluation
    from mlops.pipeline.model import load_model, positive_proba
    from mlops.project import load_project
    from mlops.spec.schema import load_schema

    paths = load_project(REPO)
    schema = load_schema(REPO / paths.schema)
    train = pd.read_parquet(REPO / paths.train)[list(schema.feature_names)]
    probability = positive_proba(load_model(REPO / paths.model), train)
    threshold = decision_threshold(read_evaluation(REPO / paths.metrics))
    version = json.loads((REPO / paths.metadata).read_text())["model_version"]
    rng = np.random.default_rng(seed)
    for start in range(0, rows, CHUNK):
        size = min(CHUNK, rows - start)
        index = rng.integers(0, len(train), size)
        part = train.take(index).reset_index(drop=True)
        part["monthly_charges"] = part["monthly_charges"] * 1.12
        day = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=start // ROWS_PER_DAY)
        seconds = pd.to_timedelta(np.sort(rng.integers(0, 86_400, size)), unit="s")
        part["timestamp"] = day + seconds  # a Parquet timestamp column, as a shipped log holds it
        part["probability"] = probability[index]
        part["prediction"] = np.where(probability[index] >= threshold, "Yes", "No")
        part["model_version"] = version
        out = folder / f"date={day:%Y-%m-%d}"
        out.mkdir(parents=True, exist_ok=True)
        part.to_parquet(out / f"part-{start // CHUNK:05d}.parquet", row_group_size=1 << 17)
    return folder


def run(current: Path, out: Path, src: Path | None, max_mb: float, max_seconds: float) -> dict[str, object]:
    """One `mlops drift` in a fresh process: seconds, peak RSS, and what it found (or why it stopped)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    code = "import sys; from mlops.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, "drift", "--current", str(current), "--out", str(out)]
    child = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    start = time.monotonic()
    try:
        peak = watch(child, max_mb, max_seconds)
    except RuntimeError as stopped:
        return {"stopped": str(stopped)}
    seconds = time.monotonic() - start
    if child.returncode not in (0, 1):
        error = child.stderr.read().decode()[-500:] if child.stderr else ""
        return {"stopped": f"exit {child.returncode}: {error}"}
    result = json.loads((out / "drift.json").read_text())
    found = {"status": result["status"], "current_rows": result["current_rows"]}
    return {"seconds": round(seconds, 1), "peak_mb": round(peak), **found, "result": result}


def differences(before: dict[str, object], after: dict[str, object]) -> dict[str, object]:
    """How far the streamed result is from the in-memory one: verdicts, column scores, estimates."""
    a, b = before["result"], after["result"]
    assert isinstance(a, dict) and isinstance(b, dict)
    scores_a = {c["column"]: c for c in a["columns"] + a["outputs"]}
    scores_b = {c["column"]: c for c in b["columns"] + b["outputs"]}
    score_gap = max(abs((scores_a[n]["score"] or 0) - (scores_b[n]["score"] or 0)) for n in scores_a)
    estimate_gap = max(
        abs(a["performance"]["estimated"][m] - b["performance"]["estimated"][m])
        for m in a["performance"]["estimated"]
    )
    return {
        "same_status": a["status"] == b["status"],
        "same_drifted": sorted(a["drifted_columns"]) == sorted(b["drifted_columns"]),
        "max_score_gap": score_gap,
        "max_estimate_gap": estimate_gap,
    }


def machine() -> str:
    free = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout
    memory = free.split("\n")[1].split()
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: nproc {os.cpu_count()}, `free -g` total "
        f"{memory[1]} GiB (available {memory[6]} GiB at the start), `uptime`: {uptime}. Run at "
        "`nice -n 19`, beside other work on the machine."
    )


def section(header: str, rows: list[dict[str, object]]) -> str:
    lines = [
        HEADING, "", header, "",
        "| data | rows | before: s | before: peak MB | after: s | after: peak MB | same verdict and drifted "
        "columns | max score gap | max estimate gap |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]  # fmt: skip
    for row in rows:
        before, after, diff = row["before"], row["after"], row.get("diff") or {}
        cells = [row["data"], f"{row['rows']:,}"]
        for got in (before, after):
            if not got:
                cells += ["not run", ""]
            elif "stopped" in got:
                cells += [str(got["stopped"]), ""]
            else:
                cells += [f"{got['seconds']:.1f}", f"{got['peak_mb']:,}"]
        same = diff and diff["same_status"] and diff["same_drifted"]
        cells += [("yes" if same else "no") if diff else "", f"{diff['max_score_gap']:.2g}" if diff else "",
                  f"{diff['max_estimate_gap']:.2g}" if diff else ""]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def measure(
    label: str, rows: int, data: Path, before_src: Path | None, args: argparse.Namespace
) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        before: dict[str, object] = {}
        if before_src is not None and rows in args.before_rows:
            before = run(data, Path(tmp) / "before", before_src, args.before_max_mb, args.max_seconds)
        after = run(data, Path(tmp) / "after", None, args.max_mb, args.max_seconds)
    row: dict[str, object] = {"data": label, "rows": rows, "before": before, "after": after}
    if "result" in before and "result" in after:
        row["diff"] = differences(before, after)
    summary = {k: v for k, v in row.items() if k not in ("before", "after")}
    for side in ("before", "after"):
        summary[side] = {k: v for k, v in row[side].items() if k != "result"}  # type: ignore[union-attr]
    print(json.dumps(summary), flush=True)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--jsonl-rows", type=int, default=1_000_000, help="also the JSON-lines log of this size"
    )
    parser.add_argument("--before", help="the git revision of the in-memory check (none: after only)")
    parser.add_argument("--before-rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--max-mb", type=float, default=4096, help="stop the streamed check past this RSS")
    parser.add_argument(
        "--before-max-mb", type=float, default=12_000, help="stop the in-memory check past it"
    )
    parser.add_argument("--max-seconds", type=float, default=7200)
    parser.add_argument("--work", type=Path, help="folder for the generated data (default: a temporary one)")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    header = machine()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        before_src = None
        if args.before:
            archive = subprocess.run(
                ["git", "archive", args.before, "src"], cwd=REPO, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(work)], input=archive.stdout, check=True)
            before_src = work / "src"
        results = []
        if args.jsonl_rows:
            from benchmarks.performance_estimation import make_log

            log_folder, _ = make_log(args.jsonl_rows, work)
            results.append(measure("JSON lines", args.jsonl_rows, log_folder, before_src, args))
        for rows in sorted(args.rows):
            data = make_dataset(rows, work / f"parquet-{rows}")
            results.append(measure("Parquet by day", rows, data, before_src, args))
            subprocess.run(["rm", "-rf", str(data)], check=True)
    text = section(header, results)
    print(text)
    if args.write_docs:
        from benchmarks.docs_section import replace_section

        replace_section(REPO / "docs" / "performance.md", HEADING, text)


if __name__ == "__main__":
    main()
