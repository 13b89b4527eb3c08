"""The model card as a manager reads it: undefined metrics said plainly, the estimator as trained,
the title from project.yaml, and placeholders found (reported, and refused by `mlops card --check`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import Environment

from mlops.cli import main
from mlops.model_card import CardInputs, build_card, card_placeholders, estimator_words, load_card_text
from mlops.pipeline.model import build_pipeline, trained_estimator
from mlops.spec.params import load_params
from mlops.spec.schema import Schema
from tests.conftest import PATHS, reads_committed_results
from tests.unit.test_tasks import TARGETS, schema_for

ROOT = Path(__file__).resolve().parents[2]


def _inputs(**changes: Any) -> CardInputs:
    """The card's inputs as this repository's committed results give them."""
    metadata = json.loads((ROOT / PATHS.metadata).read_text())
    read = lambda name: json.loads((ROOT / "eval" / name).read_text())  # noqa: E731
    inputs: dict[str, Any] = {
        "name": yaml.safe_load((ROOT / "project.yaml").read_text())["name"],
        "text": load_card_text(ROOT / "project.yaml"),
        "schema": Schema.model_validate(metadata["schema"]),
        "metadata": metadata,
        "metrics": read("metrics.json"),
        "intervals": read("intervals.json"),
        "segments": read("segments.json"),
        "fairness": read("fairness.json"),
        "importance": read("plots/importance.json")["importance"],
        "gate": load_params(ROOT / "params.yaml").gate,
        "data_md5": None,
    }
    return CardInputs(**(inputs | changes))


def _card(inputs: CardInputs) -> str:
    return build_card(ROOT / PATHS.model, inputs).render()  # skops reads no model to render


@reads_committed_results
def test_a_segment_the_model_flags_nobody_in_shows_na_and_says_so() -> None:
    segments = {
        "contract": {
            "Month-to-month": {"rows": 773, "roc_auc": 0.76, "recall": 0.57, "precision": 0.66},
            "Two year": {"rows": 336, "roc_auc": 0.77, "recall": 0.0, "precision": None},
        }
    }
    card = _card(_inputs(segments=segments))
    row = next(line for line in card.splitlines() if "contract = Two year" in line and line.startswith("|"))
    assert [cell.strip() for cell in row.strip("|").split("|")] == [
        "contract = Two year", "336", "0.7700", "0.0000", "n/a"
    ]  # fmt: skip
    assert "The model flags nobody in `contract = Two year`: its precision there is undefined" in card
    assert "It flags nobody in `contract = Two year`." in card.split("## Intended use")[0]  # the summary


@reads_committed_results
def test_the_title_is_the_projects_name() -> None:
    card = _card(_inputs(name="tumour-triage"))
    assert card.lstrip().splitlines()[0] == "# Model card: tumour-triage"
    assert (
        yaml.safe_load((ROOT / "project.yaml").read_text())["name"] != "mlops"
    )  # the package, not the model


@pytest.mark.parametrize("task", sorted(TARGETS))
@pytest.mark.parametrize("estimator", ["logistic_regression", "hist_gradient_boosting"])
def test_the_estimator_is_named_as_trained_for_every_task(task: str, estimator: str) -> None:
    params = load_params(ROOT / "params.yaml").train.model_copy(update={"estimator": estimator})
    fitted_step = build_pipeline(schema_for(task), params)[-1]
    trained = trained_estimator(params, task)  # type: ignore[arg-type]
    assert trained["class"] == type(fitted_step).__name__
    assert trained["settings"].items() <= fitted_step.get_params().items()
    words = estimator_words({"estimator": estimator, "trained": trained})
    assert words.startswith(f"`{type(fitted_step).__name__}` (")
    if task == "regression" and estimator == "logistic_regression":
        assert words.startswith("`Ridge` (alpha=1.0,") and "train.estimator: logistic_regression" in words


def _rendered_card(answers: dict[str, str]) -> dict[str, str]:
    """project.yaml's `card` as copier renders project.yaml.jinja with these answers."""
    template = Environment().from_string((ROOT / "project.yaml.jinja").read_text())
    defaults = {"project_slug": "mlops", "data_name": "data.csv", "image": "", "author": "ModelOps team"}
    return yaml.safe_load(template.render(defaults | answers))["card"]


@pytest.mark.skipif(
    not (ROOT / "project.yaml.jinja").is_file(), reason="the template's file; a project made from it has none"
)
def test_a_new_projects_card_is_flagged_until_the_team_writes_it() -> None:
    default = "Predicts outcome, from a versioned dataset, with a reproducible pipeline."
    placeholder = {"data_file": "/d.csv", "description": default, "owners": "@your-org/model-owners"}
    assert card_placeholders(_rendered_card(placeholder)).keys() == {
        "purpose", "intended_use", "limits", "contact"
    }  # fmt: skip
    answered = placeholder | {"description": "Flags malignant tumours.", "owners": "@oncology/ml-leads"}
    assert card_placeholders(_rendered_card(answered)).keys() == {"intended_use", "limits"}
    demo = _rendered_card({"data_file": "", "owners": "@your-org/model-owners"})
    assert demo == load_card_text(ROOT / "project.yaml").model_dump()  # the demo: this repository's card
    assert card_placeholders(demo) == {}
    assert card_placeholders({"purpose": "x", "intended_use": "y", "limits": "z"}) == {"contact": ""}


@reads_committed_results
def test_card_check_names_each_placeholder_and_passes_this_repositorys_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["card", "--check", "--project", str(ROOT / "project.yaml")]) == 0
    project = yaml.safe_load((ROOT / "project.yaml").read_text())
    project["card"] |= {"limits": "TODO: what it must not be used for", "contact": "@your-org/model-owners"}
    (tmp_path / "project.yaml").write_text(yaml.safe_dump(project))
    assert main(["card", "--check", "--project", str(tmp_path / "project.yaml")]) == 1
    logged = capsys.readouterr().err
    assert "card.limits is a placeholder: 'TODO: what it must not be used for'" in logged
    assert "card.contact is a placeholder: '@your-org/model-owners'" in logged
    assert "card.purpose" not in logged
    assert list(tmp_path.iterdir()) == [tmp_path / "project.yaml"]  # nothing written


def test_card_without_check_needs_its_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["card", "--project", str(ROOT / "project.yaml")]) == 2
    logged = capsys.readouterr().err
    assert "--model, --metadata" in logged and "(or --check)" in logged
