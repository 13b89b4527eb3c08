"""Pipeline benchmark: cold, no-op and one-param repro, and how time and memory grow with the data.

    .venv/bin/python benchmarks/pipeline.py [--sizes 70000 700000 7000000] [--out docs/performance.md]

Part 1 runs `dvc repro` for real in a fresh copy of the project and splits each stage's time into
importing libraries and computing. Part 2 resamples the Telco table (seeded, with replacement) to
larger sizes and runs each stage's command under /usr/bin/time for wall time and peak memory.
Prints a Markdown section; with --out it replaces the "Pipeline" section of that file.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
from docs_section import replace_section

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import copy_project, run  # noqa: E402

HEADING = "## Pipeline: repro times and scaling"
# What each stage's `run` imports (the command modules import their libraries inside `run`).
STAGE_IMPORTS = {
    "prepare": "import mlops.data, mlops.params, mlops.schema, sklearn.model_selection",
    "train": "import pandas, mlops.metadata, mlops.model, mlops.params, mlops.schema",
    "evaluate": "import pandas, mlops.evaluate, mlops.model, mlops.params, mlops.schema",
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


def scaling(project: Path, rows: int) -> dict[str, tuple[float, float]]:
    raw = pd.read_csv(project / "data/telco_churn.csv", dtype=str, keep_default_na=False)
    big = raw.sample(n=rows, replace=True, random_state=0)
    work = project / f"scale-{rows}"
    work.mkdir()
    big.to_csv(work / "raw.csv", index=False)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[70_000, 700_000, 7_000_000])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
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
