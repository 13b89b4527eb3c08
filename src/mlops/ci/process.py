"""The one way the CI edge runs a command: output captured, a failure raised with the command's last
words, never a traceback of subprocess internals. Standard library only (see mlops.ci)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

TIMEOUT = 300  # seconds: a git push, a `gh api` page, `cml check create`, `dvc pull` of a small set


class CommandError(Exception):
    """A command that could not start, timed out or exited non-zero; the message says which and why."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode  # None: it never ran to an exit (not found, timed out)


def run(
    command: Sequence[str | Path],
    *,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = TIMEOUT,
    output: Path | None = None,
) -> str:
    """The command's standard output; CommandError naming the command (its first words) on failure.

    Only the first five words are named: later ones may be a payload or a file the reader need not see.
    With `output`, the standard output goes to that file byte for byte (a registry's manifest, whose
    digest is of its exact bytes) and "" is returned.
    """
    words = [str(word) for word in command]
    name = " ".join(words[:5])
    try:
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(output.open("wb")) if output else subprocess.PIPE
            result = subprocess.run(
                words, input=stdin, env=env, cwd=cwd, stdout=sink, stderr=subprocess.PIPE, text=True,
                timeout=timeout, check=False,
            )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CommandError(f"{name}: {error}") from None
    if result.returncode != 0:
        detail = (result.stderr.strip() or (result.stdout or "").strip()).splitlines()
        last = detail[-1] if detail else f"exit {result.returncode}"
        raise CommandError(f"{name}: {last}", result.returncode)
    return result.stdout or ""
