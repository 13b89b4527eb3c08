"""Seeded synthetic data with its own schema and params, for calibrating and exercising the drift check.

Nothing here reads the project's schema.yaml: the synthetic schema is declared below (shaped like
the Telco demo: 19 features, binary and multi-level categories, an integer, two floats, one nullable),
so these tests run unchanged in a project generated from the template for another dataset. Tests that
need the demo data itself use `demo_only`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from mlops.io import read_yaml
from mlops.spec.params import DriftParams
from mlops.spec.schema import Feature, Schema, Target
from tests.conftest import PATHS

REPO = Path(__file__).resolve().parents[2]
PROBABILITIES_SEED = 7
DEMO_DATASET = "telco-customer-churn"

THREE = ("No", "Yes", "No internet service")
INTERNET_EXTRAS = ("online_security", "online_backup", "device_protection", "tech_support")
INTERNET_EXTRAS += ("streaming_tv", "streaming_movies")
SYNTHETIC_SCHEMA = Schema(
    dataset="synthetic-drift-calibration",
    target=Target(name="churn", positive="Yes", negative="No"),
    features=(
        *(Feature(name=n, type="categorical", categories=(0, 1)) for n in ("female", "senior_citizen")),
        *(Feature(name=n, type="categorical", categories=(0, 1)) for n in ("partner", "dependents")),
        Feature(name="tenure", type="integer", min=0, max=120),
        Feature(name="phone_service", type="categorical", categories=(0, 1)),
        Feature(name="multiple_lines", type="categorical", categories=("No", "Yes", "No phone service")),
        Feature(name="internet_service", type="categorical", categories=("DSL", "Fiber optic", "No")),
        *(Feature(name=n, type="categorical", categories=THREE) for n in INTERNET_EXTRAS),
        Feature(name="contract", type="categorical", categories=("Month-to-month", "One year", "Two year")),
        Feature(name="paperless_billing", type="categorical", categories=(0, 1)),
        Feature(
            name="payment_method",
            type="categorical",
            categories=("Electronic check", "Mailed check", "Bank transfer", "Credit card"),
        ),
        Feature(name="monthly_charges", type="float", min=0, max=1000),
        Feature(name="total_charges", type="float", min=0, max=100_000, nullable=True),
    ),
)

# The template's drift defaults (params.yaml), fixed here so that a project that tunes its own
# params.yaml does not change what calibration means.
DRIFT_DEFAULTS: dict[str, Any] = {
    "min_rows": 1000,
    "size_cutoff": 1000,
    "numeric_test": "auto",
    "categorical_test": "auto",
    "max_unique_as_categorical": 5,
    "p_value": 0.05,
    "wasserstein_threshold": 0.1,
    "jensenshannon_threshold": 0.1,
    "drift_share": 0.5,
    "key_columns": ["contract", "tenure", "monthly_charges"],
    "prediction_column": "prediction",
    "columns": {},
}


@pytest.fixture(scope="session")
def schema() -> Schema:
    return SYNTHETIC_SCHEMA


@pytest.fixture(scope="session")
def params() -> DriftParams:
    """The template's default drift params, with the synthetic schema's key columns."""
    return DriftParams(**DRIFT_DEFAULTS)


def write_config(folder: Path) -> dict[str, Path]:
    """schema.yaml and params.yaml for the CLI in `folder`, where the project keeps them (a checkout's
    own are replaced): the synthetic schema, this project's params with the default drift section."""
    schema_file, params_file = folder / PATHS.schema, folder / PATHS.params
    schema_file.write_text(yaml.safe_dump(SYNTHETIC_SCHEMA.model_dump(mode="json", exclude_none=True)))
    params_file.write_text(yaml.safe_dump({**read_yaml(REPO / PATHS.params), "drift": DRIFT_DEFAULTS}))
    return {"schema": schema_file, "params": params_file}


@pytest.fixture(scope="session")
def config_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic schema.yaml and params.yaml for the CLI (`write_config`), once per session."""
    return write_config(tmp_path_factory.mktemp("drift-config"))


def _demo_dataset() -> str | None:
    """The dataset of this project's schema.yaml if it still carries the demo's production batches."""
    dataset = read_yaml(REPO / PATHS.schema).get("dataset")
    return dataset if (REPO / "production.dvc").is_file() else None


# Before any fixture runs: a project made for another dataset skips without building anything.
demo_only = pytest.mark.skipif(
    _demo_dataset() != DEMO_DATASET,
    reason=f"needs the {DEMO_DATASET} demo data and its production batches (production.dvc)",
)


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
    for feature in schema.categorical:
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
