"""report.html: self-contained (no network at all), and it opens in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.project_task import project_task
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
# Per task, report.html's figures, each base beside head: binary ROC, precision-recall, calibration,
# confusion matrix and importance; multi-class confusion matrix and importance; regression
# residuals and importance.
FIGURES = {"binary": 5, "multiclass": 2, "regression": 2}


def _faster_learning(params: dict) -> dict:
    params["train"]["hist_gradient_boosting"]["learning_rate"] = 0.1
    return params


@pytest.fixture
def html(repo: Path) -> Path:
    edit_yaml(repo / "params.yaml", _faster_learning)
    commit(repo, "faster learning rate")
    code, _, log = report(repo)
    assert code == 0, log
    return repo / "report" / "report.html"


def test_html_is_self_contained(html: Path) -> None:
    text = html.read_text()
    assert "<script" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(http" not in text
    figures = FIGURES[project_task(html.parents[1])]
    assert text.count("<svg") == figures
    assert text.count("base main") >= figures and "head" in text
    assert "train.hist_gradient_boosting.learning_rate" in text


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
    assert dom.stdout.count("<svg") == FIGURES[project_task(html.parents[1])]
