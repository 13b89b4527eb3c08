"""Pipeline benchmark: cold, no-op and one-param repro, and how time and memory grow with the data.

    .venv/bin/python benchmarks/pipeline.py [--sizes 70000 700000 7000000] [--out docs/performance.md]
    .venv/bin/python benchmarks/pipeline.py --train-split 5000000 --max-rows 500000 1000000 [--out ...]

Part 1 runs `dvc repro` for real in a fresh copy of the project and splits each stage's time into
importing libraries and computing. Part 2 resamples the Telco table (seeded, with replacement) to
larger sizes and runs each stage's command under /usr/bin/time for wall time and peak memory.
Prints a Markdown section; with --out it replaces the "Pipeline" section of that file.

With --prepare-rows, only `mlops prepare` on that many resampled rows: one line of time and peak
memory (PYTHONPATH=REVISION/src measures another revision's code, for before and after).
With --train-split, only the training curve: a training split of that many rows (the Telco table,
validated and resampled, as `mlops prepare` writes it) trained with each `train.max_rows`, for
the wall time and peak memory of `mlops train`; it replaces the "Training" section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from docs_section import replace_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import copy_project, run  # noqa: E402

HEADING = "## Pipeline: repro times and scaling"
TRAIN_HEADING = "## Training: peak memory against `train.max_rows`"
CHUNK_ROWS = 1_000_000  # rows of the generated training split written at a time
# What each stage's `run` imports (the command modules import their libraries inside `run`).
STAGE_IMPORTS = {
    "prepare": "import mlops.pipeline.data, mlops.spec.params, mlops.spec.schema, sklearn.model_selection",
    "train": (
        "import pandas, mlops.pipeline.metadata, mlops.pipeline.model, mlops.spec.params, mlops.spec.schema"
    ),
    "evaluate": (
        "import pandas, mlops.pipeline.evaluate, mlops.pipeline.model, mlops.spec.params, mlops.spec.schema"
    ),
}


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    run(cmd, cwd=cwd)
    return time.perf_counter() - start


def import_seconds(statement: str, cwd: Path, repeats: int = 3) -> float:
    """Median wall time of a fresh interpreter importing a stage's module, minus a bare interpreter."""

    def median(code: str) -> float:
        times = sorted(timed([sys.executable, "-c", code], cwd) for _ in range(repeats))
        return times[len(times) // 2]

    return median(statement) - median("pass")


def repro_times(project: Path) -> dict[str, float]:
    run(["dvc", "pull", "--quiet", "data.dvc"], cwd=project)
    results = {"cold": timed(["dvc", "repro", "--force"], project)}
    results["no-op"] = timed(["dvc", "repro"], project)
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("threshold: 0.5", "threshold: 0.45"))
    results["one param (evaluate.threshold)"] = timed(["dvc", "repro"], project)
    results["imports"] = sum(import_seconds(code, project) for code in STAGE_IMPORTS.values())
    return results


def measure(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one command."""
    result = run(["/usr/bin/time", "-f", "%e %M", *cmd], cwd=cwd)
    seconds, kilobytes = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kilobytes) / 1024


def resampled_csv(project: Path, rows: int) -> Path:
    """The Telco table resampled (seeded, with replacement) to `rows` rows, in `scale-ROWS/raw.csv`."""
    raw = pd.read_csv(project / "data/telco_churn.csv", dtype=str, keep_default_na=False)
    work = project / f"scale-{rows}"
    work.mkdir()
    raw.sample(n=rows, replace=True, random_state=0).to_csv(work / "raw.csv", index=False)
    return work / "raw.csv"


def scaling(project: Path, rows: int) -> dict[str, tuple[float, float]]:
    work = resampled_csv(project, rows).parent
    common = ["--schema", "schema.yaml", "--params", "params.yaml"]
    stages = {
        "prepare": ["mlops", "prepare", "--data", f"{work}/raw.csv", *common,
                    "--train-out", f"{work}/train.parquet", "--test-out", f"{work}/test.parquet"],
        "train": ["mlops", "train", "--train", f"{work}/train.parquet", *common,
                  "--model-out", f"{work}/model.skops", "--metadata-out", f"{work}/model.json"],
        "evaluate": ["mlops", "evaluate", "--model", f"{work}/model.skops", "--test", f"{work}/test.parquet",
                     *common, "--metrics-out", f"{work}/metrics.json", "--segments-out", f"{work}/seg.json",
                     "--plots-dir", f"{work}/plots"],
    }  # fmt: skip
    return {name: measure(cmd, project) for name, cmd in stages.items()}


def render(repro: dict[str, float], scaled: dict[int, dict[str, tuple[float, float]]]) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [
        HEADING,
        "",
        f"`benchmarks/pipeline.py` ({cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{date.today().isoformat()}; the machine may have been shared with other jobs).",
        "",
        "| repro | seconds |",
        "|---|---|",
        *(f"| {name} | {seconds:.1f} |" for name, seconds in repro.items() if name != "imports"),
        "",
        f"Importing the libraries costs {repro['imports']:.1f} s over the three stages, "
        f"{repro['imports'] / repro['cold']:.0%} of the cold repro; the rest is reading, fitting, "
        "permutation importance and DVC's own work.",
        "",
        "| rows | " + " | ".join(f"{s} s | {s} peak MB" for s in ("prepare", "train", "evaluate")) + " |",
        "|---|" + "---|" * 6,
    ]
    base = min(scaled)
    for rows, stages in scaled.items():
        cells = " | ".join(f"{sec:.1f} | {mb:,.0f}" for sec, mb in stages.values())
        lines.append(f"| {rows:,} | {cells} |")
    if len(scaled) > 1:
        total = {rows: sum(sec for sec, _ in stages.values()) for rows, stages in scaled.items()}
        ratios = ", ".join(f"{rows:,}: {total[rows] / total[base]:.1f}x" for rows in scaled)
        lines += ["", f"Total time against {base:,} rows: {ratios}."]
    return "\n".join(lines) + "\n"


def training_split(project: Path, rows: int) -> Path:
    """`rows` rows drawn (seeded, with replacement) from the project's table after validation, written
    as Parquet a million rows at a time, so the generator never holds the whole split."""
    from mlops.pipeline.data import read_csv
    from mlops.spec.schema import load_schema

    raw = project / yaml.safe_load((project / "project.yaml").read_text())["data"]
    table = pa.Table.from_pandas(read_csv(raw, load_schema(project / "schema.yaml")), preserve_index=False)
    path = project / f"train-{rows}.parquet"
    generator = np.random.default_rng(0)
    with pq.ParquetWriter(path, table.schema) as writer:
        for start in range(0, rows, CHUNK_ROWS):
            size = min(CHUNK_ROWS, rows - start)
            writer.write_table(table.take(generator.integers(0, table.num_rows, size)))
    return path


def training_curve(project: Path, split: Path, sizes: list[int]) -> dict[int, tuple[float, float]]:
    """Wall seconds and peak memory (MB) of `mlops train` on `split` with each `train.max_rows`,
    keyed by the rows it trained on (model.json's `training_data.rows`)."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    results = {}
    for max_rows in sizes:
        params["train"]["max_rows"] = max_rows
        (project / "params-curve.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        measured = measure(
            ["mlops", "train", "--train", str(split), "--schema", "schema.yaml",
             "--params", "params-curve.yaml", "--model-out", "curve.skops", "--metadata-out", "curve.json"],
            project,
        )  # fmt: skip
        trained = json.loads((project / "curve.json").read_text())["training_data"]["rows"]
        results[trained] = measured
    return results


def render_curve(split_rows: int, curve: dict[int, tuple[float, float]]) -> str:
    cpu = platform.processor() or platform.machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        TRAIN_HEADING,
        "",
        f"`benchmarks/pipeline.py --train-split {split_rows}` ({cpu}, {os.cpu_count()} cores, "
        f"{memory:.0f} GiB, Python {platform.python_version()}, {date.today().isoformat()}; the machine "
        f"may have been shared with other jobs): `mlops train` on a {split_rows:,}-row training split "
        "(the Telco table validated and resampled), HistGradientBoosting as in params.yaml.",
        "",
        "| rows trained (`train.max_rows`) | seconds | peak MB | MB per 1,000 rows |",
        "|---:|---:|---:|---:|",
    ]
    for rows, (seconds, mb) in curve.items():
        lines.append(f"| {rows:,} | {seconds:.1f} | {mb:,.0f} | {mb / rows * 1000:.2f} |")
    if len(curve) > 1:
        (small, (_, low)), (large, (_, high)) = min(curve.items()), max(curve.items())
        slope = (high - low) / (large - small) * 1e6
        fixed = low - slope * small / 1e6
        lines += [
            "",
            f"A straight line through the ends: {fixed:,.0f} MB + {slope:,.0f} MB a million rows trained.",
        ]
    return "\n".join(lines) + "\n"


def curve_main(split_rows: int, sizes: list[int], out: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp))
        run(["dvc", "pull", "--quiet", "data.dvc"], cwd=project)
        curve = training_curve(project, training_split(project, split_rows), sizes)
    section = render_curve(split_rows, curve)
    print(section)
    if out:
        replace_section(out, TRAIN_HEADING, section)


def prepare_main(rows: int) -> None:
    """Peak memory and time of `mlops prepare` alone on `rows` resampled rows. The code measured is
    the installed `mlops`, or with PYTHONPATH=OTHER/src another revision's (before and after)."""
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp))
        run(["dvc", "pull", "--quiet", "data.dvc"], cwd=project)
        raw = resampled_csv(project, rows)
        seconds, mb = measure(
            ["mlops", "prepare", "--data", str(raw), "--schema", "schema.yaml", "--params", "params.yaml",
             "--train-out", "train.parquet", "--test-out", "test.parquet"],
            project,
        )  # fmt: skip
    print(f"| {rows:,} | {seconds:.1f} | {mb:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[70_000, 700_000, 7_000_000])
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--train-split", type=int, help="only the training curve, on a split of this many rows"
    )
    parser.add_argument("--prepare-rows", type=int, help="only `mlops prepare`, on this many rows")
    parser.add_argument("--max-rows", type=int, nargs="*", default=[500_000, 1_000_000, 2_000_000, 4_000_000])
    args = parser.parse_args()
    if args.prepare_rows:
        prepare_main(args.prepare_rows)
        return
    if args.train_split:
        curve_main(args.train_split, args.max_rows, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp))
        repro = repro_times(project)
        scaled = {rows: scaling(project, rows) for rows in args.sizes}
    section = render(repro, scaled)
    print(section)
    if args.out:
        replace_section(args.out, HEADING, section)


if __name__ == "__main__":
    main()
