"""The drift history on its own branch: fetch it before a check, publish it after.

    python3 -m mlops.ci.drift_history fetch --out FILE [--remote origin] [--branch drift-history]
    python3 -m mlops.ci.drift_history publish --file FILE [--remote origin] [--branch drift-history]

The history (one JSON line per scheduled check, `mlops drift --history`) lives as `history.jsonl`
on the `drift-history` branch, which holds nothing else: each check is one commit, so the
history is versioned, reviewable and kept with the repository without touching `main`.

`fetch` writes the branch's history.jsonl to FILE (an empty file when the branch does not exist
yet: the first check). `publish` commits FILE as the branch's history.jsonl on top of the
branch (creating it) with git plumbing, without checking anything out, and pushes it. Exits 0 on
success, 2 (Exit.ERROR) on an error (a push refused because someone else published first included).

In a workflow the checkout keeps no credentials: HISTORY_TOKEN (the job's token: read-only in the
check job, `contents: write` in the job that publishes) is handed to git through its environment,
as actions/checkout does, never on a command line or in a log.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlops.ci.git import git
from mlops.ci.process import CommandError
from mlops.errors import Exit

FILE_NAME = "history.jsonl"
TOKEN = "HISTORY_TOKEN"  # the job's token, handed to git through its environment


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "fetch":
            fetch(args.remote, args.branch, args.out)
        else:
            publish(args.remote, args.branch, args.file)
    except (OSError, CommandError) as error:
        print(f"drift history: {args.command} failed: {error}", file=sys.stderr)
        return Exit.ERROR
    return Exit.OK


def fetch(remote: str, branch: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    found = _git("ls-remote", "--heads", remote, branch).strip()
    if not found:
        out.write_text("", encoding="utf-8")
        print(f"drift history: no branch {branch} on {remote} yet; starting an empty history")
        return
    _git("fetch", "--quiet", remote, f"refs/heads/{branch}")
    out.write_text(_git("show", f"FETCH_HEAD:{FILE_NAME}"), encoding="utf-8")
    print(f"drift history: {len(out.read_text().splitlines())} earlier check(s) from {branch}")


def publish(remote: str, branch: str, file: Path) -> None:
    if not file.is_file():
        raise OSError(f"{file}: no history file to publish")
    blob = _git("hash-object", "-w", str(file)).strip()
    tree = _git("mktree", stdin=f"100644 blob {blob}\t{FILE_NAME}\n").strip()
    parent = _git("ls-remote", "--heads", remote, branch).split()
    parents = []
    if parent:
        _git("fetch", "--quiet", remote, f"refs/heads/{branch}")
        parents = ["-p", "FETCH_HEAD"]
    lines = len(file.read_text(encoding="utf-8").splitlines())
    commit = _git("commit-tree", tree, *parents, "-m", f"drift history: {lines} check(s)").strip()
    _git("push", "--quiet", remote, f"{commit}:refs/heads/{branch}")
    print(f"drift history: published {lines} check(s) to {branch} ({commit[:12]})")


def _git(*args: str, stdin: str | None = None) -> str:
    return git(*args, token_variable=TOKEN, stdin=stdin)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m mlops.ci.drift_history", description=(__doc__ or "").splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, flag, text in (
        ("fetch", "--out", "write the history here"),
        ("publish", "--file", "the history to publish"),
    ):
        command = commands.add_parser(name)
        command.add_argument(flag, dest=flag[2:], type=Path, required=True, help=text)
        command.add_argument("--remote", default="origin", help="the git remote (default: origin)")
        command.add_argument("--branch", default="drift-history", help="the history's branch")
    return parser


if __name__ == "__main__":
    sys.exit(main())
