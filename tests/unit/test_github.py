"""mlops.github.fit: GitHub's body limit, and cutting a markdown body to it."""

from __future__ import annotations

import pytest

from mlops.github import COMMENT_LIMIT, fit, utf8_size

NOTE = "_cut: see the artifact_"


def test_text_that_fits_is_returned_unchanged() -> None:
    text = "é" * (COMMENT_LIMIT // 2)  # exactly the limit in UTF-8 bytes
    assert utf8_size(text) == COMMENT_LIMIT
    assert fit(text, NOTE) is text


@pytest.mark.parametrize("limit", [1_000, 5_000, COMMENT_LIMIT])
def test_a_long_text_is_cut_at_a_line_end_under_the_limit_with_the_note(limit: int) -> None:
    text = "".join(f"row {i} — ünïcode\n" for i in range(20_000))
    cut = fit(text, NOTE, limit)
    assert utf8_size(cut) <= limit and cut.endswith("\n\n" + NOTE)
    kept = cut.removesuffix("\n\n" + NOTE)
    assert text.startswith(kept + "\n") and utf8_size(kept) > limit - 300


def test_an_open_chart_and_details_are_closed_before_the_note() -> None:
    text = "verdict\n\n<details><summary>Charts</summary>\n\n```mermaid\n" + "line [1, 2]\n" * 5_000
    cut = fit(text, NOTE, 2_000)
    assert cut.endswith("\n```\n</details>\n\n" + NOTE)
    assert cut.count("```") == 2


def test_a_closed_block_gets_no_extra_fence() -> None:
    text = "```\ncode\n```\n" + "plain line\n" * 1_000
    cut = fit(text, NOTE, 1_000)
    assert cut.count("```") == 2 and "</details>" not in cut


def test_a_note_with_no_room_left_is_an_error() -> None:
    with pytest.raises(ValueError, match="no room"):
        fit("x" * 500, "n" * 300, 400)
