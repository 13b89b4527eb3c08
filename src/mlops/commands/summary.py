"""mlops summary: say where the model and metrics are, and what the model scored."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mlops.io import read_json

log = logging.getLogger(__name__)
HEADLINE = ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics", type=Path, required=True, help="metrics JSON written by evaluate")
    parser.add_argument("--metadata", type=Path, required=True, help="model metadata JSON written by train")


def run(args: argparse.Namespace) -> int:
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
