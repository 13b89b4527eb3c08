"""Benchmark the label-free performance estimate against NannyML 0.13's CBPE, and time 1M logged rows.

1. Quality: mean absolute error of the estimated ROC AUC (and accuracy) against the realized one,
   ours and NannyML's CBPE on the same scores and labels:
   - seeded synthetic data with a known covariate shift (20 current sets of 2,000 rows: rows moved
     towards the decision boundary, the rules unchanged), reference 2,000 rows;
   - the demo: reference = the test split scored by models/model.skops; current = the two demo
     production batches, their labels joined back from the raw data by customer_id.
2. Time for N logged rows (an inference log as the service writes it, drawn from the training split,
   with the model's probabilities): `mlops drift --current LOG` (read, score or take the logged
   probabilities, estimate, drift, reports) against NannyML (read the log with pandas, CBPE) plus
   Evidently 0.7 (read the log with pandas, DataDriftPreset), each in its own process.

NannyML and Evidently run in their own environments (not project dependencies):

    uv venv /tmp/nml/.venv && VIRTUAL_ENV=/tmp/nml/.venv uv pip install "nannyml==0.13.*" statsmodels
    uv venv /tmp/evv/.venv && VIRTUAL_ENV=/tmp/evv/.venv uv pip install evidently==0.7.23 "pandas<3" pyarrow
    .venv/bin/python benchmarks/performance_estimation.py --nannyml-python /tmp/nml/.venv/bin/python \\
        --evidently-python /tmp/evv/.venv/bin/python --rows 1000000 [--write-docs]

Needs the trained demo (`make run`) and the production batches (`dvc pull`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from mlops.drift.performance import Reference, estimate
from mlops.pipeline.model import load_model, positive_proba
from mlops.project import load_project
from mlops.serving.inference_log import InferenceLog
from mlops.spec.schema import load_schema

REPO = Path(__file__).resolve().parents[1]
THRESHOLD = 0.5
HEADING = "## Performance estimate: ours against NannyML's CBPE, and 1M logged rows"

NANNYML = """
import json, sys, time, warnings
import pandas as pd, nannyml as nml
warnings.filterwarnings("ignore")
sets = json.loads(open(sys.argv[1]).read())
out = {}
for name, item in sets.items():
    ref, cur = pd.read_parquet(item["reference"]), pd.read_parquet(item["current"])
    est = nml.CBPE(y_pred_proba="p", y_pred="pred", y_true="y", problem_type="classification_binary",
                   metrics=["roc_auc", "accuracy"], chunk_number=1)
    est.fit(ref)
    frame = est.estimate(cur.drop(columns=["y"])).filter(period="analysis").to_df()
    out[name] = {m: float(frame[(m, "value")].iloc[0]) for m in ("roc_auc", "accuracy")}
print(json.dumps(out))
"""

NANNYML_TIMED = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
start = time.perf_counter()
import pandas as pd, nannyml as nml
ref = pd.read_parquet(sys.argv[1])
log = pd.read_json(sys.argv[2], lines=True)
cur = pd.DataFrame({"p": [o["probability"] for o in log["output"]]})
cur["pred"] = (cur["p"] >= 0.5).astype(int)
est = nml.CBPE(y_pred_proba="p", y_pred="pred", y_true="y", problem_type="classification_binary",
               metrics=["roc_auc", "accuracy", "precision", "recall", "f1"], chunk_number=1)
est.fit(ref)
result = est.estimate(cur).to_df()
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

EVIDENTLY_TIMED = """
import json, sys, time
start = time.perf_counter()
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1])
log = pd.read_json(sys.argv[2], lines=True)
cur = pd.DataFrame(list(log["inputs"]))[list(ref.columns)]
snapshot = Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)
snapshot.dict()
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def synthetic(rows: int, seed: int, spread: float = 2.0) -> pd.DataFrame:
    """Scores of a miscalibrated, well-ranking model; truth P(y|z) = sigmoid(z); z ~ N(0, spread)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, spread, rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(int)
    p = 1 / (1 + np.exp(-(1.5 * z + 0.3)))
    return pd.DataFrame({"p": p, "pred": (p >= THRESHOLD).astype(int), "y": y})


def demo_sets() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    paths = load_project(REPO)
    schema = load_schema(REPO / paths.schema)
    model = load_model(REPO / paths.model)
    features = list(schema.feature_names)
    positive = str(schema.target.positive)

    def scored(frame: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
        p = positive_proba(model, frame[features])
        y = (labels.astype(str) == positive).astype(int).to_numpy()
        return pd.DataFrame({"p": p, "pred": (p >= THRESHOLD).astype(int), "y": y})

    test = pd.read_parquet(REPO / paths.test)
    reference = scored(test, test[schema.target.name])
    raw = pd.read_csv(REPO / paths.data).set_index("customer_id")[schema.target.name]
    sets = {}
    for batch in sorted((REPO / "production").glob("*.csv")):
        frame = pd.read_csv(batch)
        sets[f"demo {batch.stem}"] = (
            reference,
            scored(frame, raw.loc[frame["customer_id"]].reset_index(drop=True)),
        )
    return sets


def realized_auc(frame: pd.DataFrame) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(frame["y"], frame["p"]))


def quality(nannyml_python: str, folder: Path) -> dict[str, list[dict[str, float]]]:
    """Per set: realized, ours and NannyML's ROC AUC and accuracy, grouped by dataset."""
    sets: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    reference = synthetic(2_000, 0)
    for spread in (2.0, 1.5, 1.0, 0.7):
        for seed in range(1, 6):
            sets[f"synthetic sd {spread} seed {seed}"] = (reference, synthetic(2_000, 100 * seed, spread))
    sets.update(demo_sets())
    files = {}
    for i, (name, (ref, cur)) in enumerate(sets.items()):
        ref.to_parquet(folder / f"ref{i}.parquet")
        cur.to_parquet(folder / f"cur{i}.parquet")
        files[name] = {
            "reference": str(folder / f"ref{i}.parquet"),
            "current": str(folder / f"cur{i}.parquet"),
        }
    (folder / "sets.json").write_text(json.dumps(files))
    theirs = json.loads(_child(nannyml_python, NANNYML, folder / "sets.json"))
    groups: dict[str, list[dict[str, float]]] = {}
    for name, (ref, cur) in sets.items():
        ours = estimate(
            Reference.fit(ref["p"].to_numpy(), ref["y"].to_numpy(), THRESHOLD), cur["p"].to_numpy()
        )
        accuracy = float(((cur["p"] >= THRESHOLD).astype(int) == cur["y"]).mean())
        groups.setdefault(name.rsplit(" seed", 1)[0].split(" sd")[0], []).append(
            {
                "realized_auc": realized_auc(cur), "ours_auc": ours.estimated["roc_auc"],
                "nannyml_auc": theirs[name]["roc_auc"], "realized_acc": accuracy,
                "ours_acc": ours.estimated["accuracy"], "nannyml_acc": theirs[name]["accuracy"],
                "name": name,  # type: ignore[dict-item]
            }
        )  # fmt: skip
    return groups


def _child(python: str, code: str, *args: Path) -> str:
    result = subprocess.run(
        [python, "-c", code, *map(str, args)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout.strip().splitlines()[-1]


def make_log(rows: int, folder: Path) -> tuple[Path, Path]:
    """An inference log of `rows` predictions and the labelled reference (scores) for NannyML."""
    paths = load_project(REPO)
    schema = load_schema(REPO / paths.schema)
    model = load_model(REPO / paths.model)
    version = json.loads((REPO / paths.metadata).read_text())["model_version"]
    features = list(schema.feature_names)
    train = pd.read_parquet(REPO / paths.train)[features]
    rng = np.random.default_rng(0)
    writer = InferenceLog(folder / "log", max_bytes=1 << 40, max_total_bytes=1 << 41)
    for start in range(0, rows, 100_000):
        part = train.take(rng.integers(0, len(train), min(100_000, rows - start))).reset_index(drop=True)
        p = positive_proba(model, part)
        records = json.loads(part.to_json(orient="records"))
        writer.write(
            version,
            records,
            [{"label": "Yes" if x >= THRESHOLD else "No", "probability": float(x)} for x in p],
        )
    writer.close()
    test = pd.read_parquet(REPO / paths.test)
    p = positive_proba(model, test[features])
    y = (test[schema.target.name].astype(str) == str(schema.target.positive)).astype(int)
    pd.DataFrame({"p": p, "pred": (p >= THRESHOLD).astype(int), "y": y}).to_parquet(
        folder / "nml-ref.parquet"
    )
    train.to_parquet(folder / "evidently-ref.parquet")
    return folder / "log", folder / "nml-ref.parquet"


def timing(rows: int, nannyml_python: str, evidently_python: str | None, folder: Path) -> dict[str, float]:
    log, nml_ref = make_log(rows, folder)
    log_file = next(log.iterdir())
    start = time.perf_counter()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["mlops", "drift", "--current", str(log), "--out", str(folder / "out")], cwd=REPO, env=env,
                   capture_output=True, check=False)  # fmt: skip
    ours = time.perf_counter() - start
    drift_json = json.loads((folder / "out" / "drift.json").read_text())
    assert drift_json["performance"]["available"] and drift_json["current_rows"] == rows, drift_json.get(
        "reasons"
    )
    out = {"ours": ours, "ours_source": drift_json["performance"]["probabilities"]}
    out["nannyml"] = json.loads(_child(nannyml_python, NANNYML_TIMED, nml_ref, log_file))["seconds"]
    if evidently_python:
        evidently_ref = folder / "evidently-ref.parquet"
        out["evidently"] = json.loads(_child(evidently_python, EVIDENTLY_TIMED, evidently_ref, log_file))[
            "seconds"
        ]
    out["log_mb"] = log_file.stat().st_size / 1e6
    return out


def section(groups: dict[str, list[dict[str, float]]], times: dict[str, float] | None, rows: int) -> str:
    lines = [
        HEADING, "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.node()} ({os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}), one run of `benchmarks/performance_estimation.py`; "
        "NannyML 0.13.1 and Evidently 0.7.23 each in their own environment.", "",
        "**Estimation quality**: mean absolute error of the estimate against the realized metric "
        "(lower is better), the same scores and labels for both tools.", "",
        "| data | sets | realized ROC AUC (range) | MAE ROC AUC, ours | MAE ROC AUC, NannyML | "
        "MAE accuracy, ours | MAE accuracy, NannyML |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    for group, items in groups.items():
        real = [i["realized_auc"] for i in items]
        mae = {k: np.mean([abs(i[f"{k}"] - i[f"realized_{k.split('_')[1]}"]) for i in items])
               for k in ("ours_auc", "nannyml_auc", "ours_acc", "nannyml_acc")}  # fmt: skip
        lines.append(
            f"| {group} | {len(items)} | {min(real):.3f} to {max(real):.3f} | {mae['ours_auc']:.4f} | "
            f"{mae['nannyml_auc']:.4f} | {mae['ours_acc']:.4f} | {mae['nannyml_acc']:.4f} |"
        )
    if times:
        theirs = times["nannyml"] + times.get("evidently", float("nan"))
        lines += [
            "", f"**Time for {rows:,} logged rows** ({times['log_mb']:.0f} MB of JSON lines; wall time, each "
            "tool in a fresh process, reading the log included):", "",
            "| | seconds | ratio |", "|---|---:|---:|",
            f"| `mlops drift` (read, {times['ours_source']} probabilities, estimate, drift of 19 columns, "
            f"reports) | {times['ours']:.1f} | 1 |",
            f"| NannyML CBPE (read, estimate) | {times['nannyml']:.1f} | "
            f"{times['nannyml'] / times['ours']:.1f}x |",
        ]  # fmt: skip
        if "evidently" in times:
            lines += [
                f"| Evidently DataDriftPreset (read, drift) | {times['evidently']:.1f} | "
                f"{times['evidently'] / times['ours']:.1f}x |",
                f"| NannyML + Evidently | {theirs:.1f} | **{theirs / times['ours']:.1f}x** |",
            ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nannyml-python", required=True)
    parser.add_argument("--evidently-python")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        groups = quality(args.nannyml_python, Path(tmp))
        times = (
            None
            if args.skip_timing
            else timing(args.rows, args.nannyml_python, args.evidently_python, Path(tmp))
        )
    text = section(groups, times, args.rows)
    print(text)
    print(json.dumps({"groups": groups, "times": times}, default=float), file=sys.stderr)
    if args.write_docs:
        from benchmarks.docs_section import replace_section

        replace_section(REPO / "docs" / "performance.md", HEADING, text)


if __name__ == "__main__":
    main()
