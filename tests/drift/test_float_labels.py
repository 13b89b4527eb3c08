"""A team's own 0/1 target stored as 0.0/1.0 (schema.yaml: `positive: 1`) through the whole loop:
validated, split, trained, evaluated, and estimated by the drift check without labels, each step
comparing labels by value (`mlops.spec.schema.label_codes`), so the estimate is there and matches."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mlops.cli import main
from mlops.io import read_yaml
from mlops.project import DRIFT_DIR
from tests.conftest import PATHS, REPO, stage_commands

SCHEMA = {
    "dataset": "loans",
    "target": {"name": "repaid", "positive": 1, "negative": 0},
    "features": [
        {"name": "income", "type": "float", "min": 0},
        {"name": "purpose", "type": "categorical", "categories": ["car", "home", "study"]},
    ],
}


def loans(rows: int, seed: int) -> pd.DataFrame:
    """Income and purpose decide who repays; the target as the team's table stores it: 0.0 / 1.0."""
    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 10.0, rows)
    purpose = rng.choice(["car", "home", "study"], rows)
    logit = (income - 40.0) / 10.0 + (purpose == "home")
    repaid = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype("float64")
    return pd.DataFrame({"income": income.round(2), "purpose": purpose, "repaid": repaid})


def mlops(folder: Path, *argv: str | Path) -> int:
    with contextlib.chdir(folder):
        code = main([str(a) for a in argv])
    logging.getLogger().handlers.clear()
    return code


def test_a_target_stored_as_floats_gets_the_estimate_the_evaluate_stage_agrees_with(tmp_path: Path):
    (tmp_path / PATHS.schema).write_text(yaml.safe_dump(SCHEMA))
    params = read_yaml(REPO / PATHS.params)
    params["evaluate"]["segments"] = ["purpose"]
    params["drift"]["key_columns"] = ["income", "purpose"]
    params["gate"] |= {"metric": "roc_auc", "min": 0.5}  # a binary task's gate, whatever the project's
    (tmp_path / PATHS.params).write_text(yaml.safe_dump(params))
    (tmp_path / PATHS.data).parent.mkdir(parents=True)
    loans(5_000, 1).to_csv(tmp_path / PATHS.data, index=False)
    loans(1_500, 2).to_csv(tmp_path / "batch.csv", index=False)
    assert (tmp_path / "batch.csv").read_text().splitlines()[1].endswith((",1.0", ",0.0"))
    # split, train and evaluate as dvc.yaml runs them, on the loans where the project keeps its data
    for stage in stage_commands(REPO):
        if stage[0] in ("prepare", "train", "evaluate"):
            assert mlops(tmp_path, *stage) == 0, stage
    evaluated = json.loads((tmp_path / PATHS.metrics).read_text())
    assert evaluated["roc_auc"] > 0.8

    code = mlops(
        tmp_path, "drift", "--reference", PATHS.train, "--current", "batch.csv",
        "--schema", PATHS.schema, "--params", PATHS.params,
        "--model", PATHS.model, "--labelled-reference", PATHS.test, "--out", DRIFT_DIR,
    )  # fmt: skip
    performance = json.loads((tmp_path / DRIFT_DIR / "drift.json").read_text())["performance"]
    assert code == 0 and performance["available"], performance["reason"]
    assert performance["reference"]["roc_auc"] == pytest.approx(evaluated["roc_auc"], abs=1e-4)
    assert performance["realized"]["roc_auc"] > 0.8  # the batch's own 0.0/1.0 labels, read as 0/1
    assert performance["estimated"]["roc_auc"] == pytest.approx(performance["realized"]["roc_auc"], abs=0.05)
