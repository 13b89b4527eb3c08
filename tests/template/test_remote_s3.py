"""The documented switch from the demo remote to S3 (docs/new-project.md), against moto on
127.0.0.1: push, pull into a fresh clone, and no credentials in any tracked file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PATHS, copy_project, run
from tests.s3 import KEY_ID, SECRET, s3_endpoint
from tests.template.conftest import task_env, tracked_files

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
__all__ = ["s3_endpoint"]  # the fixture, used by name


def _credentials(project: Path) -> None:
    for key, value in (("access_key_id", KEY_ID), ("secret_access_key", SECRET)):
        run(["dvc", "remote", "modify", "--local", "storage", key, value], cwd=project, env=task_env())


def test_switch_to_s3_push_then_pull_into_a_fresh_clone(s3_endpoint: str, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    env = task_env()
    run(["dvc", "pull", "--quiet", PATHS.data_dvc], cwd=project, env=env)
    run(["dvc", "remote", "add", "--default", "storage", "s3://team-bucket/churn"], cwd=project, env=env)
    run(["dvc", "remote", "modify", "storage", "endpointurl", s3_endpoint], cwd=project, env=env)
    _credentials(project)
    run(["dvc", "push", "--quiet", PATHS.data_dvc], cwd=project, env=env)
    run(["git", "add", ".dvc/config"], cwd=project)
    run(["git", "-c", "user.name=T", "-c", "user.email=t@x.org", "commit", "-qm", "data on S3"], cwd=project)

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(project), str(clone)], cwd=tmp_path)
    assert not (clone / PATHS.data).exists()
    _credentials(clone)
    run(["dvc", "pull", "--quiet", "--remote", "storage", PATHS.data_dvc], cwd=clone, env=env)
    original = (project / PATHS.data).read_bytes()
    assert (clone / PATHS.data).read_bytes() == original

    config = (clone / ".dvc" / "config").read_text()
    assert "s3://team-bucket/churn" in config and "remote = storage" in config
    for repo in (project, clone):
        for name in tracked_files(repo):
            path = repo / name
            if path.is_file() and path.stat().st_size < 5_000_000:
                content = path.read_bytes()
                assert KEY_ID.encode() not in content and SECRET.encode() not in content, name
        ignored = run(["git", "check-ignore", ".dvc/config.local"], cwd=repo, check=False)
        assert ignored.returncode == 0
        assert SECRET in (repo / ".dvc" / "config.local").read_text()
