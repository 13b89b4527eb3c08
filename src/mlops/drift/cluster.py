"""The drift check's map on a Dask cluster (dask.distributed): one task per data file, merges in pairs
on the workers, one merged part back.

Each task runs mlops.drift.stream.file_part, the function the single-machine path runs. The workers
also list the files and read them, with their own credentials (mlops.drift.remote), so the machine
that asks, a CI runner say, needs the scheduler's address and no storage secret; it sends the column
plans and the model once to each worker and receives one bounded part, whatever the number of files.
Every worker runs this package at the asking machine's version (docs/scale.md).

Only this module imports Dask; `mlops drift` imports it only when given a scheduler.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from distributed import Client, Future, KilledWorker

from mlops.drift.remote import is_url
from mlops.drift.stream import Job, Map, Part, Source, file_part, merge_parts, source_files
from mlops.errors import MlopsError

CONNECT_SECONDS = 10  # to reach the scheduler: an address that does not answer fails, not hangs
WORKER_SECONDS = 60  # for a first worker to join (a cluster may be scaling up from zero)


class ClusterError(MlopsError):
    """The Dask cluster cannot be reached, has no worker, or lost the workers running the check."""


def cluster_map(scheduler: str) -> Map:
    """The map for mlops.drift.stream.stream_check, run on the cluster at `scheduler` (tcp://HOST:PORT)."""
    return partial(cluster_part, scheduler=scheduler)


def cluster_part(current: Source, job: Job, scheduler: str) -> Part | None:
    """The merged part of every data file of `current`, computed on the cluster at `scheduler`.

    A local `current` must be a path the workers see (a shared volume); it is made absolute here,
    as their working folder is not this one's.
    """
    source = current if is_url(current) else Path(current).resolve()
    with _client(scheduler) as client:
        try:
            files = client.submit(source_files, source, job.window, pure=False).result()
            shared = client.scatter(job, broadcast=True)
            parts = client.map(file_part, files, job=shared, pure=False)
            return _merged(client, parts)
        except KilledWorker as error:
            raise ClusterError(f"the Dask cluster at '{scheduler}' lost its workers: {error}") from None


def _merged(client: Client, parts: list[Future]) -> Part | None:
    """Merges in pairs on the workers until one part is left: log2(files) rounds, one part sent back."""
    while len(parts) > 1:
        pairs = zip(parts[::2], parts[1::2], strict=False)
        merged = [client.submit(merge_parts, pair, pure=False) for pair in pairs]
        parts = merged + parts[2 * len(merged) :]
    return parts[0].result() if parts else None


@contextmanager
def _client(scheduler: str) -> Iterator[Client]:
    """A client of the scheduler with at least one worker, or a ClusterError within the timeouts."""
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(
            f"cannot reach the Dask scheduler at '{scheduler}' within {CONNECT_SECONDS} s: {error}"
        ) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_SECONDS)
        except TimeoutError:
            raise ClusterError(
                f"the Dask scheduler at '{scheduler}' has no worker after {WORKER_SECONDS} s"
            ) from None
        yield client
