"""What GitHub accepts and what the bot may touch, in one place: the size of a comment or issue body
and of a check run's summary, cutting text to fit them, and the one rule for finding what the bot
itself wrote.

Standard library only and without side effects: the pull-request comment and drift issue workflows
import it with the runner's own Python and install nothing beside their write token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

COMMENT_LIMIT = 65_536  # GitHub refuses a comment or issue body longer than this (characters)
CHECK_SUMMARY_LIMIT = 65_535  # a check run's output summary, GitHub's limit (characters)
BOT_LOGIN = "github-actions[bot]"  # the user of a workflow's GITHUB_TOKEN, who posts both
REPORT_MARKER = "<!-- mlops: model report -->"  # ends the pull request's report comment
DRIFT_MARKER = "<!-- mlops: drift issue -->"  # ends the body of the scheduled check's drift issue
_FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)


def utf8_size(text: str) -> int:
    """The size GitHub's limit is checked against here: UTF-8 bytes, never fewer than its own count."""
    return len(text.encode("utf-8"))


def fit(text: str, note: str, limit: int = COMMENT_LIMIT) -> str:
    """`text` unchanged if it fits in `limit`, else cut at a line end, open blocks closed, `note` added.

    A code fence (a Mermaid chart) or a `<details>` left open by the cut is closed, so the note shows.
    """
    if utf8_size(text) <= limit:
        return text
    room = limit - utf8_size(note) - 200  # 200: the closing fence and tags added below
    if room <= 0:
        raise ValueError(f"no room for any text in {limit} bytes beside a {utf8_size(note)}-byte note")
    cut = text.encode("utf-8")[:room].decode("utf-8", "ignore")
    cut = cut.rpartition("\n")[0] or cut
    closing = "\n```" if len(_FENCE.findall(cut)) % 2 else ""
    closing += "\n</details>" * max(0, cut.count("<details") - cut.count("</details>"))
    return f"{cut}{closing}\n\n{note}"


def signed(body: str, marker: str) -> str:
    """`body` ending with the hidden `marker` on a line of its own, as the bot posts it."""
    return f"{body.rstrip()}\n\n{marker}\n"


def written_by_bot(item: Mapping[str, Any], author: str, marker: str) -> bool:
    """Whether an issue or comment (as GitHub's REST API returns it) is the bot's own, to edit or close.

    Both must hold: written by `author` AND carrying `marker`. Neither alone will do: anyone can
    label an issue `drift` or paste the marker into a comment of their own, and the bot's login
    writes other things too (the closing comment, another workflow's posts). A deleted account's
    items have no user, so they are never the bot's.
    """
    login = (item.get("user") or {}).get("login")
    return login == author and marker in (item.get("body") or "")
