"""The workflows this project's tests run for real: each step is one command, a Makefile target, an
`mlops` command or a module of mlops.ci, and each such module is run by a test in tests/github/. Also
the uv pin they share with the Makefile.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from mlops.cli import COMMANDS
from tests.conftest import REPO
from tests.github.conftest import NPM_CI
from tests.workflows.conftest import WORKFLOW_DIR, load, steps

THIN = [WORKFLOW_DIR / name for name in ("pr.yml", "pr-comment.yml", "drift.yml", "retrain.yml")]
MAKEFILE = (REPO / "Makefile").read_text()
CI = REPO / "src" / "mlops" / "ci"
GITHUB_TESTS = "\n".join(path.read_text() for path in (REPO / "tests" / "github").glob("test_*.py"))


def _runs(path: Path) -> list[str]:
    return [str(step["run"]).strip() for step in steps(load(path)) if "run" in step]


def _make_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*[:?]?=\s*(\S+)", MAKEFILE, re.MULTILINE)
    assert match, f"the Makefile defines no {name}"
    return match.group(1)


@pytest.mark.parametrize("path", THIN, ids=[p.name for p in THIN])
def test_every_run_step_is_one_command(path: Path) -> None:
    for run in _runs(path):
        assert "\n" not in run and not re.search(r"&&|\|\||;|\||\$\(|`", run), f"{path.name}: {run}"


@pytest.mark.parametrize("path", THIN, ids=[p.name for p in THIN])
def test_every_command_is_a_make_target_or_a_script_that_a_test_runs(path: Path) -> None:
    for run in _runs(path):
        words = shlex.split(run)
        if run == NPM_CI:  # CML's install, which tests/github/conftest.py runs the same way
            continue
        if words[0] == "make":
            assert re.search(rf"^{words[1]}:", MAKEFILE, re.MULTILINE), f"no make target {words[1]}"
            continue
        if words[:2] == ["python3", "-m"]:  # a write-token job: the runner's Python, mlops.ci only
            package, _, name = words[2].rpartition(".")
            assert package == "mlops.ci" and (CI / f"{name}.py").is_file(), run
            assert f'"{name}"' in GITHUB_TESTS, f"no test in tests/github runs {words[2]}"
            continue
        if words[:4] == ["uv", "run", "--frozen", "mlops"]:
            assert words[4] in COMMANDS, f"no mlops command {words[4]}"
            assert f'"{words[4]}"' in GITHUB_TESTS, f"no test in tests/github runs mlops {words[4]}"
            continue
        script = next((w for w in words if w.startswith("scripts/")), None)
        if script is None:
            assert words[:3] == ["uv", "run", "--frozen"] and words[3] == "dvc", run  # dvc pull, dvc repro
            continue
        assert os.access(REPO / script, os.X_OK), f"{script} is missing or not executable"
        assert f'"{Path(script).name}"' in GITHUB_TESTS, f"no test in tests/github runs {script}"


@pytest.mark.parametrize("path", THIN, ids=[p.name for p in THIN])
def test_a_module_of_mlops_ci_runs_from_the_checkouts_src_with_no_environment(path: Path) -> None:
    """PYTHONPATH=src: the checkout's package; no `uv run`, which would install the project's environment."""
    for step in steps(load(path)):
        if str(step.get("run", "")).startswith("python3 -m mlops.ci."):
            assert step["env"]["PYTHONPATH"] == "src", f"{path.name}: {step['run']}"


@pytest.mark.parametrize("name", ["lock-check", "pr-number", "pr-pointers"])
def test_the_make_targets_of_the_workflows_have_tests(name: str) -> None:
    assert f'"{name}"' in GITHUB_TESTS, f"no test in tests/github runs make {name}"


WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_setup_uv_installs_the_makefiles_uv_version(path: Path) -> None:
    wanted = _make_variable("UV_VERSION")
    assert re.search(r"pip install --quiet uv==\$\(UV_VERSION\)", MAKEFILE)
    for step in steps(load(path)):
        if str(step.get("uses", "")).startswith("astral-sh/setup-uv@"):
            assert str(step["with"]["version"]) == wanted, f"{path.name}: setup-uv version"
