"""mlops ship-log: the inference log's closed files to the DVC remote as a new version of production data.

Run in a clone of the project on a machine that sees the log folder (the serving host, or a job
mounting the log volume), with write access to the DVC remote and the git repository:

1. `dvc pull` the dataset's current version (production.dvc names the folder: production/);
2. read each closed log file (not the newest file of a running serving process) with the drift
   check's reader, validated against the project's schema, and write its rows into
   `<folder>/inference-log/` as a Parquet dataset partitioned by UTC day:
   `date=YYYY-MM-DD/<log file's name>.parquet` (mlops.drift.sources.write_days), each file
   written atomically. Each file records the log file and its size it was made from; a log file is
   shipped again only if it grew, and then its day files are rewritten, never appended to, so
   shipping twice never duplicates a row. JSON-lines copies an earlier version shipped are turned
   into day files the same way (and removed);
3. `dvc add` the folder and `dvc push` it: the new version is in the remote;
4. commit the .dvc file (`production data: N inference-log file(s)`), with the remote's new files
   when git keeps the remote (the demo remote, .dvc/demo-remote), and, with `--push`, `git push`.

The scheduled drift workflow checks out the default branch and `dvc pull`s: it reads the latest
version. Nothing new to ship: says so, changes nothing, exits 0. A log record that breaks the schema
stops the run before anything is versioned, naming the file and line. A failure before the commit
leaves git untouched (the .dvc file is restored). Exits 0 on success, 2 on an error.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from mlops.ci.process import CommandError
from mlops.ci.process import run as command
from mlops.errors import Exit, MlopsError
from mlops.io import read_yaml
from mlops.project import dvc_outs, load_project
from mlops.serving.inference_log import closed_files

if TYPE_CHECKING:
    from mlops.spec.schema import Schema

LOG_FOLDER = "inference-log"  # inside the dataset's folder
SOURCE, SOURCE_BYTES = "mlops.log_file", "mlops.log_file_bytes"  # a day file's metadata: made from what
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", type=Path, required=True, help="the inference log folder")
    parser.add_argument(
        "--dataset", type=Path, default=Path("production.dvc"), help="the dataset's .dvc file"
    )
    parser.add_argument("--push", action="store_true", help="git push the commit")


def run(args: argparse.Namespace) -> int:
    try:
        folder = dataset_folder(args.dataset)
        if args.dataset.is_file():  # else the first version: `dvc add` makes the .dvc file
            command(["dvc", "pull", "--quiet", args.dataset])
        shipped = ship_closed(args.log, folder / LOG_FOLDER, *_reading())
        if not shipped:
            log.info("nothing to ship: no new or grown closed files in %s", args.log)
            return Exit.OK
        _version(args.dataset, folder, shipped, push=args.push)
    except (OSError, ValueError, CommandError, MlopsError) as error:
        log.error("shipping the inference log failed: %s", error)
        return Exit.ERROR
    log.info("shipped %d file(s) as a new version of %s", len(shipped), args.dataset)
    return Exit.OK


def dataset_folder(dvc_file: Path) -> Path:
    """The folder a .dvc file tracks (its one output), relative to the .dvc file's folder; for a
    dataset not versioned yet, the folder of the same name (production.dvc -> production/)."""
    if not dvc_file.is_file():
        if dvc_file.suffix != ".dvc":
            raise ValueError(f"{dvc_file}: expected the dataset's .dvc file (production.dvc)")
        return dvc_file.with_suffix("")
    outs = dvc_outs(read_yaml(dvc_file))
    if len(outs) != 1 or "path" not in outs[0]:
        raise ValueError(f"{dvc_file}: expected one output with a 'path', found {outs}")
    return dvc_file.parent / str(outs[0]["path"])


def _reading() -> tuple[Schema, str]:
    """The project's schema and prediction column: the log is read as the drift check reads it."""
    from mlops.spec.params import load_params
    from mlops.spec.schema import load_schema

    project = load_project()
    params = load_params(project.absolute(project.params)).drift
    return load_schema(project.absolute(project.schema)), params.prediction_column


def ship_closed(log_folder: Path, target: Path, schema: Schema, prediction_column: str) -> list[Path]:
    """Write the closed log files that are new or grew (and JSON-lines copies already in `target`,
    from an earlier version) into `target` as day files; return the log files shipped."""
    if not log_folder.is_dir():
        raise ValueError(f"{log_folder}: no such log folder")
    shipped = []
    for copy in sorted(target.glob("*.jsonl")):  # what this command shipped before it wrote Parquet
        _write_parts(copy, target, schema, prediction_column)
        copy.unlink()
        shipped.append(copy)
    for source in closed_files(log_folder):
        size = source.stat().st_size
        if size and shipped_bytes(target, source) < size:
            _write_parts(source, target, schema, prediction_column)
            shipped.append(source)
    return shipped


def shipped_bytes(target: Path, source: Path) -> int:
    """How much of the log file `source` the day files in `target` hold (0: none yet). Every day
    file of one log file is written from one read of it; if a run stopped between them, the least."""
    from mlops.drift.sources import file_metadata

    parts = _parts(target, source)
    recorded = [file_metadata(part).get(SOURCE_BYTES, "0") for part in parts]
    return min((int(size) for size in recorded), default=0)


def _write_parts(source: Path, target: Path, schema: Schema, prediction_column: str) -> None:
    """`source`'s rows as day files; a day file of an earlier read that this one lacks is removed."""
    from mlops.drift.sources import read_file, write_days

    rows = read_file(source, schema, prediction_column)
    metadata = {SOURCE: source.name, SOURCE_BYTES: str(source.stat().st_size)}
    written = write_days(rows, target, source.stem, metadata, source=str(source))
    for stale in set(_parts(target, source)) - set(written):
        stale.unlink()


def _parts(target: Path, source: Path) -> list[Path]:
    return sorted(target.glob(f"date=*/{source.stem}.parquet"))


def _version(dvc_file: Path, folder: Path, shipped: list[Path], push: bool) -> None:
    """dvc add + dvc push, then commit the .dvc file; on a DVC failure the .dvc file is restored."""
    try:
        command(["dvc", "add", "--quiet", folder])
        command(["dvc", "push", "--quiet", dvc_file])
    except CommandError:
        with contextlib.suppress(CommandError):  # the version before, if git has one
            command(["git", "checkout", "--", dvc_file])
        raise
    paths = [str(dvc_file)]
    if (kept := remote_in_git()) is not None:  # the demo remote travels with the commit
        paths.append(str(kept))
    command(["git", "add", *paths])
    names = f"{shipped[0].name} to {shipped[-1].name}"
    message = f"production data: {len(shipped)} inference-log file(s), {names}"
    command(["git", "commit", "--quiet", "-m", message, "--", *paths])
    if push:
        command(["git", "push", "--quiet"])


def remote_in_git() -> Path | None:
    """The default DVC remote's folder when git keeps it (the demo remote, .dvc/demo-remote): a
    fresh clone pulls the new version from there only if the commit carries the pushed files."""
    name = command(["dvc", "remote", "default"]).strip()
    url = command(["dvc", "config", f"remote.{name}.url"]).strip() if name else ""
    if not url or "://" in url:
        return None
    here = Path.cwd().resolve()
    folder = (Path(".dvc") / url).resolve()  # DVC prints it absolute; relative is to .dvc/
    if not folder.is_relative_to(here):
        return None
    folder = folder.relative_to(here)
    try:
        command(["git", "check-ignore", "-q", folder])
    except CommandError as error:
        return folder if error.returncode == 1 else None  # 1: not ignored, so git keeps it
    return None  # ignored
