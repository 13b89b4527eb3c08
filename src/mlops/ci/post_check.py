"""Post the quality gate as the check run "Model report" on the pull request's head commit, with CML.

    python3 -m mlops.ci.post_check --report DIR --repo OWNER/NAME --head-sha SHA --cml PATH [--run-url URL]

DIR is the `pr-report` artifact of a run of pr.yml (report.md, verdict.json, pr-number): data written
by the pull request's own code, checked as mlops.ci.post_comment checks it. The number must be
digits and that pull request's head must be `--head-sha` (GitHub's event, asked with `gh api`,
GH_TOKEN); else nothing is posted and the exit is 2. Then the real CML client (`--cml`, installed with
`npm ci` from .github/cml) runs `cml check create`, which creates a new check run each time and
never edits one (REPO_TOKEN). Its conclusion is the verdict in verdict.json: `success` when the gate
passed, `failure` when it failed, `neutral` when there is no verdict to read (the run stopped before
`mlops report` wrote one, or the file is not a verdict), with the reason in the summary. The summary
is report.md, cut to GitHub's check-output limit with a note, as the comment is cut.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from mlops.ci.post_comment import RefusedError, check_head, pull_request_number
from mlops.ci.process import CommandError, run
from mlops.errors import Exit
from mlops.github import CHECK_SUMMARY_LIMIT, fit
from mlops.report.verdict import VERDICT_FILE, Verdict, VerdictError

TITLE = "Model report"  # the check run's name: what branch protection requires
CONCLUSIONS = {True: "success", False: "failure"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        number = pull_request_number(args.report / "pr-number")
        check_head(args.repo, number, args.head_sha)
        conclusion, reason = judge(args.report / VERDICT_FILE)
        summary = check_summary(_read_optional(args.report / "report.md"), conclusion, reason, args.run_url)
        create_check(args, conclusion, summary)
    except (RefusedError, CommandError) as error:
        print(f"::error::{error}")
        return Exit.ERROR
    print(f"check run {TITLE!r} on {args.head_sha} (pull request #{number}): {conclusion}, {reason}")
    return Exit.OK


def judge(path: Path) -> tuple[str, str]:
    """The check run's conclusion and its reason, from the verdict `mlops report` wrote (if it did)."""
    try:
        verdict = Verdict.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "neutral", (
            f"the quality gate was not judged: the pull request's run wrote no {VERDICT_FILE} "
            "(it stopped before `make report` finished; its log says why)"
        )
    except (OSError, UnicodeDecodeError, VerdictError) as error:
        return "neutral", f"the quality gate was not judged: {path.name} is not a verdict ({error})"
    return CONCLUSIONS[verdict.passed], verdict.reason


def check_summary(report: str | None, conclusion: str, reason: str, run_url: str = "") -> str:
    """report.md (cut to GitHub's limit if need be), under the reason when not judged; then a footer."""
    run = f" ([workflow run]({run_url}))" if run_url else ""
    footer = (
        f"\n\n---\n<sub>Built by the pull request's own code{run}; the conclusion is its "
        f"{VERDICT_FILE}.</sub>\n"
    )
    parts = [f"**Not judged:** {reason}."] if conclusion == "neutral" else []
    parts += [report.rstrip("\n")] if report else []
    cut = f"_Cut here to fit GitHub's check-run limit: the whole report is in the run's artifact{run}._"
    text = "\n\n".join(parts) or f"**{conclusion}:** {reason}"
    return fit(text, cut, limit=CHECK_SUMMARY_LIMIT - len(footer.encode("utf-8"))) + footer


def create_check(args: argparse.Namespace, conclusion: str, summary: str) -> None:
    """`cml check create` on the head commit; CommandError with CML's last words if it fails."""
    if not os.environ.get("REPO_TOKEN"):
        raise RefusedError("REPO_TOKEN is not set: CML needs the workflow's token (checks: write)")
    env = os.environ | {"ITERATIVE_DO_NOT_TRACK": "1"}  # CML's usage analytics: off
    with tempfile.TemporaryDirectory(prefix="check-") as folder:
        markdown = Path(folder) / "summary.md"
        markdown.write_text(summary, encoding="utf-8")
        command = [
            str(args.cml), "check", "create", f"--repo={args.server_url}/{args.repo}", "--driver=github",
            f"--head-sha={args.head_sha}", f"--conclusion={conclusion}", f"--title={TITLE}", str(markdown),
        ]  # fmt: skip
        run(command, env=env)


def _read_optional(path: Path) -> str | None:
    """The report's text, or None when the run wrote none it could read: the verdict still decides."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m mlops.ci.post_check", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--report", type=Path, required=True, help="the pr-report artifact's folder")
    parser.add_argument("--repo", required=True, help="OWNER/NAME of the repository")
    parser.add_argument("--head-sha", required=True, help="the commit the reporting run built (event data)")
    parser.add_argument("--cml", type=Path, required=True, help="the CML client (node_modules/.bin/cml)")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("GITHUB_SERVER_URL", "https://github.com"),
        help="GitHub's address (default: the runner's GITHUB_SERVER_URL)",
    )
    parser.add_argument("--run-url", default="", help="the reporting run, linked in the summary")
    return parser


if __name__ == "__main__":
    sys.exit(main())
