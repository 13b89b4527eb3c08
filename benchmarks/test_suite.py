"""How long the test suite takes: revisions side by side, in one run, on this machine.

    .venv/bin/python benchmarks/test_suite.py BEFORE AFTER [--command "make test"] [--out docs/performance.md]
        [--newest-first]

Each revision is cloned fresh from this repository into a temporary folder and set up with
`make install` (not timed: uv installs from its warm cache), then the command is timed: wall time,
the CPU time (user + system) of every process it waited for, and the load average sampled every
15 s while it ran. CPU time moves less than wall time when other jobs share the machine.
--newest-first measures the last revision first (an interrupted run still has the newest figure);
the first revision stays the baseline of the ratios. Prints a Markdown section; with --out it
replaces the "Test suite" section of that file.
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
import threading
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
    load: float  # the mean of the 1-minute load average, sampled every 15 s during the run
    load_max: float
    summary: str  # pytest's last line


def clone(revision: str, dest: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(dest)], check=True)
    subprocess.run(["git", "checkout", "--quiet", revision], cwd=dest, check=True)
    return dest


class LoadSampler(threading.Thread):
    """The 1-minute load average every `every` seconds until stopped."""

    def __init__(self, every: float = 15) -> None:
        super().__init__(daemon=True)
        self.every, self.samples, self.done = every, [os.getloadavg()[0]], threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.samples.append(os.getloadavg()[0])


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, list[float], str]:
    """Wall seconds, CPU seconds of the waited-for children, load samples, the last summary line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = LoadSampler()
    sampler.start()
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    sampler.done.set()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in result.stdout.splitlines() if " passed" in line or " failed" in line]
    summary = lines[-1].strip("= ") if lines else f"exit {result.returncode}"
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    return wall, cpu, sampler.samples, summary


def measure(revision: str, command: list[str], workdir: Path) -> Timing:
    project = clone(revision, workdir / revision.replace("/", "_"))
    uv_dir = ROOT / ".tools" / "bin"
    env = {**os.environ, "PATH": f"{uv_dir}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["make", "--no-print-directory", "install"], cwd=project, env=env, check=True)
    wall, cpu, loads, summary = timed(command, project, env)
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project, text=True, capture_output=True)
    name = f"{revision} ({sha.stdout.strip()})"
    return Timing(name, wall, cpu, sum(loads) / len(loads), max(loads), summary)


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
        "| revision | wall | CPU (user+sys) | load average: mean, max | pytest |",
        "|---|---|---|---|---|",
        *(
            f"| {t.revision} | {t.wall / 60:.1f} min ({t.wall / first.wall:.2f}x) | "
            f"{t.cpu / 60:.1f} min ({t.cpu / first.cpu:.2f}x) | {t.load:.1f}, {t.load_max:.1f} | "
            f"{t.summary} |"
            for t in timings
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revisions", nargs="+", help="git revisions, the first is the baseline")
    parser.add_argument("--command", default="make --no-print-directory test")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--newest-first", action="store_true", help="measure the last revision first")
    args = parser.parse_args()
    order = args.revisions[::-1] if args.newest_first else args.revisions
    with tempfile.TemporaryDirectory() as tmp:
        measured = {}
        for revision in order:
            measured[revision] = measure(revision, shlex.split(args.command), Path(tmp))
            print(measured[revision], flush=True)
        timings = [measured[revision] for revision in args.revisions]
    section = render(timings, args.command)
    print(section)
    if args.out:
        replace_section(args.out, HEADING, section)


if __name__ == "__main__":
    main()
