"""The whole pipeline, run for real with DVC in temporary git repositories."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.cli import main
from mlops.io import sha256_file
from mlops.spec.metrics import BY_TASK, LOWER_IS_BETTER
from mlops.spec.params import load_params
from mlops.spec.schema import Schema, load_schema
from tests.conftest import PATHS, copy_built, run, stage_commands
from tests.project_task import UNBOUNDED, project_task

# The plots `mlops evaluate` writes per task (schema.yaml's target.task).
PLOTS = {
    "binary": ("roc.json", "precision_recall.json", "calibration.json", "importance.json", "confusion.csv"),
    "multiclass": ("confusion.csv", "importance.json"),
    "regression": ("importance.json", "residuals.json"),
}

pytestmark = pytest.mark.slow


@pytest.fixture
def project(built_project: Path, tmp_path: Path) -> Path:
    """A private copy of the built project (git history and DVC cache included) to change freely,
    with the pipeline's results committed, as a user commits them after `make run`."""
    project = copy_built(built_project, tmp_path / "project")
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-q", "--allow-empty", "-m", "pipeline results"], cwd=project)
    return project


def test_outputs_metrics_and_lineage(built_project: Path) -> None:
    task = project_task(built_project)
    metrics = json.loads((built_project / PATHS.metrics).read_text())
    assert set(BY_TASK[task]) <= set(metrics)
    gate = load_params(built_project / "params.yaml").gate
    if gate.metric in LOWER_IS_BETTER:  # gate.min is then the worst acceptable value
        assert metrics[gate.metric] <= gate.min
    else:
        assert metrics[gate.metric] >= gate.min
    assert all(0 <= metrics[name] <= 1 for name in set(BY_TASK[task]) - UNBOUNDED)
    metadata = json.loads((built_project / PATHS.metadata).read_text())
    assert metadata["model_sha256"] == sha256_file(built_project / PATHS.model)
    assert metadata["model_version"] == metadata["model_sha256"][:12]
    assert metadata["training_data"]["sha256"] == sha256_file(built_project / PATHS.train)
    assert sorted(path.name for path in (built_project / PATHS.plots_dir).iterdir()) == sorted(PLOTS[task])
    for plot in PLOTS[task]:
        assert (built_project / PATHS.plots_dir / plot).stat().st_size > 0
    segments = json.loads((built_project / PATHS.segments).read_text())
    assert set(segments) == set(load_params(built_project / "params.yaml").evaluate.segments)


def test_clean_status_and_second_repro_does_nothing(built_project: Path) -> None:
    assert "up to date" in run(["dvc", "status"], cwd=built_project).stdout
    again = run(["dvc", "repro"], cwd=built_project).stdout
    assert "Running stage" not in again


def test_forced_rerun_gives_byte_identical_model_and_metrics(project: Path) -> None:
    before = {p: (project / p).read_bytes() for p in (PATHS.metrics, PATHS.model, PATHS.lock)}
    run(["dvc", "repro", "--force"], cwd=project)
    after = {p: (project / p).read_bytes() for p in before}
    assert before == after


def test_one_param_change_reruns_only_dependent_stages(project: Path) -> None:
    before = json.loads((project / PATHS.intervals).read_text())
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["evaluate"]["confidence"] = 0.8
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    output = run(["dvc", "repro"], cwd=project).stdout
    assert "Running stage 'evaluate'" in output
    assert "Running stage 'train'" not in output and "Running stage 'prepare'" not in output
    after = json.loads((project / PATHS.intervals).read_text())
    assert sorted(after) == sorted(before)
    for name, interval in after.items():  # the same resamples, a narrower share of them
        assert interval["confidence"] == 0.8
        assert before[name]["low"] <= interval["low"] <= interval["high"] <= before[name]["high"]


def test_experiment_with_a_set_param(project: Path) -> None:
    run(["dvc", "exp", "run", "-S", "train.estimator=logistic_regression", "--name", "logreg"], cwd=project)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], cwd=project).stdout)
    names = json.dumps(shown)
    assert "logreg" in names and load_params(project / "params.yaml").gate.metric in names


def break_data(frame: pd.DataFrame, schema: Schema, case: str) -> tuple[pd.DataFrame | str, str]:
    """Damage the raw table one way; return it (or raw text) and the message the pipeline must give."""
    numeric = schema.numeric[0].name
    if case == "missing column":
        dropped = schema.feature_names[-1]
        return frame.drop(columns=dropped), f"missing column(s) ['{dropped}']"
    if case == "wrong type":
        frame.loc[1, numeric] = "not-a-number"
        return frame, f"column '{numeric}': expected {schema.feature(numeric).expectation()}, found line 3"
    if case == "unknown category":  # refused where the schema says so; an integer code must be one
        found = next((f for f in schema.categorical if f.unseen == "refuse" or f.integer_coded), None)
        if found is None:
            pytest.skip("every categorical feature accepts unseen text values")
        frame.loc[1, found.name] = "no-such-category"
        expected = "expected one of" if found.unseen == "refuse" else "expected an integer code"
        return frame, f"column '{found.name}': {expected}"
    if case == "empty file":
        return "", "the file is empty"
    if case == "header only":
        return frame.iloc[0:0], "the file has no data rows"
    return frame.to_csv(index=False).replace("\n", '\n"unterminated,1,2\n', 1), "cannot be parsed as CSV"


CASES = ["missing column", "wrong type", "unknown category", "empty file", "header only", "unparsable"]


def write_broken(project: Path, case: str) -> tuple[Path, str]:
    """Damage the project's raw data one way; return its path and the message the pipeline must give."""
    raw = project / yaml.safe_load((project / "project.yaml").read_text())["data"]
    frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
    broken, message = break_data(frame, load_schema(project / "schema.yaml"), case)
    raw.unlink()  # DVC links data from its cache: replace the file, never write through the link
    raw.write_text(broken if isinstance(broken, str) else broken.to_csv(index=False))
    return raw, message


@pytest.mark.parametrize("case", CASES)
def test_bad_data_stops_the_prepare_stage_with_a_clear_message(
    built_project: Path, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The prepare stage's own command (dvc.yaml's, run in-process) on each kind of damage."""
    for name in ("project.yaml", "schema.yaml", "params.yaml"):
        shutil.copy(built_project / name, tmp_path / name)
    raw = built_project / yaml.safe_load((built_project / "project.yaml").read_text())["data"]
    (tmp_path / raw.relative_to(built_project)).parent.mkdir(parents=True)
    shutil.copy(raw, tmp_path / raw.relative_to(built_project))
    _, message = write_broken(tmp_path, case)
    prepare = next(argv for argv in stage_commands(built_project) if argv[0] == "prepare")
    with contextlib.chdir(tmp_path):
        assert main(prepare) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "artifacts").exists() or not list((tmp_path / "artifacts").rglob("*"))


def test_bad_data_under_dvc_loses_nothing(project: Path, built_project: Path) -> None:
    """`dvc repro` on broken data: the stage fails, dvc.lock is intact, everything comes back."""
    raw, message = write_broken(project, "wrong type")
    assert_fails_and_restores(project, built_project, raw.relative_to(project), message)


def assert_fails_and_restores(project: Path, original: Path, raw: Path, message: str) -> None:
    lock = (project / PATHS.lock).read_bytes()
    model = sha256_file(project / PATHS.model)
    raw_data = sha256_file(original / raw)
    failed = run(["dvc", "repro"], cwd=project, check=False)
    assert failed.returncode != 0
    assert message in failed.stdout + failed.stderr
    assert (project / PATHS.lock).read_bytes() == lock
    assert not list(project.rglob("*.tmp")), "a half-written temporary file was left behind"
    # What git tracks comes back from git (repro records changed raw data in data.dvc), the rest
    # from the DVC cache.
    run(["git", "checkout", "--", "."], cwd=project)
    run(["dvc", "checkout", "--force"], cwd=project)
    assert sha256_file(project / raw) == raw_data
    assert sha256_file(project / PATHS.model) == model
    assert "up to date" in run(["dvc", "status"], cwd=project).stdout


def git_status(project: Path) -> str:
    return run(["git", "status", "--porcelain"], cwd=project).stdout


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda p: p["train"]["hist_gradient_boosting"].update(learning_rat=0.1),
            "train.hist_gradient_boosting.learning_rat: Extra inputs are not permitted",
        ),
        (lambda p: p["train"].update(estimator="random_forest"), "train.estimator: Input should be"),
        (
            lambda p: p["evaluate"].update(segments=["no_such_column"]),
            "evaluate.segments names ['no_such_column']",
        ),
        (lambda p: p.update(unknown_section={"a": 1}), "unknown_section: Extra inputs are not permitted"),
    ],
    ids=["typo", "bad value", "unknown column", "unknown section"],
)
def test_a_bad_param_stops_dvc_before_any_output_is_removed(project: Path, edit, message: str) -> None:
    """The validate stage fails first: models/ and eval/ are untouched, git status shows only the edit."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    edit(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    outputs = {p: sha256_file(project / p) for p in (PATHS.model, PATHS.metadata, PATHS.metrics)}
    lock = (project / PATHS.lock).read_bytes()
    failed = run(["dvc", "repro"], cwd=project, check=False)
    assert failed.returncode != 0
    assert message in failed.stdout + failed.stderr
    assert "Traceback" not in failed.stdout + failed.stderr
    assert "Running stage 'train'" not in failed.stdout
    assert {p: sha256_file(project / p) for p in outputs} == outputs
    assert (project / PATHS.lock).read_bytes() == lock
    assert git_status(project) == " M params.yaml\n"


def test_a_bad_schema_stops_dvc_before_any_output_is_removed(project: Path) -> None:
    schema = yaml.safe_load((project / "schema.yaml").read_text())
    schema["features"][0]["unseen"] = "ignore"
    (project / "schema.yaml").write_text(yaml.safe_dump(schema, sort_keys=False))
    model = sha256_file(project / PATHS.model)
    failed = run(["dvc", "repro"], cwd=project, check=False)
    assert failed.returncode != 0
    assert "features.0.unseen: Input should be 'encode' or 'refuse'" in failed.stdout + failed.stderr
    assert sha256_file(project / PATHS.model) == model
    assert git_status(project) == " M schema.yaml\n"
