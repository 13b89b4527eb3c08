"""mlops results: what a commit of the pipeline's results holds, and whether the work tree's match it.

The list comes from dvc.yaml (`mlops.project.results_to_commit`): dvc.lock and the folders of the
outputs DVC keeps in git. `--check` is the pull request's lock check (`make lock-check`): after
`dvc repro`, any difference from the commit means the branch's committed results are stale.
"""

from __future__ import annotations

import argparse
import os

from mlops.errors import Exit
from mlops.project import find_root, git_changes, results_to_commit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1, naming each file and what to commit, when the results differ from the commit",
    )


def run(args: argparse.Namespace) -> int:
    root = find_root()
    results = results_to_commit(root)
    if not args.check:
        print(" ".join(results))  # the command's output, for `git add $(mlops results)`
        return Exit.OK
    changes = git_changes(root, results)
    if not changes:
        return Exit.OK
    print("\n".join(changes))
    message = (
        f"dvc repro changed the results above: they differ from the commit. Run 'make run' (or "
        f"'uv run dvc repro') locally, then: git add {' '.join(results)} && git commit"
    )
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::error title=dvc.lock is out of date::{message}")
    else:
        print(message)
    return Exit.VERDICT
