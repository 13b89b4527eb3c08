"""mlops report: compare this tree's results with a base revision's; write report.md, report.html and
verdict.json (the gate's verdict for the pull request's check run).

Every path comes from dvc.yaml (`mlops.project`); `--base` defaults to origin/main, else main.
Exits 1 when the quality gate fails, after writing the report so the comment explains the failure,
and 2 on an error (unknown base, no results, unreadable files).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from mlops.errors import Exit, MlopsError
from mlops.project import REPORT_DIR, default_base, load_project, shown

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", help="git revision to compare with (default: origin/main, else main)")
    parser.add_argument(
        "--out", type=Path, help=f"folder for report.md and report.html (default: {REPORT_DIR})"
    )
    parser.add_argument("--latency-calls", type=int, default=300, help="single-row predictions to time")
    parser.add_argument("--run-url", help="workflow run to link (default: from GitHub Actions' environment)")
    parser.add_argument("--artifact-name", help="name of the artifact holding report.html, to mention")


def run(args: argparse.Namespace) -> int:
    from mlops.artifacts import file_reader
    from mlops.io import write_text
    from mlops.model_card import render_html as render_card
    from mlops.report.compare import compare
    from mlops.report.governance import governing_gate
    from mlops.report.html import render_html
    from mlops.report.latency import measure_model
    from mlops.report.markdown import Links, render_markdown
    from mlops.report.results import git_reader, load_results
    from mlops.report.verdict import VERDICT_FILE, Verdict
    from mlops.spec.params import load_params

    project = load_project()
    base_revision = args.base or default_base(project.root)
    head = load_results(file_reader(project.root), project, "working tree")
    if head is None:
        raise MlopsError(
            f"{project.metrics}: no results in the working tree; run the pipeline first (make run)"
        )
    base = load_results(git_reader(project.root, base_revision), project, base_revision)
    if base is None:
        log.warning("%s has no %s: the report shows the head alone", base_revision, project.metrics)
    stats = measure_model(project.absolute(project.model), args.latency_calls)
    load_params(project.absolute(project.params))  # the head's params must be valid; the base's gate judges
    governance = governing_gate(head, base, base_revision)
    if governance.changes:
        log.warning("governance change, for the owners in CODEOWNERS: %s", "; ".join(governance.changes))
    comparison = compare(head, base, governance.gate, base_revision, stats, governance)
    links = Links(run_url=args.run_url or _github_run_url(), artifact_name=args.artifact_name)
    out = args.out or project.absolute(REPORT_DIR)
    write_text(out / "report.md", render_markdown(comparison, links))
    write_text(out / "report.html", render_html(comparison))
    write_text(out / VERDICT_FILE, Verdict(comparison.gate.passed, comparison.gate.reason).to_json())
    if head.card is not None:
        write_text(out / "card.html", render_card(head.card, "Model card (head)"))
    log.info("report written to %s (and report.html beside it)", shown(out / "report.md"))
    if not comparison.gate.passed:
        log.error("quality gate failed: %s", comparison.gate.reason)
        return Exit.VERDICT
    log.info("quality gate passed: %s", comparison.gate.reason)
    return Exit.OK


def _github_run_url() -> str | None:
    """The current GitHub Actions run's page, from the variables every runner sets."""
    names = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    server, repo, run_id = (os.environ.get(name) for name in names)
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None
