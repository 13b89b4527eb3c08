"""`make pr-pointers`, pr.yml's `data` job: the job that holds cloud credentials runs the base commit's
code and takes from the pull request only its DVC pointers, as data (docs/pull-requests.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops.project import PIPELINE
from tests.conftest import PATHS, REPO, run

DATA_DVC = str(PATHS.data_dvc)
POINTERS = {PIPELINE: "stages: {}\n", str(PATHS.lock): "schema: '2.0'\n", str(PATHS.params): "seed: 1\n"}
POINTERS |= {DATA_DVC: "outs:\n- md5: 0123.dir\n  path: data\n", "sub/production.dvc": "outs: []\n"}


def base_checkout(folder: Path) -> Path:
    """The base commit's checkout: the Makefile and a .dvc/config naming the trusted remote."""
    (folder / ".dvc").mkdir(parents=True)
    shutil.copy(REPO / "Makefile", folder / "Makefile")
    (folder / ".dvc" / "config").write_text("[core]\n    remote = trusted\n")
    return folder


def head_checkout(folder: Path, extra: dict[str, str]) -> Path:
    """The pull request's head: pointers, code and a .dvc/config of its own, committed."""
    files = {**POINTERS, "Makefile": "all:\n\ttouch PWNED\n", ".dvc/config": "[core]\n remote = evil\n"}
    for name, text in {**files, **extra}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    run(["git", "init", "-q", "-b", "head"], cwd=folder)
    run(["git", "add", "-A"], cwd=folder)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "head"], cwd=folder)
    return folder


def pr_pointers(base: Path, head: str) -> tuple[int, str]:
    result = run(
        ["make", "--no-print-directory", "pr-pointers"], cwd=base, check=False, env={"HEAD_DIR": head}
    )
    return result.returncode, result.stdout + result.stderr


def test_only_the_pointers_are_copied_and_the_head_is_removed(tmp_path: Path) -> None:
    base = base_checkout(tmp_path / "base")
    head_checkout(base / "pr-head", {"src/evil.py": "import os\n", "notes.dvc.txt": "x\n"})
    code, output = pr_pointers(base, "pr-head")
    assert code == 0, output
    copied = {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}
    assert copied == {"Makefile", ".dvc/config", *POINTERS}
    assert (base / ".dvc" / "config").read_text() == "[core]\n    remote = trusted\n"  # the base's remote
    assert (base / "Makefile").read_bytes() == (REPO / "Makefile").read_bytes()
    assert all((base / name).read_text() == text for name, text in POINTERS.items())
    assert not (base / "pr-head").exists()


def test_a_symlinked_pointer_is_refused_and_nothing_is_copied(tmp_path: Path) -> None:
    base = base_checkout(tmp_path / "base")
    head = head_checkout(base / "pr-head", {})
    (head / DATA_DVC).unlink()
    (head / DATA_DVC).symlink_to("/proc/self/environ")  # DVC would print the credentials it holds
    run(["git", "add", "-A"], cwd=head)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "link"], cwd=head)
    code, output = pr_pointers(base, "pr-head")
    assert code == 2
    assert f"pr-head/{DATA_DVC} is not a regular file: refused" in output
    assert sorted(p.name for p in base.iterdir()) == [".dvc", "Makefile", "pr-head"]


@pytest.mark.parametrize("head", ["", ".", "..", "missing"])
def test_a_head_dir_that_is_no_separate_checkout_is_refused(tmp_path: Path, head: str) -> None:
    base = base_checkout(tmp_path / "base")
    if head != "missing":
        run(["git", "init", "-q"], cwd=tmp_path)  # `..` is a git checkout holding the base
        run(["git", "init", "-q"], cwd=base)
    code, output = pr_pointers(base, head)
    assert code == 2, output
    assert "make pr-pointers: HEAD_DIR=" in output
    assert (base / "Makefile").is_file() and (base / ".dvc" / "config").is_file()
