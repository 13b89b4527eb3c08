"""Behavioural tests of the trained model: invariance, direction and minimum functionality.

The generic ones hold for any dataset; the Telco-specific ones skip on a team's own data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops.pipeline.model import load_model, positive_proba
from mlops.spec.schema import Schema, load_schema
from tests.conftest import PATHS
from tests.project_task import outputs


@pytest.fixture(scope="module")
def schema(built_project: Path) -> Schema:
    return load_schema(built_project / "schema.yaml")


@pytest.fixture(scope="module")
def model(built_project: Path):  # a fitted scikit-learn Pipeline
    return load_model(built_project / PATHS.model)


@pytest.fixture(scope="module")
def test_features(built_project: Path, schema: Schema) -> pd.DataFrame:
    return pd.read_parquet(built_project / "artifacts/prepared/test.parquet")[schema.feature_names]


@pytest.fixture(scope="module")
def test_target(built_project: Path, schema: Schema) -> pd.Series:
    return pd.read_parquet(built_project / "artifacts/prepared/test.parquet")[schema.target.name]


@pytest.fixture
def telco(schema: Schema) -> None:
    if schema.dataset != "telco-customer-churn":
        pytest.skip("Telco-specific behaviour; this project has its own data")


def test_predictions_do_not_depend_on_row_order(model, test_features: pd.DataFrame) -> None:
    order = np.random.default_rng(7).permutation(len(test_features))
    direct = outputs(model, test_features)
    np.testing.assert_allclose(outputs(model, test_features.iloc[order]), direct[order], rtol=0, atol=1e-12)


def test_one_row_scores_as_in_a_batch(model, test_features: pd.DataFrame) -> None:
    batch = outputs(model, test_features.head(20))
    single = [outputs(model, test_features.iloc[[i]])[0] for i in range(20)]
    np.testing.assert_allclose(single, batch, atol=1e-12)


def test_predictions_are_spread_not_constant(
    model, schema: Schema, test_features: pd.DataFrame, test_target: pd.Series
) -> None:
    predicted = outputs(model, test_features)
    if schema.target.task == "regression":  # values vary with the rows, as the target does
        assert predicted.std() > 0.1 * test_target.std()
    else:  # each class's probability, in [0, 1], varies across the rows
        assert ((predicted >= 0) & (predicted <= 1)).all()
        assert predicted.std(axis=0).min() > 0.1


def test_higher_monthly_charges_do_not_make_confident_churners_stay(
    telco: None, model, test_features: pd.DataFrame
) -> None:
    proba = positive_proba(model, test_features)
    confident = test_features[proba > 0.8]
    assert len(confident) > 10
    raised = confident.assign(monthly_charges=confident["monthly_charges"] * 1.2)
    assert (positive_proba(model, raised) > 0.5).all()


def test_gender_barely_moves_predictions(telco: None, model, test_features: pd.DataFrame) -> None:
    flipped = test_features.assign(female=1 - test_features["female"])
    shift = np.abs(positive_proba(model, flipped) - positive_proba(model, test_features))
    assert shift.mean() < 0.02


def test_textbook_churner_and_loyal_customer(telco: None, model, test_features: pd.DataFrame) -> None:
    base = test_features.iloc[[0, 0]].reset_index(drop=True)
    churner = {"contract": "Month-to-month", "tenure": 1, "internet_service": "Fiber optic"}
    loyal = {"contract": "Two year", "tenure": 70, "internet_service": "DSL"}
    for column in churner:
        base.loc[0, column], base.loc[1, column] = churner[column], loyal[column]
    base.loc[0, "payment_method"], base.loc[1, "payment_method"] = (
        "Electronic check",
        "Credit card (automatic)",
    )
    base["monthly_charges"] = [90.0, 60.0]
    base["total_charges"] = [90.0, 4200.0]
    churn_p, loyal_p = positive_proba(model, base)
    assert churn_p > 0.5 > 0.1 > loyal_p
