"""mlops summary: say where the model and metrics are, what the model scored, and what to commit."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
from pathlib import Path

from mlops.io import read_json
from mlops.metrics import HEADLINE
from mlops.project import ProjectPaths, load_project, shown

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metrics", type=Path, help="metrics JSON written by evaluate (default: dvc.yaml's)")
    parser.add_argument("--metadata", type=Path, help="model metadata written by train (default: dvc.yaml's)")


def run(args: argparse.Namespace) -> int:
    project = load_project() if args.metrics is None or args.metadata is None else None
    if project is not None:
        args.metrics = args.metrics or shown(project.absolute(project.metrics))
        args.metadata = args.metadata or shown(project.absolute(project.metadata))
    metrics_path, metadata_path = args.metrics, args.metadata
    metrics = read_json(metrics_path)
    metadata = read_json(metadata_path)
    lines = [
        f"model    {metadata_path.parent / metadata['model_file']} "
        f"(version {metadata['model_version']}, {metadata['estimator']})",
        f"metrics  {metrics_path}",
        *(f"  {name:<10} {metrics[name]:.4f}" for name in HEADLINE if name in metrics),
    ]
    if project is not None and (changed := uncommitted_results(project)):
        lines += [
            "not committed yet: commit them, so pull requests compare against these results",
            f"  git add {' '.join(changed)} && git commit -m 'Pipeline results'",
        ]
    print("\n".join(lines))  # the command's output, not a log message
    return 0


def uncommitted_results(project: ProjectPaths) -> list[str]:
    """The results git should hold (dvc.lock, the evaluation folder, model.json) that it does not yet."""
    evaluation = Path(os.path.commonpath([project.metrics, project.segments, project.plots_dir]))
    results = [project.lock.as_posix(), evaluation.as_posix(), project.metadata.as_posix()]
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", *results],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    if status.returncode != 0:  # not a git repository: nothing to say
        return []
    changed = [line[3:] for line in status.stdout.splitlines()]
    return [path for path in results if any(c == path or c.startswith(f"{path}/") for c in changed)]
