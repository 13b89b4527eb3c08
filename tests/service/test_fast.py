"""The compiled single-record path gives the scikit-learn Pipeline's outputs: a classifier's class
probabilities, a regressor's values (whatever the project's task)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops.pipeline.data import target_vector
from mlops.pipeline.model import build_pipeline, load_model
from mlops.serving.bundle import PipelinePredictor
from mlops.serving.fast import UnsupportedPipelineError, compile_pipeline
from mlops.spec.params import TrainParams, load_params
from mlops.spec.schema import Schema, load_schema
from tests.conftest import REPO
from tests.project_task import outputs
from tests.service.conftest import records_from


@pytest.fixture(scope="module")
def model(built_project: Path) -> Pipeline:
    return load_model(built_project / "models" / "model.skops")


def test_compiled_path_matches_the_pipeline_on_the_test_split(
    model: Pipeline, test_frame: pd.DataFrame, feature_names: list[str], records: list[dict[str, Any]]
) -> None:
    expected = outputs(model, test_frame[feature_names])
    got = compile_pipeline(model).outputs(records)
    assert got.shape == expected.shape and len(got) == len(test_frame)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_compiled_path_matches_one_record_at_a_time(
    model: Pipeline, test_frame: pd.DataFrame, feature_names: list[str], records: list[dict[str, Any]]
) -> None:
    compiled = compile_pipeline(model)
    for i in range(0, len(records), 97):
        expected = outputs(model, test_frame[feature_names].iloc[[i]])[0]
        np.testing.assert_allclose(compiled.outputs([records[i]])[0], expected, rtol=0, atol=1e-6)


def test_missing_numbers_are_imputed_like_the_pipeline(
    model: Pipeline, schema: Schema, test_frame: pd.DataFrame, feature_names: list[str]
) -> None:
    frame = test_frame[feature_names].head(50).copy()
    numeric = [f.name for f in schema.numeric]
    frame[numeric] = np.nan  # every numeric feature missing in every row
    expected = outputs(model, frame)
    got = compile_pipeline(model).outputs(records_from(frame, feature_names))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert frame[numeric].isna().all().all()


def test_the_plain_pipeline_predictor_agrees(
    model: Pipeline, feature_names: list[str], records: list[dict[str, Any]]
) -> None:
    plain = PipelinePredictor(model, tuple(feature_names)).outputs(records[:200])
    np.testing.assert_allclose(plain, compile_pipeline(model).outputs(records[:200]), atol=1e-9)


def logistic_params() -> TrainParams:
    return load_params(REPO / "params.yaml").train.model_copy(update={"estimator": "logistic_regression"})


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(REPO / "schema.yaml")


def test_logistic_regression_is_compiled_too(
    schema: Schema, test_frame: pd.DataFrame, feature_names: list[str], records: list[dict[str, Any]]
) -> None:
    params = logistic_params()
    # logistic regression for a classifier, its regression family (ridge) for a regressor
    fitted = build_pipeline(schema, params).fit(test_frame[feature_names], target_vector(test_frame, schema))
    expected = outputs(fitted, test_frame[feature_names])
    np.testing.assert_allclose(compile_pipeline(fitted).outputs(records), expected, atol=1e-6)


def test_an_unknown_layout_is_refused(model: Pipeline) -> None:
    changed = Pipeline([("scale", StandardScaler()), ("classifier", model.steps[1][1])])
    with pytest.raises(UnsupportedPipelineError, match="ColumnTransformer"):
        compile_pipeline(changed)


def test_a_dropping_encoder_is_refused(
    schema: Schema, test_frame: pd.DataFrame, feature_names: list[str]
) -> None:
    if not schema.categorical:
        pytest.skip("the schema has no categorical feature, so the pipeline has no encoder")
    pipeline = build_pipeline(schema, logistic_params())
    encoder = pipeline.steps[0][1].transformers[-1][1]
    assert isinstance(encoder, OneHotEncoder)
    encoder.set_params(drop="first")
    pipeline.fit(test_frame[feature_names], target_vector(test_frame, schema))
    with pytest.raises(UnsupportedPipelineError, match="drop"):
        compile_pipeline(pipeline)
