"""mlops retrain: retraining by pull request, the steps of .github/workflows/retrain.yml.

    uv run --frozen mlops retrain checkout --data-md5 MD5   # branch + data version, pulled
    make repro                                               # the pipeline on the new data
    uv run --frozen mlops retrain commit [--push]            # results committed (and pushed)
    python3 -m mlops.ci.pull_request --repo OWNER/NAME --base main --head retrain/<md5's first 12>

A labelled dataset version is the md5 `dvc add data` records in data.dvc (`<32 hex>.dir`), pushed
to the DVC remote by whoever joined the recent inputs with their outcomes. `checkout` points
data.dvc at it, `dvc pull`s it (a version missing from the remote is an error, and data.dvc is left
as it was) and switches to the branch `retrain/<md5's first 12>`; `commit` commits what the
pipeline changed (data.dvc, dvc.lock, models/model.json, eval/, the card) with the new metrics in
the message; mlops.ci.pull_request opens the pull request (GitHub's REST API), so the new model goes
through the same report and quality gate as any change.

In a workflow the checkout keeps no credentials: RETRAIN_PUSH_TOKEN (the job's token) is handed to
git through its environment, never on a command line. Names are data: the data version must be
wholly 32 hex digits (and `.dir`), and `commit` goes on only on a branch that is wholly
`retrain/<12 hex digits>`. Exits 0 on success, 2 on an error. `checkout` writes `branch=` to the
step's outputs.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from mlops.artifacts import Outputs, file_reader
from mlops.ci.git import git_environment
from mlops.ci.outputs import set_output
from mlops.ci.process import CommandError
from mlops.ci.process import run as command
from mlops.errors import Exit, MlopsError
from mlops.io import read_yaml, write_text
from mlops.project import dvc_outs, load_project
from mlops.spec.metrics import HEADLINE

PREFIX = "retrain/"
MD5 = re.compile(r"[0-9a-f]{32}\.dir")
BRANCH = re.compile(re.escape(PREFIX) + r"[0-9a-f]{12}")


class RetrainError(MlopsError):
    """A step that cannot go on; the message says why and what to do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("checkout", help="data.dvc at the version, data pulled, on retrain/<version>")
    step.add_argument("--data-md5", required=True, help="the labelled data version (data.dvc's md5)")
    step.set_defaults(action=checkout)
    step = steps.add_parser("commit", help="commit the pipeline's results on the retrain branch")
    step.add_argument("--push", action="store_true", help="push the branch to origin")
    step.set_defaults(action=commit)


def run(args: argparse.Namespace) -> int:
    try:
        print(args.action(args))
    except OSError as error:
        raise RetrainError(f"retrain {args.step}: {error}") from None
    return Exit.OK


def checkout(args: argparse.Namespace) -> str:
    md5 = args.data_md5.strip()
    if not md5.endswith(".dir"):
        md5 += ".dir"
    if not MD5.fullmatch(md5):
        raise RetrainError(
            f"--data-md5 {args.data_md5!r}: expected the 32-hex md5 of a data folder (data.dvc's)"
        )
    dvc_file = _data_dvc()
    original = dvc_file.read_text(encoding="utf-8")
    document = read_yaml(dvc_file)
    outs = dvc_outs(document)
    if len(outs) != 1 or "path" not in outs[0]:
        raise RetrainError(
            f"{dvc_file}: expected one output with a 'path' (the data folder), found {len(outs)}"
        )
    document["outs"] = [{"md5": md5, "hash": outs[0].get("hash", "md5"), "path": outs[0]["path"]}]
    write_text(dvc_file, yaml.safe_dump(document, sort_keys=False))
    try:
        _run("dvc", "pull", "--quiet", str(dvc_file))
    except RetrainError as error:
        write_text(dvc_file, original)
        raise RetrainError(f"data version {md5} could not be pulled from the DVC remote: {error}") from None
    branch = PREFIX + md5[:12]
    _run("git", "switch", "--quiet", "-c", branch)
    set_output("branch", branch)
    return f"on {branch}: {dvc_file} points at {md5}, data pulled; next: make repro"


def commit(args: argparse.Namespace) -> str:
    branch = _retrain_branch()
    _run("git", "add", "--all")
    if not _run("git", "diff", "--cached", "--name-only").strip():
        raise RetrainError("the pipeline changed nothing: is this data version already the one on main?")
    _run("git", "commit", "--quiet", "-m", _message(branch))
    if args.push:
        _run("git", "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", token=True)
    return f"committed on {branch}" + (" and pushed" if args.push else "")


def _message(branch: str) -> str:
    project = load_project()
    metrics = Outputs(file_reader(), missing_ok=False).metrics(project.absolute(project.metrics)) or {}
    version = branch.removeprefix(PREFIX)
    # the task's headline metrics (binary, multi-class or regression), in the tables' order
    figures = "\n".join(f"- {name}: {metrics[name]:.4f}" for name in HEADLINE if name in metrics)
    return (
        f"Retrain on labelled data version {version}\n\n"
        f"The pipeline (dvc repro) on the data version {version}; test-split metrics:\n\n{figures}\n\n"
        "The pull-request workflow compares this model with the base branch and applies the quality gate."
    )


def _retrain_branch() -> str:
    """The branch `checkout` made, checked whole: its name goes into a commit, a push and a pull request."""
    branch = _run("git", "rev-parse", "--abbrev-ref", "HEAD").strip()
    if not BRANCH.fullmatch(branch):
        raise RetrainError(
            f"on branch {branch!r}: expected {PREFIX}<12 hex digits>, the branch `retrain checkout` makes"
        )
    return branch


def _data_dvc() -> Path:
    project = load_project()
    if project.data_dvc is None:
        raise RetrainError(
            f"no .dvc file tracks {project.data}: version the training data with `dvc add` first"
        )
    return project.root / project.data_dvc


def _run(*words: str, token: bool = False) -> str:
    try:
        return command(words, env=git_environment("RETRAIN_PUSH_TOKEN", authorize=token))
    except CommandError as error:
        raise RetrainError(str(error)) from None
