"""What GitHub accepts, in one place: the size of a comment or issue body, and cutting text to fit it.

Standard library only and without side effects: the pull-request comment workflow imports it with
the runner's own Python and installs nothing beside its write token.
"""

from __future__ import annotations

import re

COMMENT_LIMIT = 65_536  # GitHub refuses a comment or issue body longer than this (characters)
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
