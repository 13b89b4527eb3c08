"""mlops drift-check: `mlops drift` as the scheduled workflow's step, its exit code kept for the issue job.

Takes `mlops drift`'s options; the reports go to drift/ itself (the artifact the workflow uploads),
not to drift/NAME. Writes `code=<exit code>` to the step's outputs (0 no drift, 1 drift, 3
insufficient data; `skipped` when --current does not exist, with a warning: a project made from the
template starts without production data) and drift.md to the run's summary page, when GitHub Actions
sets them (mlops.ci.outputs). Exits 0 for every verdict and 2 on an error of the check, which fails
the job, so no issue and no history is touched.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mlops.ci.outputs import add_summary, set_output
from mlops.commands import drift
from mlops.errors import Exit
from mlops.project import DRIFT_DIR

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    drift.add_arguments(parser, out_default=f"{DRIFT_DIR}/")
    parser.set_defaults(out=DRIFT_DIR)  # the workflow uploads drift/ and the issue job reads its top


def run(args: argparse.Namespace) -> int:
    try:
        return _check(args)
    except Exception:  # a crash is an error, not a verdict: exit 1 would read as drift found
        log.exception("the drift check crashed")
        print(f"::error::the drift check crashed (exit {Exit.ERROR}); nothing was recorded", file=sys.stderr)
        return Exit.ERROR


def _check(args: argparse.Namespace) -> int:
    if isinstance(args.current, Path) and not args.current.exists():  # an s3:// URL is listed by the check
        print(
            f"::warning::no current data at '{args.current}': set the repository variable DRIFT_CURRENT "
            "to your production batches or inference log (docs/drift.md); nothing was checked"
        )
        set_output("code", "skipped")
        return Exit.OK
    args.since = args.since or None  # the workflow passes an empty input as ""
    if args.run_url and not args.report_url:
        args.report_url = f"{args.run_url}#artifacts"
    code = drift.run(args)
    set_output("code", str(code))
    report = args.out / "drift.md"
    if code != Exit.ERROR and report.is_file():
        add_summary(report.read_text(encoding="utf-8"))
    return Exit.ERROR if code == Exit.ERROR else Exit.OK
