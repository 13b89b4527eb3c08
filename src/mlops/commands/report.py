"""mlops report: compare this tree's results with a base revision's; write report.md and report.html.

Exits 1 when the quality gate fails, after writing the report, so the comment explains the failure.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from mlops.card import render_html as render_card
from mlops.errors import MlopsError
from mlops.io import write_text
from mlops.params import load_params
from mlops.report.compare import compare
from mlops.report.governance import governing_gate
from mlops.report.html import render_html
from mlops.report.latency import measure_model
from mlops.report.markdown import Links, render_markdown
from mlops.report.results import ResultPaths, git_reader, load_results, worktree_reader
from mlops.schema import load_schema

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", required=True, help="git revision to compare with, e.g. origin/main")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.md and report.html")
    paths = parser.add_argument_group("result files, relative to the project root (as in dvc.yaml)")
    for name, help_text in [
        ("params", "params.yaml (the gate section and the params to diff)"),
        ("metrics", "headline metrics (JSON)"),
        ("segments", "metrics per segment (JSON)"),
        ("plots-dir", "folder of plot data"),
        ("metadata", "model.json"),
        ("lock", "dvc.lock (the model file's size on the base)"),
        ("data-dvc", "the data's .dvc file (the data version)"),
        ("model", "the head's model file (.skops), measured in-process"),
        ("schema", "schema.yaml (builds the row the latency is measured on; its sensitive features)"),
    ]:
        paths.add_argument(f"--{name}", type=Path, required=True, help=help_text)
    paths.add_argument("--fairness", type=Path, help="between-group gaps per sensitive feature (JSON)")
    paths.add_argument("--card", type=Path, help="the model card (Markdown): diffed, and card.html written")
    parser.add_argument("--latency-calls", type=int, default=300, help="single-row predictions to time")
    parser.add_argument("--run-url", help="workflow run to link (default: from GitHub Actions' environment)")
    parser.add_argument("--artifact-name", help="name of the artifact holding report.html, to mention")


def run(args: argparse.Namespace) -> int:
    root = Path.cwd()
    paths = ResultPaths(
        params=args.params,
        metrics=args.metrics,
        segments=args.segments,
        plots_dir=args.plots_dir,
        metadata=args.metadata,
        lock=args.lock,
        data_dvc=args.data_dvc,
        model=args.model,
        schema=args.schema,
        fairness=args.fairness,
        card=args.card,
    )
    head = load_results(worktree_reader(root), paths, "working tree")
    if head is None:
        raise MlopsError(f"{args.metrics}: no results in the working tree; run the pipeline first (make run)")
    base = load_results(git_reader(root, args.base), paths, args.base)
    if base is None:
        log.warning("%s has no %s: the report shows the head alone", args.base, args.metrics)
    stats = measure_model(args.model, load_schema(args.schema), args.latency_calls)
    load_params(args.params)  # the head's params must be valid, although the base's gate judges it
    governance = governing_gate(head, base, args.base)
    if governance.changes:
        log.warning("governance change, for the owners in CODEOWNERS: %s", "; ".join(governance.changes))
    comparison = compare(head, base, governance.gate, args.base, stats, governance)
    links = Links(run_url=args.run_url or _github_run_url(), artifact_name=args.artifact_name)
    write_text(args.out / "report.md", render_markdown(comparison, links))
    write_text(args.out / "report.html", render_html(comparison))
    if head.card is not None:
        write_text(args.out / "card.html", render_card(head.card, "Model card (head)"))
    log.info("report written to %s (and report.html beside it)", args.out / "report.md")
    if not comparison.gate.passed:
        log.error("quality gate failed: %s", comparison.gate.reason)
        return 1
    log.info("quality gate passed: %s", comparison.gate.reason)
    return 0


def _github_run_url() -> str | None:
    """The current GitHub Actions run's page, from the variables every runner sets."""
    names = ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    server, repo, run_id = (os.environ.get(name) for name in names)
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None
