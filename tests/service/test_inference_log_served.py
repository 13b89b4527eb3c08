"""The inference log of a real `bentoml serve`: where `make serve` puts it, read back by the drift
check, and a log volume that cannot be written, which must not fail a single prediction."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops.drift.sources import read_current
from mlops.serving.inference_log import cut_value, log_files
from mlops.spec.params import load_params
from mlops.spec.schema import load_schema
from tests.conftest import BIN, PATHS, REPO, free_port
from tests.service.conftest import Server, private_home

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
]

FAILURES = "mlops_inference_log_write_failures_total"
CUT = "mlops_inference_log_values_cut_total"
FEW_KIB = 4096  # what one logged record may take, whatever a request sends


class MakeServe(Server):
    """`make serve` in `project`, as a user runs it; UV is a shim that runs the command here."""

    def __init__(self, project: Path, bentoml_home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = project / "serve.log"
        shim = project / "uv-shim"
        shim.write_text('#!/bin/sh\nshift 2\nexec "$@"\n')  # `uv run --frozen X` -> X
        shim.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if k != "MLOPS_INFERENCE_LOG_DIR"}
        env |= {
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "BENTOML_HOME": str(bentoml_home),
            "BENTOML_DO_NOT_TRACK": "true",
            "OMP_NUM_THREADS": "1",
        }
        cmd = ["make", "--no-print-directory", "-o", "install", "serve", f"UV={shim}",
               "HOST=127.0.0.1", f"PORT={self.port}"]  # fmt: skip
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            cmd, cwd=project, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.fixture(scope="module")
def served_project(
    built_project: Path, bento_tag: str, bentoml_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Server]]:
    """A folder with the Makefile and the tag `make bento` writes, served by `make serve`."""
    project = tmp_path_factory.mktemp("make-serve")
    shutil.copy(REPO / "Makefile", project / "Makefile")
    (project / "build").mkdir()
    (project / "build" / "bento-tag").write_text(bento_tag + "\n")
    server = MakeServe(project, private_home(bentoml_home, project))
    server.wait_until_up("/readyz")
    yield project, server
    server.stop()


def test_make_serve_logs_to_the_project_and_the_drift_check_reads_it_back(
    served_project: tuple[Path, Server],
    built_project: Path,
    bentoml_home: Path,
    records: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    project, server = served_project
    # at least drift.min_rows (fewer rows get "insufficient data"): the test split, repeated if smaller
    min_rows = load_params(built_project / PATHS.params).drift.min_rows
    sent = [records[i % len(records)] for i in range(max(len(records), min_rows))]
    for start in range(0, len(sent), 500):
        response = httpx.post(
            server.url + "/predict_batch", json={"records": sent[start : start + 500]}, timeout=60
        )
        assert response.status_code == 200, response.text
    log_dir = project / "inference-log"
    assert log_files(log_dir), server.output()
    assert not list(bentoml_home.rglob("predictions-*.jsonl"))  # nothing written into the bento store
    out = tmp_path / "drift"
    result = subprocess.run(
        [str(BIN / "mlops"), "drift", "--reference", str(built_project / PATHS.train),
         "--current", str(log_dir), "--schema", str(built_project / PATHS.schema),
         "--params", str(built_project / PATHS.params), "--out", str(out), "--since", "1h"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr  # a verdict, not an error or "insufficient data"
    report = json.loads((out / "drift.json").read_text())
    assert report["current_rows"] == len(sent)


def test_a_megabyte_category_is_logged_cut_counted_on_metrics_and_read_by_the_drift_check(
    served_project: tuple[Path, Server], built_project: Path, records: list[dict[str, Any]]
) -> None:
    project, server = served_project
    schema = load_schema(built_project / PATHS.schema)
    if not schema.categorical:
        pytest.skip("the schema has no categorical feature, so the pipeline has no encoder")
    text = [f.name for f in schema.categorical if f.unseen == "encode" and not f.integer_coded]
    if not text:
        pytest.skip("every categorical feature refuses unseen values")
    column = text[0]
    huge = {**records[0], column: "z" * 1_000_000}  # two fit in MLOPS_MAX_BODY_BYTES' 2 MiB
    labels = f'column="{column}"'
    before = on_metrics(server, CUT, labels)
    assert httpx.post(server.url + "/predict", json=huge, timeout=60).status_code == 200
    batch = httpx.post(server.url + "/predict_batch", json={"records": [huge, huge]}, timeout=60)
    assert batch.status_code == 200, batch.text
    assert on_metrics(server, CUT, labels) == before + 3
    logged = cut_value(huge[column])
    assert len(logged) < 1_000 and logged.endswith(" chars]")
    log_dir = project / "inference-log"
    lines = [line for path in log_files(log_dir) for line in path.read_bytes().splitlines()]
    cut_lines = [line for line in lines if json.loads(line)["inputs"][column] == logged]
    assert len(cut_lines) == 3 and max(len(line) for line in lines) < FEW_KIB
    prediction = load_params(built_project / PATHS.params).drift.prediction_column
    frame = read_current(log_dir, schema, prediction)
    assert (frame[column] == logged).sum() == 3 and len(frame) == len(lines)


@pytest.fixture(scope="module")
def unwritable_server(
    bento_tag: str, bentoml_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The bento served with its log folder under a plain file: no user, root included, can create it."""
    workdir = tmp_path_factory.mktemp("unwritable")
    (workdir / "volume").write_text("not a folder")
    home = private_home(bentoml_home, workdir)
    env = {"BENTOML_HOME": str(home), "MLOPS_INFERENCE_LOG_DIR": str(workdir / "volume" / "log")}
    started = Server(bento_tag, workdir, env, workdir / "server.log")
    started.wait_until_up("/readyz")
    yield started
    started.stop()


def on_metrics(server: Server, name: str, labels: str = "[^}]*") -> float:
    """The sum of counter `name` on /metrics over the label sets matching the regex `labels`."""
    text = httpx.get(server.url + "/metrics", timeout=30).text
    found = re.findall(rf"^{name}(?:{{{labels}}})? ([0-9.e+]+)$", text, flags=re.MULTILINE)
    return sum(float(value) for value in found)


def failures_on_metrics(server: Server) -> float:
    return on_metrics(server, FAILURES)


def test_an_unwritable_log_fails_no_prediction_and_is_counted_on_metrics(
    unwritable_server: Server, records: list[dict[str, Any]]
) -> None:
    before = failures_on_metrics(unwritable_server)
    for record in records[:3]:
        assert httpx.post(unwritable_server.url + "/predict", json=record, timeout=30).status_code == 200
    batch = httpx.post(unwritable_server.url + "/predict_batch", json={"records": records[3:5]}, timeout=30)
    assert batch.status_code == 200 and len(batch.json()) == 2
    assert failures_on_metrics(unwritable_server) == before + 4  # one per request that was not logged
    output = unwritable_server.output()
    assert output.count("inference log: cannot") == 1, output  # logged once, not per request
