"""Shipping the inference log (`mlops ship-log`, `make ship-log`): closed files become a new
version of production/ in the DVC remote, as a Parquet dataset partitioned by day, and a fresh clone
reads the same rows back, through a local remote and through S3 (moto on 127.0.0.1), with the real
dvc and git."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from mlops.drift.sources import read_current
from mlops.serving.inference_log import log_files
from mlops.spec.schema import load_schema
from tests.conftest import BIN, copy_project, run
from tests.drift.conftest import demo_only
from tests.s3 import KEY_ID, SECRET, s3_endpoint
from tests.served_log import served_log

pytestmark = [demo_only, pytest.mark.slow, pytest.mark.timeout(600)]
SHIP = [str(BIN / "mlops"), "ship-log"]
# 120 records, 30 a request, in files of 10 kB: several closed files and one open
SMALL_LOG = {"rows": 120, "max_bytes": 10_000, "per_request": 30}
__all__ = ["s3_endpoint"]  # the fixture, used by name


def local_remote(url: Path) -> Callable[[Path], None]:
    return lambda project: run(["dvc", "remote", "add", "-f", "-d", "shared", str(url)], cwd=project)


@pytest.fixture(params=["demo", "local", "s3"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """A function that points a project at the shared remote (and gives it S3 credentials); "demo"
    keeps the project's own remote, the folder git carries (.dvc/demo-remote)."""
    if request.param == "demo":
        yield lambda project: None
        return
    if request.param == "local":
        yield local_remote(tmp_path / "remote")
        return
    endpoint = request.getfixturevalue("s3_endpoint")

    def configure(project: Path) -> None:
        run(["dvc", "remote", "add", "-f", "-d", "shared", "s3://team-bucket/churn"], cwd=project)
        run(["dvc", "remote", "modify", "shared", "endpointurl", endpoint], cwd=project)
        for key, value in (("access_key_id", KEY_ID), ("secret_access_key", SECRET)):
            run(["dvc", "remote", "modify", "--local", "shared", key, value], cwd=project)

    yield configure


def clone(origin: Path, dest: Path, configure: Callable[[Path], None]) -> Path:
    run(["git", "clone", "-q", str(origin), str(dest)], cwd=origin.parent)
    for key, value in (("user.email", "ops@example.com"), ("user.name", "Ops")):
        run(["git", "config", key, value], cwd=dest)
    configure(dest)  # credentials stay in .dvc/config.local, never committed
    return dest


@pytest.fixture
def origin(tmp_path: Path, remote: Callable[[Path], None]) -> Path:
    return make_origin(tmp_path, remote)


def make_origin(tmp_path: Path, remote: Callable[[Path], None]) -> Path:
    """A bare repository whose main branch uses the shared remote, which holds production/."""
    project = copy_project(tmp_path / "project")
    run(["dvc", "pull", "--quiet", "production.dvc"], cwd=project)
    remote(project)
    run(["dvc", "push", "--quiet", "production.dvc"], cwd=project)
    run(["git", "add", ".dvc/config"], cwd=project)
    run(["git", "commit", "-qm", "production data in the shared remote", "--allow-empty"], cwd=project)
    run(["git", "clone", "-q", "--bare", str(project), str(tmp_path / "origin.git")], cwd=tmp_path)
    return tmp_path / "origin.git"


def test_closed_log_files_are_shipped_and_a_fresh_clone_reads_them(
    origin: Path, remote: Callable[[Path], None], tmp_path: Path
):
    work = clone(origin, tmp_path / "ops", remote)
    log = tmp_path / "log"
    served_log(
        log, tmp_path / "project" / "production" / "2025-01-stable.csv", work / "schema.yaml", **SMALL_LOG
    )
    files = log_files(log)
    assert len(files) >= 3
    before = run(["git", "rev-parse", "HEAD"], cwd=work).stdout

    result = run([*SHIP, "--log", str(log), "--push"], cwd=work)
    assert "shipped" in result.stderr
    commit = run(["git", "log", "-1", "--format=%s", "main"], cwd=origin).stdout
    assert commit.startswith(f"production data: {len(files) - 1} inference-log file(s)")

    fresh = clone(origin, tmp_path / "scheduled-check", remote)
    assert not (fresh / "production").exists()
    run(["dvc", "pull", "--quiet", "production.dvc"], cwd=fresh)
    shipped = sorted((fresh / "production" / "inference-log").rglob("*"))
    days = [p for p in shipped if p.is_dir()]
    assert days and all(p.name.startswith("date=") for p in days)  # today's UTC day, maybe yesterday's
    # the newest file of this (running) process may still be written to: it waits for the next run
    assert sorted({p.stem for p in shipped if p.is_file()}) == [p.stem for p in files[:-1]]
    assert all(p.suffix == ".parquet" for p in shipped if p.is_file())
    assert (fresh / "production" / "2025-01-stable.csv").is_file()  # the earlier version's files stay
    schema = load_schema(fresh / "schema.yaml")
    rows = read_current(fresh / "production" / "inference-log", schema, "prediction")
    logged = pd.concat([read_current(p, schema, "prediction") for p in files[:-1]], ignore_index=True)
    pd.testing.assert_frame_equal(rows.sort_values("timestamp", kind="stable").reset_index(drop=True), logged)
    assert rows["probability"].eq(0.2).all() and rows["model_version"].eq("v1").all()

    again = run([*SHIP, "--log", str(log)], cwd=work)
    assert "nothing to ship" in again.stderr
    assert run(["git", "rev-parse", "HEAD~1"], cwd=work).stdout == before


def test_make_ship_log_runs_the_command_and_a_missing_log_is_an_error(tmp_path: Path):
    remote = local_remote(tmp_path / "remote")
    work = clone(make_origin(tmp_path, remote), tmp_path / "ops", remote)
    shim = tmp_path / "uv-shim"
    shim.write_text(f'#!/bin/sh\nshift 2\nPATH="{BIN}:$PATH" exec "$@"\n')
    shim.chmod(0o755)
    make = ["make", "--no-print-directory", "-o", "install", "ship-log", f"UV={shim}"]
    missing = run([*make, f"LOG={tmp_path / 'nowhere'}"], cwd=work, check=False)
    assert missing.returncode == 2 and "nowhere: no such log folder" in missing.stderr
    assert run(["git", "status", "--porcelain"], cwd=work).stdout == ""
    served_log(
        tmp_path / "log",
        tmp_path / "project" / "production" / "2025-01-stable.csv",
        work / "schema.yaml",
        **SMALL_LOG,
    )
    run([*make, f"LOG={tmp_path / 'log'}"], cwd=work)
    assert run(["git", "log", "-1", "--format=%s"], cwd=work).stdout.startswith("production data:")
    assert run(["git", "status", "--porcelain"], cwd=work).stdout == ""
