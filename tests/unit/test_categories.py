"""High-cardinality categories: infrequent levels share one 'other' column, unseen ones are unknown,
and the service's compiled path encodes them exactly as the scikit-learn Pipeline does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops.pipeline.model import build_pipeline
from mlops.serving.fast import compile_pipeline
from mlops.spec.params import load_params
from mlops.spec.schema import Schema, known_categories, unseen_counts
from tests.conftest import REPO

LEVELS = [f"city {i:03d}" for i in range(200)]


def _schema(**grouping: int) -> Schema:
    return Schema.model_validate(
        {
            "dataset": "toy",
            "target": {"name": "y", "positive": 1, "negative": 0},
            "features": [
                {"name": "x", "type": "float"},
                {"name": "city", "type": "categorical", "categories": LEVELS, **grouping},
                {"name": "flag", "type": "categorical", "categories": [0, 1]},
            ],
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    weights = 1 / np.arange(1, 201)  # a long tail: a few frequent cities, many rare ones
    city = rng.choice(LEVELS, size=1000, p=weights / weights.sum())
    x = rng.normal(size=1000)
    flag = rng.integers(0, 2, size=1000).astype(float)
    y = ((x + (np.char.find(city.astype(str), "00") >= 0) + rng.normal(size=1000)) > 0.5).astype(int)
    return pd.DataFrame({"x": x, "city": city, "flag": flag, "y": y})


def _fit(schema: Schema, frame: pd.DataFrame, estimator: str):  # type: ignore[no-untyped-def]
    params = load_params(REPO / "params.yaml").train
    small = params.hist_gradient_boosting.model_copy(update={"max_iter": 20})  # fast, still trees
    params = params.model_copy(update={"estimator": estimator, "hist_gradient_boosting": small})
    return build_pipeline(schema, params).fit(frame[schema.feature_names], frame["y"])


def test_max_levels_bounds_the_columns_and_keeps_the_most_frequent(frame: pd.DataFrame) -> None:
    model = _fit(_schema(max_levels=10), frame, "logistic_regression")
    names = list(model[0].get_feature_names_out())
    city = [n for n in names if n.startswith("city")]
    assert len(city) == 10
    counts = frame["city"].value_counts().reindex(LEVELS, fill_value=0)
    kept = [name.removeprefix("city_") for name in city[:-1]]
    assert counts[kept].min() >= counts.drop(kept).max()  # the 9 most frequent (ties either way)
    assert city[-1] == "city_infrequent_sklearn"
    assert len(names) == 1 + 10 + 2  # x, the city columns, the flag's two


def test_min_frequency_groups_rare_levels(frame: pd.DataFrame) -> None:
    model = _fit(_schema(min_frequency=30), frame, "logistic_regression")
    counts = frame["city"].value_counts()
    city = [n for n in model[0].get_feature_names_out() if n.startswith("city")]
    assert len(city) == int((counts >= 30).sum()) + 1


@pytest.mark.parametrize(
    ("grouping", "estimator"),
    [
        ({"max_levels": 10}, "hist_gradient_boosting"),
        ({"min_frequency": 20}, "logistic_regression"),
        ({}, "logistic_regression"),
    ],
    ids=str,
)
def test_compiled_path_encodes_rare_and_unseen_like_the_pipeline(
    frame: pd.DataFrame, estimator: str, grouping: dict[str, int]
) -> None:
    schema = _schema(**grouping)
    model = _fit(schema, frame, estimator)
    records = frame[schema.feature_names].head(300).to_dict("records")
    records += [
        {"x": 0.3, "city": "a city never seen", "flag": 1},
        {"x": -1.0, "city": "city 199", "flag": 7},  # a rare level and an unseen code
        {"x": 2.0, "city": LEVELS[0], "flag": 0},
    ]
    expected = model.predict_proba(pd.DataFrame(records))[:, 1]
    np.testing.assert_allclose(compile_pipeline(model).positive_proba(records), expected, atol=1e-6)
    compiled = compile_pipeline(model)
    city = next(c for c in compiled.categorical if c.name == "city")
    block = sorted({v for v in city.columns.values() if v is not None})
    unseen, rare = compiled.transform(records[-3:-1])[:, block]
    if grouping:  # an unseen city and a rare one share the 'other' column
        assert city.unknown_column == block[-1]
        assert unseen.tolist() == rare.tolist() == [0.0] * (len(block) - 1) + [1.0]
    else:  # one column per city; an unseen one sets none
        assert len(block) == 200
        assert unseen.sum() == 0 and rare.sum() == 1


def test_unseen_values_are_counted_per_feature_and_nulls_are_not() -> None:
    """What the service adds to mlops_unseen_categories for a request (schema.unseen_counts)."""
    schema = Schema.model_validate(
        {
            "dataset": "toy",
            "target": {"name": "y", "positive": 1, "negative": 0},
            "features": [
                {"name": "x", "type": "float"},
                {"name": "city", "type": "categorical", "categories": LEVELS[:3], "nullable": True},
                {"name": "flag", "type": "categorical", "categories": [0, 1]},
                {"name": "kind", "type": "categorical", "categories": ["a"], "unseen": "refuse"},
            ],
        }
    )
    known = known_categories(schema)
    assert sorted(known) == ["city", "flag"]  # refused values never reach the count
    records = [
        {"x": 1.0, "city": "city 000", "flag": 0, "kind": "a"},
        {"x": 2.0, "city": "elsewhere", "flag": 1, "kind": "a"},
        {"x": 3.0, "city": None, "flag": 7, "kind": "a"},
        {"x": 4.0, "city": "nowhere", "flag": 0, "kind": "a"},
    ]
    assert unseen_counts(records, known) == {"city": 2, "flag": 1}
    assert unseen_counts(records[:1], known) == {}
