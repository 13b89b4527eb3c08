"""mlops drift: compare current data (batches or the inference log) with the training reference.

Exit codes: 0 no drift, 1 drift, 2 error (missing, empty, unreadable or schema-breaking data, bad
params), 3 insufficient data (fewer current rows than drift.min_rows).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

from mlops.drift import DriftResult, check_drift
from mlops.drift.issue import LABEL, closing_comment, issue_text
from mlops.drift.render import to_html, to_markdown, verdict_line
from mlops.drift.sources import parse_time, read_current, read_file
from mlops.errors import MlopsError
from mlops.io import write_json, write_text
from mlops.params import load_params
from mlops.schema import load_schema

log = logging.getLogger(__name__)
EXIT_CODES = {"no_drift": 0, "drift": 1, "insufficient_data": 3}
EXIT_ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference", type=Path, required=True, help="reference data (Parquet or CSV)")
    parser.add_argument(
        "--current", type=Path, required=True, help="a batch file or a folder of *.csv, *.parquet, *.jsonl"
    )
    parser.add_argument("--schema", type=Path, required=True, help="schema.yaml")
    parser.add_argument("--params", type=Path, required=True, help="params.yaml (its drift section)")
    parser.add_argument("--out", type=Path, required=True, help="folder for drift.json, drift.md, drift.html")
    parser.add_argument("--since", type=str, help="keep rows at or after: ISO 8601 time or a span (7d, 24h)")
    parser.add_argument("--until", type=str, help="keep rows before: ISO 8601 time or a span back from now")
    parser.add_argument("--run-url", default="", help="link to the CI run, for the issue text")
    parser.add_argument("--report-url", default="", help="link to the HTML report, for the issue text")


def run(args: argparse.Namespace) -> int:
    try:
        result = _check(args)
    except MlopsError as error:
        log.error("drift check failed (exit %d): %s", EXIT_ERROR, error)
        return EXIT_ERROR
    _write(result, args)
    log.info("%s", verdict_line(result))
    log.info("reports: %s, %s, %s", *(args.out / name for name in ("drift.md", "drift.html", "drift.json")))
    return EXIT_CODES[result.status]


def _check(args: argparse.Namespace) -> DriftResult:
    schema = load_schema(args.schema)
    params = load_params(args.params).drift
    try:
        since, until = (parse_time(t) if t else None for t in (args.since, args.until))
    except ValueError as error:
        raise MlopsError(f"--since/--until: {error}") from None
    reference = read_file(args.reference, schema, params.prediction_column)
    current = read_current(args.current, schema, params.prediction_column, since, until)
    result = check_drift(reference, current, schema, params)
    window = {"since": since, "until": until}
    return replace(result, window={k: None if v is None else v.isoformat() for k, v in window.items()})


def _write(result: DriftResult, args: argparse.Namespace) -> None:
    issue = issue_text(result, args.run_url, args.report_url)
    write_json(args.out / "drift.json", result.to_dict())
    write_text(args.out / "drift.md", to_markdown(result))
    write_text(args.out / "drift.html", to_html(result))
    write_json(
        args.out / "issue.json",
        {
            "label": LABEL,
            "title": issue.title,
            "body": issue.body,
            "closing_comment": closing_comment(result, args.run_url),
        },
    )
