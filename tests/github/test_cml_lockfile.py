""".github/cml's lockfile, which the check job installs with `npm ci`: CML 0.20.6 and, beneath it,
exactly the runtime tree of CML's own release lockfile (read from the vendored source), each package
with an integrity hash so that npm checks what it downloads.

How it was made, and what could not be checked here, is in docs/pull-requests.md ("Installing CML").
"""

from __future__ import annotations

import json
import tarfile
from typing import Any

import pytest

from tests.github.conftest import CML_DIR, CML_TARBALL, CML_VERSION

TOP = "node_modules/@dvcorg/cml"
FLAGS = {"resolved", "integrity", "dev", "devOptional", "optional"}  # where a consumer's lock may differ


def _committed() -> tuple[dict[str, Any], dict[str, Any]]:
    package = json.loads((CML_DIR / "package.json").read_text())
    return package, json.loads((CML_DIR / "package-lock.json").read_text())["packages"]


def _released() -> tuple[dict[str, Any], dict[str, Any]]:
    """CML's package.json and its lockfile's packages, from the release source."""
    if not CML_TARBALL.is_file():
        pytest.skip(f"the CML source is not at {CML_TARBALL} (set CML_TARBALL)")
    with tarfile.open(CML_TARBALL) as archive:
        files = [
            archive.extractfile(f"cml-{CML_VERSION}/{name}") for name in ("package.json", "package-lock.json")
        ]
        package, lock = (json.load(file) for file in files if file is not None)
    return package, lock["packages"]


def test_the_client_is_pinned_to_one_version() -> None:
    package, packages = _committed()
    assert package["dependencies"] == {"@dvcorg/cml": CML_VERSION}
    assert packages[""]["dependencies"] == package["dependencies"]
    assert packages[TOP]["version"] == CML_VERSION


def test_beneath_cml_the_tree_is_cmls_own_release_lockfile_without_its_dev_tools() -> None:
    release_package, released = _released()
    _, committed = _committed()
    assert committed[TOP]["dependencies"] == release_package["dependencies"]
    runtime = {path: entry for path, entry in released.items() if path and not entry.get("dev")}
    assert set(committed) - {"", TOP} == set(runtime)
    for path, entry in runtime.items():
        mine = committed[path]
        assert {k: v for k, v in mine.items() if k not in FLAGS} == {
            k: v for k, v in entry.items() if k not in FLAGS
        }, path
        if "integrity" in entry:  # where CML's lockfile records a hash, it is the same one
            assert mine["integrity"] == entry["integrity"], path
        assert mine.get("optional", False) == bool(entry.get("optional") or entry.get("devOptional")), path


def test_every_package_beneath_cml_has_an_integrity_hash() -> None:
    _, committed = _committed()
    missing = [
        p for p, e in committed.items() if p not in ("", TOP) and "sha512-" not in e.get("integrity", "")
    ]
    assert missing == []
