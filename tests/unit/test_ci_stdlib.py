"""mlops.ci runs with the runner's own Python: standard library only, every module, all it imports.

The write-token jobs (pr-comment.yml, drift.yml's history and issue jobs) check out the default
branch and run `python3 -m mlops.ci.NAME` with `PYTHONPATH=src`, installing nothing beside their
token. A third-party import anywhere in that reach (an mlops module that pulls in pandas, say) would
break them only on GitHub. The imports are read from the source (ast), following every mlops module
they reach, its parent packages' __init__ included; and each entry point is run without site-packages.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SRC = REPO / "src"
CI = SRC / "mlops" / "ci"
ENTRY_POINTS = [
    "post_comment",
    "post_check",
    "drift_issue",
    "drift_history",
    "pull_request",
    "push_image",
    "release_ref",
]


def imported(path: Path) -> set[str]:
    """The absolute module names `path` imports (each `from X import a` as X and X.a: a may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module, f"{path}: relative import, write it absolute"
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def module_file(name: str) -> Path | None:
    """The source of an mlops module or package, None for a name that is not one (a function's)."""
    base = SRC.joinpath(*name.split("."))
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)


def reach(start: list[str]) -> dict[str, set[str]]:
    """Every mlops module `start` reaches, parent packages included, with the names it imports."""
    seen: dict[str, set[str]] = {}
    pending = list(start)
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ first
            module = ".".join(parts[:depth])
            path = module_file(module)
            if module in seen or path is None:
                continue
            seen[module] = imported(path)
            pending += [n for n in seen[module] if n.split(".")[0] == "mlops"]
    return seen


def ci_modules() -> list[str]:
    return sorted(f"mlops.ci.{path.stem}" for path in CI.glob("*.py") if path.stem != "__init__")


def test_every_module_of_mlops_ci_reaches_only_the_standard_library() -> None:
    reached = reach(ci_modules())
    outside = {
        f"{module} imports {name}"
        for module, names in reached.items()
        for name in names
        if name.split(".")[0] != "mlops" and name.split(".")[0] not in sys.stdlib_module_names
    }
    assert not outside, sorted(outside)
    assert {"mlops.errors", "mlops.github", "mlops.ci.rest"} <= reached.keys()  # the walk follows imports


def test_the_walk_sees_a_third_party_import_behind_an_mlops_one() -> None:
    reached = reach(["mlops.ci.rest", "mlops.spec.schema"])
    assert "mlops.ci.process" in reached and "subprocess" in reached["mlops.ci.process"]
    assert any(name.split(".")[0] not in sys.stdlib_module_names for name in reached["mlops.spec.schema"])


def test_every_entry_point_is_in_this_list() -> None:
    mains = {p.stem for p in CI.glob("*.py") if 'if __name__ == "__main__":' in p.read_text()}
    assert mains == set(ENTRY_POINTS)


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_the_entry_point_runs_without_site_packages(name: str) -> None:
    """`python -S`: no site-packages, no .pth file, so not the project's environment; src/ alone."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    result = subprocess.run(
        [sys.executable, "-S", "-m", f"mlops.ci.{name}", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"python3 -m mlops.ci.{name}" in result.stdout
