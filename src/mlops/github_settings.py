"""The repository's protection on GitHub, as code: `make github-settings` (`python -m mlops.github_settings`).

What the docs used to only suggest, applied through `gh api` (REST only) and read back first, so a
second run writes nothing and a setting changed by hand is put back:

- the `release` environment: deployments from the default branch only (a custom branch policy
  naming it), the owners in .github/CODEOWNERS as required reviewers, no self-review, no admin bypass;
- a branch ruleset on the default branch: pull requests with a code owner's review, the
  pull-request checks (the job names of pr.yml, and the check run pr-comment.yml posts), no force
  push, no deletion;
- tag rulesets on the GTO tags of the bento's model (bentofile.yaml's `name`): versions
  (`NAME@*`) made by GitHub Actions only (release.yml's register job), stages (`NAME#*`) by the
  CODEOWNERS teams only (`gto assign`, which starts promote.yml); no one moves or deletes either.

Each fact comes from the file that holds it; the workflows' job names are the checks, so a renamed
job changes the ruleset on the next run. Exit codes as every `mlops` command: 2 for a refusal (a
placeholder owner, a missing file, a token without the permission).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import Exit, MlopsError
from mlops.io import read_yaml

log = logging.getLogger(__name__)

CODEOWNERS = Path(".github/CODEOWNERS")
WORKFLOWS = Path(".github/workflows")
BENTOFILE = Path("bentofile.yaml")
ENVIRONMENT = "release"  # release.yml's `image` and `register` jobs run in it
CHECK_RUN = "Model report"  # the check run pr-comment.yml posts with CML (docs/pull-requests.md)
GITHUB_ACTIONS_APP = 15368  # the GitHub Actions app: the actor of a workflow's GITHUB_TOKEN
PLACEHOLDER = "@your-org/"  # the template's owners, to be replaced (as in the model card)
TOKEN_NEEDS = (
    "a token with admin rights on the repository: classic `repo` and `read:org` scopes, or "
    "fine-grained Administration: write and organization Members: read"
)
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_OWNER = re.compile(r"@(?P<org>[A-Za-z0-9-]+)(?:/(?P<team>[A-Za-z0-9_.-]+))?")
_WORKFLOW_TOKEN = {"actor_id": GITHUB_ACTIONS_APP, "actor_type": "Integration", "bypass_mode": "always"}
_NO_MOVE = [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}]


class SettingsError(MlopsError):
    """A refusal: bad input files, or GitHub answered with an error the user must act on."""


@dataclass(frozen=True)
class Wanted:
    """What the repository files say GitHub should hold."""

    owners: tuple[str, ...]  # CODEOWNERS' @user and @org/team, in order of appearance
    checks: tuple[str, ...]  # the required status checks' names
    artifact: str  # the GTO artifact: the bento's name, the tags' prefix


def read_wanted(root: Path) -> Wanted:
    """The settings the files under `root` ask for; refuses placeholder or unusable owners."""
    return Wanted(read_owners(root / CODEOWNERS), required_checks(root / WORKFLOWS), read_artifact(root))


def read_owners(path: Path) -> tuple[str, ...]:
    """Every owner CODEOWNERS names; an e-mail owner or the template's placeholder is refused."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as error:
        raise SettingsError(f"{path}: file not found (the release reviewers come from it)") from error
    owners: list[str] = []
    for number, line in enumerate(lines, start=1):
        for owner in line.split("#", 1)[0].split()[1:]:
            if owner.startswith(PLACEHOLDER):
                raise SettingsError(f"{path}:{number}: {owner} is the template's placeholder: name your team")
            if not _OWNER.fullmatch(owner):
                raise SettingsError(f"{path}:{number}: {owner}: expected @user or @org/team (no e-mail)")
            if owner not in owners:
                owners.append(owner)
    if not owners:
        raise SettingsError(f"{path}: names no owner: the release environment needs reviewers")
    return tuple(owners)


def required_checks(workflows: Path) -> tuple[str, ...]:
    """pr.yml's job names (a job's check is named after it), then CML's check run if it is posted."""
    jobs = (read_yaml(workflows / "pr.yml") or {}).get("jobs") or {}
    names = [str(job.get("name", job_id)) for job_id, job in jobs.items()]
    comment = workflows / "pr-comment.yml"
    if comment.is_file() and CHECK_RUN in comment.read_text(encoding="utf-8"):
        names.append(CHECK_RUN)
    if not names:
        raise SettingsError(f"{workflows / 'pr.yml'}: no jobs: nothing to require before a merge")
    return tuple(names)


def read_artifact(root: Path) -> str:
    name = (read_yaml(root / BENTOFILE) or {}).get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise SettingsError(
            f"{root / BENTOFILE}: name {name!r}: expected the model's name, e.g. model-service"
        )
    return name


class GitHub:
    """`gh api` on one repository; every answer is JSON, every failure a SettingsError naming the call."""

    def __init__(self, repo: str) -> None:
        if not _REPO.fullmatch(repo):
            raise SettingsError(f"--repo {repo!r}: expected OWNER/NAME")
        self.repo = repo
        self.writes = 0

    def call(self, method: str, path: str, body: Any = None, missing_ok: bool = False) -> Any:
        command = ["gh", "api", "--method", method, "-H", "Accept: application/vnd.github+json", path]
        stdin = None if body is None else json.dumps(body)
        if stdin is not None:
            command += ["--input", "-"]
        if method != "GET":
            self.writes += 1
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode == 0:
            return json.loads(result.stdout) if result.stdout.strip() else None
        status = re.search(r"\(HTTP (\d{3})\)", result.stderr)
        code = int(status.group(1)) if status else 0
        if code == 404 and missing_ok:
            return None
        hint = f": {TOKEN_NEEDS}" if code in (401, 403) else ""
        raise SettingsError(f"gh api --method {method} {path}: {result.stderr.strip() or 'failed'}{hint}")

    def get(self, path: str, missing_ok: bool = False) -> Any:
        return self.call("GET", f"repos/{self.repo}{path}", missing_ok=missing_ok)


def reviewer(api: GitHub, owner: str) -> dict[str, Any]:
    """A CODEOWNERS owner as an environment reviewer: a user's or team's id, asked of GitHub."""
    match = _OWNER.fullmatch(owner)
    assert match is not None  # read_owners let only these through
    if match["team"]:
        team = api.call("GET", f"orgs/{match['org']}/teams/{match['team']}")
        return {"type": "Team", "id": team["id"]}
    return {"type": "User", "id": api.call("GET", f"users/{match['org']}")["id"]}


def environment_body(reviewers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "wait_timer": 0,
        "prevent_self_review": True,
        "can_admins_bypass": False,
        "reviewers": reviewers,
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }


def environment_holds(current: dict[str, Any] | None, body: dict[str, Any]) -> bool:
    """Whether GitHub's environment (as GET returns it) is what `body` would make of it."""
    if current is None:
        return False
    rules = {rule["type"]: rule for rule in current.get("protection_rules") or []}
    review = rules.get("required_reviewers") or {}
    held = {(r["type"], r["reviewer"]["id"]) for r in review.get("reviewers") or []}
    return (
        held == {(r["type"], r["id"]) for r in body["reviewers"]}
        and review.get("prevent_self_review") is body["prevent_self_review"]
        and "wait_timer" not in rules
        and current.get("can_admins_bypass") is body["can_admins_bypass"]
        and current.get("deployment_branch_policy") == body["deployment_branch_policy"]
    )


def apply_environment(api: GitHub, reviewers: list[dict[str, Any]], branch: str) -> None:
    """The environment, then its branch policies: exactly one, the default branch."""
    path = f"/environments/{ENVIRONMENT}"
    body = environment_body(reviewers)
    if environment_holds(api.get(path, missing_ok=True), body):
        log.info("environment %s: unchanged", ENVIRONMENT)
    else:
        api.call("PUT", f"repos/{api.repo}{path}", body)
        log.info("environment %s: set (reviewers %s, default branch only)", ENVIRONMENT, reviewers)
    policies = api.get(f"{path}/deployment-branch-policies?per_page=100")["branch_policies"]
    for policy in policies:
        if (policy["name"], policy.get("type", "branch")) != (branch, "branch"):
            api.call("DELETE", f"repos/{api.repo}{path}/deployment-branch-policies/{policy['id']}")
            log.info("environment %s: removed the branch policy %r", ENVIRONMENT, policy["name"])
    if not any(p["name"] == branch and p.get("type", "branch") == "branch" for p in policies):
        api.call(
            "POST", f"repos/{api.repo}{path}/deployment-branch-policies", {"name": branch, "type": "branch"}
        )
        log.info("environment %s: deployments from %s only", ENVIRONMENT, branch)


def rulesets(wanted: Wanted, teams: list[int]) -> list[dict[str, Any]]:
    """The three rulesets, as the REST API's create and update take them."""
    review = {
        "required_approving_review_count": 1,
        "dismiss_stale_reviews_on_push": True,
        "require_code_owner_review": True,
        "require_last_push_approval": True,
        "required_review_thread_resolution": False,
    }
    checks = {
        "strict_required_status_checks_policy": False,
        "required_status_checks": [{"context": name} for name in wanted.checks],
    }
    managers = [{"actor_id": team, "actor_type": "Team", "bypass_mode": "always"} for team in teams]
    return [
        _ruleset("default branch: reviewed pull requests, passing checks", "branch", "~DEFAULT_BRANCH",
                 [{"type": "deletion"}, {"type": "non_fast_forward"},
                  {"type": "pull_request", "parameters": review},
                  {"type": "required_status_checks", "parameters": checks}], []),
        _ruleset(f"{wanted.artifact} versions: the release workflow only", "tag",
                 f"refs/tags/{wanted.artifact}@*", _NO_MOVE, [_WORKFLOW_TOKEN]),
        _ruleset(f"{wanted.artifact} stages: the code owners' teams only", "tag",
                 f"refs/tags/{wanted.artifact}#*", _NO_MOVE, managers),
    ]  # fmt: skip


def _ruleset(name: str, target: str, ref: str, rules: list[Any], bypass: list[Any]) -> dict[str, Any]:
    return {
        "name": name,
        "target": target,
        "enforcement": "active",
        "conditions": {"ref_name": {"include": [ref], "exclude": []}},
        "rules": rules,
        "bypass_actors": bypass,
    }


def covers(actual: Any, wanted: Any) -> bool:
    """Whether GitHub's answer holds all `wanted` sets (GitHub adds defaults and ids; lists in any order)."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and covers(actual[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(wanted)
            and all(any(covers(a, w) for a in actual) for w in wanted)
        )
    return bool(actual == wanted)


def apply_rulesets(api: GitHub, bodies: list[dict[str, Any]]) -> None:
    """Create each ruleset missing by name; put back any whose content differs."""
    existing = {summary["name"]: summary["id"] for summary in _all_rulesets(api)}
    for body in bodies:
        number = existing.get(body["name"])
        if number is None:
            api.call("POST", f"repos/{api.repo}/rulesets", body)
            log.info("ruleset %r: created", body["name"])
        elif covers(api.get(f"/rulesets/{number}"), body):
            log.info("ruleset %r: unchanged", body["name"])
        else:
            api.call("PUT", f"repos/{api.repo}/rulesets/{number}", body)
            log.info("ruleset %r: put back", body["name"])


def _all_rulesets(api: GitHub) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while batch := api.get(f"/rulesets?includes_parents=false&per_page=100&page={page}"):
        found += batch
        if len(batch) < 100:
            break
        page += 1
    return found


def apply(api: GitHub, wanted: Wanted) -> None:
    """Everything, in an order where each step needs only what came before."""
    branch = api.get("")["default_branch"]
    reviewers = [reviewer(api, owner) for owner in wanted.owners]
    teams = [r["id"] for r in reviewers if r["type"] == "Team"]
    if not teams:
        raise SettingsError(f"{CODEOWNERS}: names no @org/team: a ruleset can exempt teams, not single users")
    apply_environment(api, reviewers, branch)
    apply_rulesets(api, rulesets(wanted, teams))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlops.github_settings", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--repo", required=True, help="OWNER/NAME on GitHub (gh's host: GH_HOST)")
    parser.add_argument("--root", type=Path, default=Path(), help="the project's folder (default: .)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", force=True)
    try:
        api = GitHub(args.repo)
        apply(api, read_wanted(args.root))
    except MlopsError as error:
        log.error("%s", error)
        return Exit.ERROR
    log.info("%s: settings applied (%d write requests)", args.repo, api.writes)
    return Exit.OK


if __name__ == "__main__":
    sys.exit(main())
