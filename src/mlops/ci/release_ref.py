"""Releases are made from the default branch only: release.yml's first step refuses any other ref.

    python3 -m mlops.ci.release_ref REF DEFAULT_BRANCH     e.g. ... refs/heads/main main

A push trigger already says so; a manual run (workflow_dispatch) can name any branch or tag. Names
are data: a ref or branch outside refs/(heads|tags|pull)/<letters, digits, . _ / -> is refused
(exit 2) before it is compared, and printed quoted (repr), so a newline in it cannot forge a log
line. Another ref than the default branch's is refused with exit 1; the default branch's exits 0.
"""

from __future__ import annotations

import argparse
import re
import sys

from mlops.errors import Exit

NAME = "[A-Za-z0-9._/-]+"
REF = re.compile(f"refs/(heads|tags|pull)/{NAME}")


class RefusedError(Exception):
    """Not released; `code` says whether the ref was malformed (ERROR) or another branch (VERDICT)."""

    def __init__(self, message: str, code: Exit) -> None:
        super().__init__(message)
        self.code = code


def check_release_ref(ref: str, default_branch: str) -> None:
    """Nothing when `ref` is the default branch's; RefusedError saying why otherwise."""
    expected = f"refs/heads/{default_branch}"
    for value in (ref, expected):
        if not REF.fullmatch(value):
            why = f"expected refs/(heads|tags|pull)/<name>, <name> of {NAME}"
            raise RefusedError(f"refusing {value!r}: {why}", Exit.ERROR)
    if ref != expected:
        why = f"releases are made from {expected} only"
        raise RefusedError(f"refusing to release {ref}: {why}", Exit.VERDICT)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        check_release_ref(args.ref, args.default_branch)
    except RefusedError as error:
        print(f"release: {error}", file=sys.stderr)
        return error.code
    print(f"release: {args.ref} is the default branch")
    return Exit.OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m mlops.ci.release_ref", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("ref", help="the run's ref (github.ref), e.g. refs/heads/main")
    parser.add_argument("default_branch", help="the repository's default branch, e.g. main")
    return parser


if __name__ == "__main__":
    sys.exit(main())
