"""Current data in S3 (`s3://BUCKET/PREFIX`, such as the DVC remote): listed, and each file copied to a
local temporary folder while mlops.drift.sources reads it as it reads any local file.

The credentials and the endpoint come from the environment, as every AWS client reads them:
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the machine's role), AWS_DEFAULT_REGION, and for a
store other than AWS (MinIO, Ceph, moto) AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL. On a Dask cluster
these are the workers' environment: they list and read the files (mlops.drift.cluster).

A copy keeps its `date=YYYY-MM-DD` folder, so a partitioned dataset in S3 reads as the same dataset
on disk does; the copy is deleted when its file has been read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TypeGuard, TypeVar

import pyarrow.fs as pafs

from mlops.drift.sources import SUFFIXES
from mlops.errors import DataValidationError

SCHEME = "s3://"
T = TypeVar("T")


def is_url(source: str | Path) -> TypeGuard[str]:
    """True for an `s3://` URL (a str: a Path would have folded its `//`)."""
    return isinstance(source, str) and source.startswith(SCHEME)


def _filesystem() -> pafs.S3FileSystem:
    """pyarrow's S3 client; it reads the credentials from the environment, the endpoint is passed here."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return pafs.S3FileSystem(endpoint_override=endpoint or None)


def list_files(url: str) -> list[str]:
    """The data files at `url`: the object itself, or the objects under the prefix with a data
    suffix (`*.csv`, `*.jsonl`, `*.parquet`), as URLs in name order."""
    s3, path = _filesystem(), url.removeprefix(SCHEME).rstrip("/")
    try:
        if s3.get_file_info(path).type == pafs.FileType.File:
            return [url]
        listed = s3.get_file_info(pafs.FileSelector(path, recursive=True))
    except OSError as error:
        raise DataValidationError(url, [f"cannot be listed: {error}"]) from None
    found = sorted(f.path for f in listed if f.type == pafs.FileType.File and f.extension in _EXTENSIONS)
    if not found:
        raise DataValidationError(url, [f"holds no data files ({', '.join(SUFFIXES)})"])
    return [SCHEME + name for name in found]


_EXTENSIONS = {suffix.removeprefix(".") for suffix in SUFFIXES}


def read_copy(url: str, read: Callable[[Path], T]) -> T:
    """`read` applied to a local copy of the file at `url`; a problem it finds names `url`, not the copy."""
    key = PurePosixPath(url.removeprefix(SCHEME))
    with tempfile.TemporaryDirectory(prefix="mlops-drift-") as folder:
        copy = Path(folder, *key.parts[-2:])  # the file and its folder: `date=YYYY-MM-DD` in a dataset
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            s3, local = _filesystem(), pafs.LocalFileSystem()
            pafs.copy_files(str(key), str(copy), source_filesystem=s3, destination_filesystem=local)
        except OSError as error:
            raise DataValidationError(url, [f"cannot be read: {error}"]) from None
        try:
            return read(copy)
        except DataValidationError as error:
            problems = [problem.replace(str(copy), url) for problem in error.problems]
            raise DataValidationError(url, problems) from None
