"""Dask is the optional extra `cluster` (pyproject.toml): the everyday loop's environment goes without
it, since installing dask slows every process that loads a model (docs/performance.md).

The Makefile's recipes run for real, with UV pointing at a shim that records its arguments: which
targets install the extra. `mlops drift` runs for real in a Python that cannot import Dask (a
sitecustomize marks dask and distributed absent, as when they are not installed): on the cluster path
it names what to install; on this machine's path it does not need Dask.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import BIN, free_port, run
from tests.drift.conftest import REPO, synthetic

CLUSTER_SYNC = "sync --frozen --inexact --quiet --extra cluster"


def make_calls(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """The uv commands the Makefile's recipes run for `make ARGS`, in order (one line each)."""
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    calls, shim = tmp_path / "calls", tmp_path / "uv-shim"
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    shim.chmod(0o755)
    environment = {"MLOPS_DASK_SCHEDULER": "", **(env or {})}
    run(["make", "--no-print-directory", *args, f"UV={shim}"], cwd=tmp_path, env=environment)
    return calls.read_text().splitlines()


@pytest.mark.parametrize(
    "target", ["lint", "test", "test-fast", "test-generated", "coverage"], ids=lambda target: f"make {target}"
)
def test_lint_and_the_test_targets_install_the_extra_and_keep_it(tmp_path: Path, target: str) -> None:
    calls = make_calls(tmp_path, target, "PYTEST_WORKERS=0")
    assert calls[0] == CLUSTER_SYNC
    assert all(call.startswith("run --frozen ") and "--exact" not in call for call in calls[1:]), calls


def test_only_make_coverage_measures_coverage(tmp_path: Path) -> None:
    """Tracing costs the in-process tests about three quarters more CPU and can fail nothing."""

    def pytest_call(target: str) -> str:
        (tmp_path / target).mkdir()
        calls = make_calls(tmp_path / target, target, "PYTEST_WORKERS=0")
        [call] = [line for line in calls if " pytest " in line]
        return call

    test, coverage = pytest_call("test"), pytest_call("coverage")
    assert "--cov" not in test
    assert coverage.replace(" --cov --cov-report=term", "") == test


@pytest.mark.parametrize("target", ["install", "run", "drift-data"], ids=lambda target: f"make {target}")
def test_the_everyday_targets_install_no_extra(tmp_path: Path, target: str) -> None:
    calls = make_calls(tmp_path, target)
    assert calls[0] == "sync --frozen --inexact --quiet"
    assert not [call for call in calls if "sync" in call][1:]  # nothing installs it later


def test_the_drift_targets_install_the_extra_when_a_scheduler_is_set(tmp_path: Path) -> None:
    """drift.yml's `make drift-data` step gets the repository variable; the value is not expanded."""
    scheduler = {"MLOPS_DASK_SCHEDULER": "tcp://$(shell touch expanded):8786"}
    assert make_calls(tmp_path, "drift-data", env=scheduler)[0] == CLUSTER_SYNC
    assert not (tmp_path / "expanded").exists()
    assert make_calls(tmp_path, "install", "EXTRAS=cluster")[0] == CLUSTER_SYNC  # by hand


@pytest.fixture
def without_dask(tmp_path: Path) -> dict[str, str]:
    """An environment whose Pythons cannot import dask or distributed, as when they are not installed."""
    hide = tmp_path / "hide-dask"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\nsys.modules.update(dask=None, distributed=None)  # import -> ModuleNotFoundError\n"
    )
    env = {"PYTHONPATH": str(hide), "MLOPS_DASK_SCHEDULER": ""}
    hidden = run([BIN / "python", "-c", "import distributed"], cwd=tmp_path, env=env, check=False)
    assert "ModuleNotFoundError: import of distributed halted" in hidden.stderr  # the blocker works
    return env


def drift_command(tmp_path: Path, schema, config_files: dict[str, Path]) -> list[str | Path]:
    reference, current = tmp_path / "reference.parquet", tmp_path / "batch.parquet"
    synthetic(schema, 3_000, 1).to_parquet(reference)
    synthetic(schema, 2_000, 2).to_parquet(current)
    return [
        BIN / "mlops", "drift", "--current", current, "--reference", reference,
        "--schema", config_files["schema"], "--params", config_files["params"], "--out", tmp_path / "report",
    ]  # fmt: skip


def test_without_dask_the_cluster_path_names_the_extra_and_writes_nothing(
    tmp_path: Path, without_dask: dict[str, str], schema, config_files
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    command = [*drift_command(tmp_path, schema, config_files), "--scheduler", address]
    done = run(command, cwd=tmp_path, env=without_dask, check=False)
    assert done.returncode == 2, done.stderr
    assert f"the Dask cluster at '{address}' (--scheduler or $MLOPS_DASK_SCHEDULER) needs Dask" in done.stderr
    assert "optional extra 'cluster'" in done.stderr and "`uv sync --extra cluster`" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "report").exists()


def test_without_dask_the_check_on_this_machine_runs(
    tmp_path: Path, without_dask: dict[str, str], schema, config_files
) -> None:
    done = run(drift_command(tmp_path, schema, config_files), cwd=tmp_path, env=without_dask, check=False)
    assert done.returncode in (0, 1), done.stderr  # a verdict, whichever
    assert (tmp_path / "report" / "drift.json").is_file()
