"""Which of a running server's processes serve HTTP, and what each has loaded.

uvicorn picks httptools and uvloop only when it can import them and says nothing either way, so a
check that the server runs on them reads the worker process's /proc/PID/maps: a package is used by
that process only if its compiled extension is mapped there.
"""

from __future__ import annotations

from pathlib import PurePosixPath

WORKER_MODULE = "_bentoml_impl.worker.service"  # BentoML runs each HTTP worker as `python -m` of this
FAST_HTTP = frozenset({"httptools", "uvloop"})  # uvicorn's C parser and event loop (the serving group)


def extension_packages(maps: str) -> set[str]:
    """The installed packages (the folder under site-packages) whose compiled extensions, `.so`
    files, appear in `maps`, the text of a process's /proc/PID/maps."""
    found: set[str] = set()
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6:
            continue  # an anonymous mapping
        path = PurePosixPath(fields[5])
        if ".so" in path.name and "site-packages" in path.parts[:-1]:
            below = path.parts[len(path.parts) - path.parts[::-1].index("site-packages") :]
            found.add(below[0])
    return found
