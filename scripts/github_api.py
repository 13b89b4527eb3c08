"""GitHub's REST API through `gh api`, for the workflow scripts: the same requests reach github.com in a
workflow (GH_TOKEN) and the tests' fake on 127.0.0.1 (GH_HOST, GH_ENTERPRISE_TOKEN, SSL_CERT_FILE).

REST only, no `gh issue`/`gh pr` subcommands: those speak GraphQL, whose queries change between gh
releases, while these calls mean the same to every gh version and to GitHub's documented API.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from typing import Any


class GitHubError(Exception):
    """A request GitHub refused, or gh could not make; the message says which and why."""


def api(method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """One request; the decoded JSON answer."""
    command = ["gh", "api", "--method", method, path]
    if payload is not None:
        command += ["--input", "-"]
    return json.loads(_gh(command, json.dumps(payload) if payload is not None else None) or "null")


def api_list(path: str) -> list[Any]:
    """Every item of a listing, all pages (gh follows GitHub's `Link` headers)."""
    output = _gh(["gh", "api", "--paginate", path], None).strip()
    decoder, position, items = json.JSONDecoder(), 0, []
    while position < len(output):  # the pages arrive as JSON arrays one after another
        page, end = decoder.raw_decode(output, position)
        items.extend(page)
        position = len(output) - len(output[end:].lstrip())
    return items


def exists(path: str) -> bool:
    """Whether GET `path` answers 200 (False on 404; any other failure raises)."""
    try:
        _gh(["gh", "api", path], None)
    except GitHubError as error:
        if "(HTTP 404)" in str(error):
            return False
        raise
    return True


def _gh(command: list[str], stdin: str | None) -> str:
    try:
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitHubError(f"{' '.join(command[:5])}: {error}") from None
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise GitHubError(f"{' '.join(command[:5])}: {detail[-1] if detail else f'exit {result.returncode}'}")
    return result.stdout


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
