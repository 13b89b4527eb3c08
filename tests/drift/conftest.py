"""Seeded synthetic data shaped like the schema, for calibrating and exercising the drift check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops.params import DriftParams, load_params
from mlops.schema import Schema, load_schema

REPO = Path(__file__).resolve().parents[2]
PROBABILITIES_SEED = 7


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema(REPO / "schema.yaml")


@pytest.fixture(scope="session")
def params() -> DriftParams:
    """The committed drift params (key columns included)."""
    return load_params(REPO / "params.yaml").drift


def category_shares(schema: Schema) -> dict[str, np.ndarray]:
    """Fixed, uneven shares per categorical feature (the same for every seed)."""
    rng = np.random.default_rng(PROBABILITIES_SEED)
    shares = {f.name: rng.dirichlet(np.full(len(f.categories or ()), 4.0)) for f in schema.categorical}
    shares["contract"] = np.array([0.55, 0.21, 0.24])
    return shares


def synthetic(
    schema: Schema,
    rows: int,
    seed: int,
    *,
    charges_shift_sd: float = 0.0,
    shares: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """A typed frame like validate_frame returns: numeric features float64, categories as declared.

    `charges_shift_sd` moves monthly_charges by that many standard deviations (sd 30).
    """
    rng = np.random.default_rng(seed)
    shares = shares or category_shares(schema)
    columns: dict[str, object] = {}
    for feature in schema.features:
        if feature.is_numeric:
            continue
        values = np.array(feature.categories, dtype=object)
        picked = values[rng.choice(len(values), size=rows, p=shares[feature.name])]
        is_int = all(isinstance(c, int) for c in values)
        columns[feature.name] = pd.Series(picked, dtype="int64" if is_int else "str")
    columns["tenure"] = rng.integers(0, 73, size=rows).astype("float64")
    columns["monthly_charges"] = np.clip(rng.normal(65 + 30 * charges_shift_sd, 30, size=rows), 0, 1000)
    total = np.clip(rng.lognormal(7.0, 1.2, size=rows), 0, 100_000)
    columns["total_charges"] = np.where(rng.random(rows) < 0.002, np.nan, total)
    return pd.DataFrame({f.name: columns[f.name] for f in schema.features})


def shifted_share(shares: np.ndarray, index: int, points: float) -> np.ndarray:
    """Move one category's share by `points` (0.2 = 20 points), scaling the others to keep the sum 1."""
    moved = shares.copy()
    moved[index] = shares[index] + points
    others = [i for i in range(len(shares)) if i != index]
    moved[others] = shares[others] * (1 - moved[index]) / shares[others].sum()
    return moved
