"""Post the pull request's model report as its ONE comment: created on the first run, edited after.

    python3 -m mlops.ci.post_comment --report DIR --repo OWNER/NAME --head-sha SHA \
        [--author LOGIN] [--run-url URL]

DIR is the `pr-report` artifact of a run of pr.yml: `report.md` and `pr-number`. Both were written by
the pull request's own code (a fork's, maybe), so they are data and are checked: the number must be
digits, and that pull request's head must be the commit the run built (`--head-sha`, from GitHub's
event, not from the artifact); else nothing is posted and the exit is 2 (Exit.ERROR). The body is
report.md unchanged, cut to GitHub's comment limit if needed, with a footer saying it was built from
the pull request's code. The comment to edit is the one that carries the marker AND was written by `--author`
(the workflow token's user, `github-actions[bot]` by default): anyone can paste the marker into a
comment of their own, and that comment is never touched (`mlops.github.written_by_bot`, the rule
the drift issue follows too). Requests go through `gh api` (GH_TOKEN).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from mlops.ci.rest import GitHubError, api, api_list
from mlops.errors import Exit
from mlops.github import BOT_LOGIN, COMMENT_LIMIT, REPORT_MARKER, fit, written_by_bot

PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}")
SHA = re.compile(r"[0-9a-f]{40}")


class RefusedError(Exception):
    """The artifact or the pull request failed a check: nothing is posted."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        number = pull_request_number(args.report / "pr-number")
        check_head(args.repo, number, args.head_sha)
        body = comment_body(_read_report(args.report / "report.md"), args.run_url)
        url = post(args.repo, number, body, args.author)
    except (RefusedError, GitHubError) as error:
        print(f"::error::{error}")
        return Exit.ERROR
    print(f"posted the report on pull request #{number}: {url}")
    return Exit.OK


def pull_request_number(path: Path) -> int:
    """The number in the artifact's `pr-number`, if it is one (digits only, a line at most)."""
    try:
        text = path.read_bytes()[:64].decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise RefusedError(f"{path}: no pull request number in the artifact ({error})") from None
    if not PR_NUMBER.fullmatch(text):
        raise RefusedError(f"{path}: {text[:20]!r} is not a pull request number (digits expected)")
    return int(text)


def check_head(repo: str, number: int, head_sha: str) -> None:
    """Refuse unless pull request `number` is at `head_sha`, the commit the reporting run built."""
    if not SHA.fullmatch(head_sha):
        raise RefusedError(f"--head-sha {head_sha!r} is not a 40-hex commit SHA")
    actual = api("GET", f"repos/{repo}/pulls/{number}")["head"]["sha"]
    if actual != head_sha:
        raise RefusedError(
            f"pull request #{number} is at {actual}, not at {head_sha}, the commit the report was built "
            "from: not posting (a newer push has its own run, or the number was changed)"
        )


def comment_body(report: str, run_url: str = "") -> str:
    """The report, cut to GitHub's limit if need be, then a footer naming where it came from."""
    run = f" ([workflow run]({run_url}))" if run_url else ""
    footer = (
        f"\n\n---\n<sub>Built by the pull request's own code{run} and posted unchanged; the "
        f"pull request can change what it says. The required checks are what decide.</sub>\n{REPORT_MARKER}\n"
    )
    cut = f"_Cut here to fit GitHub's comment limit: the whole report is in the run's artifact{run}._"
    return fit(report.rstrip("\n"), cut, limit=COMMENT_LIMIT - len(footer.encode("utf-8"))) + footer


def post(repo: str, number: int, body: str, author: str) -> str:
    """Edit this author's marked comment on the pull request, or create it; the comment's URL."""
    comments = api_list(f"repos/{repo}/issues/{number}/comments")
    own = [c for c in comments if written_by_bot(c, author, REPORT_MARKER)]
    if own:
        posted = api("PATCH", f"repos/{repo}/issues/comments/{own[0]['id']}", {"body": body})
    else:
        posted = api("POST", f"repos/{repo}/issues/{number}/comments", {"body": body})
    return posted.get("html_url") or posted["url"]


def _read_report(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RefusedError(f"{path}: cannot read the report ({error})") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m mlops.ci.post_comment", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--report", type=Path, required=True, help="the pr-report artifact's folder")
    parser.add_argument("--repo", required=True, help="OWNER/NAME of the repository")
    parser.add_argument("--head-sha", required=True, help="the commit the reporting run built (event data)")
    parser.add_argument("--author", default=BOT_LOGIN, help="login of the token's user")
    parser.add_argument("--run-url", default="", help="the reporting run, linked in the footer")
    return parser


if __name__ == "__main__":
    sys.exit(main())
