"""`make drift`: one verdict line per production batch with its report paths; exit 1 when one drifted.

The Makefile's recipe runs for real; `drift-data` (dvc pull + the prepare stage) is marked done with
`-o`, and UV points at a shim that runs the command in this environment (`uv run --frozen X` -> `X`).
The reference, schema and params come from the project's dvc.yaml, as in a real project.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops.project import DRIFT_DIR, PIPELINE, PROJECT, load_project
from tests.conftest import run
from tests.drift.conftest import REPO, synthetic, write_config

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_drift(project: Path, expected_exit: int = 0) -> str:
    shim = project / "uv-shim"
    shim.write_text('#!/bin/sh\nshift 2\nexec "$@"\n')
    shim.chmod(0o755)
    args = ["make", "--no-print-directory", "-o", "drift-data", "drift", f"UV={shim}"]
    result = run(args, cwd=project, check=False)
    if expected_exit:  # make exits 2 when a recipe fails and names the recipe's own status
        assert result.returncode == 2 and f"Error {expected_exit}" in result.stderr, result.stderr
    else:
        assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", PIPELINE, PROJECT):
        shutil.copy(REPO / name, tmp_path / name)
    write_config(tmp_path)
    return tmp_path


def reference(project: Path) -> Path:
    path = project / load_project(project).train
    path.parent.mkdir(parents=True)
    return path


def test_make_drift_prints_a_verdict_and_the_reports_per_batch(project: Path, schema):
    synthetic(schema, 3_000, 1).to_parquet(reference(project))
    (project / "production").mkdir()
    synthetic(schema, 1_200, 2).to_csv(project / "production" / "2025-01-stable.csv", index=False)
    synthetic(schema, 1_200, 3, charges_shift_sd=0.5).to_parquet(
        project / "production" / "2025-02-moved.parquet"
    )
    lines = make_drift(project, expected_exit=1).splitlines()
    assert lines == [
        "production/2025-01-stable.csv: no drift (exit 0): "
        "drift/2025-01-stable/drift.md drift/2025-01-stable/drift.html",
        "production/2025-02-moved.parquet: DRIFT (exit 1): "
        "drift/2025-02-moved/drift.md drift/2025-02-moved/drift.html",
    ]
    assert (project / DRIFT_DIR / "2025-02-moved" / "drift.html").read_text().count("<svg") == 19


def test_make_drift_exits_3_when_a_batch_is_too_small_and_none_drifted(project: Path, schema):
    synthetic(schema, 3_000, 1).to_parquet(reference(project))
    (project / "production").mkdir()
    synthetic(schema, 1_200, 2).to_csv(project / "production" / "2025-01-stable.csv", index=False)
    synthetic(schema, 300, 4).to_csv(project / "production" / "2025-02-small.csv", index=False)
    lines = make_drift(project, expected_exit=3).splitlines()
    assert [line.split(":")[1] for line in lines] == [" no drift (exit 0)", " insufficient data (exit 3)"]


@pytest.mark.parametrize("folder", [True, False])
def test_make_drift_without_batches_says_so_and_exits_0(project: Path, folder: bool):
    if folder:
        (project / "production").mkdir()
    out = make_drift(project)
    assert out.startswith("make drift: no batches in production/ (*.csv, *.parquet): nothing to check.")
    assert not (project / DRIFT_DIR).exists()
