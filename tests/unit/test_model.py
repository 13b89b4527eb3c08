"""The model pipeline: built from schema and params, saved reproducibly, loaded safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from threadpoolctl import threadpool_limits

from mlops.errors import MlopsError
from mlops.pipeline.model import build_pipeline, load_model, positive_proba, save_model
from mlops.spec.params import load_params
from mlops.spec.schema import Schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Schema.model_validate(
    {
        "dataset": "toy",
        "target": {"name": "y", "positive": 1, "negative": 0},
        "features": [
            {"name": "x", "type": "float", "nullable": True},
            {"name": "c", "type": "categorical", "categories": ["a", "b"]},
        ],
    }
)


def toy(rows: int = 200, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    c = rng.choice(["a", "b"], size=rows)
    y = ((x + (c == "b")) > 0.5).astype(int)
    x[::17] = np.nan
    return pd.DataFrame({"x": x, "c": c}), y


@pytest.mark.parametrize("estimator", ["logistic_regression", "hist_gradient_boosting"])
def test_each_estimator_learns_and_round_trips_through_skops(tmp_path: Path, estimator: str) -> None:
    params = load_params(ROOT / "params.yaml").train.model_copy(update={"estimator": estimator})
    features, y = toy()
    model = build_pipeline(SCHEMA, params).fit(features, y)
    assert ((positive_proba(model, features) >= 0.5) == y).mean() > 0.8
    save_model(model, tmp_path / "m.skops")
    loaded = load_model(tmp_path / "m.skops")
    np.testing.assert_array_equal(positive_proba(loaded, features), positive_proba(model, features))


def test_saving_the_same_model_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    params = load_params(ROOT / "params.yaml").train
    features, y = toy()
    for name in ("a.skops", "b.skops"):
        save_model(build_pipeline(SCHEMA, params).fit(features, y), tmp_path / name)
    assert (tmp_path / "a.skops").read_bytes() == (tmp_path / "b.skops").read_bytes()


def test_the_same_model_fit_on_one_or_two_cores_gives_the_same_bytes(tmp_path: Path) -> None:
    """The model version is the file's hash: a laptop and a CI runner must agree on it."""
    params = load_params(ROOT / "params.yaml").train
    features, y = toy()
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="openmp"):
            model = build_pipeline(SCHEMA, params).fit(features, y)
        save_model(model, tmp_path / f"{threads}.skops")
    assert (tmp_path / "1.skops").read_bytes() == (tmp_path / "2.skops").read_bytes()


def test_unknown_category_at_prediction_is_tolerated() -> None:
    params = load_params(ROOT / "params.yaml").train
    features, y = toy()
    model = build_pipeline(SCHEMA, params).fit(features, y)
    assert 0 <= positive_proba(model, pd.DataFrame({"x": [0.1], "c": ["zzz"]}))[0] <= 1


def test_loading_refuses_a_file_with_untrusted_types(tmp_path: Path) -> None:
    path = tmp_path / "evil.skops"
    sio.dump({"thing": Path("x")}, path)
    with pytest.raises(MlopsError, match="refusing to load untrusted types"):
        load_model(path)


def test_missing_model_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(MlopsError, match="run the pipeline first"):
        load_model(tmp_path / "none.skops")
