"""Helpers for the workflow checks: every file in .github/workflows/, parsed and raw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

WORKFLOW_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])


def load(path: Path) -> dict[str, Any]:
    """The workflow as a mapping, with `on` kept as a string key (YAML 1.1 reads a bare `on` as True)."""
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def assert_cloud_credentials_step(step: dict[str, Any]) -> None:
    """The DVC remote's cloud role, as release.yml's `bento` job takes it: the same pinned action, by
    OIDC (no stored keys), and only when the repository variable AWS_ROLE_ARN is set."""
    release = load(WORKFLOW_DIR / "release.yml")["jobs"]["bento"]["steps"]
    model = next(
        s for s in release if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    )
    assert step["uses"] == model["uses"]
    assert step["if"] == model["if"] == "vars.AWS_ROLE_ARN != ''"
    assert step["with"] == model["with"]
    assert set(step["with"]) == {"role-to-assume", "aws-region"}
