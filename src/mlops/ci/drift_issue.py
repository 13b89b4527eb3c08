"""Keep ONE labelled issue of the bot's own in step with the scheduled drift check's verdict.

    python3 -m mlops.ci.drift_issue --code CODE --report DIR --repo OWNER/NAME [--author LOGIN]

CODE is the exit code of `mlops drift` (from `mlops drift-check`), DIR its output folder
(issue.json: label, title, body, closing comment; drift.json: the verdict). The bot's issue is an
open issue with the label, written by `--author` (the workflow token's user, `github-actions[bot]`
by default) AND ending with the hidden marker this script signs every body with: the rule the pull
request's comment follows (`mlops.github.written_by_bot`). Anyone can label an issue `drift` or
quote the marker; such an issue is never edited, commented on or closed. On drift (1) the bot's
issue gets the new body, or one is opened (the label created first when missing); on no drift (0)
the bot's open issues are closed with the closing comment; on insufficient data (3) or an error of
the check (2) nothing changes (mlops.errors.Exit). An unreadable or stale report exits 2. Requests go
through `gh api` (GH_TOKEN, GH_REPO unused: --repo says it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mlops.ci.rest import GitHubError, api, api_list, exists
from mlops.errors import Exit
from mlops.github import BOT_LOGIN, DRIFT_MARKER, signed, written_by_bot

NO_DRIFT, DRIFT, INSUFFICIENT = (str(code.value) for code in (Exit.OK, Exit.VERDICT, Exit.TOO_LITTLE_DATA))
LABEL_STYLE = {"color": "D93F0B", "description": "data drift found by the scheduled check"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.code not in (NO_DRIFT, DRIFT):
        why = (
            "insufficient data"
            if args.code == INSUFFICIENT
            else f"the check did not give a verdict ({args.code})"
        )
        print(f"drift issue left as it is: {why}")
        return Exit.OK
    try:
        issue = _read_issue(args.report, drifted=args.code == DRIFT)
        print(keep_in_step(args.repo, issue, drifted=args.code == DRIFT, author=args.author))
    except (ValueError, GitHubError) as error:
        print(f"::error::{error}")
        return Exit.ERROR
    return Exit.OK


def keep_in_step(repo: str, issue: dict[str, str], drifted: bool, author: str = BOT_LOGIN) -> str:
    """Open, update or close the bot's labelled issue; says what it did."""
    label, body = issue["label"], signed(issue["body"], DRIFT_MARKER)
    open_issues = bots_open_issues(repo, label, author)
    if drifted and open_issues:
        number = open_issues[0]["number"]
        api("PATCH", f"repos/{repo}/issues/{number}", {"title": issue["title"], "body": body})
        return f"drift: updated issue #{number}"
    if drifted:
        if not exists(f"repos/{repo}/labels/{quote(label, safe='')}"):
            api("POST", f"repos/{repo}/labels", {"name": label, **LABEL_STYLE})
        payload = {"title": issue["title"], "body": body, "labels": [label]}
        return f"drift: opened issue #{api('POST', f'repos/{repo}/issues', payload)['number']}"
    for open_issue in open_issues:
        number = open_issue["number"]
        api("POST", f"repos/{repo}/issues/{number}/comments", {"body": issue["closing_comment"]})
        api("PATCH", f"repos/{repo}/issues/{number}", {"state": "closed", "state_reason": "completed"})
    closed = ", ".join(f"#{i['number']}" for i in open_issues) or "none open"
    return f"no drift: closed {closed}"


def bots_open_issues(repo: str, label: str, author: str) -> list[dict[str, Any]]:
    """The open issues with `label` that the bot wrote, oldest first; pull requests left out."""
    listed = api_list(f"repos/{repo}/issues?labels={quote(label)}&state=open")
    own = (i for i in listed if "pull_request" not in i and written_by_bot(i, author, DRIFT_MARKER))
    return sorted(own, key=lambda i: i["number"])


def _read_issue(folder: Path, drifted: bool) -> dict[str, str]:
    """issue.json, checked against drift.json's verdict so that a stale folder cannot act."""
    try:
        issue: dict[str, Any] = json.loads((folder / "issue.json").read_text(encoding="utf-8"))
        status = json.loads((folder / "drift.json").read_text(encoding="utf-8"))["status"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{folder}: cannot read issue.json and drift.json's status: {error}") from None
    expected = "drift" if drifted else "no_drift"
    if status != expected:
        raise ValueError(f"{folder}/drift.json: status {status!r}, expected {expected!r} for this exit code")
    missing = [key for key in ("label", "title", "body", "closing_comment") if not issue.get(key)]
    if missing:
        raise ValueError(f"{folder}/issue.json: missing {', '.join(missing)}")
    return issue


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m mlops.ci.drift_issue", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--code", required=True, help="exit code of mlops drift (0, 1, 2, 3) or 'skipped'")
    parser.add_argument("--report", type=Path, required=True, help="mlops drift's output folder")
    parser.add_argument("--repo", required=True, help="OWNER/NAME of the repository")
    parser.add_argument("--author", default=BOT_LOGIN, help="login of the token's user")
    return parser


if __name__ == "__main__":
    sys.exit(main())
