"""CODEOWNERS names owners for every file that governs the model (the template renders it from the
`owners` answer: tests/template)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOVERNED = ("/params.yaml", "/schema.yaml", "/.github/workflows/", "/deploy/")


def rules(text: str) -> dict[str, list[str]]:
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {parts[0]: parts[1:] for parts in lines}


def test_every_governed_path_has_owners_and_exists() -> None:
    found = rules((REPO / ".github/CODEOWNERS").read_text())
    assert set(GOVERNED) <= set(found)
    for pattern, owners in found.items():
        assert owners and all(owner.startswith("@") for owner in owners), pattern
        assert (REPO / pattern.strip("/")).exists(), f"{pattern} names nothing in the repository"
