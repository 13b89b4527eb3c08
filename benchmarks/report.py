"""Benchmark the pull-request path: `mlops report` alone, and dvc pull + repro + report with warm caches.

Builds a real history in a temporary folder (a copy of this project): the pipeline's results on
`main`, then a `feature` branch with a changed param, reproduced and committed. Prints one markdown
table for docs/performance.md and, with --keep DIR, leaves the example report there.

    uv run python benchmarks/report.py [--repeats 3] [--keep /tmp/example-report]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import copy_project, run  # noqa: E402


def timed(cmd: list[str], cwd: Path, check: bool = True) -> float:
    start = time.perf_counter()
    run(cmd, cwd=cwd, check=check)
    return time.perf_counter() - start


def build_history(project: Path) -> None:
    run(["dvc", "pull", "--quiet", "--allow-missing"], cwd=project)
    run(["dvc", "repro", "--quiet"], cwd=project)
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-q", "--allow-empty", "-m", "base results"], cwd=project)
    run(["git", "switch", "-q", "-c", "feature"], cwd=project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["hist_gradient_boosting"]["learning_rate"] = 0.1
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["dvc", "repro", "--quiet"], cwd=project)
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-q", "-m", "learning rate 0.1"], cwd=project)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="copy the example report.md/report.html here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        project = copy_project(Path(folder) / "project")
        build_history(project)
        report = ["mlops", "report", "--base", "main"]  # paths from dvc.yaml; report/ by default
        alone = [timed(report, project, check=False) for _ in range(args.repeats)]
        pull = [timed(["dvc", "pull", "--quiet", "--allow-missing"], project) for _ in range(args.repeats)]
        repro = [timed(["dvc", "repro", "--quiet"], project) for _ in range(args.repeats)]
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("report.md", "report.html"):
                shutil.copy2(project / "report" / name, args.keep / name)
    med = statistics.median
    total = med(pull) + med(repro) + med(alone)
    print(f"{platform.machine()}, {platform.python_version()}, {date.today()}, median of {args.repeats}\n")
    print("| step | seconds | share of the PR path |\n|---|---|---|")
    for name, values in [
        ("`dvc pull` (warm)", pull),
        ("`dvc repro` (no-op)", repro),
        ("`mlops report`", alone),
    ]:
        print(f"| {name} | {med(values):.1f} | {med(values) / total:.0%} |")
    print(f"| whole PR path | {total:.1f} | 100% |")


if __name__ == "__main__":
    main()
