"""docs/drift.md and the README's "Monitoring" block, run as written in a fresh clone: `make drift`
prints the lines the doc shows and exits as the README says, the command underneath writes the
documented reports, the service's log is checked within a window, and `make ship-log` ships the
log's closed files as a new version of production/, committed and pushed to origin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlops.project import DRIFT_DIR
from tests.conftest import PATHS, run
from tests.docs.blocks import REPO, Outcome, Reader, doc_block
from tests.served_log import served_log

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
DRIFT = "docs/drift.md"
REPORTS = ("drift.json", "drift.md", "drift.html", "issue.json")


def shown_output(doc: str, test: str) -> list[str]:
    """The printed output a doc shows in the plain block right after the block `test` runs."""
    text = (REPO / doc).read_text()
    after = text[text.index(f"::{test} -->") :]
    return re.search(r"```\n\n```\n(.*?)\n```", after, re.S).group(1).splitlines()  # type: ignore[union-attr]


def assert_shipped(clone: Path, outcome: Outcome, files: list[Path]) -> None:
    """The closed files (all but the newest, still open) are in production/ (as day files named after
    them), committed and pushed."""
    assert outcome.code == 0, outcome.output
    shipped = {p.stem for p in (clone / "production" / "inference-log").glob("date=*/*.parquet")}
    assert set(p.stem for p in files[:-1]) <= shipped and files[-1].stem not in shipped
    subject = run(["git", "log", "-1", "--format=%s", "origin/main"], cwd=clone).stdout
    assert subject.startswith("production data:") and "inference-log file(s)" in subject
    assert (
        run(["git", "rev-parse", "HEAD"], cwd=clone).stdout
        == run(["git", "ls-remote", "origin", "refs/heads/main"], cwd=clone).stdout.split()[0] + "\n"
    )


@pytest.fixture(scope="module")
def make_drift(trained: Reader) -> Outcome:
    (line,) = doc_block(DRIFT, "test_make_drift")
    return trained.run(line)


def test_make_drift(make_drift: Outcome, clone: Path) -> None:
    printed = [line for line in make_drift.stdout.splitlines() if line.startswith("production/")]
    assert printed == shown_output(DRIFT, "test_make_drift")
    assert make_drift.code == 2 and "drift] Error 1" in make_drift.stderr  # README: make exits 2
    for batch in ("2025-01-stable", "2025-02-drifted"):
        for report in REPORTS:
            assert (clone / DRIFT_DIR / batch / report).is_file(), (batch, report)


def test_the_command_underneath(make_drift: Outcome, trained: Reader, clone: Path) -> None:
    (line,) = doc_block(DRIFT, "test_the_command_underneath")
    outcome = trained.run(line)
    assert outcome.code == 1, outcome.output  # the drifted batch is in production/: drift
    for report in REPORTS:
        assert (clone / DRIFT_DIR / report).is_file(), report
    assert json.loads((clone / DRIFT_DIR / "drift.json").read_text())["status"] == "drift"


def test_make_ship_log(make_drift: Outcome, trained: Reader, clone: Path, tmp_path: Path) -> None:
    (line,) = doc_block(DRIFT, "test_make_ship_log")
    log = tmp_path / "inference"
    files = served_log(log, clone / "production" / "2025-01-stable.csv", clone / PATHS.schema)
    assert len(files) >= 3
    assert "LOG=/var/log/mlops/inference" in line  # where deploy/ mounts the log; here a folder of the test
    assert_shipped(clone, trained.run(line.replace("/var/log/mlops/inference", str(log))), files)


def test_monitoring(make_drift: Outcome, trained: Reader, clone: Path, tmp_path: Path) -> None:
    drift, window, ship = doc_block("README.md", "test_monitoring")
    again = trained.run(drift)
    assert again.code == 2, again.output  # README: "make exits 2 when one drifted"
    assert [line for line in again.stdout.splitlines() if line.startswith("production/")] == shown_output(
        DRIFT, "test_make_drift"
    )

    log = clone / "inference-log"  # where `make serve` writes it
    files = served_log(log, clone / "production" / "2025-01-stable.csv", clone / PATHS.schema)
    checked = trained.run(window)
    assert checked.code == 0, checked.output  # 1,000 recent rows like the training data: no drift
    assert "No drift" in checked.output and f"{DRIFT_DIR / 'inference-log' / 'drift.md'}" in checked.output
    seen = json.loads((clone / DRIFT_DIR / "inference-log" / "drift.json").read_text())
    assert (seen["status"], seen["current_rows"]) == ("no_drift", 1000) and seen["window"]["since"]

    outside = tmp_path / "inference"
    files = served_log(outside, clone / "production" / "2025-02-drifted.csv", clone / PATHS.schema)
    assert_shipped(clone, trained.run(ship.replace("/var/log/mlops/inference", str(outside))), files)
