"""One revision's pipeline results, read from the working tree or from a git revision.

The evaluation outputs, `model.json`, `params.yaml`, `dvc.lock` and `data.dvc` are all committed to
git, so the base branch's results come straight from `git show` without any DVC remote.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import ConfigError, MlopsError
from mlops.project import PROJECT, ProjectPaths, data_md5

# Reads one file of a revision by its path relative to the project root; None when it is absent.
Reader = Callable[[Path], str | None]
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
        """What permutation importance measured the drop of (mlops.evaluate.IMPORTANCE_SCORING)."""
        return {"multiclass": "accuracy", "regression": "R2"}.get(self.task, "ROC AUC")


def worktree_reader(root: Path) -> Reader:
    def read(path: Path) -> str | None:
        target = root / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    return read


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
    metrics_text = read(paths.metrics)
    if metrics_text is None:
        return None
    plots = paths.plots_dir
    importance = _json(read, plots / "importance.json", source) or {}
    return Results(
        metrics=_json(read, paths.metrics, source),
        segments=_json(read, paths.segments, source) or {},
        params=_yaml(read, paths.params, source) or {},
        curves={name: (_json(read, plots / f"{name}.json", source) or {}).get(name, []) for name in CURVES},
        confusion=_confusion(read(plots / "confusion.csv")),
        importance=importance.get("importance", []),
        metadata=_json(read, paths.metadata, source) or {},
        data_md5=data_md5(_yaml(read, paths.data_dvc, source)) if paths.data_dvc else None,
        model_size=_locked_size(_yaml(read, paths.lock, source), paths.model),
        schema=_yaml(read, paths.schema, source) or {},
        fairness=_json(read, paths.fairness, source) or {},
        card=read(paths.card),
        card_text=_card_text(_yaml(read, Path(PROJECT), source)),
    )


def _card_text(project: Any) -> dict[str, Any] | None:
    if not isinstance(project, dict):
        return None
    section = project.get("card")
    return section if isinstance(section, dict) else {}


def _json(read: Reader, path: Path, source: str) -> Any:
    text = read(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{source}:{path}: not valid JSON: {error}") from error


def _yaml(read: Reader, path: Path, source: str) -> Any:
    text = read(path)
    if text is None:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}:{path}: not valid YAML: {error}") from error


def _confusion(text: str | None) -> dict[tuple[str, str], int]:
    """Counts of (actual, predicted) pairs from DVC's one-row-per-example confusion CSV."""
    if not text:
        return {}
    rows = csv.DictReader(io.StringIO(text))
    return dict(Counter((row["actual"], row["predicted"]) for row in rows))


def _locked_size(lock: Any, model: Path) -> int | None:
    """The model file's size as dvc.lock recorded it (the file itself lives in the DVC cache)."""
    for stage in ((lock or {}).get("stages") or {}).values():
        for out in stage.get("outs", []):
            if out.get("path") == model.as_posix():
                return out.get("size")
    return None
