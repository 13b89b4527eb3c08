"""An S3 endpoint for the tests: moto's server on 127.0.0.1 with a bucket `team-bucket`, and the
credentials it accepts, made at run time. Used by the template's remote switch
(tests/template/test_remote_s3.py), the inference log's shipping (tests/drift/test_ship.py) and the
Dask tests (tests/drift/test_dask.py, one server for the module), which every generated project has
(tests/template is not copied into projects)."""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from tests.conftest import BIN, free_port

# Made at run time, so that no file (this one included) can contain them by accident. The secret
# starts with a letter: one starting with "-" reads as an option to `dvc remote modify`.
KEY_ID, SECRET = "AKIA" + secrets.token_hex(8).upper(), "s" + secrets.token_urlsafe(30)


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """An empty bucket on a server of its own, for each test."""
    with moto_s3() as url:
        yield url


@contextmanager
def moto_s3() -> Iterator[str]:
    """moto's server on a free port of 127.0.0.1 with the bucket made; stopped on leaving."""
    port = free_port()
    server = subprocess.Popen(
        [BIN / "moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        s3_client(url).create_bucket(Bucket="team-bucket")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client of the endpoint, with the credentials it accepts."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
