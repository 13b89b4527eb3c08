"""params.yaml is read into strict models: the committed file loads, mistakes fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops.errors import ConfigError
from mlops.spec.metrics import BY_TASK, DEFAULT_GATE, HEADLINE, TASKS
from mlops.spec.params import check_task, load_params
from mlops.spec.schema import load_schema

COMMITTED = Path(__file__).resolve().parents[2] / "params.yaml"
SCHEMA = COMMITTED.with_name("schema.yaml")


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
        ("train", "max_rows", 0, "train.max_rows: Input should be greater than or equal to 100"),
        ("train", "max_rows", "all", "train.max_rows: Input should be a valid integer"),
        ("train", "max_rows", 1e5 + 0.5, "train.max_rows: Input should be a valid integer"),
        ("train", "max_rows", None, "train.max_rows: Input should be a valid integer"),
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


def test_every_tasks_metrics_are_headline_metrics_once() -> None:
    listed = [name for names in BY_TASK.values() for name in names]
    assert set(listed) == set(HEADLINE)
    assert set(DEFAULT_GATE) == set(BY_TASK) == set(TASKS)
    assert all(DEFAULT_GATE[task] in BY_TASK[task] for task in TASKS)


@pytest.mark.parametrize(
    ("task", "metric", "allowed"),
    [("regression", "roc_auc", "mae, rmse, r2"), ("multiclass", "f1", "accuracy, f1_macro")],
)
def test_the_gate_metric_must_be_one_of_the_tasks(task: str, metric: str, allowed: str) -> None:
    params = load_params(COMMITTED)
    changed = params.model_copy(update={"gate": params.gate.model_copy(update={"metric": metric})})
    with pytest.raises(
        ConfigError,
        match=rf"params.yaml: gate.metric '{metric}' is not a metric of a {task} task; use one of {allowed}",
    ):
        check_task(changed, task, Path("params.yaml"))
    # the committed gate (the demo's roc_auc; a new project's default for its task) fits the schema's task
    check_task(params, load_schema(SCHEMA).target.task, Path("params.yaml"))


def test_class_weights_are_refused_for_regression() -> None:
    params = load_params(COMMITTED)
    train = params.train.model_copy(
        update={
            "logistic_regression": params.train.logistic_regression.model_copy(
                update={"class_weight": "balanced"}
            )
        }
    )
    gate = params.gate.model_copy(update={"metric": "rmse"})
    changed = params.model_copy(update={"train": train, "gate": gate})
    with pytest.raises(
        ConfigError, match=r"train.logistic_regression.class_weight applies to classification only"
    ):
        check_task(changed, "regression", Path("params.yaml"))
    binary_gate = params.gate.model_copy(update={"metric": "roc_auc"})
    check_task(changed.model_copy(update={"gate": binary_gate}), "binary", Path("params.yaml"))
