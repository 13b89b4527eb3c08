"""Write one benchmark's section into docs/performance.md, replacing the earlier run's."""

from __future__ import annotations

import re
from pathlib import Path


def replace_section(path: Path, heading: str, section: str) -> None:
    """Replace the section under `heading` (up to the next `## `) with `section`, or append it."""
    text = path.read_text() if path.exists() else "# Performance\n\n"
    pattern = re.compile(rf"{re.escape(heading)}\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section.rstrip("\n") + "\n", text) if pattern.search(text) else text + "\n" + section
    path.write_text(text)
