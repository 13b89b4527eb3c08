"""Shared fixtures: copies of this repository in temporary git repos, with a real DVC pipeline run.

Tests never touch the network: the demo DVC remote lives inside the repository and travels with
each copy. `make test` runs the suite in pytest-xdist workers, one per core (`--dist loadfile`: a
file's tests stay on one worker, so module fixtures start once); what is costly to make and read-only
after (the trained project, the bento) is made once per run by whichever worker asks first
(`once_per_run`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import pytest
import yaml
from filelock import FileLock

from mlops.cli import main
from mlops.io import read_yaml
from mlops.model_card import card_placeholders
from mlops.project import load_project

# Python caches compiled bytecode, in this process and in every one a test starts (dvc, mlops,
# bentoml serve, copier's tasks): with PYTHONDONTWRITEBYTECODE set (as on the CI machines), each of
# them compiled scikit-learn, pandas and SciPy from source at every start, about half its start-up.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
# One OpenMP thread per process: the xdist workers and the servers they start share two cores; more
# threads only fight over them (scikit-learn's HistGradientBoosting uses OpenMP).
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Where a project keeps its files, relative to its root (`project / PATHS.metrics`), read from
# dvc.yaml and project.yaml as the commands read them, so no test restates a path.
PATHS = load_project(REPO)


# Tests that read this repository's committed results (models/, eval/) and its written card: a
# project made on its own data has them only after its first `make run` and once its team writes
# the card's words, so there they skip; in the template (and its CI) they always run.
reads_committed_results = pytest.mark.skipif(
    not (REPO / PATHS.metadata).is_file()
    or bool(card_placeholders((read_yaml(REPO / "project.yaml") or {}).get("card") or {})),
    reason="reads the committed results and card words, which a new project has after its first run"
    " and once its card is written",
)

# Set by the template's own tests (tests/template) for the `make test` of a project they generate.
# A module that checks the package on synthetic data of its own alone (no file of the project's)
# runs there on the very inputs of the template's `make test`, which runs it: it skips there, and
# only there (a team's own `make test` runs it).
TEMPLATE_CHECKED = "MLOPS_TEMPLATE_CHECKED"
same_in_every_project = pytest.mark.skipif(
    os.environ.get(TEMPLATE_CHECKED) == "1",
    reason="synthetic data only, the same in every project: the template's own make test checks it",
)


def run(
    cmd: Sequence[str | Path], cwd: Path, check: bool = True, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run a command with the project's environment first on PATH; show its output if it fails."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    env.update(kwargs.pop("env", {}))  # type: ignore[arg-type]
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, check=False, **kwargs
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, cmd))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def project_files(root: Path = REPO) -> list[str]:
    """The files a clone would have: tracked ones, plus new ones git does not ignore (work in progress)."""
    listed = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def copy_project(dest: Path, root: Path = REPO) -> Path:
    """A fresh git repository holding this project's files, committed on `main`, as a clone would."""
    for name in project_files(root):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    run(["git", "init", "-q", "-b", "main"], cwd=dest)
    run(["git", "config", "user.email", "tests@example.com"], cwd=dest)
    run(["git", "config", "user.name", "Tests"], cwd=dest)
    run(["git", "add", "-A"], cwd=dest)
    run(["git", "commit", "-q", "-m", "copy of the project"], cwd=dest)
    return dest


def stage_commands(project: Path) -> list[list[str]]:
    """Each stage's `mlops` arguments, in dvc.yaml's order, with `${name}` filled from project.yaml."""
    variables = yaml.safe_load((project / "project.yaml").read_text())
    commands = []
    for stage in yaml.safe_load((project / "dvc.yaml").read_text())["stages"].values():
        command = stage["cmd"]
        for name, value in variables.items():
            command = command.replace(f"${{{name}}}", str(value))
        words = shlex.split(command)
        assert words[0] == "mlops", command
        commands.append(words[1:])
    return commands


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder `make` fills once per test run: under pytest-xdist the first worker to ask makes it
    while the others wait for it (a file lock in the run's shared temporary folder), then all share
    it; without xdist, a folder of this session. A failed `make` leaves nothing for the next to reuse."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = tmp_path_factory.mktemp(name)
        make(folder)
        return folder
    folder = tmp_path_factory.getbasetemp().parent / name  # the run's folder, above each worker's
    with FileLock(f"{folder}.lock"):
        done = folder / ".made"
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


def build_project(project: Path) -> None:
    """Copy the project to `project`, pull its data and run its pipeline (see `built_project`)."""
    copy_project(project)
    run(["dvc", "pull", "--allow-missing", "--quiet"], cwd=project)
    for argv in stage_commands(project):
        with contextlib.chdir(project):
            assert main(argv) == 0, argv
    logging.getLogger().handlers.clear()  # main() configured logging for the command line
    run(["dvc", "commit", "--force", "--quiet"], cwd=project)


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with its data pulled and the pipeline run: data, splits, model, metrics.

    The stages run in this process with the commands dvc.yaml gives them (the libraries are imported
    once per session, not once per stage), then `dvc commit` records their outputs in dvc.lock and
    the cache as `dvc repro` would: `dvc status` is clean. tests/pipeline run `dvc repro` for real.
    Made once per run and shared by every test (and xdist worker) that needs a trained model; treat
    it as read-only (copy it to change it).
    """
    folder = once_per_run(tmp_path_factory, "built", lambda made: build_project(made / "project"))
    return folder / "project"


def copy_built(built: Path, dest: Path) -> Path:
    """A private copy of the built project (git history and DVC cache included), without what other
    tests may be writing in it meanwhile under xdist: DVC's lock files and `mlops drift`'s outputs."""

    def volatile(folder: str, names: list[str]) -> set[str]:
        if Path(folder) == built / ".dvc":
            return {"tmp"} & set(names)
        return {"drift"} & set(names) if Path(folder) == built else set()

    return Path(shutil.copytree(built, dest, symlinks=True, ignore=volatile))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_answer(
    url: str, exit_code: Callable[[], int | None], log: Callable[[], str], seconds: float, status: int = 200
) -> float:
    """Seconds until GET `url` answers `status`, polling while the server lives (`exit_code()` is None).

    A server that exits first, or never answers in `seconds`, fails the test with its `log()`: the
    one wait the bentoml servers, the containers and the registry of the tests share."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        code = exit_code()
        if code is not None:
            raise AssertionError(f"the server exited {code} before {url} answered:\n{log()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == status:
                return time.monotonic() - began
        time.sleep(0.25)
    raise AssertionError(f"{url} never answered {status} within {seconds} s:\n{log()}")


def post_across_a_signal(port: int, body: bytes, send_signal: Callable[[], None]) -> bytes:
    """POST /predict in two halves on 127.0.0.1:`port`, calling `send_signal` between them (a
    request in flight when the server is told to stop); return the raw HTTP response."""
    head = (
        "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head.encode() + body[:10])
        time.sleep(0.5)
        send_signal()
        time.sleep(1.5)
        sock.sendall(body[10:])
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data
