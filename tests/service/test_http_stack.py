"""The HTTP server under `bentoml serve` parses with httptools on uvloop's event loop, not with the
pure-Python h11 on asyncio's loop uvicorn falls back to when they are missing (docs/serving.md)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.service.conftest import Server
from tests.service.processes import FAST_HTTP, WORKER_MODULE, extension_packages

MAPS = """\
1000-1fff r--p 0 08:01 1 /usr/bin/python3.11
7f000000-7f021000 rw-p 00000000 00:00 0
2000-2fff r-xp 0 08:01 2 /v/site-packages/uvloop/loop.cpython-311-x86_64-linux-gnu.so
3000-3fff r--p 0 08:01 3 /v/site-packages/numpy.libs/libgfortran-040039e1.so.5.0.0
4000-4fff r--p 0 08:01 4 /v/site-packages/httptools/parser/parser.cpython-311-x86_64-linux-gnu.so (deleted)
5000-5fff r--p 0 08:01 5 /usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so
6000-6fff r--p 0 08:01 6 /v/site-packages/h11/__init__.py
"""


def test_extension_packages_are_read_from_the_maps_of_a_process() -> None:
    assert extension_packages(MAPS) == {"uvloop", "numpy.libs", "httptools"}
    assert extension_packages("") == set()


def test_uvicorn_picks_httptools_and_uvloop_in_this_environment() -> None:
    """uvicorn's documented `auto` choices (BentoML passes neither `http` nor `loop` on Linux)."""
    import uvloop
    from uvicorn.loops.auto import auto_loop_factory
    from uvicorn.protocols.http.auto import AutoHTTPProtocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert AutoHTTPProtocol is HttpToolsProtocol
    loop = auto_loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop), type(loop)
    finally:
        loop.close()


@pytest.mark.slow
def test_the_served_workers_run_on_httptools_and_uvloop(server: Server) -> None:
    """Each worker of the real server has both packages' extensions mapped: uvicorn imports them
    only to use them, and imports neither when BentoML asks for h11 or asyncio."""
    workers = [
        child
        for child in psutil.Process(server.process.pid).children(recursive=True)
        if WORKER_MODULE in child.cmdline()
    ]
    assert workers, server.output()
    for worker in workers:
        loaded = extension_packages(Path(f"/proc/{worker.pid}/maps").read_text())
        assert loaded >= FAST_HTTP, f"worker {worker.pid} lacks {sorted(FAST_HTTP - loaded)}"
