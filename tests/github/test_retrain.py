"""retrain.yml's steps, as the workflow runs them: `mlops retrain checkout` on a labelled data version
in the DVC remote, `make repro` (the real pipeline), `mlops retrain commit --push` to a local bare
repository, and `python3 -m mlops.ci.pull_request` with the real gh against the fake GitHub API."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.spec.params import load_params
from tests.conftest import BIN, PATHS, copy_project, run
from tests.github.conftest import BOT, OWNER_REPO, run_ci

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def step(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True):
    """`uv run --frozen mlops retrain ...` as the step runs it (this environment's mlops)."""
    return run([BIN / "mlops", "retrain", *args], cwd=cwd, env=env or {}, check=check)


@pytest.fixture
def origin_and_version(tmp_path: Path) -> tuple[Path, str, int]:
    """A bare 'GitHub' repository using a shared local DVC remote, and a new labelled data version
    pushed to that remote (the old data minus its last tenth) but not committed anywhere."""
    project = copy_project(tmp_path / "project")
    run(["dvc", "pull", "--quiet", PATHS.data_dvc], cwd=project)
    run(["dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote")], cwd=project)
    run(["dvc", "push", "--quiet", PATHS.data_dvc], cwd=project)
    run(["git", "commit", "-qam", "the shared DVC remote"], cwd=project)
    data = project / PATHS.data
    frame = pd.read_csv(data, dtype=str, keep_default_na=False)
    rows = len(frame) - len(frame) // 10
    frame.iloc[:rows].to_csv(data, index=False, lineterminator="\n")
    run(["dvc", "add", "--quiet", PATHS.data.parent], cwd=project)  # data.dvc tracks the folder
    run(["dvc", "push", "--quiet", PATHS.data_dvc], cwd=project)
    md5 = str(yaml.safe_load((project / PATHS.data_dvc).read_text())["outs"][0]["md5"])
    run(["git", "checkout", "--", PATHS.data_dvc], cwd=project)
    run(["git", "clone", "-q", "--bare", str(project), str(tmp_path / "origin.git")], cwd=tmp_path)
    return tmp_path / "origin.git", md5, rows


def test_the_steps_reproduce_the_pipeline_on_a_branch_and_open_a_pull_request(
    origin_and_version, tmp_path: Path, github, gh_env
):
    origin, md5, rows = origin_and_version
    runner = tmp_path / "runner"
    run(["git", "clone", "-q", str(origin), str(runner)], cwd=tmp_path)
    for key, value in (("user.name", "github-actions[bot]"), ("user.email", "bot@example.com")):
        run(["git", "config", key, value], cwd=runner)
    outputs = tmp_path / "outputs"
    result = step(
        "checkout", "--data-md5", md5.removesuffix(".dir"), cwd=runner, env={"GITHUB_OUTPUT": str(outputs)}
    )
    branch = f"retrain/{md5[:12]}"
    assert f"on {branch}" in result.stdout and outputs.read_text() == f"branch={branch}\n"
    assert len(pd.read_csv(runner / PATHS.data)) == rows

    shim = tmp_path / "uv-shim"
    shim.write_text(f'#!/bin/sh\nshift 2\nPATH="{BIN}:$PATH" exec "$@"\n')
    shim.chmod(0o755)
    run(["make", "--no-print-directory", "-o", "install", "repro", f"UV={shim}"], cwd=runner)

    step("commit", "--push", cwd=runner)
    pushed = run(["git", "log", "-1", "--format=%B", branch], cwd=origin).stdout
    gate = load_params(runner / PATHS.params).gate.metric
    assert pushed.startswith(f"Retrain on labelled data version {md5[:12]}") and f"\n- {gate}: " in pushed
    changed = run(["git", "diff", "--name-only", "main", branch], cwd=origin).stdout.split()
    assert {str(PATHS.data_dvc), str(PATHS.lock), str(PATHS.metadata)} <= set(changed)
    assert md5 in run(["git", "show", f"{branch}:{PATHS.data_dvc}"], cwd=origin).stdout
    metrics = json.loads(run(["git", "show", f"{branch}:{PATHS.metrics}"], cwd=origin).stdout)
    assert 0 < metrics["rows"] < rows  # evaluated on a test split of the new, smaller data
    lock = yaml.safe_load(run(["git", "show", f"{branch}:{PATHS.lock}"], cwd=origin).stdout)
    data_deps = [d["md5"] for d in lock["stages"]["prepare"]["deps"] if d["path"] == str(PATHS.data)]
    new_data = (runner / PATHS.data).read_bytes()
    assert data_deps == [hashlib.md5(new_data).hexdigest()]  # the stages ran on the new data version

    env = {**gh_env, "GITHUB_OUTPUT": str(outputs)}
    opened = run_ci(
        "pull_request", "--repo", OWNER_REPO, "--base", "main", "--head", branch, env=env, cwd=runner
    )
    assert opened.returncode == 0 and "opened pull request #1" in opened.stdout, opened.stderr
    assert outputs.read_text() == f"branch={branch}\npr=1\n"
    pull = github.state.opened_pulls[1]
    assert (pull["head"], pull["base"], pull["user"]) == (branch, "main", BOT)
    assert pull["title"] == f"Retrain on labelled data version {md5[:12]}" and "quality gate" in pull["body"]


def test_a_version_missing_from_the_remote_is_an_error_and_changes_nothing(
    origin_and_version, tmp_path: Path
):
    origin, _, _ = origin_and_version
    runner = tmp_path / "runner"
    run(["git", "clone", "-q", str(origin), str(runner)], cwd=tmp_path)
    missing = step("checkout", "--data-md5", "0" * 32, cwd=runner, check=False)
    assert missing.returncode == 2 and f"data version {'0' * 32}.dir could not be pulled" in missing.stderr
    bad = step("checkout", "--data-md5", "latest", cwd=runner, check=False)
    assert bad.returncode == 2 and "expected the 32-hex md5" in bad.stderr
    assert run(["git", "status", "--porcelain"], cwd=runner).stdout == ""
    assert run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=runner).stdout.strip() == "main"
