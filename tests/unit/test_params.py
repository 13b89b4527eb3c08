"""params.yaml is read into strict models: the committed file loads, mistakes fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops.errors import ConfigError
from mlops.params import load_params

COMMITTED = Path(__file__).resolve().parents[2] / "params.yaml"


def test_committed_params_load() -> None:
    params = load_params(COMMITTED)
    assert params.train.estimator in {"logistic_regression", "hist_gradient_boosting"}
    assert 0 < params.prepare.test_size < 1


def write_changed(tmp_path: Path, section: str, key: str, value: object) -> Path:
    document = yaml.safe_load(COMMITTED.read_text())
    document[section][key] = value
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("train", "estimatr", "logistic_regression", "train.estimatr: Extra inputs are not permitted"),
        ("train", "estimator", "random_forest", "train.estimator: Input should be 'logistic_regression'"),
        ("prepare", "test_size", 1.5, "prepare.test_size: Input should be less than 1"),
        ("evaluate", "threshold", "high", "evaluate.threshold: Input should be a valid number"),
        ("gate", "metric", "auc", "gate.metric: Input should be 'roc_auc', 'pr_auc', 'f1', 'precision'"),
    ],
)
def test_a_wrong_key_or_value_names_its_dotted_path(
    tmp_path: Path, section: str, key: str, value: object, message: str
) -> None:
    path = write_changed(tmp_path, section, key, value)
    with pytest.raises(ConfigError) as caught:
        load_params(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_models_are_frozen() -> None:
    params = load_params(COMMITTED)
    with pytest.raises(Exception, match="frozen"):
        params.train.seed = 1  # type: ignore[misc]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_params(tmp_path / "params.yaml")
