"""drift.html renders offline in a real headless Chromium, without console errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from mlops.drift import check_drift
from mlops.drift.render import to_html
from tests.drift.conftest import synthetic

CHROMIUM = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--enable-logging=stderr", "--v=0",
]  # fmt: skip

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"),
    pytest.mark.timeout(120),
]


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)


def test_report_renders_offline_without_console_errors(tmp_path: Path, schema, params):
    reference = synthetic(schema, 3_000, 1).assign(churn=pd.Series(["No", "Yes"] * 1_500, dtype="str"))
    current = synthetic(schema, 1_000, 2, charges_shift_sd=0.5).assign(prediction=["Yes"] * 1_000)
    page = tmp_path / "drift.html"
    page.write_text(to_html(check_drift(reference, current, schema, params)), encoding="utf-8")
    rendered = chromium(page, tmp_path / "profile", "--dump-dom")
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = rendered.stdout
    assert re.search(r'<h1 class="drift">⚠️ Drift detected</h1>', dom)
    assert dom.count("<svg") == 20 and dom.count("<rect") > 20 * 2
    assert '<section id="feature-monthly_charges">' in dom


def test_a_page_with_a_script_error_is_caught(tmp_path: Path):
    """The console check above can fail: a broken page shows up in Chromium's log."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
    rendered = chromium(page, tmp_path / "profile", "--dump-dom")
    assert any(":CONSOLE" in line and "undefinedFunction" in line for line in rendered.stderr.splitlines())
