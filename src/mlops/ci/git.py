"""git with a token from the job, the way actions/checkout hands it over. Standard library only."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from mlops.ci.process import run


def git_environment(token_variable: str, *, authorize: bool = True) -> dict[str, str]:
    """The environment for a git command, with the token in `token_variable` taken out of it.

    With `authorize`, the token is handed to git as an HTTP header through git's environment, as
    actions/checkout does: never on a command line, in a remote URL or in a log.
    """
    env = dict(os.environ)
    token = env.pop(token_variable, "")
    if authorize and token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"AUTHORIZATION: basic {basic}",
        )
    return env


def git(*args: str, token_variable: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    """`git ARGS`, authorized by the token in `token_variable` if set; its output (CommandError if not 0)."""
    return run(["git", *args], stdin=stdin, cwd=cwd, env=git_environment(token_variable))
