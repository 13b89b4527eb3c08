"""The pipeline's governance outputs: fairness per sensitive feature, confidence intervals, the model card."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from mlops.spec.metrics import BY_TASK
from mlops.spec.schema import load_schema
from tests.conftest import PATHS, run
from tests.project_task import UNBOUNDED, project_task

pytestmark = pytest.mark.slow

CARD_ARGS = [
    "--model", PATHS.model, "--metadata", PATHS.metadata, "--params", PATHS.params,
    "--data-dvc", PATHS.data_dvc, "--metrics", PATHS.metrics, "--intervals", PATHS.intervals,
    "--segments", PATHS.segments, "--fairness", PATHS.fairness,
    "--importance", PATHS.importance,
]  # fmt: skip


def test_fairness_covers_every_sensitive_feature(built_project: Path) -> None:
    schema = load_schema(built_project / "schema.yaml")
    fairness = json.loads((built_project / PATHS.fairness).read_text())
    assert sorted(fairness) == sorted(schema.sensitive)
    for column, found in fairness.items():
        categories = {str(c) for c in schema.feature(column).categories or ()}
        assert set(found["groups"]) <= categories
        for metric, gap in found["difference"].items():
            rates = [group[metric] for group in found["groups"].values()]
            assert gap == pytest.approx(max(rates) - min(rates), abs=2e-6)  # each rounded to 6 digits


def test_intervals_hold_the_metric(built_project: Path) -> None:
    metrics = json.loads((built_project / PATHS.metrics).read_text())
    intervals = json.loads((built_project / PATHS.intervals).read_text())
    assert sorted(intervals) == sorted(BY_TASK[project_task(built_project)])
    for name, interval in intervals.items():
        assert interval["low"] <= metrics[name] <= interval["high"]
        if name not in UNBOUNDED:  # a share or probability: narrower as the test split grows, within
            # 2.5 times the widest 95% interval of a proportion (1.96 / sqrt(rows))
            assert interval["high"] - interval["low"] < 5 / math.sqrt(interval["rows_per_sample"])


def test_the_card_starts_with_a_summary_and_names_its_lineage(built_project: Path) -> None:
    card = (built_project / "models/card.md").read_text()
    metadata = json.loads((built_project / PATHS.metadata).read_text())
    data_md5 = yaml.safe_load((built_project / PATHS.data_dvc).read_text())["outs"][0]["md5"]
    headings = [line for line in card.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# Model card: ")
    assert headings[1] == "## Summary"
    for fact in (
        metadata["model_version"],
        metadata["model_sha256"],
        data_md5,
        metadata["training_data"]["sha256"],
    ):
        assert fact in card
    for column in load_schema(built_project / "schema.yaml").sensitive:
        assert f"### {column}" in card
    html = (built_project / "models/card.html").read_text()
    assert "<script" not in html and "://" not in html.split("</head>")[0]  # no URL: http-equiv is fine
    assert "<h2>Summary</h2>" in html


def test_the_card_is_the_same_for_the_same_results(built_project: Path, tmp_path: Path) -> None:
    run(
        ["mlops", "card", *CARD_ARGS, "--project", "project.yaml",
         "--card-out", tmp_path / "card.md", "--html-out", tmp_path / "card.html"],
        cwd=built_project,
    )  # fmt: skip
    assert (tmp_path / "card.md").read_bytes() == (built_project / "models/card.md").read_bytes()
    assert (tmp_path / "card.html").read_bytes() == (built_project / "models/card.html").read_bytes()


def test_a_project_without_card_words_is_refused(built_project: Path, tmp_path: Path) -> None:
    project = yaml.safe_load((built_project / "project.yaml").read_text())
    project["card"].pop("limits")
    (tmp_path / "project.yaml").write_text(yaml.safe_dump(project))
    result = run(
        ["mlops", "card", *CARD_ARGS, "--project", tmp_path / "project.yaml",
         "--card-out", tmp_path / "card.md", "--html-out", tmp_path / "card.html"],
        cwd=built_project, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "project.yaml: invalid `card` section" in result.stderr and "limits" in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "project.yaml"]
