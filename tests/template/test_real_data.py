"""A project generated on a table shaped like real data, with the default answers: a 200-level text
column, a binary target written `1.0`/`0.0`, and a later batch with categories never seen and the
target written `1`/`0`. The pipeline trains, the service accepts and counts the unseen categories, and
the drift check reports their share. One generated project serves every test here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from mlops.project import DRIFT_DIR
from tests.conftest import PATHS, run
from tests.service.conftest import Server
from tests.template.conftest import generate, task_env

pytestmark = pytest.mark.slow

CITIES = [f"City {i:03d}" for i in range(200)]
NEW_CITIES = [f"New town {i}" for i in range(15)]
UNSEEN_SHARE = 0.1  # of the batch's rows hold a city not in the training data


def table(rows: int, seed: int, new_share: float) -> pd.DataFrame:
    """Customers of 200 cities (a long tail), a plan, an age and a spend; churn depends on all four."""
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, 201) ** 0.8
    city = rng.choice(np.array(CITIES, dtype=object), size=rows, p=weights / weights.sum())
    city[: len(CITIES)] = CITIES  # every city at least once
    new = rng.random(rows) < new_share
    city[new] = rng.choice(NEW_CITIES, size=int(new.sum()))
    plan = rng.choice(["basic", "plus", "premium"], size=rows, p=[0.5, 0.3, 0.2])
    age = rng.integers(18, 90, size=rows)
    spend = rng.gamma(2.0, 30.0, size=rows).round(2)
    score = (np.char.find(city.astype(str), "0") >= 0) + (plan == "basic") - age / 60 + spend / 100
    churned = (score + rng.normal(0, 0.7, size=rows)) > 0.4
    return pd.DataFrame({"city": city, "plan": plan, "age": age, "spend": spend, "churned": churned})


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated with the default answers for the categories, trained with `dvc repro`."""
    folder = tmp_path_factory.mktemp("real-data")
    data = folder / "customers.csv"
    training = table(4000, seed=0, new_share=0.0)
    training.assign(churned=training["churned"].map({True: "1.0", False: "0.0"})).to_csv(data, index=False)
    dest = folder / "city-churn"
    generate(dest, template, {"data_file": str(data), "target": "churned", "positive_label": "1"})
    run(["dvc", "repro", "--quiet"], cwd=dest, env=task_env())
    batch = table(1500, seed=1, new_share=UNSEEN_SHARE)
    labels = batch["churned"].astype(int)  # the target as `1`/`0`, a prediction as `1.0`/`0.0`
    batch.assign(churned=labels, prediction=labels.astype(float)).to_csv(dest / "batch.csv", index=False)
    return dest


def test_the_schema_keeps_the_200_cities_and_reads_the_target_as_numbers(project: Path) -> None:
    schema = yaml.safe_load((project / PATHS.schema).read_text())
    assert schema["target"] == {"name": "churned", "task": "binary", "positive": 1, "negative": 0}
    city = next(f for f in schema["features"] if f["name"] == "city")
    assert len(city["categories"]) == 200 and city["max_levels"] == 30
    assert "unseen" not in city  # the default, `encode`
    metrics = json.loads((project / PATHS.metrics).read_text())
    assert metrics["roc_auc"] > 0.7
    model = json.loads((project / PATHS.metadata).read_text())
    assert model["schema"]["features"][0]["max_levels"] == 30


@pytest.fixture(scope="module")
def server(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The generated project's service, `bentoml serve` on 127.0.0.1 from the project's folder."""
    log = tmp_path_factory.mktemp("real-data-serve")
    env = {"MLOPS_INFERENCE_LOG_DIR": str(log / "inference"), "BENTOML_HOME": str(log / "bentoml")}
    started = Server("mlops.service:ModelService", project, env, log / "server.log")
    started.wait_until_up("/readyz")
    yield started
    started.stop()


def unseen_counted(server: Server) -> float:
    text = httpx.get(server.url + "/metrics", timeout=30).text
    found = re.search(r'^mlops_unseen_categories_total\{column="city"\} (\S+)$', text, re.MULTILINE)
    assert found, text[-2000:]
    return float(found[1])


def test_the_service_accepts_and_counts_unseen_categories(project: Path, server: Server) -> None:
    batch = pd.read_csv(project / "batch.csv").drop(columns=["churned", "prediction"])
    records: list[dict[str, Any]] = json.loads(batch.head(50).to_json(orient="records"))
    unseen = sum(r["city"] in NEW_CITIES for r in records)
    assert unseen > 0
    before = unseen_counted(server)
    response = httpx.post(server.url + "/predict_batch", json={"records": records}, timeout=30)
    assert response.status_code == 200, response.text
    assert all(0 <= p["probability"] <= 1 for p in response.json())
    assert unseen_counted(server) == before + unseen
    wrong = httpx.post(server.url + "/predict", json={**records[0], "plan": 3}, timeout=30)
    assert wrong.status_code == 400
    assert wrong.json()["detail"] == [{"field": "plan", "reason": "expected a JSON string, found int"}]


def test_the_drift_check_reports_the_unseen_share(project: Path) -> None:
    mlops = project / ".venv" / "bin" / "mlops"
    result = run([mlops, "drift", "--current", "batch.csv"], cwd=project, check=False, env=task_env())
    # city drifts (10% unseen, past drift.unseen_share); 1 of 4 features is under drift.drift_share
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 4 features drifted" in result.stderr
    report = json.loads((project / DRIFT_DIR / "batch" / "drift.json").read_text())
    columns = {c["column"]: c for c in report["columns"]}
    assert columns["city"]["unseen_share"] == pytest.approx(UNSEEN_SHARE, abs=0.03)
    assert "city" in report["drifted_columns"]
    assert columns["plan"]["unseen_share"] == 0
    outputs = {c["role"]: c for c in report["outputs"]}  # `1`/`0` and `1.0`/`0.0` read as the labels
    assert outputs["target"]["current_rows"] == 1500
    assert outputs["prediction"]["compared_with"] == "churned"
    assert outputs["prediction"]["current_rows"] == 1500
