"""The repository settings part of the fake GitHub API: environments, their deployment branch
policies, rulesets, the repository itself and its organisation's teams.

Answers as GitHub's REST API does where a settings script could go wrong: an environment comes back
with `protection_rules` (reviewers expanded to users and teams), never in the shape it was sent; a
ruleset list holds summaries only (no rules), a ruleset's rules come back with GitHub's defaults
added (`allowed_merge_methods`, `do_not_enforce_on_create`); unknown reviewers, rule types, bypass
actor types or a duplicate ruleset name are refused with 422; every write by a user who is not a
repository admin is refused with 403, as a workflow's token is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Reply = tuple[int, Any]
RULE_TYPES = {
    "creation", "update", "deletion", "required_linear_history", "required_signatures", "pull_request",
    "required_status_checks", "non_fast_forward", "required_deployments", "merge_queue",
}  # fmt: skip
ACTOR_TYPES = {"Integration", "OrganizationAdmin", "RepositoryRole", "Team", "DeployKey"}
RULE_DEFAULTS = {  # what GitHub adds to a rule's parameters when they are left out
    "pull_request": {"allowed_merge_methods": ["merge", "squash", "rebase"]},
    "required_status_checks": {"do_not_enforce_on_create": False},
}
FORBIDDEN = (403, {"message": "Resource not accessible by integration", "status": "403"})
NOT_FOUND = (404, {"message": "Not Found", "status": "404"})


@dataclass
class Settings:
    """A repository's settings; tests seed `teams`, `users` and `admins`, and read the rest."""

    default_branch: str = "main"
    admins: set[str] = field(default_factory=set)  # logins allowed to change settings
    teams: dict[str, int] = field(default_factory=dict)  # "org/slug" -> id
    users: dict[str, int] = field(default_factory=dict)  # login -> id, for reviewers
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> as sent, with id
    branch_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # environment -> policies
    rulesets: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> as sent, with id
    next_id: int = 100

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


class SettingsRoutes:
    """Routes under /repos/OWNER/REPO for FakeGitHub's table, and the repository and team lookups."""

    def __init__(self, repo: str, settings: Settings, base: Callable[[], str]) -> None:
        self.repo, self.settings, self.base = repo, settings, base

    def routes(self) -> list[tuple[str, str, Callable[..., Reply]]]:
        env = r"/environments/([^/]+)"
        return [
            ("GET", r"", self.get_repo),
            ("GET", env, self.get_environment),
            ("PUT", env, self.put_environment),
            ("GET", env + r"/deployment-branch-policies", self.list_policies),
            ("POST", env + r"/deployment-branch-policies", self.create_policy),
            ("DELETE", env + r"/deployment-branch-policies/(\d+)", self.delete_policy),
            ("GET", r"/rulesets", self.list_rulesets),
            ("POST", r"/rulesets", self.create_ruleset),
            ("GET", r"/rulesets/(\d+)", self.get_ruleset),
            ("PUT", r"/rulesets/(\d+)", self.update_ruleset),
        ]

    def get_team(self, org: str, slug: str) -> Reply:
        number = self.settings.teams.get(f"{org}/{slug}")
        if number is None:
            return NOT_FOUND
        return 200, {"id": number, "slug": slug, "name": slug, "organization": {"login": org}}

    def get_repo(self, **_: Any) -> Reply:
        return 200, {"full_name": self.repo, "default_branch": self.settings.default_branch}

    def get_environment(self, name: str, **_: Any) -> Reply:
        environment = self.settings.environments.get(name)
        return (200, self._environment_json(environment)) if environment else NOT_FOUND

    def put_environment(self, name: str, user: str, data: dict[str, Any], **_: Any) -> Reply:
        if user not in self.settings.admins:
            return FORBIDDEN
        policy = data.get("deployment_branch_policy")
        if policy and policy.get("protected_branches") and policy.get("custom_branch_policies"):
            return 422, {"message": "Only one of protected_branches and custom_branch_policies can be true"}
        reviewers = data.get("reviewers") or []
        known = {"User": set(self.settings.users.values()), "Team": set(self.settings.teams.values())}
        if len(reviewers) > 6 or any(r.get("id") not in known.get(r.get("type"), set()) for r in reviewers):
            return 422, {"message": "Validation Failed", "errors": ["reviewers: unknown or more than 6"]}
        old = self.settings.environments.get(name) or {"id": self.settings.new_id()}
        self.settings.environments[name] = {**old, **data, "name": name}
        if not (policy or {}).get("custom_branch_policies"):
            self.settings.branch_policies.pop(name, None)
        return 200, self._environment_json(self.settings.environments[name])

    def _environment_json(self, environment: dict[str, Any]) -> dict[str, Any]:
        rules: list[dict[str, Any]] = []
        if environment.get("wait_timer"):
            rules.append({"id": 1, "type": "wait_timer", "wait_timer": environment["wait_timer"]})
        if environment.get("reviewers"):
            reviewers = [{"type": r["type"], "reviewer": self._reviewer(r)} for r in environment["reviewers"]]
            rules.append({"id": 2, "type": "required_reviewers", "reviewers": reviewers,
                          "prevent_self_review": bool(environment.get("prevent_self_review"))})  # fmt: skip
        if environment.get("deployment_branch_policy"):
            rules.append({"id": 3, "type": "branch_policy"})
        return {
            "id": environment["id"],
            "name": environment["name"],
            "url": f"{self.base()}/environments/{environment['name']}",
            "can_admins_bypass": environment.get("can_admins_bypass", True),
            "protection_rules": rules,
            "deployment_branch_policy": environment.get("deployment_branch_policy"),
        }

    def _reviewer(self, reviewer: dict[str, Any]) -> dict[str, Any]:
        names = self.settings.users if reviewer["type"] == "User" else self.settings.teams
        name = next(n for n, number in names.items() if number == reviewer["id"])
        if reviewer["type"] == "User":
            return {"login": name, "id": reviewer["id"], "type": "User"}
        return {"id": reviewer["id"], "slug": name.split("/")[1], "name": name.split("/")[1]}

    def list_policies(self, name: str, **_: Any) -> Reply:
        if name not in self.settings.environments:
            return NOT_FOUND
        policies = self.settings.branch_policies.get(name, [])
        return 200, {"total_count": len(policies), "branch_policies": policies}

    def create_policy(self, name: str, user: str, data: dict[str, Any], **_: Any) -> Reply:
        if user not in self.settings.admins:
            return FORBIDDEN
        environment = self.settings.environments.get(name)
        if not environment or not (environment.get("deployment_branch_policy") or {}).get(
            "custom_branch_policies"
        ):
            return NOT_FOUND  # GitHub: custom branch policies are not enabled for this environment
        policies = self.settings.branch_policies.setdefault(name, [])
        if any(p["name"] == data.get("name") and p["type"] == data.get("type", "branch") for p in policies):
            return 422, {"message": "Validation Failed", "errors": ["name: already exists"]}
        policy = {"id": self.settings.new_id(), "name": data["name"], "type": data.get("type", "branch")}
        policies.append(policy)
        return 200, policy

    def delete_policy(self, name: str, number: str, user: str, **_: Any) -> Reply:
        if user not in self.settings.admins:
            return FORBIDDEN
        policies = self.settings.branch_policies.get(name, [])
        kept = [p for p in policies if p["id"] != int(number)]
        if len(kept) == len(policies):
            return NOT_FOUND
        self.settings.branch_policies[name] = kept
        return 204, None

    def list_rulesets(self, **_: Any) -> Reply:
        keys = ("id", "name", "target", "enforcement")
        return 200, [
            {**{k: r[k] for k in keys}, "source_type": "Repository", "source": self.repo}
            for r in self.settings.rulesets.values()
        ]

    def get_ruleset(self, number: str, **_: Any) -> Reply:
        ruleset = self.settings.rulesets.get(int(number))
        return (200, self._ruleset_json(ruleset)) if ruleset else NOT_FOUND

    def create_ruleset(self, user: str, data: dict[str, Any], **_: Any) -> Reply:
        return self._save_ruleset(self.settings.new_id(), user, data, created=True)

    def update_ruleset(self, number: str, user: str, data: dict[str, Any], **_: Any) -> Reply:
        if int(number) not in self.settings.rulesets:
            return NOT_FOUND
        return self._save_ruleset(int(number), user, data, created=False)

    def _save_ruleset(self, number: int, user: str, data: dict[str, Any], created: bool) -> Reply:
        if user not in self.settings.admins:
            return FORBIDDEN
        problem = self._ruleset_problem(number, data)
        if problem:
            return 422, {"message": "Validation Failed", "errors": [problem]}
        self.settings.rulesets[number] = {**data, "id": number}
        return (201 if created else 200), self._ruleset_json(self.settings.rulesets[number])

    def _ruleset_problem(self, number: int, data: dict[str, Any]) -> str:
        if not data.get("name") or data.get("enforcement") not in {"active", "disabled", "evaluate"}:
            return "name and enforcement (active, disabled, evaluate) are required"
        if any(r["name"] == data["name"] and r["id"] != number for r in self.settings.rulesets.values()):
            return "Name must be unique"
        if data.get("target", "branch") not in {"branch", "tag", "push"}:
            return f"Invalid target: {data.get('target')}"
        if unknown := [r.get("type") for r in data.get("rules") or [] if r.get("type") not in RULE_TYPES]:
            return f"Invalid rule types: {unknown}"
        for actor in data.get("bypass_actors") or []:
            if actor.get("actor_type") not in ACTOR_TYPES or actor.get("bypass_mode") not in {
                "always",
                "pull_request",
            }:
                return f"Invalid bypass actor: {actor}"
        return ""

    def _ruleset_json(self, ruleset: dict[str, Any]) -> dict[str, Any]:
        rules = [
            {**rule, "parameters": {**RULE_DEFAULTS.get(rule["type"], {}), **rule["parameters"]}}
            if "parameters" in rule else rule
            for rule in ruleset.get("rules") or []
        ]  # fmt: skip
        return {
            **ruleset,
            "target": ruleset.get("target", "branch"),
            "source_type": "Repository",
            "source": self.repo,
            "rules": rules,
            "bypass_actors": ruleset.get("bypass_actors") or [],
            "current_user_can_bypass": "never",
        }
