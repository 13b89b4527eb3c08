#!/usr/bin/env python3
"""The scheduled drift workflow's check: `mlops drift`, its exit code kept for the issue job.

    uv run --frozen python scripts/drift_check.py --current PATH [--since SPAN] [--run-url URL] \\
        [--history FILE] [--reference FILE --schema FILE --params FILE --out DIR]

The reference, schema, params and report folder default to the project's (dvc.yaml, mlops.project).

Writes `code=<exit code>` to $GITHUB_OUTPUT (0 no drift, 1 drift, 3 insufficient data; `skipped` when
--current does not exist, with a warning: a project made from the template starts without production
data) and drift.md to $GITHUB_STEP_SUMMARY, when GitHub Actions sets them. Exits 0 for every verdict
and 2 on an error of the check (`mlops drift` exit 2), which fails the job, so no issue is touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from mlops.cli import main as mlops
from mlops.project import DRIFT_DIR

ERROR = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _check(args)
    except Exception:  # a crash is an error, not a verdict: exit 1 would read as drift found
        traceback.print_exc()
        print(f"::error::the drift check crashed (exit {ERROR}); nothing was recorded", file=sys.stderr)
        return ERROR


def _check(args: argparse.Namespace) -> int:
    """Run `mlops drift`, write the step's outputs and summary; 0 for every verdict, 2 on an error."""
    if not args.current.exists():
        print(
            f"::warning::no current data at '{args.current}': set the repository variable DRIFT_CURRENT "
            "to your production batches or inference log (docs/drift.md); nothing was checked"
        )
        _output("code=skipped")
        return 0
    code = mlops(_drift_command(args))
    _output(f"code={code}")
    report = args.out / "drift.md"
    if report.is_file() and code != ERROR and os.environ.get("GITHUB_STEP_SUMMARY"):
        with Path(os.environ["GITHUB_STEP_SUMMARY"]).open("a", encoding="utf-8") as summary:
            summary.write(report.read_text(encoding="utf-8"))
    return ERROR if code == ERROR else 0


def _drift_command(args: argparse.Namespace) -> list[str]:
    command = ["drift", "--current", str(args.current), "--out", str(args.out)]
    for flag, value in (
        ("--reference", args.reference),
        ("--schema", args.schema),
        ("--params", args.params),
    ):
        if value is not None:
            command += [flag, str(value)]
    if args.since:
        command += ["--since", args.since]
    if args.history:
        command += ["--history", str(args.history)]
    if args.run_url:
        command += ["--run-url", args.run_url, "--report-url", f"{args.run_url}#artifacts"]
    return command


def _output(line: str) -> None:
    """One `name=value` line for the step's outputs (printed too, for a run outside Actions)."""
    print(line)
    if os.environ.get("GITHUB_OUTPUT"):
        with Path(os.environ["GITHUB_OUTPUT"]).open("a", encoding="utf-8") as outputs:
            outputs.write(line + "\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--current", type=Path, required=True, help="a batch file or a folder of them")
    parser.add_argument("--since", default="", help="keep rows at or after this time or span; empty: all")
    parser.add_argument("--run-url", default="", help="the workflow run, linked from the issue")
    parser.add_argument(
        "--history", type=Path, help="earlier checks (mlops.ci.drift_history fetch): OUT/history.jsonl"
    )
    parser.add_argument("--reference", type=Path, help="the training split (default: the project's)")
    parser.add_argument("--schema", type=Path, help="schema.yaml (default: the project's)")
    parser.add_argument("--params", type=Path, help="params.yaml (default: the project's)")
    parser.add_argument("--out", type=Path, default=DRIFT_DIR, help=f"folder for the reports ({DRIFT_DIR})")
    return parser


if __name__ == "__main__":
    sys.exit(main())
