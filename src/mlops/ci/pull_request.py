"""Open a pull request for a branch just pushed, its title and body from the branch's last commit.

    python3 -m mlops.ci.pull_request --repo OWNER/NAME --base main --head BRANCH

The one way the workflows open a pull request (retrain.yml after `mlops retrain commit --push`,
promote.yml after `make promote PUSH=1`): GitHub's REST API through `gh api` (GH_TOKEN), as
`gh pr create --fill` would word it: the commit's first line is the title, the rest the body. The
branch must exist in the local clone and its name be wholly [A-Za-z0-9._/-]+ (names are data);
else nothing is opened and the exit is 2. Writes `pr=<number>` to the step's outputs.
"""

from __future__ import annotations

import argparse
import re
import sys

from mlops.ci.outputs import set_output
from mlops.ci.process import CommandError, run
from mlops.ci.rest import api
from mlops.errors import Exit

BRANCH = re.compile(r"[A-Za-z0-9._/-]+")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        number, url = open_pull_request(args.repo, args.head, args.base)
    except (ValueError, CommandError) as error:
        print(f"::error::{error}", file=sys.stderr)
        return Exit.ERROR
    set_output("pr", str(number))
    print(f"opened pull request #{number}: {url}")
    return Exit.OK


def open_pull_request(repo: str, head: str, base: str) -> tuple[int, str]:
    """Open `head` -> `base` in `repo`, worded from `head`'s last commit; its number and address."""
    for option, name in (("--head", head), ("--base", base)):
        if not BRANCH.fullmatch(name) or name.startswith("-"):
            raise ValueError(f"{option} {name!r}: expected a branch name of [A-Za-z0-9._/-]+")
    message = run(["git", "log", "-1", "--format=%B", f"refs/heads/{head}", "--"])
    title, _, body = message.strip().partition("\n")
    payload = {"title": title, "head": head, "base": base, "body": body.strip(), "draft": False}
    pull = api("POST", f"repos/{repo}/pulls", payload)
    return int(pull["number"]), str(pull.get("html_url", ""))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m mlops.ci.pull_request", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--repo", required=True, help="OWNER/NAME of the repository")
    parser.add_argument("--base", required=True, help="the branch to merge into")
    parser.add_argument("--head", required=True, help="the pushed branch, in this clone")
    return parser


if __name__ == "__main__":
    sys.exit(main())
