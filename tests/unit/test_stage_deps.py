"""dvc.yaml lists every module a stage imports, so a change to any of them re-runs the stage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from mlops.cli import COMMANDS
from tests.conftest import REPO

SRC = REPO / "src"
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    base = SRC / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported(path: Path) -> set[str]:
    """The `mlops` modules a file imports anywhere in it (imports inside functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.split(".")[0] == "mlops" and module_file(name)}


def reached(start: str) -> set[Path]:
    """Files of every `mlops` module reachable from `start`, with the packages' __init__ files."""
    seen: set[Path] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        path = module_file(name)
        if path is None or path in seen:
            continue
        seen.add(path)
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        pending += [*imported(path), *parents]
    return {path.relative_to(REPO) for path in seen}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_module_a_stage_imports_is_a_dependency(stage: str) -> None:
    command = STAGES[stage]["cmd"].split()[1]
    modules = reached("mlops.cli") | reached(COMMANDS[command][0])
    declared = {Path(dep) for dep in STAGES[stage]["deps"]}
    # Package __init__ files hold docstrings and re-exports only: not listed.
    missing = sorted(str(p) for p in modules - declared if p.name != "__init__.py")
    assert not missing, f"dvc.yaml: stage {stage} imports {missing} without listing them in deps"
