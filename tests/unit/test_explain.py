"""Explanations are consistent with the model: removing the top feature's signal moves the prediction most."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from mlops.pipeline.explain import explain, reference_record
from mlops.pipeline.model import build_pipeline
from mlops.spec.params import TrainParams
from mlops.spec.schema import Schema

SCHEMA = Schema.model_validate(
    {
        "dataset": "synthetic",
        "target": {"name": "y", "positive": 1, "negative": 0},
        "features": [
            {"name": "strong", "type": "float"},
            {"name": "weak", "type": "float"},
            {"name": "noise", "type": "float"},
            {"name": "colour", "type": "categorical", "categories": ["red", "green"]},
        ],
    }
)
PARAMS = TrainParams.model_validate(
    {
        "estimator": "hist_gradient_boosting",
        "seed": 0,
        "max_rows": 1_000_000,
        "logistic_regression": {"C": 1.0, "max_iter": 100},
        "hist_gradient_boosting": {
            "learning_rate": 0.1,
            "max_iter": 100,
            "max_leaf_nodes": 8,
            "min_samples_leaf": 20,
            "l2_regularization": 0.0,
        },
    }
)


@pytest.fixture(scope="module")
def fitted() -> tuple[Pipeline, pd.DataFrame]:
    """The target depends strongly on `strong`, a little on `weak`, not at all on `noise` or `colour`."""
    rng = np.random.default_rng(3)
    rows = 3000
    frame = pd.DataFrame(
        {
            "strong": rng.normal(size=rows),
            "weak": rng.normal(size=rows),
            "noise": rng.normal(size=rows),
            "colour": rng.choice(["red", "green"], size=rows),
        }
    )
    logit = 3 * frame["strong"] + 0.5 * frame["weak"]
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return build_pipeline(SCHEMA, PARAMS).fit(frame, y), frame


def predictor(model: Pipeline):
    columns = SCHEMA.feature_names
    return lambda records: model.predict_proba(pd.DataFrame(list(records), columns=columns))[:, 1]


def as_record(frame: pd.DataFrame, row: int) -> dict[str, Any]:
    return json.loads(frame.iloc[[row]].to_json(orient="records"))[0]


def test_the_reference_is_the_median_and_the_mode() -> None:
    frame = pd.DataFrame(
        {
            "strong": [1.0, 2.0, 9.0],
            "weak": [0.0, None, 4.0],
            "noise": [1.0, 1.0, 1.0],
            "colour": ["red"] * 2 + ["green"],
        }
    )
    assert reference_record(frame, SCHEMA) == {"strong": 2.0, "weak": 2.0, "noise": 1.0, "colour": "red"}


def test_the_strong_feature_leads_and_noise_trails(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    model, frame = fitted
    reference = reference_record(frame, SCHEMA)
    leaders, size = [], {name: 0.0 for name in SCHEMA.feature_names}
    for row in range(200):
        _, found = explain(predictor(model), as_record(frame, row), reference, top=4)
        leaders.append(found[0].feature)
        for contribution in found:
            size[contribution.feature] += abs(contribution.contribution)
    assert leaders.count("strong") > 0.8 * len(leaders)
    assert size["strong"] > 3 * size["weak"] > 3 * max(size["noise"], size["colour"])


def test_removing_the_top_feature_moves_the_prediction_most(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    """Checked against the Pipeline directly, one replaced feature at a time."""
    model, frame = fitted
    reference = reference_record(frame, SCHEMA)
    for row in range(0, 300, 30):
        record = as_record(frame, row)
        probability, found = explain(predictor(model), record, reference, top=len(reference))
        original = model.predict_proba(frame.iloc[[row]])[0, 1]
        assert probability == pytest.approx(original, abs=1e-12)
        moves = {}
        for name in SCHEMA.feature_names:
            changed = frame.iloc[[row]].copy()
            changed[name] = reference[name]
            moves[name] = original - model.predict_proba(changed)[0, 1]
        top = found[0]
        assert abs(moves[top.feature]) == pytest.approx(max(abs(v) for v in moves.values()), abs=1e-9)
        assert top.contribution == pytest.approx(moves[top.feature], abs=1e-6)
        assert [c.feature for c in found] == sorted(
            (c.feature for c in found), key=lambda name: (-abs(round(moves[name], 6)), name)
        )


def test_a_feature_at_its_reference_is_left_out(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    model, frame = fitted
    reference = reference_record(frame, SCHEMA)
    record = as_record(frame, 0) | {"colour": reference["colour"]}
    _, found = explain(predictor(model), record, reference, top=10)
    assert "colour" not in [c.feature for c in found]
    assert len(found) == 3
