"""Settings from the environment and the verified model load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops.artifacts import read_metadata
from mlops.errors import ConfigError, MlopsError
from mlops.serving.bundle import ServingSettings, load_verified
from mlops.serving.fast import CompiledPipeline
from tests.conftest import PATHS


def test_settings_have_defaults_and_read_the_environment() -> None:
    assert ServingSettings.from_env({}) == ServingSettings()
    assert ServingSettings().inference_log_dir == Path("/var/log/mlops/inference")  # outside the bento
    settings = ServingSettings.from_env(
        {
            "MLOPS_MODELS_DIR": "/m",
            "MLOPS_MAX_BATCH": "7",
            "MLOPS_INFERENCE_LOG_DIR": "",
            "MLOPS_INFERENCE_LOG_MAX_BYTES": "1024",
            "MLOPS_INFERENCE_LOG_MAX_TOTAL_BYTES": "4096",
        }
    )
    assert settings.inference_log_max_total_bytes == 4096
    assert settings.models_dir == Path("/m")
    assert settings.max_batch == 7
    assert settings.inference_log_dir is None


@pytest.mark.parametrize("raw", ["0", "-3", "ten"])
def test_a_bad_number_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=f"MLOPS_MAX_BODY_BYTES='{raw}': expected a positive integer"):
        ServingSettings.from_env({"MLOPS_MAX_BODY_BYTES": raw})


def test_a_log_cap_smaller_than_one_file_names_both_variables() -> None:
    with pytest.raises(
        ConfigError, match=r"MAX_TOTAL_BYTES \(100\) must be at least .*MAX_BYTES \(16777216\)"
    ):
        ServingSettings.from_env({"MLOPS_INFERENCE_LOG_MAX_TOTAL_BYTES": "100"})


@pytest.fixture
def models(built_project: Path, tmp_path: Path) -> Path:
    """A private copy of the built project's models folder, for the tests that break it."""
    return Path(shutil.copytree(built_project / PATHS.model.parent, tmp_path / "models"))


def test_the_verified_model_loads_on_the_compiled_path(built_project: Path) -> None:
    models = built_project / PATHS.model.parent  # read only: no copy
    assert isinstance(load_verified(models, read_metadata(models)), CompiledPipeline)


def test_a_tampered_model_is_refused_with_both_hashes(models: Path) -> None:
    metadata = read_metadata(models)
    with (models / PATHS.model.name).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(MlopsError, match=f"does not match {metadata['model_sha256']}"):
        load_verified(models, metadata)


def test_a_missing_model_file_is_named(models: Path) -> None:
    (models / PATHS.model.name).unlink()
    with pytest.raises(MlopsError, match=r"model\.skops: model file not found"):
        load_verified(models, read_metadata(models))


def test_metadata_without_the_hash_is_refused(models: Path) -> None:
    (models / PATHS.metadata.name).write_text('{"model_version": "x"}')
    with pytest.raises(ConfigError, match="missing key"):
        read_metadata(models)
