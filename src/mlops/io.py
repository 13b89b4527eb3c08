"""Atomic file writes and small readers: a failure never leaves a half-written output behind."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mlops.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import BaseModel

# yaml and pydantic are imported where they are used: every command imports this module, and
# `mlops COMMAND --help` should not wait for them.
M = TypeVar("M", bound="BaseModel")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path`, on failure it is removed.

    The file is created with mode 0666 less the umask (0644 under the usual umask 022), as `open`
    would create it; mkstemp's 0600 would make every output private to its writer.
    """
    tmp = _create_beside(path)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _create_beside(path: Path, folder: bool = False) -> Path:
    """A new empty file (or folder) beside `path`, named `.NAME.RANDOM.tmp`, that did not exist before."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            if folder:
                tmp.mkdir()
            else:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


@contextmanager
def stage_outputs(*paths: Path) -> Iterator[dict[Path, Path]]:
    """Map each of a stage's outputs to a path of the same name in a private folder beside it; when
    the block succeeds, move them all into place, folders whole.

    The outputs of one run stay together: a failure, or a kill that runs no clean-up, before the
    moves leaves every previous output as it was (dvc.yaml marks them `persist`, so DVC does not
    delete them before the command runs), and the moves at the end are a few renames. The same name
    matters to writers that read the suffix and to metadata that records the file's name. A folder
    replaces the previous one whole, so no file of an earlier run stays in it. What a killed run left
    aside is removed first: DVC runs one stage's command at a time.
    """
    aside = {}
    created = [
        folder for path in paths for folder in (path.parent, *path.parent.parents) if not folder.exists()
    ]
    try:
        for path in paths:
            _remove_leftovers(path)
            folder = _create_beside(path, folder=True)
            aside[path] = folder / path.name
        yield aside
        for path, new in aside.items():
            _move_in(new, path)
    finally:
        for new in aside.values():
            shutil.rmtree(new.parent, ignore_errors=True)
        # A failed first run leaves no empty folders behind (after a success they hold the outputs).
        for folder in sorted(set(created), key=lambda folder: len(folder.parts), reverse=True):
            with suppress(OSError):
                folder.rmdir()


def _move_in(new: Path, path: Path) -> None:
    """Replace `path` by `new` (a file, or a folder whose previous version is moved away first)."""
    if not new.is_dir():
        new.replace(path)
        return
    if path.is_dir():
        path.rename(new.parent / f"{path.name}.previous")
    new.rename(path)


def _remove_leftovers(path: Path) -> None:
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def write_with(path: Path, writer: Callable[[Path], object]) -> None:
    """Call `writer` on a temporary path and move the result into place atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)


def write_text(path: Path, text: str) -> None:
    write_with(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, payload: Any) -> None:
    """Write JSON with sorted keys and a trailing newline, so equal payloads give equal bytes."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON: {error}") from error


def read_yaml(path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error


def read_validated(path: Path, model: type[M], what: str) -> M:
    """Read a YAML file into a pydantic model; every problem is listed as `dotted.key: message`."""
    from pydantic import ValidationError

    raw = read_yaml(path)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        lines = [
            f"  - {'.'.join(str(part) for part in item['loc']) or '(top level)'}: {item['msg']}"
            for item in error.errors()
        ]
        raise ConfigError(f"{path}: invalid {what}:\n" + "\n".join(lines)) from error


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
