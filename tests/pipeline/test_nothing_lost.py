"""Nothing lost when a stage dies: a killed or failed stage leaves the previous results as they were.

Every stage's outputs are marked `persist` in dvc.yaml, so DVC does not delete them before the
command runs, and the `mlops` commands write them aside and move them in together at the end
(`mlops.io.stage_outputs`). The tests compare the sha256 of every result before and after.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.io import sha256_file
from mlops.pipeline.data import MAX_LINE_BYTES
from mlops.spec.schema import Schema, load_schema
from tests.conftest import BIN, PATHS, copy_built, run
from tests.pipeline.test_pipeline import CASES, write_broken

RESULTS = ("models", "eval", "artifacts")  # the outputs' folders; dvc.lock and data.dvc besides


def fingerprint(project: Path) -> dict[str, str]:
    """sha256 of dvc.lock, data.dvc and every file under the outputs' folders (hidden ones too)."""
    files = [project / PATHS.lock, project / PATHS.data_dvc]
    files += [path for folder in RESULTS for path in (project / folder).rglob("*") if path.is_file()]
    return {str(path.relative_to(project)): sha256_file(path) for path in files}


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


@pytest.fixture
def project(built_project: Path, tmp_path: Path) -> Path:
    """A private copy of the built project with the pipeline's results committed."""
    project = copy_built(built_project, tmp_path / "project")
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-q", "--allow-empty", "-m", "pipeline results"], cwd=project)
    return project


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, at any depth, from /proc (only this test's own process tree)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def arguments(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def kill_stage(dvc: subprocess.Popen[str], stage: str, timeout: float = 120) -> list[str]:
    """SIGKILL the `mlops STAGE` command that `dvc` started, as soon as it runs; return its argv."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and dvc.poll() is None:
        for pid in descendants(dvc.pid):
            argv = arguments(pid)
            if len(argv) > 2 and Path(argv[1]).name == "mlops" and argv[2] == stage:
                os.kill(pid, signal.SIGKILL)
                return argv
        time.sleep(0.02)
    raise AssertionError(f"`mlops {stage}` never ran under dvc repro")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds the process through /proc")
def test_sigkill_mid_train_keeps_the_previous_results(project: Path) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["seed"] += 1  # forces train, and the validate stage that checks params.yaml
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    before, lock = fingerprint(project), yaml.safe_load((project / PATHS.lock).read_text())
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    dvc = subprocess.Popen(
        ["dvc", "repro"], cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    kill_stage(dvc, "train")
    output = dvc.communicate(timeout=120)[0]
    # killed while it ran: DVC reports the signal (-9) or, when a shell ran the command, 128 + 9
    assert dvc.returncode != 0 and re.search(r"exited with (-9|137)\b", output), output
    # validate ran and succeeded before train, and DVC recorded it (README.md: When a stage fails)
    assert changed(before, fingerprint(project)) in ([], [str(PATHS.lock)])
    after = yaml.safe_load((project / PATHS.lock).read_text())
    assert {k: v for k, v in after["stages"].items() if k != "validate"} == {
        k: v for k, v in lock["stages"].items() if k != "validate"
    }
    assert after["stages"]["validate"]["outs"] == lock["stages"]["validate"]["outs"]
    assert "Running stage 'train'" in run(["dvc", "repro"], cwd=project).stdout
    assert_recorded(project)


def assert_recorded(project: Path) -> None:
    """The next run records what it wrote: status clean, the model's hash in model.json, no
    leftovers of the killed run, and a second `dvc repro` runs nothing."""
    assert "up to date" in run(["dvc", "status"], cwd=project).stdout
    metadata = yaml.safe_load((project / PATHS.metadata).read_text())
    assert metadata["model_file"] == "model.skops"
    assert metadata["model_sha256"] == sha256_file(project / PATHS.model)
    assert not [path for folder in RESULTS for path in (project / folder).rglob(".*.tmp")]
    assert "Running stage" not in run(["dvc", "repro"], cwd=project).stdout


def break_more(raw: Path, schema: Schema, case: str) -> str:
    """Damage the raw data in the ways `break_data` does not; return the message the pipeline gives."""
    data = raw.read_bytes()
    raw.unlink()  # DVC links data from its cache: replace the file, never write through the link
    if case == "not UTF-8":
        header, rest = data.split(b"\n", 1)
        raw.write_bytes(header + b"\n\xe9" + rest)  # latin-1's e-acute
        return "not UTF-8, found byte 0xe9"
    if case == "line too long":
        raw.write_bytes(data + b"x" * (MAX_LINE_BYTES + 1) + b"\n")
        return f"longer than {MAX_LINE_BYTES:,} bytes"
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    if case == "out of range":
        found = next((f for f in schema.numeric if f.max is not None), None)
        if found is None:
            pytest.skip("no numeric feature has a maximum")
        frame.loc[1, found.name] = f"{abs(found.max) + 1:g}"
        message = f"column '{found.name}': expected <= {found.max:g}"
    else:  # one label
        target = schema.target.name
        frame[target] = frame[target].iloc[0]
        message = "every row has the " + ("label" if schema.target.is_classification else "value")
    raw.write_text(frame.to_csv(index=False))
    return message


MORE = ["not UTF-8", "line too long", "out of range", "one label"]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES + MORE)
def test_broken_data_keeps_every_result(project: Path, case: str) -> None:
    """Each kind of broken CSV stops `dvc repro` at prepare; no result changes. DVC records a changed
    raw file in data.dvc before any stage runs (it is the data source), so data.dvc names the edit."""
    raw = project / yaml.safe_load((project / "project.yaml").read_text())["data"]
    before, data = fingerprint(project), sha256_file(raw)
    if case in CASES:
        message = write_broken(project, case)[1]
    else:
        message = break_more(raw, load_schema(project / "schema.yaml"), case)
    failed = run(["dvc", "repro"], cwd=project, check=False)
    assert failed.returncode != 0
    assert message in failed.stdout + failed.stderr
    assert "Running stage 'train'" not in failed.stdout
    assert changed(before, fingerprint(project)) in ([], [str(PATHS.data_dvc)])
    assert "up to date" in run(["dvc", "status", PATHS.data_dvc], cwd=project).stdout  # names the edit
    run(["git", "checkout", "--", PATHS.data_dvc], cwd=project)
    run(["dvc", "checkout", "--force", PATHS.data_dvc], cwd=project)
    assert changed(before, fingerprint(project)) == []
    assert sha256_file(raw) == data
    assert "up to date" in run(["dvc", "status"], cwd=project).stdout


def test_a_kill_inside_stage_outputs_keeps_the_old_outputs(tmp_path: Path) -> None:
    """Killed after writing aside, before the moves: the old file and folder stay; the next run
    removes what the killed one left and replaces the folder whole."""
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots/old.json").write_text("old")
    (tmp_path / "model.bin").write_text("old")
    script = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from mlops.io import stage_outputs

        root = Path(sys.argv[1])
        with stage_outputs(root / "model.bin", root / "plots") as aside:
            aside[root / "model.bin"].write_text("new")
            aside[root / "plots"].mkdir()
            (aside[root / "plots"] / "new.json").write_text("new")
            if sys.argv[2] == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script, tmp_path, "kill"], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "model.bin").read_text() == "old"
    assert [p.name for p in (tmp_path / "plots").iterdir()] == ["old.json"]
    assert len(list(tmp_path.glob(".*.tmp"))) == 2  # what the kill left aside
    subprocess.run([sys.executable, "-c", script, tmp_path, "done"], check=True)
    assert (tmp_path / "model.bin").read_text() == "new"
    assert [p.name for p in (tmp_path / "plots").iterdir()] == ["new.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin", "plots"]
