"""Errors that speak to the user: each names the file, the field, the rows and what was expected."""

from __future__ import annotations


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
