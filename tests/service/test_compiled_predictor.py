"""The compiled tree predictor (mlops.serving.compiled): treelite's answers are the Pipeline's to 1e-9,
on the demo model and on a model of every task, with missing values and unseen categories; a model it
cannot compile is served by scikit-learn with one log line; the real service answers with it."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Sequence
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline

from mlops.artifacts import read_metadata
from mlops.model_card import served_by_words
from mlops.pipeline.data import target_vector
from mlops.pipeline.explain import DIGITS, explain
from mlops.pipeline.model import build_pipeline, load_model, trained_estimator
from mlops.serving.api import EXPLAIN_TOP
from mlops.serving.bundle import PipelinePredictor, load_verified
from mlops.serving.compiled import CROSSOVER_ROWS, CompiledTrees, compile_trees, model_outputs
from mlops.serving.fast import CompiledPipeline, compile_pipeline
from mlops.spec.params import load_params
from mlops.spec.schema import Schema, known_categories, load_schema
from tests.conftest import REPO
from tests.project_task import answered, expected_answers, outputs
from tests.service.conftest import Server, records_from
from tests.unit.test_tasks import schema_for, toy

TOLERANCE = 1e-9


def unseen_value(categories: Sequence[Any]) -> Any:
    """A value of the categories' own type (the request model checks it) that none of them is."""
    if all(isinstance(c, int | float) for c in categories):
        return int(max(categories, default=0)) + 7
    return "a value no training row had"


def awkward(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """`frame` with every third row's numbers missing (where the schema allows it) and every fifth
    row's categories unseen (where the schema encodes unseen values rather than refusing them)."""
    changed = frame[schema.feature_names].copy()
    numeric = [f.name for f in schema.numeric if f.nullable]
    changed.loc[changed.index[::3], numeric] = np.nan
    for feature in (f for f in schema.categorical if f.name in known_categories(schema)):
        changed[feature.name] = changed[feature.name].astype(object)
        changed.loc[changed.index[::5], feature.name] = unseen_value(feature.categories or ())
    return changed


def assert_compiled_equals_pipeline(model: Pipeline, frame: pd.DataFrame, schema: Schema) -> None:
    """Treelite (the batches it serves, and all rows at once) and the served path give the Pipeline's
    outputs, compared here, for rows as they come and with missing and unseen values."""
    compiled = compile_pipeline(model)
    trees = compiled.classifier
    assert isinstance(trees, CompiledTrees), compiled.served_by
    for rows in (frame[schema.feature_names], awkward(frame, schema)):
        expected = outputs(model, rows)
        records = records_from(rows, schema.feature_names)
        np.testing.assert_allclose(
            trees.compiled_outputs(compiled.transform(records)), expected, rtol=0, atol=TOLERANCE
        )
        for start in range(0, len(records), 97):  # one record at a time, as /predict serves them
            got = compiled.outputs(records[start : start + 1])
            np.testing.assert_allclose(got, expected[start : start + 1], rtol=0, atol=TOLERANCE)
        np.testing.assert_allclose(compiled.outputs(records), expected, rtol=0, atol=TOLERANCE)


@pytest.fixture(scope="module")
def demo(built_project: Path) -> Pipeline:
    return load_model(built_project / "models" / "model.skops")


def test_the_demo_model_is_compiled_and_answers_as_the_pipeline(
    demo: Pipeline, test_frame: pd.DataFrame, built_project: Path
) -> None:
    assert isinstance(demo.steps[-1][1], HistGradientBoostingClassifier | HistGradientBoostingRegressor)
    assert_compiled_equals_pipeline(demo, test_frame, load_schema(built_project / "schema.yaml"))


def test_the_service_loads_the_compiled_predictor(built_project: Path) -> None:
    models = built_project / "models"
    predictor = load_verified(models, read_metadata(models))
    assert isinstance(predictor, CompiledPipeline)
    assert predictor.served_by.startswith("treelite ")
    assert f"up to {CROSSOVER_ROWS} rows, scikit-learn above" in predictor.served_by


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_every_task_is_compiled_and_answers_as_the_pipeline(task: str) -> None:
    schema = schema_for(task)
    params = load_params(REPO / "params.yaml").train.model_copy(
        update={"estimator": "hist_gradient_boosting"}
    )
    frame = toy(task)
    model = build_pipeline(schema, params).fit(frame[schema.feature_names], target_vector(frame, schema))
    assert_compiled_equals_pipeline(model, toy(task, rows=200, seed=1), schema)


def test_batches_above_the_crossover_go_to_scikit_learn(
    demo: Pipeline, records: list[dict[str, Any]]
) -> None:
    compiled = compile_pipeline(demo)
    trees = compiled.classifier
    assert isinstance(trees, CompiledTrees)
    matrix = compiled.transform(list(islice(cycle(records), CROSSOVER_ROWS + 1)))  # a small test split too
    big = (CROSSOVER_ROWS + 1, trees.estimator.n_features_in_)
    assert matrix.shape == big
    broken = CompiledTrees(trees.estimator, model=None, crossover=CROSSOVER_ROWS)  # type: ignore[arg-type]
    np.testing.assert_array_equal(broken.outputs(matrix), model_outputs(trees.estimator, matrix))
    with pytest.raises(Exception):  # noqa: B017 (treelite's error for a missing model)
        broken.outputs(matrix[:CROSSOVER_ROWS])


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("estimator", ["logistic_regression", "hist_gradient_boosting"])
def test_the_card_names_the_predictor_the_service_builds(task: str, estimator: str) -> None:
    schema = schema_for(task)
    params = load_params(REPO / "params.yaml").train.model_copy(update={"estimator": estimator})
    frame = toy(task)
    model = build_pipeline(schema, params).fit(frame[schema.feature_names], target_vector(frame, schema))
    served = compile_pipeline(model).served_by
    words = served_by_words({"estimator": estimator, "trained": trained_estimator(params, task)})
    assert words.startswith("treelite") == served.startswith("treelite"), (words, served)
    assert words.startswith("scikit-learn") == served.startswith("scikit-learn"), (words, served)


def fitted_on_categories(task: str) -> Any:
    """A HistGradientBoosting model with categorical splits (pandas categories), as a team might fit one."""
    frame = toy(task)
    features = frame[["x", "c"]].astype({"c": "category"})
    kind = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return kind(max_iter=20, categorical_features="from_dtype").fit(features, frame["y"]), features


@pytest.mark.parametrize(
    ("task", "reason"),
    [("binary", "categorical splits"), ("regression", "categorical splits")],
)
def test_a_model_it_cannot_compile_is_served_by_scikit_learn_with_one_log_line(
    task: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    estimator, features = fitted_on_categories(task)
    with caplog.at_level(logging.INFO, logger="mlops.serving.compiled"):
        served = compile_trees(estimator)
    assert served is estimator
    lines = [r for r in caplog.records if r.name == "mlops.serving.compiled"]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert reason in lines[0].getMessage() and type(estimator).__name__ in lines[0].getMessage()
    np.testing.assert_array_equal(model_outputs(served, features), outputs(estimator, features))


def test_a_loss_it_does_not_reproduce_is_served_by_scikit_learn(caplog: pytest.LogCaptureFixture) -> None:
    frame = toy("regression")
    features = frame[["x"]].to_numpy()
    estimator = HistGradientBoostingRegressor(max_iter=10, loss="poisson").fit(features, frame["y"].abs())
    with caplog.at_level(logging.INFO, logger="mlops.serving.compiled"):
        assert compile_trees(estimator) is estimator
    assert [r.getMessage() for r in caplog.records if r.name == "mlops.serving.compiled"] == [
        "serving HistGradientBoostingRegressor with scikit-learn (slower): loss='poisson': only "
        "'squared_error' is reproduced exactly"
    ]


def test_the_served_answers_and_metadata_come_from_the_compiled_predictor(
    server: Server, demo: Pipeline, test_frame: pd.DataFrame, built_project: Path, metadata: dict[str, Any]
) -> None:
    schema = load_schema(built_project / "schema.yaml")
    rows = awkward(test_frame.head(30), schema)
    expected = expected_answers(demo, rows, schema.target.task)
    for i, record in enumerate(records_from(rows, schema.feature_names)):
        response = httpx.post(f"{server.url}/predict", json=record, timeout=30)
        assert response.status_code == 200, response.text
        got = answered(response.json(), metadata["schema"]["target"])
        np.testing.assert_allclose(got, expected[i], rtol=0, atol=TOLERANCE)
    served = httpx.post(f"{server.url}/metadata", json={}, timeout=30).json()
    assert served["predictor"].startswith("treelite "), served["predictor"]


def test_explanations_are_served_as_the_pipeline_explains(
    server: Server,
    demo: Pipeline,
    records: list[dict[str, Any]],
    metadata: dict[str, Any],
    feature_names: list[str],
) -> None:
    if metadata["schema"]["target"]["task"] == "multiclass":
        pytest.skip("explanations are for binary and regression models")
    plain = PipelinePredictor(demo, tuple(feature_names))
    predict = plain.positive_proba if metadata["schema"]["target"]["task"] == "binary" else plain.outputs
    for record in records[:5]:
        body = httpx.post(f"{server.url}/predict", json={**record, "explain": True}, timeout=30).json()
        _, expected = explain(predict, record, metadata["reference"], EXPLAIN_TOP)
        got = [(c["feature"], c["contribution"]) for c in body["contributions"]]
        assert [c.feature for c in expected] == [name for name, _ in got]
        np.testing.assert_allclose(
            [move for _, move in got], [c.contribution for c in expected], rtol=0, atol=10.0**-DIGITS
        )


WITHOUT_TREELITE = """
import logging, sys
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from mlops.serving.compiled import compile_trees, model_outputs
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(levelname)s %(message)s")
rng = np.random.default_rng(0)
features = rng.normal(size=(200, 3))
estimator = HistGradientBoostingClassifier(max_iter=10).fit(features, features[:, 0] > 0)
served = compile_trees(estimator)
print("same", served is estimator)
print("equal", np.array_equal(model_outputs(served, features), estimator.predict_proba(features)))
"""


def test_without_treelite_every_model_is_served_by_scikit_learn_with_one_log_line(tmp_path: Path) -> None:
    """An image built without the wheel (or one whose treelite fails to load) serves as before."""
    (tmp_path / "treelite").mkdir()
    (tmp_path / "treelite" / "__init__.py").write_text('raise ImportError("no treelite here")\n')
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TREELITE],
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "mlops.serving.compiled WARNING serving HistGradientBoostingClassifier with scikit-learn "
        "(slower): no treelite here",
        "same True",
        "equal True",
    ], done.stdout + done.stderr
