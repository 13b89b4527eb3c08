"""report.html: self-contained (no network at all), and it opens in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.report.conftest import commit, edit_yaml, report

pytestmark = pytest.mark.timeout(300)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def html(repo: Path) -> Path:
    edit_yaml(repo / "params.yaml", lambda p: p | {"evaluate": p["evaluate"] | {"threshold": 0.4}})
    commit(repo, "lower threshold")
    code, _, log = report(repo)
    assert code == 0, log
    return repo / "report" / "report.html"


def test_html_is_self_contained(html: Path) -> None:
    text = html.read_text()
    assert "<script" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(http" not in text
    # Five figures (ROC, PR, calibration, confusion, importance), each base beside head.
    assert text.count("<svg") == 5
    assert text.count("base main") >= 5 and "head" in text
    assert "evaluate.threshold" in text


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_html_opens_in_headless_chromium(html: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600",
         f"--screenshot={shot}", html.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    dom = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "Quality gate passed" in dom.stdout
    assert dom.stdout.count("<svg") == 5
