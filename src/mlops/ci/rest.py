"""GitHub's REST API through `gh api`: the same requests reach github.com in a workflow (GH_TOKEN) and
the tests' fake on 127.0.0.1 (GH_HOST, GH_ENTERPRISE_TOKEN, SSL_CERT_FILE). Standard library only.

REST only, no `gh issue`/`gh pr` subcommands: those speak GraphQL, whose queries change between gh
releases, while these calls mean the same to every gh version and to GitHub's documented API.
"""

from __future__ import annotations

import json
from typing import Any

from mlops.ci.process import CommandError, run

TIMEOUT = 120  # seconds for one request (all pages of a listing)


class GitHubError(CommandError):
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
        return run(command, stdin=stdin, timeout=TIMEOUT)
    except CommandError as error:
        raise GitHubError(str(error)) from None
