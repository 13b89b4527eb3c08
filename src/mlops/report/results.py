"""One revision's pipeline results, read from the working tree or from a git revision.

The evaluation outputs, `model.json`, `params.yaml`, `dvc.lock` and `data.dvc` are all committed to
git, so the base branch's results come straight from `git show` without any DVC remote.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.artifacts import Outputs, Reader
from mlops.errors import MlopsError
from mlops.project import PROJECT, ProjectPaths
from mlops.spec.metrics import IMPORTANCE_SCORING_NAMES

CURVES = ("roc", "precision_recall", "calibration", "residuals")  # those of the task are written


@dataclass(frozen=True)
class Results:
    """What one revision's pipeline produced. Only `metrics` is required; the rest may be empty."""

    metrics: dict[str, float]
    segments: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    importance: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    data_md5: str | None = None
    model_size: int | None = None
    schema: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)
    card: str | None = None
    card_text: dict[str, Any] | None = None  # project.yaml's `card` (the words); None: no project.yaml

    @property
    def task(self) -> str:
        """binary, multiclass or regression: schema.yaml's `target.task` (binary before tasks existed)."""
        return str((self.schema.get("target") or {}).get("task", "binary"))

    @property
    def importance_scoring(self) -> str:
        """What permutation importance measured the drop of, in words."""
        return IMPORTANCE_SCORING_NAMES.get(self.task, IMPORTANCE_SCORING_NAMES["binary"])


def git_reader(root: Path, revision: str) -> Reader:
    """Read files of `revision` with `git show`; refuses a revision git does not know."""
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        raise MlopsError(
            f"base revision '{revision}' not found in {root}: fetch it first "
            f"(git fetch origin) or pass another with --base"
        )
    commit = check.stdout.strip()

    def read(path: Path) -> str | None:
        shown = subprocess.run(
            ["git", "show", f"{commit}:./{path.as_posix()}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        return shown.stdout if shown.returncode == 0 else None

    return read


def load_results(read: Reader, paths: ProjectPaths, source: str) -> Results | None:
    """The results of one revision, or None when it has no metrics file (the pipeline never ran)."""
    outputs = Outputs(read, source)
    metrics = outputs.metrics(paths.metrics)
    if metrics is None:
        return None
    plots = paths.plots_dir
    return Results(
        metrics=metrics,
        segments=outputs.segments(paths.segments),
        params=outputs.yaml(paths.params) or {},
        curves={name: (outputs.json(plots / f"{name}.json") or {}).get(name, []) for name in CURVES},
        confusion=_confusion(read(plots / "confusion.csv")),
        importance=outputs.importance(paths.importance),
        metadata=outputs.metadata(paths.metadata),
        data_md5=outputs.data_version(paths.data_dvc),
        model_size=outputs.locked_size(paths.lock, paths.model),
        schema=outputs.yaml(paths.schema) or {},
        fairness=outputs.fairness(paths.fairness),
        card=read(paths.card),
        card_text=_card_text(outputs.yaml(Path(PROJECT))),
    )


def _card_text(project: Any) -> dict[str, Any] | None:
    if not isinstance(project, dict):
        return None
    section = project.get("card")
    return section if isinstance(section, dict) else {}


def _confusion(text: str | None) -> dict[tuple[str, str], int]:
    """Counts of (actual, predicted) pairs from DVC's one-row-per-example confusion CSV."""
    if not text:
        return {}
    rows = csv.DictReader(io.StringIO(text))
    return dict(Counter((row["actual"], row["predicted"]) for row in rows))
