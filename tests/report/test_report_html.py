"""report.html: self-contained (no network at all), and it opens in a real headless Chromium; with the
drift report and the model card, it shares one style sheet and loads nothing in the browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops.drift import check_drift
from mlops.drift.render import to_html as drift_html
from mlops.model_card import render_html
from mlops.model_card_page import PAGE_POLICY, STYLE
from mlops.spec.params import DriftParams
from tests.drift.conftest import DRIFT_DEFAULTS, SYNTHETIC_SCHEMA, synthetic
from tests.project_task import project_task
from tests.report.conftest import commit, edit_yaml, report
from tests.unit.test_card_page import parsed

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


@pytest.fixture(scope="module")
def html(shared_repo: Path) -> Path:
    """report.html of a branch that changed a param, written once: the tests below only read it."""
    repo = shared_repo
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


def browse(page: Path, profile: Path) -> tuple[set[str], list[str], str]:
    """What Chromium fetched for `page` (its own background traffic left out), its console lines and
    the page's DOM. A page's loads are the requests keyed to its file:// origin in Chromium's net log."""
    assert CHROMIUM is not None
    netlog = profile.with_suffix(".netlog.json")
    rendered = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
         f"--log-net-log={netlog}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    fetched = {
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start and "file://" in event["params"].get("network_isolation_key", "")
    }
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    return fetched, console, rendered.stdout


def drift_page(folder: Path) -> Path:
    """drift.html of a synthetic check where monthly_charges moved."""
    reference = synthetic(SYNTHETIC_SCHEMA, 3_000, 1)
    current = synthetic(SYNTHETIC_SCHEMA, 1_000, 2, charges_shift_sd=0.5)
    result = check_drift(reference, current, SYNTHETIC_SCHEMA, DriftParams(**DRIFT_DEFAULTS))
    page = folder / "drift.html"
    page.write_text(drift_html(result), encoding="utf-8")
    return page


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_the_three_pages_share_one_style_sheet_and_load_nothing(html: Path, tmp_path: Path) -> None:
    """report.html, the card beside it and drift.html: each carries page.css, allowed by its hash in the
    same policy; in Chromium each applies it (a blocked style is a console error), fetches nothing and
    shows its heading."""
    pages = {
        html: "Quality gate passed",
        html.with_name("card.html"): "Model card",
        drift_page(tmp_path): "Drift detected",
    }
    for page, heading in pages.items():
        text = page.read_text()
        policies = [attrs["content"] for tag, attrs in parsed(text).tags if attrs.get("http-equiv")]
        assert parsed(text).styles == [STYLE] and policies == [PAGE_POLICY], page.name
        fetched, console, dom = browse(page, tmp_path / f"profile-{page.stem}")
        assert fetched == set() and console == [], (page.name, fetched, console)
        assert heading in dom, page.name


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_a_page_that_loads_or_styles_against_the_policy_is_caught(tmp_path: Path) -> None:
    """The checks above can fail: an image from the network is fetched, an inline style is refused."""
    loads = tmp_path / "loads.html"
    loads.write_text('<!doctype html><body><img src="http://127.0.0.1:9/pixel.png"></body>')
    fetched, _, _ = browse(loads, tmp_path / "profile-loads")
    assert fetched == {"http://127.0.0.1:9/pixel.png"}
    styled = tmp_path / "styled.html"
    styled.write_text(render_html("# A card", "card").replace("<h1>", '<h1 style="color: red">', 1))
    _, console, _ = browse(styled, tmp_path / "profile-styled")
    assert any("Content Security Policy" in line for line in console), console
