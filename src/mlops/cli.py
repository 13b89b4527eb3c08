"""The `mlops` command line: one subcommand per pipeline stage and per tool.

This is the only layer that reads argv, touches files named on a command line and configures
logging. Each subcommand lives in its own module under `mlops.commands`, imported only when it is
named; a command module imports its heavy libraries inside `run`, so every `--help` answers at
once. Paths a command is not given come from dvc.yaml and project.yaml (`mlops.project`).

Exit codes, the same for every command: 0 ok, 1 a "no" verdict (quality gate failed, drift found),
2 an error (bad input, missing file, invalid params), 3 too little data to judge.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from mlops.errors import Exit, MlopsError

log = logging.getLogger("mlops")

# name -> (module, one-line help). A module defines add_arguments(parser) and run(args) -> int.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (
        "mlops.commands.validate",
        "check params.yaml, schema.yaml and project.yaml before any stage removes an output",
    ),
    "prepare": ("mlops.commands.prepare", "validate the raw data and split it into train and test"),
    "train": ("mlops.commands.train", "fit the model and save it with its metadata"),
    "evaluate": ("mlops.commands.evaluate", "score the model on the test split: metrics and plots"),
    "card": ("mlops.commands.card", "write the model card (Markdown and HTML) from the pipeline's results"),
    "drift": ("mlops.commands.drift", "compare production data with the training data: drift reports"),
    "drift-check": (
        "mlops.commands.drift_check",
        "the scheduled drift workflow's step: mlops drift into drift/, its code as the step's output",
    ),
    "ship-log": (
        "mlops.commands.ship_log",
        "ship the inference log's closed files to the DVC remote as a new version of production data",
    ),
    "gitops": (
        "mlops.commands.gitops",
        "GTO registry: register a released image as a model version; a stage tag as an overlay change",
    ),
    "retrain": (
        "mlops.commands.retrain",
        "retraining by pull request: a labelled data version on its branch, then its results committed",
    ),
    "image-labels": ("mlops.commands.image_labels", "OCI labels tying an image to its model, data, metrics"),
    "image": ("mlops.commands.image", "build the container image of a built bento with podman (make image)"),
    "summary": (
        "mlops.commands.summary",
        "print where the model and metrics are, and the headline metrics",
    ),
    "results": (
        "mlops.commands.results",
        "list the results a commit must hold (dvc.lock, eval/, ...); --check: fail if they changed",
    ),
    "infer-schema": ("mlops.commands.infer_schema", "infer schema.yaml from a new CSV, for review"),
    "report": ("mlops.commands.report", "compare results with a base revision: report.md, report.html, gate"),
}


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            importlib.import_module(module_name).add_arguments(sub)
    return parser


def _selected(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if arg in COMMANDS), None)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    selected = _selected(args_list)
    args = build_parser(selected).parse_args(args_list)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args))
    except MlopsError as error:
        log.error("%s", error)
        return Exit.ERROR
    except Exception:  # a bug, not a verdict: exit 1 would read as "gate failed" or "drift found"
        log.exception("unexpected error in 'mlops %s' (exit %d)", args.command, Exit.ERROR)
        return Exit.ERROR


if __name__ == "__main__":
    sys.exit(main())
