"""The one module that knows where the project keeps its files.

dvc.yaml is the single source of paths: each stage's command names its inputs and outputs with
flags (`--model-out models/model.skops`), and `${data}` comes from project.yaml. This module reads
those flags once into `ProjectPaths`, so `mlops report`, `mlops drift` and `mlops summary` need no
path flags, and the Makefile, the workflows and the tests restate none. Stages keep their explicit
flags: DVC passes them, and dvc.yaml stays the place a reader looks.

Only yaml is imported here: `mlops --help` stays fast.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError
from mlops.io import read_yaml

PIPELINE = "dvc.yaml"
LOCK = "dvc.lock"
PROJECT = "project.yaml"
REPORT_DIR = Path("report")
DRIFT_DIR = Path("drift")
BASE_BRANCHES = ("origin/main", "main")  # the report's default base: the first that exists
IMPORTANCE_FILE = "importance.json"  # in the evaluate stage's --plots-dir

# (stage, flag) for each path the commands need, as the stages in dvc.yaml name them.
_FLAGS: dict[str, tuple[str, str]] = {
    "data": ("prepare", "--data"),
    "schema": ("prepare", "--schema"),
    "params": ("prepare", "--params"),
    "train": ("prepare", "--train-out"),
    "test": ("prepare", "--test-out"),
    "model": ("train", "--model-out"),
    "metadata": ("train", "--metadata-out"),
    "metrics": ("evaluate", "--metrics-out"),
    "segments": ("evaluate", "--segments-out"),
    "plots_dir": ("evaluate", "--plots-dir"),
    "intervals": ("evaluate", "--intervals-out"),
    "fairness": ("evaluate", "--fairness-out"),
    "card": ("card", "--card-out"),
}


@dataclass(frozen=True)
class ProjectPaths:
    """Every path a command defaults to, relative to `root` (the folder holding dvc.yaml)."""

    root: Path
    data: Path
    schema: Path
    params: Path
    train: Path
    test: Path
    model: Path
    metadata: Path
    metrics: Path
    segments: Path
    plots_dir: Path
    intervals: Path
    fairness: Path
    card: Path
    lock: Path
    data_dvc: Path | None
    image: str

    @property
    def importance(self) -> Path:
        """The permutation importance the evaluate stage writes beside its plots."""
        return self.plots_dir / IMPORTANCE_FILE

    def absolute(self, path: Path) -> Path:
        """`path` under the project root (relative paths in dvc.yaml are relative to it)."""
        return path if path.is_absolute() else self.root / path


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: the current one) that holds dvc.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PIPELINE).is_file():
            return folder
    raise ConfigError(f"{here}: no {PIPELINE} here or in any parent folder; run this inside the project")


def load_project(root: Path | None = None) -> ProjectPaths:
    """Read dvc.yaml and project.yaml under `root` (default: found from the current folder)."""
    root = find_root() if root is None else root
    variables = read_yaml(root / PROJECT) or {}
    stages = (read_yaml(root / PIPELINE) or {}).get("stages") or {}
    flags = {stage: _stage_flags(root / PIPELINE, stage, stages, variables) for stage in _stages()}
    found = {name: Path(flags[stage][flag]) for name, (stage, flag) in _FLAGS.items() if flag in flags[stage]}
    missing = sorted(f"{stage} {flag}" for name, (stage, flag) in _FLAGS.items() if name not in found)
    if missing:
        raise ConfigError(f"{root / PIPELINE}: no {', '.join(missing)} in the stages' commands")
    return ProjectPaths(
        root=root,
        **found,
        lock=Path(LOCK),
        data_dvc=tracking_file(root, found["data"]),
        image=str(variables.get("image") or ""),
    )


def shown(path: Path) -> Path:
    """`path` relative to the current folder when it is below it: shorter in messages."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def default_base(root: Path) -> str:
    """The report's base when none is given: origin/main in a clone, else the local main."""
    for branch in BASE_BRANCHES:
        found = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}"],
            cwd=root,
            capture_output=True,
            check=False,
        )
        if found.returncode == 0:
            return branch
    return BASE_BRANCHES[-1]


def dvc_outs(document: Any) -> list[dict[str, Any]]:
    """The `outs` entries (path, md5, size, ...) of a parsed .dvc file or of one stage of dvc.lock."""
    outs = (document or {}).get("outs") or []
    return [out for out in outs if isinstance(out, dict)]


def committed_outputs(root: Path) -> list[Path]:
    """The outputs dvc.yaml keeps in git (`cache: false`): metrics, plots, model.json, the card.

    DVC caches every other output (the model file, the splits) and lists it in a .gitignore, so git
    never sees it; these ones a commit must hold beside dvc.lock, or the commit's results are stale.
    """
    variables = read_yaml(root / PROJECT) or {}
    found: list[Path] = []
    for stage in ((read_yaml(root / PIPELINE) or {}).get("stages") or {}).values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind) or []:
                if isinstance(entry, dict):
                    ((path, options),) = entry.items()
                    if (options or {}).get("cache", True) is False:
                        found.append(Path(_filled(str(path), variables)))
    return found


def results_to_commit(root: Path) -> list[str]:
    """What `git add` takes to commit a run's results: dvc.lock and the folders of the git-kept outputs.

    An output's top folder stands for it when no stage reads an input from that folder (an output
    read by a later stage does not count): `git add models` adds model.json and the card, and DVC's
    .gitignore there keeps the model file out. This is the one list the README, `make run`'s hint,
    copier's message and `mlops results --check` (pull requests' lock check) use.
    """
    outputs = committed_outputs(root)
    variables = read_yaml(root / PROJECT) or {}
    stages = ((read_yaml(root / PIPELINE) or {}).get("stages") or {}).values()
    produced = [
        _out_path(entry, variables)
        for stage in stages
        for kind in ("outs", "metrics", "plots")
        for entry in stage.get(kind) or []
    ]
    deps = {Path(_filled(str(dep), variables)) for stage in stages for dep in stage.get("deps") or []}
    inputs = {dep for dep in deps if not any(dep == out or out in dep.parents for out in produced)}
    shown: set[str] = set()
    for output in outputs:
        top = output.parts[0] if len(output.parts) > 1 else None
        owns_inputs = top is not None and any(dep.parts[0] == top for dep in inputs)
        shown.add(output.as_posix() if top is None or owns_inputs else top)
    return [LOCK, *sorted(shown)]


def git_changes(root: Path, paths: list[str]) -> list[str]:
    """`git status --porcelain` lines of `paths` (new files included) against the commit."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", *paths],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if status.returncode != 0:
        raise ConfigError(f"{root}: git status failed: {status.stderr.strip()}")
    return status.stdout.splitlines()


def _out_path(entry: Any, variables: dict[str, Any]) -> Path:
    path = next(iter(entry)) if isinstance(entry, dict) else entry
    return Path(_filled(str(path), variables))


def _filled(text: str, variables: dict[str, Any]) -> str:
    """`text` with each `${name}` replaced by project.yaml's value."""
    for name, value in variables.items():
        text = text.replace(f"${{{name}}}", str(value))
    return text


def _stages() -> list[str]:
    return sorted({stage for stage, _ in _FLAGS.values()})


def _stage_flags(
    pipeline: Path, stage: str, stages: dict[str, Any], variables: dict[str, Any]
) -> dict[str, str]:
    """`--flag value` pairs of a stage's command, with `${name}` filled from project.yaml."""
    if stage not in stages:
        raise ConfigError(f"{pipeline}: no stage '{stage}'")
    command = stages[stage].get("cmd", "")
    command = " ".join(command) if isinstance(command, list) else str(command)
    words = shlex.split(_filled(command, variables))
    return {
        word: value
        for word, value in zip(words, [*words[1:], ""], strict=True)
        if word.startswith("--") and value and not value.startswith("--")
    }


def tracking_file(root: Path, data: Path) -> Path | None:
    """The .dvc file whose output holds `data` (data.dvc tracks the data/ folder), if any.

    `data` is relative to `root`; the answer too. Only files count: a checkout's .dvc/ folder is no
    tracking file."""
    for dvc_file in sorted(p for p in root.glob("*.dvc") if p.is_file()):
        for out in dvc_outs(read_yaml(dvc_file)):
            tracked = Path(str(out.get("path", "")))
            if tracked.parts and data.parts[: len(tracked.parts)] == tracked.parts:
                return dvc_file.relative_to(root)
    return None
