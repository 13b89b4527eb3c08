"""Benchmark `mlops drift` at production volume: streamed, against the in-memory check it replaced,
Evidently and NannyML.

Data: the prepared training split resampled (benchmarks/drift.py's shift: monthly charges raised 12%)
with each row's logged probability (the project's model on the sampled training row) and a timestamp,
written as `mlops ship-log` writes the shipped log (mlops.drift.sources.write_days: a Parquet dataset
partitioned by day, `date=YYYY-MM-DD/`), a million rows per file, ten million per day; optionally the
service's JSON-lines log (benchmarks/performance_estimation.make_log). Each run is the whole command
(`mlops drift --current ...`: reading, tests, estimate, reports) in a fresh process: wall time and
peak resident memory sampled every 50 ms. "before" is the package at `--before` (a git revision)
exported to a temporary folder and put first on PYTHONPATH.

With `--evidently-python` / `--nannyml-python` (each its own environment, never the project's; see
benchmarks/performance_estimation.py), the same dataset goes through Evidently 0.7's
DataDriftPreset (the 19 features read from the dataset with pandas, against the training split) and
NannyML's CBPE (the logged probabilities read from the dataset, against the test split scored by
the model), each in a fresh process, timed from start to exit like ours. Each run's CPU seconds are
measured too, and the ratios use them: on a shared machine the wall time measures the load. Prints
one JSON line per size, then the table docs/performance.md shows (its section also holds the Dask
run's, so the table is copied there, not written over it).

    nice -n 19 .venv/bin/python benchmarks/drift_stream.py --rows 1000000 10000000 100000000 \
        --before-rows 1000000 10000000 --before 55a73b8 --jsonl-rows 0 \
        --evidently-python /tmp/evv/.venv/bin/python --evidently-rows 1000000 \
        --nannyml-python /tmp/nml/.venv/bin/python --nannyml-rows 1000000 10000000 100000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

from benchmarks.drift import evidently_verdicts, watch  # noqa: E402

HEADING = "## Drift check at production volume: streamed, in-memory, Evidently and NannyML"
CHUNK = 1_000_000
ROWS_PER_DAY = 10_000_000
EVIDENTLY = """
import json, sys
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2], columns=list(reference.columns))
text = [c for c in reference.columns if reference[c].dtype == object]  # categories as text
current = current.astype({c: str for c in text})
snapshot = Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
print(json.dumps({"rows": len(current), "metrics": snapshot.dict()["metrics"]}, default=str))
"""
NANNYML = """
import json, sys, warnings
warnings.filterwarnings("ignore")
import pandas as pd, nannyml as nml
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2], columns=["probability"]).rename(columns={"probability": "p"})
current["pred"] = (current["p"] >= float(sys.argv[3])).astype(int)
metrics = ["roc_auc", "accuracy", "precision", "recall", "f1"]
estimator = nml.CBPE(y_pred_proba="p", y_pred="pred", y_true="y", problem_type="classification_binary",
                     metrics=metrics, chunk_number=1)
estimator.fit(reference)
frame = estimator.estimate(current).filter(period="analysis").to_df()
estimated = {m: float(frame[(m, "value")].iloc[0]) for m in metrics}
print(json.dumps({"rows": len(current), "estimated": estimated}))
"""


def make_dataset(rows: int, folder: Path, seed: int = 0) -> Path:
    """`rows` resampled log rows as the shipped log's day-partitioned Parquet dataset (CHUNK rows a file)."""
    from mlops.artifacts import decision_threshold, read_evaluation
    from mlops.drift.sources import write_days
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
        part["timestamp"] = day + seconds  # a Parquet timestamp column, as the shipped log holds it
        part["probability"] = probability[index]
        part["prediction"] = np.where(probability[index] >= threshold, "Yes", "No")
        part["model_version"] = version
        write_days(part, folder, f"part-{start // CHUNK:05d}", {})
    return folder


def references(folder: Path) -> tuple[Path, Path, float]:
    """The other tools' references: the training split's features (Evidently; categories as text) and
    the test split's scores and labels (NannyML); and the decision threshold."""
    from mlops.artifacts import decision_threshold, read_evaluation
    from mlops.pipeline.model import load_model, positive_proba
    from mlops.project import load_project
    from mlops.spec.schema import load_schema

    paths = load_project(REPO)
    schema = load_schema(REPO / paths.schema)
    features = list(schema.feature_names)
    train = pd.read_parquet(REPO / paths.train)[features]
    text = [f.name for f in schema.categorical]
    evidently_ref = folder / "evidently-reference.parquet"
    train.astype({c: "object" for c in text}).astype({c: str for c in text}).to_parquet(evidently_ref)
    test = pd.read_parquet(REPO / paths.test)
    threshold = decision_threshold(read_evaluation(REPO / paths.metrics))
    p = positive_proba(load_model(REPO / paths.model), test[features])
    y = (test[schema.target.name].astype(str) == str(schema.target.positive)).astype(int)
    nannyml_ref = folder / "nannyml-reference.parquet"
    pd.DataFrame({"p": p, "pred": (p >= threshold).astype(int), "y": y}).to_parquet(nannyml_ref)
    return evidently_ref, nannyml_ref, threshold


def other_tool(
    python: str, script: str, args: list[str], max_mb: float, max_seconds: float
) -> dict[str, object]:
    """Another tool's script in a fresh process of its own environment: seconds, peak RSS, its output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([python, "-c", script, *args], stdout=out, stderr=err, text=True)
        measured = watch_child(child, max_mb, max_seconds)
        if "stopped" in measured:
            return measured
        if child.returncode:
            err.seek(0)
            return {"stopped": f"exit {child.returncode}: {err.read()[-300:]}"}
        out.seek(0)
        found = json.loads(out.read().splitlines()[-1])
    return {**measured, **found}


def run(current: Path, out: Path, src: Path | None, max_mb: float, max_seconds: float) -> dict[str, object]:
    """One `mlops drift` in a fresh process: seconds, peak RSS, and what it found (or why it stopped)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    code = "import sys; from mlops.cli import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, "drift", "--current", str(current), "--out", str(out)]
    child = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    measured = watch_child(child, max_mb, max_seconds)
    if "stopped" in measured:
        return measured
    if child.returncode not in (0, 1):
        error = child.stderr.read().decode()[-500:] if child.stderr else ""
        return {"stopped": f"exit {child.returncode}: {error}"}
    result = json.loads((out / "drift.json").read_text())
    found = {"status": result["status"], "current_rows": result["current_rows"]}
    return {**measured, **found, "result": result}


def watch_child(child: subprocess.Popen, max_mb: float, max_seconds: float) -> dict[str, object]:
    """Wall seconds, CPU seconds and peak RSS of `child` until it exits, or why it was stopped."""
    start, cpu = time.monotonic(), cpu_seconds()
    try:
        peak = watch(child, max_mb, max_seconds)
    except RuntimeError as stopped:
        return {"stopped": str(stopped)}
    seconds = time.monotonic() - start
    return {"seconds": round(seconds, 1), "cpu_s": round(cpu_seconds() - cpu, 1), "peak_mb": round(peak)}


def cpu_seconds() -> float:
    """User + system CPU time of this process's finished children: on a shared machine the wall
    time depends on the load, the CPU time much less."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


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
        f"nice {os.nice(0)}, beside other work on the machine."
    )


def section(header: str, rows: list[dict[str, object]]) -> str:
    """The results side by side: each tool's wall and CPU seconds and peak MB, its CPU time as a
    multiple of ours."""
    lines = [
        HEADING, "", header, "",
        "| data | rows | streamed | in-memory | Evidently | NannyML | CPU time: in-memory / streamed | "
        "Evidently / streamed | NannyML / streamed | (Evidently + NannyML) / streamed | same as in-memory: "
        "verdicts, max score gap, max estimate gap | Evidently's verdicts agree | NannyML's ROC AUC - ours |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]  # fmt: skip
    for row in rows:
        after = row["after"]
        tools = [after, row["before"], row.get("evidently") or {}, row.get("nannyml") or {}]
        cells = [str(row["data"]), f"{row['rows']:,}", *(_cell(got) for got in tools)]
        cells += [_ratio(got, after) for got in tools[1:]]
        both = {"cpu_s": _seconds(tools[2]) + _seconds(tools[3])} if all(map(_seconds, tools[2:])) else {}
        cells.append(_ratio(both, after))
        diff = row.get("diff") or {}
        same = diff and diff["same_status"] and diff["same_drifted"]
        cells.append(
            f"{'yes' if same else 'no'}, {diff['max_score_gap']:.2g}, {diff['max_estimate_gap']:.2g}"
            if diff
            else ""
        )
        cells += [str(row.get("evidently_agree", "")), str(row.get("nannyml_auc_gap", ""))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _seconds(got: object) -> float:
    """The CPU seconds of a run (0 when it did not finish): ratios of wall times would measure the load."""
    return float(got["cpu_s"]) if isinstance(got, dict) and "cpu_s" in got else 0.0


def _cell(got: dict[str, object]) -> str:
    if not got:
        return "not run"
    if "stopped" in got:
        return f"stopped: {got['stopped']}"
    return f"{got['seconds']:,.1f} s ({got['cpu_s']:,.1f} s CPU), {got['peak_mb']:,} MB"


def _ratio(got: dict[str, object], ours: dict[str, object]) -> str:
    return f"{_seconds(got) / _seconds(ours):.1f}x" if _seconds(got) and _seconds(ours) else ""


def measure(
    label: str,
    rows: int,
    data: Path,
    before_src: Path | None,
    refs: tuple[Path, Path, float] | None,
    args: argparse.Namespace,
) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        before: dict[str, object] = {}
        if before_src is not None and rows in args.before_rows:
            before = run(data, Path(tmp) / "before", before_src, args.before_max_mb, args.max_seconds)
        after = run(data, Path(tmp) / "after", None, args.max_mb, args.max_seconds)
    row: dict[str, object] = {"data": label, "rows": rows, "before": before, "after": after}
    if "result" in before and "result" in after:
        row["diff"] = differences(before, after)
    if refs is not None:
        row.update(others(rows, data, refs, after, args))
    summary = {k: v for k, v in row.items() if k not in ("before", "after")}
    for side in ("before", "after"):
        summary[side] = {k: v for k, v in row[side].items() if k != "result"}  # type: ignore[union-attr]
    print(json.dumps(summary), flush=True)
    return summary


def others(
    rows: int, data: Path, refs: tuple[Path, Path, float], after: dict[str, object], args: argparse.Namespace
) -> dict[str, object]:
    """Evidently and NannyML on the same dataset (at the sizes asked), and how far they agree with ours."""
    evidently_ref, nannyml_ref, threshold = refs
    ours = after.get("result") if isinstance(after.get("result"), dict) else None
    found: dict[str, object] = {}
    if args.evidently_python and rows in args.evidently_rows:
        got = other_tool(args.evidently_python, EVIDENTLY, [str(evidently_ref), str(data)],
                         args.other_max_mb, args.max_seconds)  # fmt: skip
        if "metrics" in got and ours is not None:
            theirs = evidently_verdicts(got.pop("metrics"))  # type: ignore[arg-type]
            mine = {c["column"]: c["drifted"] for c in ours["columns"]}
            agree = sum(mine[c] == theirs[c] for c in mine if c in theirs)
            found["evidently_agree"] = f"{agree} / {len(set(mine) & set(theirs))}"
        found["evidently"] = got
    if args.nannyml_python and rows in args.nannyml_rows:
        got = other_tool(args.nannyml_python, NANNYML, [str(nannyml_ref), str(data), str(threshold)],
                         args.other_max_mb, args.max_seconds)  # fmt: skip
        if "estimated" in got and ours is not None:
            gap = got["estimated"]["roc_auc"] - ours["performance"]["estimated"]["roc_auc"]  # type: ignore[index]
            found["nannyml_auc_gap"] = f"{gap:.2g}"
        found["nannyml"] = got
    return found


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
    parser.add_argument("--evidently-python", help="a Python with evidently 0.7 (not the project's)")
    parser.add_argument("--evidently-rows", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--nannyml-python", help="a Python with nannyml 0.13 (not the project's)")
    parser.add_argument("--nannyml-rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--other-max-mb", type=float, default=12_000, help="stop Evidently or NannyML past this RSS"
    )
    parser.add_argument("--work", type=Path, help="folder for the generated data (default: a temporary one)")
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
        refs = references(work) if args.evidently_python or args.nannyml_python else None
        if args.jsonl_rows:
            from benchmarks.performance_estimation import make_log

            log_folder, _ = make_log(args.jsonl_rows, work)
            results.append(measure("JSON lines", args.jsonl_rows, log_folder, before_src, None, args))
        for rows in sorted(args.rows):
            data = make_dataset(rows, work / f"parquet-{rows}")
            results.append(measure("shipped log (Parquet by day)", rows, data, before_src, refs, args))
            subprocess.run(["rm", "-rf", str(data)], check=True)
    text = section(header, results)
    print(text)


if __name__ == "__main__":
    main()
