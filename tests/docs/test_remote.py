"""The README's "Your own DVC remote" and docs/new-project.md's "Remote storage: S3", run as written
in fresh clones against moto's S3 on 127.0.0.1 (tests/s3.py): the data lands in the bucket, the
credentials stay in the git-ignored .dvc/config.local, the demo remote leaves git, and a fresh clone
with the same credentials pulls the data back."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml

from tests.conftest import PATHS, run
from tests.docs.blocks import Reader, doc_block
from tests.docs.conftest import make_clone
from tests.s3 import KEY_ID, SECRET, s3_endpoint

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
__all__ = ["s3_endpoint"]  # the fixture, used by name
BUCKET, PREFIX = "my-bucket", "my-project"  # the docs' own bucket and folder


def bucket_files(endpoint: str) -> list[str]:
    """The keys under the docs' folder of their bucket (made here, as a team makes theirs)."""
    keys = {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
    if BUCKET not in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])
    return [item["Key"] for item in listed]


def assert_off_the_demo_remote(clone: Path) -> None:
    """The S3 remote is the default, credentials only in the git-ignored local config, no demo remote."""
    config = (clone / ".dvc" / "config").read_text()
    assert f"s3://{BUCKET}/{PREFIX}" in config and "remote = storage" in config
    assert not (clone / ".dvc" / "demo-remote").exists()
    assert run(["git", "check-ignore", ".dvc/config.local"], cwd=clone, check=False).returncode == 0
    assert run(["git", "ls-files", ".dvc/demo-remote"], cwd=clone).stdout == ""


def test_your_own_dvc_remote(reader: Reader, clone: Path, s3_endpoint: str, tmp_path: Path) -> None:
    assert reader.run("uv run dvc pull --quiet").code == 0  # the data, as `make run` gets it
    assert bucket_files(s3_endpoint) == []
    (tmp_path / "credentials").write_text(
        f"[my-profile]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    )
    (tmp_path / "config").write_text("[profile my-profile]\nregion = us-east-1\n")
    aws = {  # the reader's AWS profile; the endpoint stands for AWS itself
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_ENDPOINT_URL": s3_endpoint,
    }
    owner = Reader(clone, {**reader.env, **aws})
    for line in doc_block("README.md", "test_your_own_dvc_remote"):
        outcome = owner.run(line)
        assert outcome.code == 0, f"{line}\n{outcome.output}"
    assert bucket_files(s3_endpoint)
    assert "profile = my-profile" in (clone / ".dvc" / "config.local").read_text()
    assert_off_the_demo_remote(clone)
    in_sync = owner.run("uv run dvc status --cloud")
    assert in_sync.code == 0 and "in sync" in in_sync.output, in_sync.output


def test_remote_storage_s3(reader: Reader, s3_endpoint: str, tmp_path: Path) -> None:
    project = make_clone(tmp_path)
    team = Reader(project, {**reader.env, "KEY_ID": KEY_ID, "SECRET": SECRET})
    assert team.run("uv run dvc pull --quiet").code == 0  # the data, as `make run` gets it
    assert bucket_files(s3_endpoint) == []
    lines = doc_block("docs/new-project.md", "test_remote_storage_s3")
    assert "https://s3.example.com" in lines[1]  # the endpoint of a non-AWS store: here, moto's
    for line in lines:
        outcome = team.run(line.replace("https://s3.example.com", s3_endpoint))
        assert outcome.code == 0, f"{line}\n{outcome.output}"
    assert bucket_files(s3_endpoint)
    assert_off_the_demo_remote(project)
    assert run(["git", "log", "-1", "--format=%s"], cwd=project).stdout.strip() == "Data on S3"
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    for name in run(["git", "ls-files"], cwd=project).stdout.splitlines():
        path = project / name
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert SECRET.encode() not in path.read_bytes() and KEY_ID.encode() not in path.read_bytes(), name

    fresh = tmp_path / "fresh"
    run(["git", "clone", "-q", str(project), str(fresh)], cwd=tmp_path)
    for key, value in (("access_key_id", KEY_ID), ("secret_access_key", SECRET)):
        run(["dvc", "remote", "modify", "--local", "storage", key, value], cwd=fresh)
    run(["dvc", "pull", "--quiet", PATHS.data_dvc], cwd=fresh)
    data = yaml.safe_load((project / "project.yaml").read_text())["data"]
    assert (fresh / data).read_bytes() == (project / data).read_bytes()
