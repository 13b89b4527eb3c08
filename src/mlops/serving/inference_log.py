"""The inference log: every prediction as one JSON line, in size-rotated files in one folder.

The drift check reads what production actually saw from here (`mlops.drift.sources`, the one
reader of these files). Each serving process writes its own
files (the process id is in the name), so workers never interleave lines. A line is written and
flushed per request: serialising is pydantic-core's `to_json` (5x faster than `json.dumps`), about
2 µs a record, plus one `write` system call per request (benchmarks/serving.py measures it). NaN and
infinity, which the request model refuses anyway, would be written as null.

A record's size is bounded: a text value longer than MAX_VALUE_CHARS is logged cut, its first
MAX_VALUE_CHARS characters then `…[cut N chars]` (`cut_value`). An unseen category is accepted
whatever its length (up to the body limit): without the cut, about 1,600 requests of 1 MB would
push every real prediction out of the 1.5 GiB log before the drift check read it. Numbers are
bounded by the JSON parser and the other fields by the schema, so a record stays within a few KiB.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic_core import to_json

from mlops.artifacts import log_record

log = logging.getLogger(__name__)

PREFIX = "predictions-"
SUFFIX = ".jsonl"
# Longest text value logged whole; categories are far shorter. One cut value is at most ~1.5 KiB of
# JSON (6 bytes for an escaped control character, 4 for other characters outside ASCII).
MAX_VALUE_CHARS = 256


class InferenceLog:
    """Append-only JSON-lines writer: a new file past `max_bytes`, the oldest closed files deleted
    so the folder stays within `max_total_bytes`.

    A failed write (a full or read-only volume, a missing permission) never fails the prediction:
    `on_failure` is called (the service counts it on /metrics), the error is logged once per outage
    (again after writing has recovered), and a partly written line is cut off so every file stays
    whole lines. An input value cut to `max_value_chars` calls `on_cut` with its column's name (the
    service counts those on /metrics too).
    """

    def __init__(
        self,
        folder: Path,
        max_bytes: int = 16 << 20,
        max_total_bytes: int = 1536 << 20,
        on_failure: Callable[[], None] | None = None,
        on_cut: Callable[[str], None] | None = None,
        max_value_chars: int = MAX_VALUE_CHARS,
    ) -> None:
        if max_bytes <= 0 or max_total_bytes < max_bytes:
            raise ValueError(
                f"max_bytes ({max_bytes}) must be positive and max_total_bytes ({max_total_bytes})"
                " at least max_bytes"
            )
        if max_value_chars <= 0:
            raise ValueError(f"max_value_chars ({max_value_chars}) must be positive")
        self.folder = folder
        self.max_bytes = max_bytes
        self.max_total_bytes = max_total_bytes
        self.on_failure = on_failure
        self.on_cut = on_cut
        self.max_value_chars = max_value_chars
        self.failures = 0
        self._failing = False
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._written = 0
        self._sequence = 0
        try:  # say at start-up, not at the first prediction, that the folder is unusable
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self._failing = True
            log.error("inference log: cannot create %s (%s); predictions will not be logged", folder, error)

    def write(
        self, version: str, inputs: Sequence[Mapping[str, Any]], outputs: Sequence[Mapping[str, Any]]
    ) -> None:
        """Append one line per prediction (mlops.artifacts.log_record): timestamp (UTC, ISO 8601), model
        version, inputs, output."""
        timestamp = datetime.now(UTC).isoformat(timespec="microseconds")
        lines = b"".join(
            to_json(log_record(timestamp, version, self._bounded(i), o), inf_nan_mode="null") + b"\n"
            for i, o in zip(inputs, outputs, strict=True)
        )
        with self._lock:
            try:
                self._append(lines)
            except OSError as error:
                self._discard_partial()
                self._fail(error)
                return
            if self._failing:
                self._failing = False
                log.warning("inference log: writing to %s again", self.folder)

    def _bounded(self, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        """`inputs` itself, or a copy with each text value over `max_value_chars` cut (counted)."""
        limit = self.max_value_chars
        for value in inputs.values():  # a plain loop: about half what serialising the record costs
            if isinstance(value, str) and len(value) > limit:
                break
        else:
            return inputs  # nearly always: nothing copied
        bounded = dict(inputs)
        for name, value in inputs.items():
            if isinstance(value, str) and len(value) > limit:
                bounded[name] = cut_value(value, limit)
                if self.on_cut is not None:
                    self.on_cut(name)
        return bounded

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                with contextlib.suppress(OSError):
                    self._handle.close()
                self._handle = None

    def _append(self, lines: bytes) -> None:
        handle = self._current()
        written = handle.write(lines)  # unbuffered: one write system call
        if written != len(lines):  # a short write: the volume is full
            raise OSError(errno.ENOSPC, f"wrote {written} of {len(lines)} bytes", str(self.folder))
        self._written += written  # whole lines only: a failed write is cut back to here

    def _discard_partial(self) -> None:
        """Cut a partly written line off the open file; drop the file if that fails too."""
        if self._handle is None:
            return
        try:
            self._handle.truncate(self._written)
        except OSError:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None

    def _fail(self, error: OSError) -> None:
        self.failures += 1
        if self.on_failure is not None:
            self.on_failure()
        if not self._failing:
            self._failing = True
            log.error(
                "inference log: cannot write to %s (%s); predictions are served but not logged"
                " until it recovers (counted in mlops_inference_log_write_failures_total)",
                self.folder,
                error,
            )

    def _current(self) -> IO[bytes]:
        if self._handle is not None and self._written < self.max_bytes:
            return self._handle
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self.folder.mkdir(parents=True, exist_ok=True)
        prune(self.folder, self.max_total_bytes - self.max_bytes)
        self._sequence += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{PREFIX}{stamp}-{os.getpid()}-{self._sequence:04d}{SUFFIX}"
        self._handle = path.open("ab", buffering=0)
        self._written = 0
        log.info("inference log: writing %s", path)
        return self._handle


def cut_value(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """`text` itself when at most `limit` characters, else its first `limit` and how many were cut.

    The marker keeps the cut visible to whoever reads the log; to the drift check the value stays
    what it was, a category the schema does not know.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[cut {len(text) - limit} chars]"


def prune(folder: Path, max_total_bytes: int) -> list[Path]:
    """Delete the oldest closed log files until the folder holds at most `max_total_bytes`.

    A file another serving process may still be writing (the newest of a live process) is never
    deleted: its space would not come back until that process closed it. Returns what was deleted.
    """
    files = log_files(folder)
    sizes = {path: _size(path) for path in files}
    total = sum(sizes.values())
    open_files = _possibly_open(files)
    deleted = []
    for path in files:
        if total <= max_total_bytes:
            break
        if path in open_files:
            continue
        path.unlink(missing_ok=True)
        total -= sizes[path]
        deleted.append(path)
    if deleted:
        log.info(
            "inference log: removed %d oldest file(s) to stay within %d bytes", len(deleted), max_total_bytes
        )
    return deleted


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # another process pruned it
        return 0


def _possibly_open(files: Sequence[Path]) -> set[Path]:
    """The newest file of each process that is still running."""
    newest: dict[int, Path] = {}
    for path in files:  # oldest first
        pid = path.name.removesuffix(SUFFIX).split("-")[-2]
        if pid.isdigit():
            newest[int(pid)] = path
    return {path for pid, path in newest.items() if _alive(pid)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def log_files(folder: Path) -> list[Path]:
    """The log's files, oldest first (names start with a UTC timestamp)."""
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))


def closed_files(folder: Path) -> list[Path]:
    """The log's files no running process on this machine may still append to, oldest first."""
    files = log_files(folder)
    still_open = _possibly_open(files)
    return [path for path in files if path not in still_open]
