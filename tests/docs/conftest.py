"""A fresh clone as a reader has it: the project's files with its real `.dvc/` (the demo remote
inside), pushed to a bare repository that is `origin`, cloned from there (so `origin/main` exists)
with a second branch on the remote. Commands run with uv on PATH (the one this environment was made
with) and the clone's own `.venv`, made by `make` as the reader's is."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, copy_project, run
from tests.docs.blocks import Reader, reader_env


def uv_dir() -> Path:
    """The folder of the uv a reader has: on PATH, else the one `make` bootstrapped in this checkout."""
    return Path(shutil.which("uv") or REPO / ".tools" / "bin" / "uv").parent


def make_clone(folder: Path) -> Path:
    """`origin.git` (bare, branches main and experiment) and `clone`, cloned from it, in `folder`."""
    source = copy_project(folder / "source")
    run(["git", "branch", "experiment"], cwd=source)
    run(["git", "clone", "-q", "--bare", str(source), str(folder / "origin.git")], cwd=folder)
    clone = folder / "clone"
    run(["git", "clone", "-q", str(folder / "origin.git"), str(clone)], cwd=folder)
    for key, value in (("user.email", "reader@example.com"), ("user.name", "Reader")):
        run(["git", "config", key, value], cwd=clone)
    return clone


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of the project, nothing installed or pulled yet."""
    return make_clone(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def reader(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> Reader:
    """A reader in the fresh clone; BentoML's store in a private folder."""
    home = tmp_path_factory.mktemp("bentoml-home")
    return Reader(clone, reader_env(uv_dir(), BENTOML_HOME=str(home)))


@pytest.fixture(scope="module")
def trained(reader: Reader) -> Reader:
    """The reader after `make run` (the data and the committed results pulled; no stage re-runs)."""
    made = reader.run("make run")
    assert made.code == 0, made.output
    return reader


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by `Reader.start` (its whole process group: make, uv, bentoml)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Servers a test starts; stopped when it ends, whatever happened."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop(process)
