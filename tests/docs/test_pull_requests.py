"""docs/pull-requests.md's "Try it locally first", run as written in a fresh clone on a branch: each
`make report` writes report/report.md and report.html and exits 0 when the gate passes; with results
below the gate it still writes both and make exits 2 after `make: *** [...] Error 1`, as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.project import REPORT_DIR
from tests.conftest import PATHS, run
from tests.docs.blocks import Reader, doc_block

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
DOC = "docs/pull-requests.md"


def fresh_report(reader: Reader, clone: Path, line: str) -> tuple[int, str, str]:
    """Run `line` with no report left from before; its exit code, output and the report's text."""
    for name in ("report.md", "report.html"):
        (clone / REPORT_DIR / name).unlink(missing_ok=True)
    outcome = reader.run(line)
    assert (clone / REPORT_DIR / "report.html").is_file(), outcome.output
    return outcome.code, outcome.output, (clone / REPORT_DIR / "report.md").read_text()


def test_make_report(trained: Reader, clone: Path) -> None:
    against_origin, against_main = doc_block(DOC, "test_make_report")
    run(["git", "switch", "-q", "experiment"], cwd=clone)  # a branch, as a pull request has
    for line in (against_origin, against_main):
        code, output, report = fresh_report(trained, clone, line)
        assert code == 0, output
        assert "quality gate passed" in output and f"report written to {REPORT_DIR / 'report.md'}" in output
        assert "✅ Quality gate passed" in report.splitlines()[0]

    metrics = clone / PATHS.metrics
    worse = {**json.loads(metrics.read_text()), "roc_auc": 0.5}
    metrics.write_text(json.dumps(worse))  # a change that made the model useless
    code, output, report = fresh_report(trained, clone, against_origin)
    assert code == 2 and "report] Error 1" in output, output
    assert "❌ Quality gate failed" in report.splitlines()[0]
    run(["git", "checkout", "-q", "--", PATHS.metrics], cwd=clone)
