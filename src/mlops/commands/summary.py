"""mlops summary: say where the model and metrics are, and what the model scored."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mlops.io import read_json
from mlops.metrics import HEADLINE
from mlops.project import load_project, shown

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics", type=Path, help="metrics JSON written by evaluate (default: dvc.yaml's)")
    parser.add_argument("--metadata", type=Path, help="model metadata written by train (default: dvc.yaml's)")


def run(args: argparse.Namespace) -> int:
    if args.metrics is None or args.metadata is None:
        project = load_project()
        args.metrics = args.metrics or shown(project.absolute(project.metrics))
        args.metadata = args.metadata or shown(project.absolute(project.metadata))
    metrics = read_json(args.metrics)
    metadata = read_json(args.metadata)
    model_path = args.metadata.parent / metadata["model_file"]
    lines = [
        f"model    {model_path} (version {metadata['model_version']}, {metadata['estimator']})",
        f"metrics  {args.metrics}",
        *(f"  {name:<10} {metrics[name]:.4f}" for name in HEADLINE if name in metrics),
    ]
    print("\n".join(lines))  # the command's output, not a log message
    return 0
