"""`bentoml build` offline, as `make bento` runs it: the model, the code and pinned requirements inside."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PATHS, REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bento_dir(bento_tag: str, bentoml_home: Path) -> Path:
    name, version = bento_tag.split(":")
    return bentoml_home / "bentos" / name / version


def test_the_model_travels_inside_the_bento(bento_dir: Path, metadata: dict[str, Any]) -> None:
    model = bento_dir / "src" / PATHS.model
    assert hashlib.sha256(model.read_bytes()).hexdigest() == metadata["model_sha256"]
    assert (bento_dir / "src" / PATHS.metadata).is_file()
    assert (bento_dir / "src" / "mlops" / "service.py").is_file()
    assert not (bento_dir / "src" / "tests").exists()


def test_requirements_are_pinned_from_uv_lock(bento_dir: Path) -> None:
    text = (bento_dir / "env" / "python" / "requirements.txt").read_text().replace("\\\n", " ")
    requirements = [
        line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert requirements, "no requirements"
    pinned = re.compile(r"^([A-Za-z0-9_.\-\[\]]+==[^=\s;]+)\s*(;[^-]*)?((?:\s+--hash=sha256:[0-9a-f]{64})*)$")
    unpinned = [line for line in requirements if not pinned.match(line)]
    assert unpinned == []
    # Every requirement carries its hashes (pip --require-hashes in the image); BentoML appends its
    # own pin once more, bare, which pip accepts beside the hashed one.
    unhashed = [line for line in requirements if not pinned.match(line).group(3)]  # type: ignore[union-attr]
    assert all(line.startswith("bentoml==") for line in unhashed), unhashed
    lines = [pinned.match(line).group(1) for line in requirements]  # type: ignore[union-attr]
    locked = (REPO / "uv.lock").read_text()
    bentoml = next(line for line in lines if line.startswith("bentoml=="))
    assert f'name = "bentoml"\nversion = "{bentoml.split("==")[1]}"' in locked
    names = {line.split("==")[0] for line in lines}
    assert not names & {"pytest", "ruff", "dvc", "dvc-s3", "gto", "copier", "vl-convert-python"}, (
        "not serving"
    )


def test_the_serving_group_repeats_the_package_dependencies() -> None:
    """pyproject's `serving` group (the image's requirements) names only the package's own dependencies."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    serving = project["dependency-groups"]["serving"]
    assert "bentoml>=1.4,<1.5" in serving
    assert set(serving) <= set(project["project"]["dependencies"])


def test_the_bento_carries_the_image_dockerfile_and_the_service(bento_dir: Path) -> None:
    """deploy/Dockerfile travels in the bento (make image and release.yml build it from there)."""
    dockerfile = (bento_dir / "src" / "deploy" / "Dockerfile").read_text()
    assert dockerfile == (REPO / "deploy" / "Dockerfile").read_text()
    assert "OMP_NUM_THREADS=1" in dockerfile
    manifest = yaml.safe_load((bento_dir / "bento.yaml").read_text())
    assert manifest["service"] == "mlops.service:ModelService"
    routes = {route["route"] for route in manifest["schema"]["routes"]}
    assert {"/predict", "/predict_batch", "/predict_adaptive", "/metadata"} <= routes
