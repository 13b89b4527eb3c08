"""Read raw data, validate it against the schema, and split it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlops.errors import DataValidationError
from mlops.schema import Schema, validate_frame


def read_csv(path: Path, schema: Schema, *, with_target: bool = True) -> pd.DataFrame:
    """Read a CSV as text, then validate and type it with the schema."""
    return validate_frame(read_text_csv(path), schema, str(path), with_target=with_target)


def read_text_csv(path: Path) -> pd.DataFrame:
    """A CSV's cells as text: blank cells missing, surrounding whitespace stripped.

    Reading every column as text first lets validation report the value exactly as written. The one
    reader of CSV input: `mlops prepare`, the drift check and `mlops infer-schema` all use it.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True)
    except FileNotFoundError:
        raise DataValidationError(str(path), ["file not found"]) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(str(path), ["the file is empty (no header, no rows)"]) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataValidationError(str(path), [f"cannot be parsed as CSV: {error}"]) from None
    return raw.apply(lambda column: column.str.strip()).replace("", None)


def split(
    frame: pd.DataFrame, schema: Schema, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded split, stratified on the target for classification; both parts keep the row order."""
    from sklearn.model_selection import train_test_split  # only the prepare stage pays for it

    strata = frame[schema.target.name] if schema.target.is_classification else None
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=strata)
    return train.sort_index(), test.sort_index()


def target_vector(frame: pd.DataFrame, schema: Schema) -> pd.Series:
    """The target as the model learns it: binary 0/1 (1 for the positive label); multi-class the
    class's position in the schema's `classes`; regression the number itself (float64)."""
    target = schema.target
    column = frame[target.name]
    if target.task == "binary":
        return (column == target.positive).astype("int64")
    if target.task == "multiclass":
        codes = {label: position for position, label in enumerate(target.labels)}
        return column.map(codes).astype("int64")
    return column.astype("float64")
