"""The drift history across three scheduled runs, as drift.yml runs it: fetch the history from the
drift-history branch, check (`mlops drift-check`, the real `mlops drift`), publish the history with
the check appended; against a local bare git repository standing in for GitHub, in a clone of this
project (its real .dvc/ folder included), and the workflow's step as written on the trained project."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from mlops.io import read_yaml
from mlops.project import DRIFT_DIR
from tests.conftest import BIN, PATHS, copy_built, copy_project, run
from tests.drift.conftest import SYNTHETIC_SCHEMA, demo_only, synthetic, write_config
from tests.github.conftest import run_ci

BRANCH = "drift-history"


def step(
    script: str, *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A workflow step in the checkout: drift_history as the history job runs it (the checkout's src/ on
    PYTHONPATH, no environment), the check as the check job does."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "bot", "GIT_AUTHOR_EMAIL": "bot@example.com", **(env or {})}
    env |= {"GIT_COMMITTER_NAME": "bot", "GIT_COMMITTER_EMAIL": "bot@example.com"}
    if script == "drift_history":
        return run_ci(script, *args, env=env, src=Path("src"), cwd=cwd)
    return subprocess.run(
        [str(BIN / "mlops"), script, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def checkout(tmp_path: Path) -> Path:
    """A bare 'GitHub' repository holding this project and a runner's clone of it, as actions/checkout
    leaves it (the .dvc/ folder beside production.dvc), with seeded data and production.dvc's md5."""
    origin, work = tmp_path / "origin.git", tmp_path / "runner"
    run(["git", "clone", "-q", "--bare", copy_project(tmp_path / "project"), origin], cwd=tmp_path)
    run(["git", "clone", "-q", origin, work], cwd=tmp_path)
    assert (work / ".dvc" / "config").is_file()
    write_config(work)
    synthetic(SYNTHETIC_SCHEMA, 3_000, 1).to_parquet(work / "reference.parquet")
    (work / "production").mkdir()
    (work / "production.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: production\n"
    )
    return work


def scheduled_run(work: Path, batch: str) -> Path:
    """fetch, check, publish: the three steps of drift.yml's history; the run's report folder."""
    history = work.parent / "runner-temp" / "history.jsonl"
    fetched = step("drift_history", "fetch", "--out", history, cwd=work)
    assert fetched.returncode == 0, fetched.stderr
    out = work / DRIFT_DIR / Path(batch).stem
    checked = step(
        "drift-check", "--current", work / "production" / batch, "--since", "", "--history", history,
        "--reference", work / "reference.parquet", "--schema", work / PATHS.schema,
        "--params", work / PATHS.params, "--out", out, cwd=work,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    published = step("drift_history", "publish", "--file", out / "history.jsonl", cwd=work)
    assert published.returncode == 0, published.stderr
    return out


def test_three_runs_build_the_history_on_its_branch_and_the_report_shows_the_trend(tmp_path: Path):
    work = checkout(tmp_path)
    batches = {"1-stable.csv": 0.0, "2-moved.csv": 0.5, "3-moved-more.csv": 1.0}
    for seed, (name, shift) in enumerate(batches.items(), start=2):
        synthetic(SYNTHETIC_SCHEMA, 1_200, seed, charges_shift_sd=shift).to_csv(work / "production" / name)
    outs = [scheduled_run(work, name) for name in batches]

    origin = tmp_path / "origin.git"
    log = run(["git", "log", "--format=%s", BRANCH], cwd=origin).stdout.splitlines()
    assert log == [f"drift history: {n} check(s)" for n in (3, 2, 1)]
    files = run(["git", "ls-tree", "--name-only", BRANCH], cwd=origin).stdout.split()
    assert files == ["history.jsonl"]
    history = [
        json.loads(line)
        for line in run(["git", "show", f"{BRANCH}:history.jsonl"], cwd=origin).stdout.splitlines()
    ]
    assert [h["status"] for h in history] == ["no_drift", "drift", "drift"]
    assert [h["current"].rsplit("/", 1)[-1] for h in history] == list(batches)
    assert {h["data_version"] for h in history} == {"0123456789abcdef0123456789abcdef.dir"}
    severity = [h["columns"]["monthly_charges"]["severity"] for h in history]
    assert severity[0] < 1 < severity[1] < severity[2]
    assert history[0]["time"] <= history[1]["time"] <= history[2]["time"]

    first, last = (o / "drift.html" for o in (outs[0], outs[-1]))
    assert "This is the first recorded check" in first.read_text()
    trend = last.read_text()
    assert "Over the last 3 checks, 2 needed a look." in trend
    moved = f"went from {severity[0]:.1f} to {severity[2]:.1f} times the level that raises an alarm"
    assert (
        f"The column that moved most is monthly_charges: its difference from the training data {moved}"
        in trend
    )
    assert trend.count("<td>needs a look</td>") == 2 and trend.count("<td>fine</td>") == 1


def test_a_broken_history_is_an_error_and_nothing_is_published(tmp_path: Path):
    work = checkout(tmp_path)
    synthetic(SYNTHETIC_SCHEMA, 1_200, 2).to_csv(work / "production" / "batch.csv")
    history = tmp_path / "history.jsonl"
    history.write_text('{"time": "2025-01-01", "status": "drift"}\nnot json\n')
    checked = step(
        "drift-check", "--current", work / "production" / "batch.csv", "--history", history,
        "--reference", work / "reference.parquet", "--schema", work / PATHS.schema,
        "--params", work / PATHS.params, "--out", work / DRIFT_DIR, cwd=work,
    )  # fmt: skip
    assert checked.returncode == 2 and "history.jsonl: line 2: not valid JSON" in checked.stderr
    published = step("drift_history", "publish", "--file", work / DRIFT_DIR / "history.jsonl", cwd=work)
    assert published.returncode == 2 and "no history file to publish" in published.stderr
    assert run(["git", "ls-remote", "--heads", "origin", BRANCH], cwd=work).stdout == ""


@demo_only
def test_the_workflow_step_as_written_records_the_data_version_on_the_trained_project(
    built_project: Path, tmp_path: Path
):
    """drift.yml's check with its own arguments on a copy of the trained project: production.dvc, the
    production/ batches and the .dvc/ folder side by side; then `mlops drift` on one batch."""
    work = copy_built(built_project, tmp_path / "runner")
    history, outputs = tmp_path / "runner-temp" / "history.jsonl", tmp_path / "outputs"
    checked = step(
        "drift-check", "--current", "production", "--since", "", "--history", history,
        cwd=work, env={"GITHUB_OUTPUT": str(outputs)},
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert outputs.read_text() in ("code=0\n", "code=1\n")
    md5 = read_yaml(work / "production.dvc")["outs"][0]["md5"]
    [recorded] = [json.loads(line) for line in (work / DRIFT_DIR / "history.jsonl").open()]
    assert recorded["data_version"] == md5 and recorded["current"] == "production"

    batch = run(
        ["mlops", "drift", "--current", "production/2025-01-stable.csv", "--history", history],
        cwd=work, check=False,
    )  # fmt: skip
    assert batch.returncode == 0, batch.stderr
    [entry] = [json.loads(line) for line in (work / DRIFT_DIR / "2025-01-stable" / "history.jsonl").open()]
    assert entry["status"] == "no_drift" and entry["data_version"] == md5


def test_a_crash_in_the_step_is_an_error_exit_2_never_the_drift_verdict(tmp_path: Path):
    work = checkout(tmp_path)
    synthetic(SYNTHETIC_SCHEMA, 1_200, 2).to_csv(work / "production" / "batch.csv")
    unwritable = tmp_path / "outputs-is-a-folder"
    unwritable.mkdir()
    checked = step(
        "drift-check", "--current", work / "production" / "batch.csv",
        "--reference", work / "reference.parquet", "--schema", work / PATHS.schema,
        "--params", work / PATHS.params, "--out", work / DRIFT_DIR, cwd=work,
        env={"GITHUB_OUTPUT": str(unwritable)},
    )  # fmt: skip
    assert checked.returncode == 2, checked.stderr
    assert "IsADirectoryError" in checked.stderr and "::error::the drift check crashed" in checked.stderr
