"""A workflow step's outputs ($GITHUB_OUTPUT) and summary ($GITHUB_STEP_SUMMARY), written one way.
Outside GitHub Actions (a laptop, a test without them set) the outputs are printed only."""

from __future__ import annotations

import os
from pathlib import Path


def set_output(name: str, value: str, *, show: bool = True) -> None:
    """`name=value` for the step's outputs, printed too so that a local run shows it (unless `show` is
    False: a command whose standard output is its one answer, such as push_image's digest)."""
    if "\n" in value or "\n" in name:
        raise ValueError(f"step output {name!r}: one line expected, got {value!r}")
    line = f"{name}={value}"
    if show:
        print(line)
    _append("GITHUB_OUTPUT", line + "\n")


def add_summary(markdown: str) -> None:
    """Markdown appended to the run's summary page (nothing outside GitHub Actions)."""
    _append("GITHUB_STEP_SUMMARY", markdown)


def _append(variable: str, text: str) -> None:
    if os.environ.get(variable):
        with Path(os.environ[variable]).open("a", encoding="utf-8") as file:
            file.write(text)
