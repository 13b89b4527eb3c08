"""CODEOWNERS names owners for every file that governs the model, and the template renders it."""

from __future__ import annotations

from pathlib import Path

import jinja2
import yaml

REPO = Path(__file__).resolve().parents[2]
GOVERNED = ("/params.yaml", "/schema.yaml", "/.github/workflows/", "/deploy/")


def rules(text: str) -> dict[str, list[str]]:
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {parts[0]: parts[1:] for parts in lines}


def test_every_governed_path_has_owners_and_exists() -> None:
    found = rules((REPO / ".github/CODEOWNERS").read_text())
    assert set(GOVERNED) <= set(found)
    for pattern, owners in found.items():
        assert owners and all(owner.startswith("@") for owner in owners), pattern
        assert (REPO / pattern.strip("/")).exists(), f"{pattern} names nothing in the repository"


def test_the_template_renders_the_same_file_with_the_default_owners() -> None:
    default = yaml.safe_load((REPO / "copier.yml").read_text())["owners"]["default"]
    template = (REPO / ".github/CODEOWNERS.jinja").read_text()
    rendered = jinja2.Environment(keep_trailing_newline=True).from_string(template).render(owners=default)
    assert rendered == (REPO / ".github/CODEOWNERS").read_text()
    team = jinja2.Environment().from_string(template).render(owners="@acme/ml-leads @jane")
    assert rules(team)["/params.yaml"] == ["@acme/ml-leads", "@jane"]
