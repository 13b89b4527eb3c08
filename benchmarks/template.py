"""Time from `copier copy` to a finished first `make run` in the generated project (warm uv cache).

Usage: .venv/bin/python benchmarks/template.py [--data CSV --target T --positive P --ignore ID]
Copies the working tree into a committed temporary repository (as a clone would be), generates a
project from it with the copier CLI, then runs `make run` there; prints the two durations.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import copy_project  # noqa: E402


def _env() -> dict[str, str]:
    uv = Path(shutil.which("uv") or REPO / ".tools" / "bin" / "uv").parent
    path = f"{Path(sys.executable).parent}{os.pathsep}{uv}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "UV_OFFLINE": "1", "DVC_NO_ANALYTICS": "1"}


def _timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=_env(), check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a CSV to generate the project on (default: demo data)")
    parser.add_argument("--target", default="churn")
    parser.add_argument("--positive", default="Yes")
    parser.add_argument("--ignore", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        template = copy_project(Path(scratch) / "template")
        answers = []
        if args.data:
            pairs = {"data_file": args.data.resolve(), "target": args.target, "positive_label": args.positive}
            pairs["ignore_columns"] = args.ignore
            answers = [a for k, v in pairs.items() for a in ("--data", f"{k}={v}")]
        project = Path(scratch) / "project"
        copier = str(Path(sys.executable).parent / "copier")
        copy = [copier, "copy", "--trust", "--defaults", "--vcs-ref=HEAD"]
        copy_s = _timed([*copy, *answers, str(template), str(project)], cwd=Path(scratch))
        run_s = _timed(["make", "--no-print-directory", "run"], cwd=project)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"data: {args.data or 'demo Telco data'}")
    print(f"copier copy (incl. tasks: install, schema, dvc, commit): {copy_s:6.1f} s")
    print(f"first make run (dvc pull + repro + summary):             {run_s:6.1f} s")
    print(f"total:                                                    {copy_s + run_s:6.1f} s")


if __name__ == "__main__":
    main()
