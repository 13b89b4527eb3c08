"""The decision threshold has one source: the drift check estimates performance at the threshold the
service decides with (the evaluated one in eval/metrics.json), even after params.yaml has changed."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import yaml

from mlops.artifacts import decision_threshold, read_evaluation
from mlops.cli import main
from mlops.project import load_project
from mlops.serving.bundle import ServingSettings
from tests.drift.conftest import demo_only

pytestmark = demo_only


def test_drift_estimates_at_the_threshold_the_service_serves(built_project: Path, tmp_path: Path) -> None:
    paths = load_project(built_project)
    evaluated = json.loads((built_project / paths.metrics).read_text())["threshold"]
    params = yaml.safe_load((built_project / paths.params).read_text())
    params["evaluate"]["threshold"] = 0.3 if evaluated != 0.3 else 0.7  # edited, the pipeline not rerun
    edited = tmp_path / "params.yaml"
    edited.write_text(yaml.safe_dump(params))
    settings = ServingSettings.from_env({})  # the bento holds eval/metrics.json where the project does
    assert settings.metrics_file == paths.metrics
    out = tmp_path / "out"
    with contextlib.chdir(built_project):
        served = decision_threshold(read_evaluation(settings.metrics_file))
        code = main(["drift", "--current", str(paths.test), "--params", str(edited), "--out", str(out)])
    logging.getLogger().handlers.clear()
    performance = json.loads((out / "drift.json").read_text())["performance"]
    assert code == 0 and performance["available"]
    assert performance["threshold"] == served == evaluated != params["evaluate"]["threshold"]


def test_the_threshold_defaults_when_the_model_was_never_evaluated(tmp_path: Path) -> None:
    assert decision_threshold(read_evaluation(tmp_path / "metrics.json")) == 0.5
    (tmp_path / "metrics.json").write_text('{"threshold": 0.35, "roc_auc": 0.8}')
    assert decision_threshold(read_evaluation(tmp_path / "metrics.json")) == 0.35
