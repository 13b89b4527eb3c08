"""Pipeline benchmark: cold, no-op and one-param repro, and how time and memory grow with the data.

    .venv/bin/python benchmarks/pipeline.py [--sizes 70000 700000 7000000] [--out docs/performance.md]
    .venv/bin/python benchmarks/pipeline.py --train-split 5000000 --max-rows 500000 1000000 [--out ...]

Part 1 runs `dvc repro` for real in a fresh copy of the project and splits each stage's time into
importing libraries and computing. Part 2 resamples the Telco table (seeded, with replacement) to
larger sizes and runs each stage's command for wall time and peak resident memory (a stage past
12 GiB is killed, and the run says where it stopped).
Prints a Markdown section; with --out it replaces the "Pipeline" section of that file.

With --rows N [--stages prepare train evaluate], only those stages on N resampled rows: a line of
time, peak memory and load average each (PYTHONPATH=REVISION/src measures another revision's code,
for before and after). The generated CSV lives in a temporary folder, deleted at the end.
With --repro N --workdir DIR, a real `dvc repro` (of --targets, with --downstream if given) in a
project copy at DIR whose project.yaml `data` is N resampled rows: each stage's wall and CPU
seconds and the peak resident memory of its process tree (a stage past 12 GiB stops the run).
DIR is kept for the next call, which reuses it (DVC skips what did not change) after copying
--refresh files from this checkout into it; the copy runs its own src/, and each run's lines are
appended to DIR/repro.jsonl.
With --test-split N, only `mlops evaluate`: the demo's model on its test split resampled to N rows,
with the md5 of every output (before and after via PYTHONPATH, as --rows).
With --train-split, only the training curve: a training split of that many rows (the Telco table,
validated and resampled, as `mlops prepare` writes it) trained with each `train.max_rows`, for
the wall time and peak memory of `mlops train`; it replaces the "Training" section.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from docs_section import replace_section
from drift import watch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import BIN, copy_project, run  # noqa: E402

HEADING = "## Pipeline: repro times and scaling"
TRAIN_HEADING = "## Training: peak memory against `train.max_rows`"
CHUNK_ROWS = 1_000_000  # rows of generated data written at a time
STAGES = ("prepare", "train", "evaluate")
MAX_MB = 12 * 1024  # every stage of a 50M-row repro within 12 GiB on the 24 GiB machine (issue 25)
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


def measure(cmd: list[str], cwd: Path, max_mb: float = MAX_MB) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB, sampled every 50 ms) of one command; past `max_mb`
    it is killed (RuntimeError): a stage over the bound must not push a shared machine into swap.
    Its CPU seconds (user + system) are printed: on a shared machine they compare better than wall."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    start, cpu = time.perf_counter(), _children_cpu()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)
        peak = watch(child, max_mb, max_seconds=6 * 3600)
        if child.returncode:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} exited {child.returncode}: {err.read()[-2000:]}")
    print(f"{cmd[1]}: {_children_cpu() - cpu:.1f} CPU s", flush=True)
    return time.perf_counter() - start, peak


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def resampled_csv(project: Path, rows: int) -> Path:
    """The Telco table resampled (seeded, with replacement) to `rows` rows, in `scale-ROWS/raw.csv`:
    its lines drawn and written a million at a time, so the generator's memory and time stay small
    at 50M rows (6 GB)."""
    header, *lines = (project / "data/telco_churn.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    work = project / f"scale-{rows}"
    work.mkdir()
    generator = np.random.default_rng(0)
    with (work / "raw.csv").open("w", encoding="utf-8") as handle:
        handle.write(header)
        for start in range(0, rows, CHUNK_ROWS):
            drawn = generator.integers(0, len(lines), min(CHUNK_ROWS, rows - start))
            handle.write("".join(lines[i] for i in drawn))
    return work / "raw.csv"


def evaluate_command(model: Path, test: Path, out: Path, common: list[str]) -> list[str]:
    """`mlops evaluate` of `model` on `test`, its outputs in `out` (`common`: --schema, --params)."""
    return [
        "mlops", "evaluate", "--model", str(model), "--test", str(test), *common,
        "--metrics-out", f"{out}/metrics.json", "--segments-out", f"{out}/segments.json",
        "--plots-dir", f"{out}/plots", "--intervals-out", f"{out}/intervals.json",
        "--fairness-out", f"{out}/fairness.json",
    ]  # fmt: skip


def test_split_main(rows: int) -> None:
    """`mlops evaluate` alone, the demo's model on the demo's test split resampled (seeded, with
    replacement) to `rows` rows: time, CPU, peak memory, load, and the md5 of each output, so two
    revisions' runs (PYTHONPATH=OTHER/src) can be held byte for byte."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        test = pq.read_table(ROOT / "artifacts/prepared/test.parquet")
        resampled_parquet(test, rows, work / "test.parquet")
        common = ["--schema", str(ROOT / "schema.yaml"), "--params", str(ROOT / "params.yaml")]
        command = evaluate_command(ROOT / "models/model.skops", work / "test.parquet", work / "out", common)
        seconds, mb = measure(command, work)
        load = ", ".join(f"{average:.1f}" for average in os.getloadavg())
        print(f"{rows:,} test rows, evaluate: {seconds:.1f} s, {mb:,.0f} MB peak (load average {load})")
        for path in sorted((work / "out").rglob("*.*")):
            digest = hashlib.md5(path.read_bytes()).hexdigest()
            print(f"{digest}  {path.relative_to(work / 'out')}  {path.stat().st_size:,} bytes")


def scaling(project: Path, rows: int, stages: tuple[str, ...] = STAGES) -> dict[str, tuple[float, float]]:
    """Wall seconds and peak memory (MB) of each of `stages` (in the pipeline's order) on `rows`
    resampled rows, with dvc.yaml's arguments; prints each stage's line with the load average."""
    work = resampled_csv(project, rows).parent
    common = ["--schema", "schema.yaml", "--params", "params.yaml"]
    commands = {
        "prepare": ["mlops", "prepare", "--data", f"{work}/raw.csv", *common,
                    "--train-out", f"{work}/train.parquet", "--test-out", f"{work}/test.parquet"],
        "train": ["mlops", "train", "--train", f"{work}/train.parquet", *common,
                  "--model-out", f"{work}/model.skops", "--metadata-out", f"{work}/model.json"],
        "evaluate": evaluate_command(work / "model.skops", work / "test.parquet", work, common),
    }  # fmt: skip
    results = {}
    for name in stages:
        try:
            results[name] = measure(commands[name], project)
        except RuntimeError as error:  # over the memory bound, or failed: the later stages need it
            print(f"{rows:,} rows, {name}: {str(error)[:300]}", flush=True)
            break
        load = ", ".join(f"{average:.1f}" for average in os.getloadavg())
        seconds, mb = results[name]
        print(f"{rows:,} rows, {name}: {seconds:.1f} s, {mb:,.0f} MB peak (load average {load})", flush=True)
    return results


@dataclass
class StageRun:
    """One stage of a watched `dvc repro`: its wall and CPU seconds, the peak of its process tree's
    summed resident memory (sampled) and the high-water mark of its largest process (exact)."""

    stage: str
    started: float  # epoch seconds
    ended: float
    cpu_seconds: float = 0.0
    peak_mb: float = 0.0
    high_water_mb: float = 0.0

    @property
    def seconds(self) -> float:
        return self.ended - self.started


STAGE_WORD = re.compile(r"(?:^|[\s/])mlops\s+([a-z-]+)")


def _stage_of(process: psutil.Process) -> str | None:
    """The stage a process of the repro runs (`mlops STAGE ...`, or the shell DVC runs it in)."""
    try:
        found = STAGE_WORD.search(" ".join(process.cmdline()))
    except psutil.Error:
        return None
    return found.group(1) if found else None


def _sample(process: psutil.Process) -> tuple[float, float, float]:
    """Resident MB, CPU seconds (its own and its reaped children's) and VmHWM MB of one process."""
    with process.oneshot():
        cpu = process.cpu_times()
        rss = process.memory_info().rss / 2**20
        status = Path(f"/proc/{process.pid}/status").read_text()
    hwm = next((int(x.split()[1]) / 1024 for x in status.splitlines() if x.startswith("VmHWM:")), 0.0)
    return rss, cpu.user + cpu.system + cpu.children_user + cpu.children_system, hwm


def watch_repro(child: subprocess.Popen[str], max_mb: float = MAX_MB) -> dict[str, StageRun]:
    """Sample the process tree of a running `dvc repro` every 0.5 s until it ends; per stage, what
    StageRun holds (CPU: the largest of its processes' totals, the shell's holding its child's once
    reaped). A stage whose tree passes `max_mb` is killed with the repro (RuntimeError)."""
    root, runs = psutil.Process(child.pid), {}
    while child.poll() is None:
        totals: dict[str, float] = {}
        for process in root.children(recursive=True):
            stage = _stage_of(process)
            if stage is None:
                continue
            try:
                rss, cpu, hwm = _sample(process)
                started = process.create_time()
            except (psutil.Error, OSError):
                continue
            run_ = runs.setdefault(stage, StageRun(stage, started, started))
            run_.ended, run_.cpu_seconds = time.time(), max(run_.cpu_seconds, cpu)
            run_.high_water_mb = max(run_.high_water_mb, hwm)
            totals[stage] = totals.get(stage, 0.0) + rss
        for stage, mb in totals.items():
            runs[stage].peak_mb = max(runs[stage].peak_mb, mb)
            if mb > max_mb:
                _kill_tree(root)
                raise RuntimeError(f"{stage}: stopped at {mb:,.0f} MB, {runs[stage].seconds:,.0f} s in")
        time.sleep(0.5)
    return runs


def _kill_tree(root: psutil.Process) -> None:
    """Kill the repro this benchmark started and every process under it."""
    for process in [*root.children(recursive=True), root]:
        with contextlib.suppress(psutil.Error):
            process.kill()


def repro_project(workdir: Path, rows: int) -> Path:
    """A clone of this checkout's last commit at `workdir` whose project.yaml `data` is `rows`
    resampled rows: made on the first call (the demo data pulled, the table drawn with
    `resampled_csv`), reused on later ones. A clone, not the working tree: others' unfinished edits
    stay out of a run that takes an hour."""
    if (workdir / "project.yaml").exists():
        return workdir
    run(["git", "clone", "--quiet", str(ROOT), str(workdir)], cwd=ROOT)
    project = workdir
    run(["dvc", "pull", "--quiet", "data.dvc"], cwd=project)
    data = resampled_csv(project, rows).relative_to(project)
    config = project / "project.yaml"
    config.write_text(re.sub(r"(?m)^data: .*$", f"data: {data}", config.read_text()))
    return project


def repro_main(rows: int, workdir: Path, targets: list[str], downstream: bool, refresh: list[str]) -> None:
    """A real `dvc repro` in the copy at `workdir`, watched (watch_repro); prints a line per stage
    and appends them, with the machine, the load and the date, to `workdir`/repro.jsonl."""
    project = repro_project(workdir, rows)
    for name in refresh:  # e.g. a stage's module changed since the copy was made
        shutil.copy2(ROOT / name, project / name)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "PYTHONPATH": str(project / "src"),  # the copy's code, the code DVC hashes, not this checkout's
    }
    cmd = ["dvc", "repro", *(["--downstream"] if downstream else []), *targets]
    load_before, cpu, start = os.getloadavg(), _children_cpu(), time.time()
    with (project / "repro.log").open("a") as log:
        child = subprocess.Popen(cmd, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        runs = watch_repro(child)
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": rows,
        "command": " ".join(cmd),
        "commit": run(["git", "rev-parse", "--short", "HEAD"], cwd=project).stdout.strip(),
        "refreshed": refresh,
        "exit": child.returncode,
        "seconds": round(time.time() - start, 1),
        "cpu_seconds": round(_children_cpu() - cpu, 1),
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "stages": [asdict(r) | {"seconds": round(r.seconds, 1)} for r in runs.values()],
    }
    with (project / "repro.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\n")
    for r in runs.values():
        print(
            f"{rows:,} rows, {r.stage}: {r.seconds:.1f} s, {r.cpu_seconds:.1f} CPU s, "
            f"{r.peak_mb:,.0f} MB peak (tree), {r.high_water_mb:,.0f} MB high-water",
            flush=True,
        )
    print(json.dumps(record), flush=True)
    if child.returncode:
        raise SystemExit(f"dvc repro exited {child.returncode}: see {project / 'repro.log'}")


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
    from mlops.spec.schema import load_schema
    from tests.raw_table import raw_table

    raw = project / yaml.safe_load((project / "project.yaml").read_text())["data"]
    table = pa.Table.from_pandas(raw_table(raw, load_schema(project / "schema.yaml")), preserve_index=False)
    return resampled_parquet(table, rows, project / f"train-{rows}.parquet")


def resampled_parquet(table: pa.Table, rows: int, path: Path) -> Path:
    """`rows` rows of `table` drawn (seeded, with replacement) into Parquet at `path`, CHUNK_ROWS
    at a time, so the generator never holds them all."""
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


def stages_main(rows: int, stages: tuple[str, ...]) -> None:
    """Time and peak memory of `stages` alone on `rows` resampled rows. The code measured is the
    installed `mlops`, or with PYTHONPATH=OTHER/src another revision's (before and after)."""
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp))
        run(["dvc", "pull", "--quiet", "data.dvc"], cwd=project)
        scaling(project, rows, stages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[70_000, 700_000, 7_000_000])
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--train-split", type=int, help="only the training curve, on a split of this many rows"
    )
    parser.add_argument("--rows", type=int, help="only --stages, on this many resampled rows")
    parser.add_argument("--stages", nargs="*", choices=STAGES, default=list(STAGES))
    parser.add_argument("--max-rows", type=int, nargs="*", default=[500_000, 1_000_000, 2_000_000, 4_000_000])
    parser.add_argument(
        "--test-split", type=int, help="only `mlops evaluate`, the demo model on this many test rows"
    )
    parser.add_argument("--repro", type=int, help="a watched `dvc repro` of a project copy on this many rows")
    parser.add_argument("--workdir", type=Path, help="with --repro: where the project copy is (kept)")
    parser.add_argument("--targets", nargs="*", default=[], help="with --repro: `dvc repro` targets")
    parser.add_argument("--downstream", action="store_true", help="with --repro: `dvc repro --downstream`")
    parser.add_argument("--refresh", nargs="*", default=[], help="with --repro: files copied in first")
    args = parser.parse_args()
    if args.test_split:
        test_split_main(args.test_split)
        return
    if args.repro:
        if not args.workdir:
            parser.error("--repro needs --workdir (the copy is kept for the next run)")
        repro_main(args.repro, args.workdir, args.targets, args.downstream, args.refresh)
        return
    if args.rows:
        stages_main(args.rows, tuple(args.stages))
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
