"""What the image is made of is pinned: every serving requirement by version and hash (the image
installs them with pip --require-hashes), and the base image by digest, which Dependabot tracks.
Cheap checks: the exported file and the bento's copy of it, read; the podman build is
tests/image/test_container.py's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, run
from tests.service.conftest import bento_tag, bentoml_home, uv_binary  # noqa: F401

DOCKERFILE = REPO / "deploy" / "Dockerfile"
PINNED = re.compile(  # name==version, an environment marker (uv: " ; ...", BentoML: "; ..."), hashes
    r"(?P<pin>[A-Za-z0-9._-]+(\[[^]]*\])?==[^ ;]+)"
    r"(?:\s*;(?:(?! --hash=).)*)?"
    r"(?P<hashes>( --hash=sha256:[0-9a-f]{64})*)"
)


def requirement_lines(text: str) -> list[str]:
    """The requirement lines of a requirements file, each with its continuation lines joined."""
    joined = re.sub(r"\s*\\\n\s*", " ", text)
    return [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def pins(text: str) -> dict[str, int]:
    """Each requirement's `name==version` and its number of sha256 hashes; an unpinned line fails."""
    found: dict[str, int] = {}
    for line in requirement_lines(text):
        match = PINNED.fullmatch(line)
        assert match, f"not a pinned requirement: {line[:120]}"
        found[match["pin"]] = max(found.get(match["pin"], 0), match["hashes"].count("--hash="))
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`make bento-requirements` in a folder holding only the Makefile, pyproject.toml and uv.lock."""
    folder = tmp_path_factory.mktemp("requirements")
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(REPO / name, folder / name)
    run(["make", "--no-print-directory", "bento-requirements", f"UV={uv_binary()}"], cwd=folder)
    return (folder / "build" / "requirements.txt").read_text()


def test_every_exported_requirement_is_pinned_with_its_hashes(exported: str) -> None:
    found = pins(exported)
    assert {"bentoml", "scikit-learn", "numpy"} <= {pin.split("==")[0] for pin in found}
    unhashed = [pin for pin, hashes in found.items() if hashes == 0]
    assert not unhashed, f"requirements without a hash: {unhashed}"
    assert "pytest" not in exported and "dvc==" not in exported  # the serving group only


def test_the_image_installs_the_bentos_requirements_with_require_hashes() -> None:
    text = DOCKERFILE.read_text()
    assert "COPY env/python/requirements.txt /app/requirements.txt\n" in text
    (install,) = re.findall(r"pip install [^\n]*", text)
    assert install.split() == [
        "pip", "install", "--require-hashes", "--only-binary", ":all:", "--no-deps",
        "--requirement", "/app/requirements.txt", "\\",
    ]  # fmt: skip


def test_the_base_image_is_pinned_by_digest_and_dependabot_tracks_it() -> None:
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert len(froms) == 1 and re.fullmatch(r"python:3\.11-slim@sha256:[0-9a-f]{64}", froms[0]), froms
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    docker = [u for u in config["updates"] if u["package-ecosystem"] == "docker"]
    assert [u["directory"] for u in docker] == [f"/{DOCKERFILE.parent.relative_to(REPO)}"]
    assert docker[0]["schedule"]["interval"] == "weekly"


@pytest.mark.slow
def test_the_bento_keeps_every_hash_and_adds_only_bentomls_own_pin(
    bento_tag: str,  # noqa: F811
    bentoml_home: Path,  # noqa: F811
) -> None:
    """BentoML rewrites the file into env/python/requirements.txt and appends `bentoml==<version>`
    unhashed; pip accepts it only because the same pin is there above it with its hashes."""
    name, version = bento_tag.split(":")
    bento_path = bentoml_home / "bentos" / name / version
    found = pins((bento_path / "env" / "python" / "requirements.txt").read_text())
    unhashed = [pin for pin, hashes in found.items() if hashes == 0]
    assert unhashed == [], unhashed  # bentoml's own line names a version hashed above
    assert any(pin.startswith("bentoml==") for pin in found)
