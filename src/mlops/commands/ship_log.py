"""mlops ship-log: the inference log's closed files to the DVC remote as a new version of production data.

Run in a clone of the project on a machine that sees the log folder (the serving host, or a job
mounting the log volume), with write access to the DVC remote and the git repository:

1. `dvc pull` the dataset's current version (production.dvc names the folder: production/);
2. copy each closed log file (not the newest file of a running serving process) into
   `<folder>/inference-log/`; a file shipped before is copied again only if it grew;
3. `dvc add` the folder and `dvc push` it: the new version is in the remote;
4. commit the .dvc file (`production data: N inference-log file(s)`), with the remote's new files
   when git keeps the remote (the demo remote, .dvc/demo-remote), and, with `--push`, `git push`.

The scheduled drift workflow checks out the default branch and `dvc pull`s: it reads the latest
version. Nothing new to ship: says so, changes nothing, exits 0. A failure before the commit leaves
git untouched (the .dvc file is restored). Exits 0 on success, 2 on an error.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
from pathlib import Path

from mlops.ci.process import CommandError
from mlops.ci.process import run as command
from mlops.errors import Exit
from mlops.io import atomic_path, read_yaml
from mlops.project import dvc_outs
from mlops.serving.inference_log import closed_files

LOG_FOLDER = "inference-log"  # inside the dataset's folder
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
        shipped = copy_closed(args.log, folder / LOG_FOLDER)
        if not shipped:
            log.info("nothing to ship: no new or grown closed files in %s", args.log)
            return Exit.OK
        _version(args.dataset, folder, shipped, push=args.push)
    except (OSError, ValueError, CommandError) as error:
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


def copy_closed(log_folder: Path, target: Path) -> list[Path]:
    """Copy the closed log files that are new or grew into `target`; return the copies made."""
    if not log_folder.is_dir():
        raise ValueError(f"{log_folder}: no such log folder")
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in closed_files(log_folder):
        destination = target / source.name
        if destination.is_file() and destination.stat().st_size >= source.stat().st_size:
            continue
        with atomic_path(destination) as tmp:
            shutil.copyfile(source, tmp)
        copied.append(destination)
    return copied


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
