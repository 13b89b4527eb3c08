"""The text of the one monitoring issue the scheduled workflow opens, updates or closes."""

from __future__ import annotations

from dataclasses import dataclass

from mlops.drift.check import DriftResult
from mlops.drift.render import to_markdown
from mlops.github import COMMENT_LIMIT

TITLE = "Data drift detected by the scheduled check"
LABEL = "drift"
MAX_BODY = COMMENT_LIMIT - 5_536  # room for the links and "What to do" around the report
RETRAIN = """### What to do
1. Open the HTML report (run artifact `drift-report`): is the model's estimated performance out of its
   range, or did only the inputs move? Look at the drifted columns' distributions.
2. If the change is real and lasting, retrain: collect labelled recent data, update the training data
   (the file named by `data` in `project.yaml`; then `dvc add data && dvc push`), and run the
   `retrain` workflow with data.dvc's new md5: it reruns the pipeline on a branch and opens a pull
   request, which reports the metrics against `main`. See docs/drift.md#retraining.
3. If the change is expected, tune `drift` in `params.yaml` (thresholds, `key_columns`) in a pull request.

This issue is updated by each scheduled run while drift lasts and closed when a run finds none."""


@dataclass(frozen=True)
class IssueText:
    title: str
    body: str


def issue_text(result: DriftResult, run_url: str = "", report_url: str = "") -> IssueText:
    """Title and Markdown body of the drift issue; the title is stable so one issue is kept up to date."""
    links = []
    if run_url:
        links.append(f"[workflow run]({run_url})")
    if report_url:
        links.append(f"[HTML report]({report_url})")
    header = f"Latest check: {' · '.join(links)}\n\n" if links else ""
    report = to_markdown(result)
    if len(report) > MAX_BODY:
        report = report[:MAX_BODY] + "\n\n… (truncated; see the HTML report)\n"
    return IssueText(title=TITLE, body=f"{header}{report}\n{RETRAIN}\n")


def closing_comment(result: DriftResult, run_url: str = "") -> str:
    """The comment left when a later check finds no drift and the issue is closed."""
    where = f" ([run]({run_url}))" if run_url else ""
    return f"The latest check found no drift{where}: {'; '.join(result.reasons)}. Closing."
