"""`make github-settings` (mlops.github_settings): the real gh against the fake GitHub API.

The first run creates the release environment, its branch policy and the three rulesets with the
content the repository's files ask for; a second run writes nothing; a setting changed by hand is
put back; a token without admin rights, an unknown team or the template's placeholder owners stop
it with exit code 2 and a message saying what to do.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops.github_settings import GITHUB_ACTIONS_APP, read_artifact
from tests.conftest import REPO, run
from tests.github.conftest import HUMAN, HUMAN_TOKEN, OWNER_REPO
from tests.github.fake_github import FakeGitHub
from tests.workflows.conftest import WORKFLOW_DIR, load

TEAM_ID, BOB_ID = 7, 1003  # bob: the fake's /users answer, 1000 + len(login)
# Each pr.yml job's check is named after the job; then the check run pr-comment.yml posts with CML.
CHECKS = [job.get("name", key) for key, job in load(WORKFLOW_DIR / "pr.yml")["jobs"].items()]
CHECKS.append("Model report")
BRANCH_RULESET = "default branch: reviewed pull requests, passing checks"
VERSIONS = "model-service versions: the release workflow only"
STAGES = "model-service stages: the code owners' teams only"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The files the settings come from, the placeholder owners replaced by a team and a user."""
    root = tmp_path / "project"
    shutil.copytree(REPO / ".github" / "workflows", root / ".github" / "workflows")
    shutil.copy(REPO / "bentofile.yaml", root / "bentofile.yaml")
    (root / ".github" / "CODEOWNERS").write_text(
        codeowners("@acme/model-owners") + "/deploy/overlays/prod/ @acme/model-owners @bob\n"
    )
    return root


def codeowners(owner: str) -> str:
    """This project's CODEOWNERS with every rule's owners replaced by `owner` (the template names
    its placeholder team; a project made from it, the owners its team answered)."""
    lines = (REPO / ".github" / "CODEOWNERS").read_text().splitlines()
    handle = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_./-]*")
    rules = [handle.sub(owner, line) if line.startswith("/") else line for line in lines]
    return "\n".join(rules) + "\n"


@pytest.fixture
def admin_env(gh_env: dict[str, str], github: FakeGitHub) -> dict[str, str]:
    """gh as a repository admin (alice), in a repository whose organisation has the owners' team."""
    github.state.settings.admins.add(HUMAN)
    github.state.settings.teams["acme/model-owners"] = TEAM_ID
    github.state.settings.users["bob"] = BOB_ID
    return gh_env | {"GH_ENTERPRISE_TOKEN": HUMAN_TOKEN}


def apply(root: Path, env: dict[str, str], repo: str = OWNER_REPO) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mlops.github_settings", "--repo", repo, "--root", str(root)]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def writes(github: FakeGitHub) -> list[tuple[str, str]]:
    return [(method, path) for method, path in github.state.requests if method != "GET"]


def by_name(github: FakeGitHub) -> dict[str, dict[str, Any]]:
    return {ruleset["name"]: ruleset for ruleset in github.state.settings.rulesets.values()}


def test_the_first_run_creates_each_setting(
    project: Path, admin_env: dict[str, str], github: FakeGitHub
) -> None:
    result = apply(project, admin_env)
    assert result.returncode == 0, result.stderr
    settings = github.state.settings
    release = settings.environments["release"]
    assert release["reviewers"] == [{"type": "Team", "id": TEAM_ID}, {"type": "User", "id": BOB_ID}]
    assert release["prevent_self_review"] is True and release["can_admins_bypass"] is False
    assert release["deployment_branch_policy"] == {
        "protected_branches": False,
        "custom_branch_policies": True,
    }
    assert [(p["name"], p["type"]) for p in settings.branch_policies["release"]] == [("main", "branch")]

    rulesets = by_name(github)
    assert sorted(rulesets) == sorted([BRANCH_RULESET, VERSIONS, STAGES])
    branch = rulesets[BRANCH_RULESET]
    assert (branch["target"], branch["enforcement"]) == ("branch", "active")
    assert branch["conditions"]["ref_name"]["include"] == ["~DEFAULT_BRANCH"]
    rules = {rule["type"]: rule.get("parameters") for rule in branch["rules"]}
    assert rules["pull_request"]["require_code_owner_review"] is True
    assert rules["pull_request"]["required_approving_review_count"] == 1
    assert [c["context"] for c in rules["required_status_checks"]["required_status_checks"]] == CHECKS
    assert {"lint and test", "reproduce and report"} <= set(CHECKS)
    assert {"deletion", "non_fast_forward"} <= set(rules)
    assert branch["bypass_actors"] == []

    for name, ref, actor in ((VERSIONS, "refs/tags/model-service@*", (GITHUB_ACTIONS_APP, "Integration")),
                             (STAGES, "refs/tags/model-service#*", (TEAM_ID, "Team"))):  # fmt: skip
        tags = rulesets[name]
        assert (tags["target"], tags["conditions"]["ref_name"]["include"]) == ("tag", [ref])
        assert sorted(rule["type"] for rule in tags["rules"]) == ["creation", "deletion", "update"]
        assert [(a["actor_id"], a["actor_type"], a["bypass_mode"]) for a in tags["bypass_actors"]] == [
            (*actor, "always")
        ]


def test_the_second_run_changes_nothing(project: Path, admin_env: dict[str, str], github: FakeGitHub) -> None:
    assert apply(project, admin_env).returncode == 0
    first = copy.deepcopy(github.state.settings)
    assert len(writes(github)) == 5  # environment, branch policy, three rulesets
    github.state.requests.clear()

    result = apply(project, admin_env)
    assert result.returncode == 0, result.stderr
    assert writes(github) == []
    assert github.state.requests, "the second run read the settings back"
    assert github.state.settings == first
    assert "(0 write requests)" in result.stderr


def _rule(github: FakeGitHub, name: str, kind: str) -> dict[str, Any]:
    return next(rule for rule in by_name(github)[name]["rules"] if rule["type"] == kind)


# A change made by hand on GitHub -> the write that puts it back (path under /repos/OWNER/REPO).
DRIFTS: dict[str, tuple[Callable[[FakeGitHub], Any], Callable[[FakeGitHub], tuple[str, str]]]] = {
    "a reviewer removed": (
        lambda g: g.state.settings.environments["release"]["reviewers"].pop(),
        lambda g: ("PUT", "/environments/release"),
    ),
    "admins may bypass": (
        lambda g: g.state.settings.environments["release"].update(can_admins_bypass=True),
        lambda g: ("PUT", "/environments/release"),
    ),
    "self-review allowed": (
        lambda g: g.state.settings.environments["release"].update(prevent_self_review=False),
        lambda g: ("PUT", "/environments/release"),
    ),
    "any protected branch may deploy": (
        lambda g: g.state.settings.environments["release"].update(
            deployment_branch_policy={"protected_branches": True, "custom_branch_policies": False}
        ),
        lambda g: ("PUT", "/environments/release"),
    ),
    "another branch may deploy": (
        lambda g: g.state.settings.branch_policies["release"].append(
            {"id": 999, "name": "feature/*", "type": "branch"}
        ),
        lambda g: ("DELETE", "/environments/release/deployment-branch-policies/999"),
    ),
    "a required check dropped": (
        lambda g: _rule(g, BRANCH_RULESET, "required_status_checks")["parameters"][
            "required_status_checks"
        ].pop(),
        lambda g: ("PUT", f"/rulesets/{by_name(g)[BRANCH_RULESET]['id']}"),
    ),
    "code owners' review off": (
        lambda g: _rule(g, BRANCH_RULESET, "pull_request")["parameters"].update(
            require_code_owner_review=False
        ),
        lambda g: ("PUT", f"/rulesets/{by_name(g)[BRANCH_RULESET]['id']}"),
    ),
    "the version tags' ruleset disabled": (
        lambda g: by_name(g)[VERSIONS].update(enforcement="disabled"),
        lambda g: ("PUT", f"/rulesets/{by_name(g)[VERSIONS]['id']}"),
    ),
    "writers may make stage tags": (
        lambda g: by_name(g)[STAGES]["bypass_actors"].append(
            {"actor_id": 4, "actor_type": "RepositoryRole", "bypass_mode": "always"}
        ),
        lambda g: ("PUT", f"/rulesets/{by_name(g)[STAGES]['id']}"),
    ),
}


@pytest.mark.parametrize("drift", DRIFTS)
def test_a_drifted_setting_is_put_back(
    project: Path, admin_env: dict[str, str], github: FakeGitHub, drift: str
) -> None:
    change, write = DRIFTS[drift]
    assert apply(project, admin_env).returncode == 0
    wanted = copy.deepcopy(github.state.settings)
    change(github)
    assert github.state.settings != wanted
    github.state.requests.clear()

    result = apply(project, admin_env)
    assert result.returncode == 0, result.stderr
    assert github.state.settings == wanted
    method, path = write(github)
    assert writes(github) == [(method, f"/api/v3/repos/{OWNER_REPO}{path}")]


def test_a_deleted_ruleset_is_made_again(
    project: Path, admin_env: dict[str, str], github: FakeGitHub
) -> None:
    assert apply(project, admin_env).returncode == 0
    del github.state.settings.rulesets[by_name(github)[STAGES]["id"]]
    github.state.requests.clear()
    assert apply(project, admin_env).returncode == 0
    assert STAGES in by_name(github)
    assert writes(github) == [("POST", f"/api/v3/repos/{OWNER_REPO}/rulesets")]


def test_a_token_without_admin_rights_fails_clearly(
    project: Path, admin_env: dict[str, str], github: FakeGitHub
) -> None:
    github.state.settings.admins.clear()  # alice may read, not administer: GitHub answers 403
    result = apply(project, admin_env)
    assert result.returncode == 2
    assert f"PUT repos/{OWNER_REPO}/environments/release" in result.stderr
    assert "HTTP 403" in result.stderr
    assert "admin rights on the repository" in result.stderr and "Administration: write" in result.stderr
    assert "Traceback" not in result.stderr
    assert github.state.settings.environments == {} and github.state.settings.rulesets == {}


def test_an_unknown_team_fails_before_any_write(
    project: Path, admin_env: dict[str, str], github: FakeGitHub
) -> None:
    github.state.settings.teams.clear()
    result = apply(project, admin_env)
    assert result.returncode == 2
    assert "orgs/acme/teams/model-owners" in result.stderr and "HTTP 404" in result.stderr
    assert writes(github) == []


def test_the_template_placeholder_owners_are_refused(
    project: Path, admin_env: dict[str, str], github: FakeGitHub
) -> None:
    """The template's CODEOWNERS names @your-org/model-owners: nothing is asked of GitHub."""
    (project / ".github" / "CODEOWNERS").write_text(codeowners("@your-org/model-owners"))
    result = apply(project, admin_env)
    assert result.returncode == 2
    line = next(n for n, text in enumerate((project / ".github/CODEOWNERS").read_text().splitlines(), 1)
                if text.startswith("/"))  # fmt: skip
    assert f".github/CODEOWNERS:{line}: @your-org/model-owners is the template's placeholder" in result.stderr
    assert github.state.requests == []


@pytest.mark.parametrize("repo", ["", "acme", "acme/churn;touch x", "acme/churn/extra", "$(id)/x"])
def test_a_malformed_repository_is_refused(
    project: Path, admin_env: dict[str, str], github: FakeGitHub, repo: str
) -> None:
    result = apply(project, admin_env, repo=repo)
    assert result.returncode == 2
    assert f"--repo {repo!r}: expected OWNER/NAME" in result.stderr
    assert github.state.requests == []


def test_the_tags_protected_are_the_ones_gto_and_promote_use() -> None:
    """One artifact name: bentofile.yaml's, mlops gitops' and promote.yml's trigger agree."""
    artifact = read_artifact(REPO)
    assert f'ARTIFACT = "{artifact}"' in (REPO / "src" / "mlops" / "commands" / "gitops.py").read_text()
    assert load(WORKFLOW_DIR / "promote.yml")["on"]["push"]["tags"] == [f"{artifact}#*"]


def test_make_github_settings_passes_the_repository_as_data() -> None:
    """GH_REPO reaches the module in the environment, quoted; make expands nothing in it."""
    dry = run(["make", "-n", "github-settings", "GH_REPO=acme/churn;$(shell id)"], cwd=REPO).stdout
    assert 'python -m mlops.github_settings --repo "$GH_REPO"' in dry
    assert "uid=" not in dry
