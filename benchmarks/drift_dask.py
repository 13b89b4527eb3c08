"""Benchmark `mlops drift` on a Dask cluster against the same check on one machine, on the same data.

Data: benchmarks/drift_stream.make_dataset (the shipped log's layout: Parquet by day, a million rows
a file). Each run is the whole command (`mlops drift --current DATA`, benchmarks/drift_stream.run) in
a fresh process: first on this machine, then with MLOPS_DASK_SCHEDULER naming a `dask scheduler` and
`--workers` `dask worker` processes (one thread each) started on 127.0.0.1 for that run and stopped
after it, the workers reading the same local files. Wall time; CPU seconds of every process of the
run (the command, and for the cluster the scheduler and the workers too); the command's peak
resident memory (the workers' is not sampled); whether the results are equal (verdicts, and the
largest score and estimate gap, which the merge order may move by float rounding only).

    nice -n 19 .venv/bin/python benchmarks/drift_dask.py --rows 10000000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.drift_stream import differences, machine, make_dataset, run  # noqa: E402

BIN = Path(sys.executable).parent


def children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (the command, the cluster's)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def start_cluster(workers: int, work: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A scheduler on a free port of 127.0.0.1 and `workers` single-threaded workers, all joined."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    started = [subprocess.Popen(scheduler, **quiet)]
    for n in range(workers):
        worker = [BIN / "dask", "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        started.append(subprocess.Popen([*worker, "--local-directory", str(work / f"worker-{n}")], **quiet))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, started


def stop(started: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(started):
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def on_cluster(data: Path, out: Path, args: argparse.Namespace) -> dict[str, object]:
    """The command with MLOPS_DASK_SCHEDULER set; the CPU seconds count the cluster's processes too."""
    cpu = children_cpu()
    address, started = start_cluster(args.workers, out.parent)
    os.environ["MLOPS_DASK_SCHEDULER"] = address  # drift_stream.run passes the environment on
    try:
        got = run(data, out, None, args.max_mb, args.max_seconds)
    finally:
        del os.environ["MLOPS_DASK_SCHEDULER"]
        stop(started)
    if "cpu_s" in got:
        got["cpu_s"] = round(children_cpu() - cpu, 1)
    return got


def table(rows: int, workers: int, here: dict[str, object], there: dict[str, object]) -> str:
    diff = differences(here, there) if "result" in here and "result" in there else {}
    same = "yes" if diff and diff["same_status"] and diff["same_drifted"] else "no"
    lines = [
        f"| rows | one machine | Dask, {workers} workers | equal verdicts | max score gap "
        "| max estimate gap |",
        "|---:|---:|---:|---|---:|---:|",
        f"| {rows:,} | {_cell(here)} | {_cell(there)} | {same} | "
        f"{diff.get('max_score_gap', '')} | {diff.get('max_estimate_gap', '')} |",
    ]
    return "\n".join(lines) + "\n"


def _cell(got: dict[str, object]) -> str:
    if "stopped" in got:
        return f"stopped: {got['stopped']}"
    return f"{got['seconds']:,.1f} s ({got['cpu_s']:,.1f} s CPU), {got['peak_mb']:,} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-mb", type=float, default=4096, help="stop the command past this RSS")
    parser.add_argument("--max-seconds", type=float, default=3600)
    parser.add_argument("--work", type=Path, help="folder for the generated data (default: a temporary one)")
    args = parser.parse_args()
    header = machine()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        work = Path(tmp)
        generated = time.monotonic()
        data = make_dataset(args.rows, work / "data")
        print(f"data: {args.rows:,} rows in {time.monotonic() - generated:.0f} s", file=sys.stderr)
        here = run(data, work / "here" / "out", None, args.max_mb, args.max_seconds)
        there = on_cluster(data, work / "there" / "out", args)
    print(header + "\n\n" + table(args.rows, args.workers, here, there))


if __name__ == "__main__":
    main()
