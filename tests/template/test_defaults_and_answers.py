"""With the default answers a generated project is the template itself (same files, same pipeline
state); bad answers are refused with messages that say what to give instead."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.model_card import card_placeholders
from tests.conftest import run
from tests.template.conftest import generate, task_env, tracked_files

# Rendered from *.jinja or written by copier: the only files allowed to differ from the template.
RENDERED = {"README.md", ".copier-answers.yml", ".python-version"}
TEMPLATE_ONLY = ("copier.yml", "tests/template/", "tests/docs/", "benchmarks/template.py")


@pytest.mark.slow
def test_defaults_reproduce_the_template(template: Path, tmp_path: Path) -> None:
    dest = tmp_path / "mlops"
    generate(dest, template, {})
    ours = set(tracked_files(template))
    theirs = set(tracked_files(dest))
    expected = {n for n in ours if not n.startswith(TEMPLATE_ONLY) and not n.endswith(".jinja")} - RENDERED
    assert theirs - RENDERED == expected
    same, different, errors = filecmp.cmpfiles(template, dest, sorted(expected), shallow=False)
    assert (different, errors) == ([], [])
    assert "project.yaml" in same and "dvc.yaml" in same and "schema.yaml" in same
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert (answers["project_slug"], answers["data_file"]) == ("mlops", "")
    # Same behaviour: the pipeline is in the same state in both (same data, code, params, lock).
    statuses = []
    for project in (template, dest):
        run(["dvc", "pull", "--quiet", "--allow-missing"], cwd=project, env=task_env())
        statuses.append(run(["dvc", "status", "--json"], cwd=project, env=task_env()).stdout)
    assert statuses[0] == statuses[1]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"data_file": "team.csv"}, "Give an absolute path"),
        ({"data_file": "/srv/team.xlsx"}, "must be a .csv file"),
        ({"project_slug": "My Project"}, "Use lower-case letters, digits and hyphens"),
        ({"python_version": "3.9"}, "Python 3.11 or newer"),
        ({"image": "Registry/Thing"}, "An image name is lower-case"),
    ],
)
def test_answers_are_validated_before_anything_is_written(
    template: Path, tmp_path: Path, answers: dict[str, str], message: str
) -> None:
    dest = tmp_path / "bad"
    output = generate(dest, template, answers, check=False)
    assert message in output
    assert not dest.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "labels", "task", "message"),
    [
        ("churned", ["yes", "no"], "auto", "its columns are: patient_id, age, plan, outcome"),
        ("outcome", ["a", "b", "c"], "binary", "a binary task needs exactly two labels"),
        ("outcome", ["a", "b"], "regression", "regression task must be numbers; found 'a', 'b'"),
    ],
)
def test_data_answers_that_do_not_fit_the_csv_are_refused(
    template: Path, tmp_path: Path, target: str, labels: list[str], task: str, message: str
) -> None:
    data = tmp_path / "team.csv"
    pd.DataFrame(
        {
            "patient_id": range(30),
            "age": range(20, 50),
            "plan": ["basic", "pro"] * 15,
            "outcome": (labels * 30)[:30],
        }
    ).to_csv(data, index=False)
    dest = tmp_path / "bad"
    answers = {"data_file": str(data), "target": target, "task": task, "positive_label": labels[0]}
    answers["ignore_columns"] = "patient_id"
    output = generate(dest, template, answers, check=False)
    assert message in output
    assert not dest.exists()  # copier removes the half-made project


def test_the_description_default_describes_the_teams_data_not_the_demo(
    template: Path, breast_cancer_csv: Path, tmp_path: Path
) -> None:
    """Unanswered, the description names the team's target: the demo's churn sentence does not leak
    into the README, the model card or the answers (rendering only: the tasks run in test_generate)."""
    dest = tmp_path / "triage"
    answers = {"data_file": str(breast_cancer_csv), "target": "diagnosis", "positive_label": "malignant"}
    generate(dest, template, answers | {"ignore_columns": "patient_id"}, "--skip-tasks")
    expected = (
        "Predicts whether diagnosis is malignant, from a versioned dataset, with a reproducible pipeline."
    )
    assert yaml.safe_load((dest / ".copier-answers.yml").read_text())["description"] == expected
    card = yaml.safe_load((dest / "project.yaml").read_text())["card"]
    assert card["purpose"].startswith("TODO") and card["purpose"].endswith(expected)  # a default: to write
    assert card_placeholders(card).keys() == {"purpose", "intended_use", "limits", "contact"}
    readme = (dest / "README.md").read_text()
    assert expected in readme
    for rendered in (readme, (dest / "project.yaml").read_text()):
        assert "Predicts which customers will leave" not in rendered  # the demo's sentence
