"""Errors that speak to the user: each names the file, the field, the rows and what was expected."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """Exit codes of every `mlops` command (the README's table lists them)."""

    OK = 0
    VERDICT = 1  # the command ran and its answer is "no": the quality gate failed, drift found
    ERROR = 2  # bad input, a missing file, invalid params, an unknown revision; nothing half-written
    TOO_LITTLE_DATA = 3  # refused to judge: fewer rows than the check needs (drift.min_rows)


class MlopsError(Exception):
    """An error the command line reports without a traceback and turns into a non-zero exit code."""


class ConfigError(MlopsError):
    """A configuration file (params.yaml, schema.yaml) is missing, unparsable or invalid."""


class DataValidationError(MlopsError):
    """Data breaks the declared schema. `problems` holds one line per broken check."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source}: data does not match the schema:\n{listed}")

    def __reduce__(self) -> tuple[type[DataValidationError], tuple[str, list[str]]]:
        """Pickled with its arguments, so that it crosses from a Dask worker to the client whole."""
        return type(self), (self.source, self.problems)
