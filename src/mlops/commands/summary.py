"""mlops summary: say where the model and metrics are, what the model scored, and what to commit."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.io import read_json, sha256_file
from mlops.project import ProjectPaths, git_changes, load_project, results_to_commit, shown
from mlops.spec.metrics import HEADLINE

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
    model_path = metadata_path.parent / metadata["model_file"]
    if (mismatch := model_mismatch(model_path, metadata)) is not None:
        raise MlopsError(f"{mismatch}: run 'make undo' (the last commit's results) or 'uv run dvc checkout'")
    lines = [
        f"model    {model_path} (version {metadata['model_version']}, {metadata['estimator']})",
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


def model_mismatch(model_path: Path, metadata: dict[str, Any]) -> str | None:
    """Why the model file is not the one model.json describes (another run's, or missing), else None."""
    if not model_path.is_file():
        return f"{model_path} is missing (model.json describes version {metadata['model_version']})"
    if sha256_file(model_path) != metadata["model_sha256"]:
        return (
            f"{model_path} is not the model that model.json describes (version "
            f"{metadata['model_version']}): they come from different runs"
        )
    return None


def uncommitted_results(project: ProjectPaths) -> list[str]:
    """The results git should hold (`mlops results`: dvc.lock and its folders) that it does not yet."""
    results = results_to_commit(project.root)
    try:
        changes = git_changes(project.root, results)
    except MlopsError:  # not a git repository: nothing to say
        return []
    paths = [line[3:] for line in changes]
    return [r for r in results if any(p == r or p.startswith(f"{r}/") for p in paths)]
