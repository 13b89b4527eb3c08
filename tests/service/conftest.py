"""Fixtures for the service: records from the built project, a built bento, real `bentoml serve` processes.

Each server start costs 10-30 s, so the servers are session-scoped and shared, except the ones a
test must stop or break.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from tests.conftest import BIN, PATHS, REPO, free_port, once_per_run, run, wait_for_answer

STARTUP_SECONDS = 120


def records_from(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """JSON-ready records: numpy scalars as Python values, NaN as None."""
    rows = json.loads(frame[list(columns)].to_json(orient="records"))
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]


def import_service(environment: Mapping[str, str]) -> ModuleType:
    """mlops.service imported afresh with `environment` set, as a server's start-up imports it.

    The module reads its settings and model.json once, when imported: a fresh import is how a test
    gives it other settings. One per process: BentoML registers its Prometheus metrics globally.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        sys.modules.pop("mlops.service", None)
        return importlib.import_module("mlops.service")


class Server:
    """`bentoml serve TARGET` on 127.0.0.1 in its own process group; `stop()` sends SIGTERM."""

    def __init__(self, target: str, cwd: Path, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "OMP_NUM_THREADS": "1",
            "BENTOML_DO_NOT_TRACK": "true",
            **env,
        }
        cmd = [str(BIN / "bentoml"), "serve", target, "--host", "127.0.0.1", "--port", str(self.port)]
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            cmd, cwd=cwd, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until_up(self, path: str = "/livez") -> None:
        try:
            wait_for_answer(self.url + path, self.process.poll, self.output, STARTUP_SECONDS)
        except AssertionError:
            self.stop()
            raise

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()
        return self.process.returncode


@pytest.fixture(scope="session")
def test_frame(built_project: Path) -> pd.DataFrame:
    return pd.read_parquet(built_project / PATHS.test)


@pytest.fixture(scope="session")
def metadata(built_project: Path) -> dict[str, Any]:
    return json.loads((built_project / PATHS.metadata).read_text())


@pytest.fixture(scope="session")
def feature_names(metadata: dict[str, Any]) -> list[str]:
    return [f["name"] for f in metadata["schema"]["features"]]


@pytest.fixture(scope="session")
def records(test_frame: pd.DataFrame, feature_names: list[str]) -> list[dict[str, Any]]:
    return records_from(test_frame, feature_names)


@pytest.fixture(scope="session")
def bentoml_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BentoML's store for this run (shared by xdist workers, like the bento built into it)."""
    return once_per_run(tmp_path_factory, "bentoml-home", lambda folder: None)


def uv_binary() -> str:
    found = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.skip("uv is needed to export the locked requirements")
    return found


def build_bento(project: Path, bentoml_home: Path, tag_file: Path) -> None:
    """`make bento`'s two steps, offline, in a private BENTOML_HOME; the tag goes to `tag_file`."""
    uv = uv_binary()
    run(["make", "bento-requirements", f"UV={uv}"], cwd=project)
    env = {
        "BENTOML_HOME": str(bentoml_home),
        "PATH": f"{BIN}{os.pathsep}{Path(uv).parent}{os.pathsep}{os.environ['PATH']}",
    }
    out = run(["bentoml", "build", "--output", "tag", "."], cwd=project, env=env).stdout
    tags = [line.removeprefix("__tag__:") for line in out.splitlines() if line.startswith("__tag__:")]
    assert len(tags) == 1, out
    tag_file.write_text(tags[0])


@pytest.fixture(scope="session")
def bento_tag(built_project: Path, bentoml_home: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bento built offline from the built project, as `make bento` does (once per run)."""
    folder = once_per_run(
        tmp_path_factory, "bento", lambda made: build_bento(built_project, bentoml_home, made / "tag")
    )
    return (folder / "tag").read_text()


def private_home(bentoml_home: Path, folder: Path) -> Path:
    """A BENTOML_HOME of one server's own that sees the run's bento store.

    BentoML keeps the Prometheus files behind /metrics in BENTOML_HOME and empties that folder
    whenever a server starts: servers sharing a home lose each other's counts.
    """
    home = folder / "bentoml-home"
    home.mkdir()
    (home / "bentos").symlink_to(bentoml_home / "bentos", target_is_directory=True)
    return home


@pytest.fixture(scope="session")
def inference_log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inference-log")


@pytest.fixture(scope="session")
def server(
    bento_tag: str, bentoml_home: Path, inference_log_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The built bento served for real, shared by the tests that do not stop or break it."""
    workdir = tmp_path_factory.mktemp("serve")
    env = {
        "BENTOML_HOME": str(private_home(bentoml_home, workdir)),
        "MLOPS_INFERENCE_LOG_DIR": str(inference_log_dir),
        "MLOPS_MAX_BODY_BYTES": str(1 << 20),
        "MLOPS_MAX_BATCH": "100",
    }
    started = Server(bento_tag, workdir, env, workdir / "server.log")
    started.wait_until_up("/readyz")
    yield started
    started.stop()
