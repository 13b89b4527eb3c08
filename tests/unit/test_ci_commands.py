"""The workflow steps that run in the project's environment (`mlops gitops`, `retrain`, `ship-log`,
`drift-check`), in process: what each refuses before it runs git, gto or dvc, and what it writes.
tests/deploy, tests/github and tests/drift run them end to end as the workflows do."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from mlops.cli import main
from mlops.commands import gitops, retrain, ship_log
from mlops.errors import Exit
from mlops.spec.schema import load_schema
from tests.conftest import PATHS, REPO

DIGEST = "sha256:" + "a" * 64


def test_an_image_is_a_whole_name_by_digest_lower_cased() -> None:
    assert gitops.parse_image(f"GHCR.io/Acme/Churn@{DIGEST}", "--image") == f"ghcr.io/acme/churn@{DIGEST}"
    for text in (f"ghcr.io/acme/churn:latest@{DIGEST}\n", "ghcr.io/acme/churn:1.0", f"x@{DIGEST};id"):
        with pytest.raises(gitops.GitOpsError, match="expected an image by digest"):
            gitops.parse_image(text, "--image")


def test_a_stage_tag_is_whole_gto_grammar() -> None:
    assert gitops.checked_tag("model-service#prod#3") == "model-service#prod#3"
    with pytest.raises(gitops.GitOpsError, match="expected a GTO tag"):
        gitops.checked_tag("model-service#prod#3\n")


def test_the_overlay_gets_the_image_and_keeps_its_comments() -> None:
    overlay = (REPO / "deploy" / "overlays" / "prod" / "kustomization.yaml").read_text()
    changed = gitops.set_image(overlay, f"ghcr.io/acme/churn@{DIGEST}")
    assert f"newName: ghcr.io/acme/churn\n    digest: {DIGEST}" in changed
    assert changed.splitlines()[:5] == overlay.splitlines()[:5]
    with pytest.raises(gitops.GitOpsError, match="found 0"):
        gitops.set_image("resources: []\n", f"ghcr.io/acme/churn@{DIGEST}")


def test_the_project_repository_is_project_yaml_s_else_the_github_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "Acme/Churn")
    assert gitops.project_repository(tmp_path) == "ghcr.io/acme/churn"
    (tmp_path / "project.yaml").write_text("image: registry.example.com/team/model\n")
    assert gitops.project_repository(tmp_path) == "registry.example.com/team/model"
    with pytest.raises(gitops.GitOpsError, match="not the project's repository"):
        gitops.project_image(tmp_path, f"ghcr.io/acme/churn@{DIGEST}", "--image")


def test_a_bad_data_version_is_refused_before_anything_runs(tmp_path: Path) -> None:
    args = argparse.Namespace(data_md5="latest", step="checkout")
    with pytest.raises(retrain.RetrainError, match="expected the 32-hex md5"):
        retrain.checkout(args)


def test_the_dataset_folder_is_the_dvc_file_s_one_output(tmp_path: Path) -> None:
    assert ship_log.dataset_folder(tmp_path / "production.dvc") == tmp_path / "production"
    (tmp_path / "production.dvc").write_text("outs:\n- md5: 0123.dir\n  path: batches\n")
    assert ship_log.dataset_folder(tmp_path / "production.dvc") == tmp_path / "batches"
    (tmp_path / "two.dvc").write_text("outs:\n- path: a\n- path: b\n")
    with pytest.raises(ValueError, match="expected one output with a 'path'"):
        ship_log.dataset_folder(tmp_path / "two.dvc")
    with pytest.raises(ValueError, match=r"expected the dataset's \.dvc file"):
        ship_log.dataset_folder(tmp_path / "production.csv")
    with pytest.raises(ValueError, match="no such log folder"):
        ship_log.ship_closed(
            tmp_path / "nowhere", tmp_path / "target", load_schema(PATHS.schema), "prediction"
        )


def test_drift_check_without_current_data_skips_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert main(["drift-check", "--current", str(tmp_path / "production")]) == Exit.OK
    assert outputs.read_text() == "code=skipped\n"
    assert "::warning::no current data at" in capsys.readouterr().out


def test_a_crash_in_drift_check_is_an_error_never_a_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path))  # a folder: writing the output fails
    assert main(["drift-check", "--current", str(tmp_path / "production")]) == Exit.ERROR
    assert "::error::the drift check crashed (exit 2)" in capsys.readouterr().err


def test_a_data_dvc_without_one_output_is_refused_and_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dvc_file = tmp_path / "data.dvc"
    text = "outs:\n- md5: 0123.dir\n  path: a\n- md5: 4567.dir\n  path: b\n"
    dvc_file.write_text(text)
    monkeypatch.setattr(retrain, "_data_dvc", lambda: dvc_file)
    args = argparse.Namespace(data_md5="0" * 32, step="checkout")
    with pytest.raises(
        retrain.RetrainError, match=r"data.dvc: expected one output with a 'path' .*, found 2"
    ):
        retrain.checkout(args)
    assert dvc_file.read_text() == text


def test_drift_check_help_names_its_own_out_default(capsys: pytest.CaptureFixture[str]) -> None:
    """drift/ itself, where `mlops drift` writes to drift/NAME."""
    helps = {}
    for command in ("drift-check", "drift"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        helps[command] = " ".join(capsys.readouterr().out.split())
    assert "drift.html (default: drift/)" in helps["drift-check"]
    assert "drift.html (default: drift/NAME)" in helps["drift"]
