"""The inference log: every prediction as one JSON line, in size-rotated files in one folder.

The drift check reads what production actually saw from here (`mlops.drift.sources`, the one
reader of these files). Each serving process writes its own
files (the process id is in the name), so workers never interleave lines. A line is written and
flushed per request: serialising is pydantic-core's `to_json` (5x faster than `json.dumps`), about
2 µs a record, plus one `write` system call per request (benchmarks/serving.py measures it). NaN and
infinity, which the request model refuses anyway, would be written as null.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic_core import to_json

log = logging.getLogger(__name__)

PREFIX = "predictions-"
SUFFIX = ".jsonl"


class InferenceLog:
    """Append-only JSON-lines writer; starts a new file past `max_bytes`, keeps the newest `keep` files."""

    def __init__(self, folder: Path, max_bytes: int = 64 << 20, keep: int = 100) -> None:
        if max_bytes <= 0 or keep <= 0:
            raise ValueError(f"max_bytes ({max_bytes}) and keep ({keep}) must be positive")
        folder.mkdir(parents=True, exist_ok=True)  # fail at start-up, not on the first prediction
        self.folder = folder
        self.max_bytes = max_bytes
        self.keep = keep
        self._lock = threading.Lock()
        self._handle: IO[bytes] | None = None
        self._written = 0
        self._sequence = 0

    def write(
        self, version: str, inputs: Sequence[Mapping[str, Any]], outputs: Sequence[Mapping[str, Any]]
    ) -> None:
        """Append one line per prediction: timestamp (UTC, ISO 8601), model version, inputs, output."""
        timestamp = datetime.now(UTC).isoformat(timespec="microseconds")
        lines = b"".join(
            to_json(
                {"timestamp": timestamp, "model_version": version, "inputs": i, "output": o},
                inf_nan_mode="null",
            )
            + b"\n"
            for i, o in zip(inputs, outputs, strict=True)
        )
        with self._lock:
            handle = self._current()
            handle.write(lines)
            handle.flush()
            self._written += len(lines)

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def _current(self) -> IO[bytes]:
        if self._handle is not None and self._written < self.max_bytes:
            return self._handle
        if self._handle is not None:
            self._handle.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._sequence += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{PREFIX}{stamp}-{os.getpid()}-{self._sequence:04d}{SUFFIX}"
        self._handle = path.open("ab")
        self._written = 0
        log.info("inference log: writing %s", path)
        self._prune()
        return self._handle

    def _prune(self) -> None:
        files = log_files(self.folder)
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)
            log.info("inference log: removed %s (keeping the newest %d files)", old, self.keep)


def log_files(folder: Path) -> list[Path]:
    """The log's files, oldest first (names start with a UTC timestamp)."""
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))
