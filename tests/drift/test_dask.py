"""The drift check on a Dask cluster: a real `dask scheduler` and two `dask worker` processes on
127.0.0.1, reading a date-partitioned Parquet dataset from S3 (moto's server, tests/s3.py).

The cluster path runs the single-machine path's functions on the same batches and merges the parts
in another order (in pairs on the workers, not one after another): counts, rows and verdicts are
equal; a score may differ only by the rounding of float sums added in another order, hence a
relative tolerance of 1e-9 (docs/scale.md).

Synthetic data only: in a project that the template's own tests generate, the module skips
(tests.conftest.same_in_every_project), as the template's `make test` runs it on the same inputs.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from distributed import Client
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from mlops.drift.cluster import cluster_map
from mlops.drift.stream import Scorer, stream_check
from tests.conftest import BIN, free_port, same_in_every_project
from tests.drift.conftest import synthetic
from tests.drift.test_streaming import DAYS, dated, partitioned
from tests.s3 import KEY_ID, SECRET, moto_s3, s3_client

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300), same_in_every_project]

BUCKET = "team-bucket"
SCORE_REL = 1e-9  # float sums added in another order: see the module docstring
NO_AWS = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert process.poll() is None, "the dask scheduler exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """One S3 server for the module's tests (each writes under its own prefix): the cluster's
    workers are given its address when they start."""
    with moto_s3() as url:
        yield url


@pytest.fixture(scope="module")
def cluster(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers, shared by the module's tests; the workers hold
    the S3 credentials, nobody else. All three start at once (a worker retries until the scheduler
    listens), so their imports overlap."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    worker_env = {
        **NO_AWS,
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
    }
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    started = [subprocess.Popen(scheduler, env=NO_AWS, **quiet)]
    try:
        folder = tmp_path_factory.mktemp("dask")
        for name in ("worker-1", "worker-2"):
            command = [BIN / "dask", "worker", address, "--name", name, "--nthreads", "1"]
            command += ["--no-nanny", "--no-dashboard", "--local-directory", str(folder / name)]
            started.append(subprocess.Popen(command, env=worker_env, **quiet))
        _wait_for_port(port, started[0])
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        stop(started[1:])  # the workers first, together: each says goodbye to the scheduler
        stop(started[:1])


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each (a worker closes gracefully), then SIGKILL to any not exited within 20 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def upload(folder: Path, endpoint: str, prefix: str) -> str:
    """Every file under `folder` to s3://BUCKET/PREFIX/..., keeping the relative paths."""
    s3 = s3_client(endpoint)
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(file), BUCKET, f"{prefix}/{file.relative_to(folder).as_posix()}")
    return f"s3://{BUCKET}/{prefix}"


def fitted_model(schema, seed: int) -> Pipeline:
    """A real classifier on two numeric features, fitted on labels that depend on them."""
    frame = synthetic(schema, 5_000, seed)
    odds = np.exp((frame["monthly_charges"] - 65) / 20 - frame["tenure"] / 30)
    churn = np.random.default_rng(seed).random(len(frame)) < odds / (1 + odds)
    numeric = ColumnTransformer([("numbers", "passthrough", ["tenure", "monthly_charges"])])
    model = Pipeline([("features", numeric), ("classifier", LogisticRegression(max_iter=500))])
    return model.fit(frame, churn.astype(int))


def assert_same(ours: Any, theirs: Any, where: str = "result") -> None:
    """Equal, but floats within SCORE_REL (NaN equal to NaN)."""
    if isinstance(ours, dict):
        assert ours.keys() == theirs.keys(), where
        for key in ours:
            assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(ours, list | tuple):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(ours, float) and isinstance(theirs, float):
        both_nan = math.isnan(ours) and math.isnan(theirs)
        assert both_nan or ours == pytest.approx(theirs, rel=SCORE_REL), where
    else:
        assert ours == theirs, where


def test_the_check_on_the_cluster_equals_the_check_on_one_machine(
    tmp_path: Path, s3_endpoint: str, cluster: str, schema, params, monkeypatch
):
    reference = synthetic(schema, 20_000, 1)
    scorer = Scorer(fitted_model(schema, 2), "v1", 0.5)
    frames = [
        dated(synthetic(schema, 9_000, 30 + i, charges_shift_sd=0.3), day, i) for i, day in enumerate(DAYS)
    ]
    folder = partitioned(tmp_path / "log", frames)
    url = upload(folder, s3_endpoint, "production/log")
    window = (pd.Timestamp("2026-11-01T18:00", tz="UTC"), pd.Timestamp("2026-11-04", tz="UTC"))
    for since, until in ((None, None), window):
        here, here_scores = stream_check(reference, folder, schema, params, (since, until), scorer)
        there, there_scores = stream_check(
            reference, url, schema, params, (since, until), scorer, cluster_map(cluster)
        )
        assert there.status == here.status and there.reasons == here.reasons
        assert there.current_rows == here.current_rows > 20_000
        assert_same(there.to_dict(), here.to_dict())
        assert here_scores is not None and there_scores is not None
        assert (there_scores.logged, there_scores.scored) == (here_scores.logged, here_scores.scored)
        np.testing.assert_array_equal(there_scores.scores.counts, here_scores.scores.counts)
        np.testing.assert_allclose(there_scores.scores.values(), here_scores.scores.values(), rtol=SCORE_REL)
    assert here.current_rows < 3 * 9_000  # the window's rows only
    credentials = {"ACCESS_KEY_ID": KEY_ID, "SECRET_ACCESS_KEY": SECRET, "ENDPOINT_URL": s3_endpoint}
    for name, value in credentials.items():
        monkeypatch.setenv(f"AWS_{name}", value)
    from_s3, _ = stream_check(reference, url, schema, params, window, scorer)  # here, from the bucket
    assert from_s3.to_dict() == here.to_dict()  # the same files, parts merged in the same order
    on_disk, _ = stream_check(reference, folder, schema, params, (None, None), None, cluster_map(cluster))
    assert on_disk.current_rows == 4 * 9_000  # a local folder the workers see is read there too
    assert any(c.drifted for c in on_disk.columns if c.column == "monthly_charges")


def drift_command(current: str, config_files: dict[str, Path], reference: Path, out: Path) -> list[str]:
    return [
        str(BIN / "mlops"), "drift", "--current", current, "--reference", str(reference),
        "--schema", str(config_files["schema"]), "--params", str(config_files["params"]), "--out", str(out),
    ]  # fmt: skip


def test_a_broken_file_in_the_bucket_is_named_by_its_url_and_nothing_is_written(
    tmp_path: Path, s3_endpoint: str, cluster: str, schema, config_files
):
    reference = tmp_path / "reference.parquet"
    synthetic(schema, 3_000, 1).to_parquet(reference)
    frames = [dated(synthetic(schema, 1_500, 40 + i), day, i) for i, day in enumerate(DAYS)]
    folder = partitioned(tmp_path / "log", frames)
    (folder / "date=2026-11-03" / "part-1.parquet").write_bytes(b"not parquet")
    url = upload(folder, s3_endpoint, "broken")
    out = tmp_path / "report"
    command = [*drift_command(url, config_files, reference, out), "--scheduler", cluster]
    done = subprocess.run(command, env=NO_AWS, capture_output=True, text=True, cwd=tmp_path, timeout=240)
    assert done.returncode == 2, done.stderr
    assert f"{url}/date=2026-11-03/part-1.parquet" in done.stderr
    assert "cannot be read as Parquet" in done.stderr
    assert not out.exists()


def test_a_scheduler_that_does_not_answer_is_an_error_within_the_timeout(
    tmp_path: Path, schema, config_files
):
    reference = tmp_path / "reference.parquet"
    synthetic(schema, 3_000, 1).to_parquet(reference)
    current = tmp_path / "batch.parquet"
    synthetic(schema, 2_000, 2).to_parquet(current)
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**NO_AWS, "MLOPS_DASK_SCHEDULER": address}
    command = drift_command(str(current), config_files, reference, tmp_path / "report")
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"cannot reach the Dask scheduler at '{address}' within 10 s" in done.stderr
    assert time.monotonic() - started < 100  # a bound against a hang, not a speed test
    assert not (tmp_path / "report").exists()


def test_the_single_machine_path_imports_no_dask_client(tmp_path: Path, schema, config_files):
    """dask.distributed (its client, tornado, the comms) is imported on the cluster path only. dask
    itself is imported by skops where it is installed, as here with the cluster extra
    (scikit-learn's estimator discovery imports dask.array), which is why the everyday loop's
    environment goes without it (docs/performance.md; tests/drift/test_dask_extra.py)."""
    reference = tmp_path / "reference.parquet"
    synthetic(schema, 3_000, 1).to_parquet(reference)
    current = tmp_path / "batch.parquet"
    synthetic(schema, 2_000, 2).to_parquet(current)
    command = drift_command(str(current), config_files, reference, tmp_path / "report")[1:]
    script = (
        "import sys; from mlops.cli import main; code = main(sys.argv[1:]); "
        "loaded = [m for m in sys.modules if m.startswith(('distributed', 'mlops.drift.cluster'))]; "
        "print('cluster modules:', loaded); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *command], env=NO_AWS, capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "cluster modules: []" in done.stdout
    assert (tmp_path / "report" / "drift.json").is_file()
