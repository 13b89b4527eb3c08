"""How long the test suite takes: revisions side by side, in one run, on this machine.

    .venv/bin/python benchmarks/test_suite.py BEFORE AFTER [--command "make test"] [--out docs/performance.md]

Each revision is cloned fresh from this repository into a temporary folder and set up with
`make install` (not timed: uv installs from its warm cache), then the command is timed: wall time,
and the CPU time (user + system) of every process it waited for. CPU time moves less than wall
time when other jobs share the machine. Prints a Markdown section; with --out it replaces the
"Test suite" section of that file.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from docs_section import replace_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Test suite: `make test` before and after"


@dataclass(frozen=True)
class Timing:
    revision: str
    wall: float
    cpu: float
    load: float  # the 1-minute load average when the run ended
    summary: str  # pytest's last line


def clone(revision: str, dest: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(dest)], check=True)
    subprocess.run(["git", "checkout", "--quiet", revision], cwd=dest, check=True)
    return dest


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the waited-for children, and the output's last summary line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in result.stdout.splitlines() if " passed" in line or " failed" in line]
    summary = lines[-1].strip("= ") if lines else f"exit {result.returncode}"
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    return wall, cpu, summary


def measure(revision: str, command: list[str], workdir: Path) -> Timing:
    project = clone(revision, workdir / revision.replace("/", "_"))
    uv_dir = ROOT / ".tools" / "bin"
    env = {**os.environ, "PATH": f"{uv_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["make", "--no-print-directory", "install"], cwd=project, env=env, check=True)
    wall, cpu, summary = timed(command, project, env)
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project, text=True, capture_output=True)
    return Timing(f"{revision} ({sha.stdout.strip()})", wall, cpu, os.getloadavg()[0], summary)


def render(timings: list[Timing], command: str) -> str:
    cpu_name = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.machine(),
    )  # fmt: skip
    first = timings[0]
    lines = [
        HEADING,
        "",
        f"`benchmarks/test_suite.py` runs `{command}` in fresh clones, one revision after the other "
        f"({cpu_name}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC). Load average: the machine was shared with "
        "other jobs, so compare the CPU times first.",
        "",
        "| revision | wall | CPU (user+sys) | load at end | pytest |",
        "|---|---|---|---|---|",
        *(
            f"| {t.revision} | {t.wall / 60:.1f} min ({t.wall / first.wall:.2f}x) | "
            f"{t.cpu / 60:.1f} min ({t.cpu / first.cpu:.2f}x) | {t.load:.1f} | {t.summary} |"
            for t in timings
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revisions", nargs="+", help="git revisions, the first is the baseline")
    parser.add_argument("--command", default="make --no-print-directory test")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timings = []
        for revision in args.revisions:
            timings.append(measure(revision, shlex.split(args.command), Path(tmp)))
            print(timings[-1], flush=True)
    section = render(timings, args.command)
    print(section)
    if args.out:
        replace_section(args.out, HEADING, section)


if __name__ == "__main__":
    main()
