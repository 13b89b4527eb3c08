"""The README's set-up, everyday loop, report and undo, run as written in one fresh clone, in order.

What each step promises is asserted as a reader sees it, through make: `make run` re-runs no stage on
a clone of main; the loop's commit leaves `git status` clean and `dvc status` up to date (the card is
among the results it commits); `make report` exits 0 when the gate passes and 2, naming the recipe's
code 1, when it fails; the post-checkout hook `make install` set keeps models/ in step with the branch;
`make undo` puts back the last commit's results, a model file that model.json describes included.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from mlops.io import sha256_file
from mlops.project import REPORT_DIR
from tests.conftest import PATHS
from tests.docs.blocks import Outcome, Reader, doc_block

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
README = "README.md"
BRANCH = "try-logistic-regression"
TO_LOGISTIC = "s/estimator: hist_gradient_boosting/estimator: logistic_regression/"
TO_BOOSTING = "s/estimator: logistic_regression/estimator: hist_gradient_boosting/"
MAKE_SAYS_REPORT_FAILED = re.compile(r"make: \*\*\* \[Makefile:\d+: report\] Error 1")
REPORT = REPORT_DIR / "report.md"


def ok(outcome: Outcome) -> Outcome:
    assert outcome.code == 0, outcome.output
    return outcome


def editor(folder: Path, edit: str) -> str:
    """An $EDITOR that makes one edit to the file it is given, as a person would."""
    script = folder / "editor"
    script.write_text(f"#!/bin/sh\nsed -i '{edit}' \"$1\"\n")
    script.chmod(0o755)
    return str(script)


def model_matches(clone: Path) -> str:
    """The version of the model on disk, after checking it is the one models/model.json describes."""
    metadata = json.loads((clone / PATHS.metadata).read_text())
    assert sha256_file(clone / PATHS.model) == metadata["model_sha256"]
    return str(metadata["model_version"])


def clean(reader: Reader) -> None:
    """Nothing the pipeline wrote is left uncommitted, and DVC finds every stage up to date."""
    assert ok(reader.run("git status --porcelain")).stdout == ""
    assert "Data and pipelines are up to date" in ok(reader.run(".venv/bin/dvc status")).stdout


def test_setup_commands(reader: Reader, clone: Path) -> None:
    """`make run` on a fresh clone of main re-runs no stage and leaves git clean; `make test` installs
    and passes (CI runs the whole suite this way; here one test file keeps it short, via PYTEST_ARGS,
    which the Makefile reads from the environment)."""
    run_line, test_line = doc_block(README, "test_setup_commands")
    assert (run_line, test_line) == ("make run", "make test")
    made = ok(reader.run(run_line))
    assert "Running stage" not in made.output, "main's dvc.lock is stale: a fresh clone retrains"
    assert "not committed yet" not in made.stdout
    model_line = rf"^model    {re.escape(str(PATHS.model))} \(version \w{{12}}, "  # mlops summary's
    assert re.search(model_line, made.stdout, re.MULTILINE)
    clean(reader)
    assert (clone / ".git" / "hooks" / "post-checkout").read_text().count("dvc git-hook post-checkout") == 1
    reader.env.update(PYTEST_ARGS="tests/unit/test_project.py", PYTEST_WORKERS="0")
    try:
        tested = ok(reader.run(test_line, timeout=1200))
    finally:
        del reader.env["PYTEST_ARGS"], reader.env["PYTEST_WORKERS"]
    assert re.search(r"\d+ passed", tested.stdout), tested.stdout[-2000:]


def test_everyday_loop(reader: Reader, clone: Path, tmp_path: Path) -> None:
    lines = doc_block(README, "test_everyday_loop")
    assert lines[0] == f"git switch -c {BRANCH}" and lines[-1] == f"git push -u origin {BRANCH}"
    reader.env["EDITOR"] = editor(tmp_path, TO_LOGISTIC)
    main_version = model_matches(clone)
    for line in lines:
        outcome = reader.run(line)
        if line == "make report":
            assert_report_exit(outcome, clone)
        else:
            ok(outcome)
        if line == "make repro":
            assert "Running stage 'train'" in outcome.output
        if line.startswith("git commit"):
            clean(reader)  # finding: the card was left out of the commit list
    assert yaml.safe_load((clone / PATHS.params).read_text())["train"]["estimator"] == "logistic_regression"
    assert ok(reader.run(f"git ls-remote origin refs/heads/{BRANCH}")).stdout.strip()
    branch_version = model_matches(clone)
    assert branch_version != main_version
    # The post-checkout hook: switching branches switches the model file too.
    ok(reader.run("git switch main"))
    assert model_matches(clone) == main_version
    ok(reader.run(f"git switch {BRANCH}"))
    assert model_matches(clone) == branch_version


def assert_report_exit(outcome: Outcome, clone: Path) -> None:
    """`make report`'s documented codes: 0 when the gate passes, 2 (make's, after `Error 1`) when it fails."""
    verdict = (clone / REPORT).read_text().splitlines()[0]
    if "Quality gate passed" in verdict:
        assert outcome.code == 0, outcome.output
    else:
        assert "Quality gate failed" in verdict, verdict
        assert outcome.code == 2 and MAKE_SAYS_REPORT_FAILED.search(outcome.stderr)


def test_make_report(reader: Reader, clone: Path) -> None:
    """Both lines of the "Pull requests" block on the loop's branch; then a base whose gate the branch
    fails (gate.min 0.99 on main): exit 2 through make, as documented, and the reason in report.md."""
    default, other = doc_block(README, "test_make_report")
    assert (default, other) == ("make report", "make report BASE=main")
    assert_report_exit(reader.run(default), clone)
    assert "origin/main" in (clone / REPORT).read_text()
    ok(reader.run("git switch -q main"))
    ok(reader.run(f"sed -i 's/^  min: .*/  min: 0.99/' {PATHS.params}"))
    ok(reader.run("git commit -qam 'A bar the branch cannot pass'"))
    ok(reader.run(f"git switch -q {BRANCH}"))
    failed = reader.run(other)
    assert_report_exit(failed, clone)
    assert failed.code == 2
    assert "0.99" in (clone / REPORT).read_text().splitlines()[0]
    ok(reader.run("git switch -q main && git reset -q --hard origin/main && git switch -q " + BRANCH))


def test_undo(reader: Reader, clone: Path, tmp_path: Path) -> None:
    """After a run that DVC autostaged (the case `git checkout -- .` got wrong), `make undo` restores
    dvc.lock, eval/ and models/ as committed, the model file included; the params edit stays."""
    (undo,) = doc_block(README, "test_undo")
    assert undo == "make undo"
    committed = {name: (clone / name).read_bytes() for name in (PATHS.lock, PATHS.metrics)}
    version = model_matches(clone)
    ok(reader.run(f"{editor(tmp_path, TO_BOOSTING)} {PATHS.params}"))
    ok(reader.run("make repro"))
    assert model_matches(clone) != version
    assert str(PATHS.lock) in ok(reader.run("git diff --cached --name-only")).stdout  # autostaged
    undone = ok(reader.run(undo))
    assert f"(version {version}, logistic_regression)" in undone.stdout
    assert model_matches(clone) == version
    assert {name: (clone / name).read_bytes() for name in committed} == committed
    assert ok(reader.run("git status --porcelain")).stdout.splitlines() == [f" M {PATHS.params}"]
