"""`make drift`: one verdict line per production batch with its report paths; no batches is no error.

The Makefile's recipe runs for real; `drift-data` (dvc pull + the prepare stage) is marked done with
`-o`, and UV points at a shim that runs the command in this environment (`uv run --frozen X` -> `X`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import run
from tests.drift.conftest import REPO, synthetic

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_drift(project: Path) -> str:
    shim = project / "uv-shim"
    shim.write_text('#!/bin/sh\nshift 2\nexec "$@"\n')
    shim.chmod(0o755)
    result = run(
        ["make", "--no-print-directory", "-o", "drift-data", "drift", f"UV={shim}",
         "DRIFT_REFERENCE=reference.parquet"],
        cwd=project,
    )  # fmt: skip
    return result.stdout


@pytest.fixture
def project(tmp_path: Path, config_files: dict[str, Path]) -> Path:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    shutil.copy(config_files["schema"], tmp_path / "schema.yaml")
    shutil.copy(config_files["params"], tmp_path / "params.yaml")
    return tmp_path


def test_make_drift_prints_a_verdict_and_the_reports_per_batch(project: Path, schema):
    synthetic(schema, 3_000, 1).to_parquet(project / "reference.parquet")
    (project / "production").mkdir()
    synthetic(schema, 1_200, 2).to_csv(project / "production" / "2025-01-stable.csv", index=False)
    synthetic(schema, 1_200, 3, charges_shift_sd=0.5).to_parquet(
        project / "production" / "2025-02-moved.parquet"
    )
    lines = make_drift(project).splitlines()
    assert lines == [
        "production/2025-01-stable.csv: no drift (exit 0): "
        "drift/2025-01-stable/drift.md drift/2025-01-stable/drift.html",
        "production/2025-02-moved.parquet: DRIFT (exit 1): "
        "drift/2025-02-moved/drift.md drift/2025-02-moved/drift.html",
    ]
    assert (project / "drift" / "2025-02-moved" / "drift.html").read_text().count("<svg") == 19


@pytest.mark.parametrize("folder", [True, False])
def test_make_drift_without_batches_says_so_and_exits_0(project: Path, folder: bool):
    if folder:
        (project / "production").mkdir()
    out = make_drift(project)
    assert out.startswith("make drift: no batches in production/ (*.csv, *.parquet): nothing to check.")
    assert not (project / "drift").exists()
