"""mlops image's refusals, before podman runs (tests/image/test_container.py builds the image for real
through `make image` and runs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.cli import main
from mlops.commands.image import read_labels
from mlops.errors import Exit


def test_the_labels_file_gives_the_tag_and_the_label_lines(tmp_path: Path) -> None:
    labels = tmp_path / "image-labels"
    labels.write_text("tag=v0.3.0-0123456789ab\nio.mlops.model.version=v0.3.0\na=b=c\n")
    assert read_labels(labels) == ("v0.3.0-0123456789ab", ["io.mlops.model.version=v0.3.0", "a=b=c"])


@pytest.mark.parametrize("text", ["io.mlops.model.version=v0.3.0\n", "tag=\n", ""])
def test_a_labels_file_without_a_tag_is_refused(tmp_path: Path, text: str) -> None:
    labels = tmp_path / "image-labels"
    labels.write_text(text)
    with pytest.raises(Exception, match=f"{labels}: no tag= line"):
        read_labels(labels)


def test_a_folder_that_is_not_a_built_bento_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref_file = tmp_path / "build" / "image-ref"
    args = ["image", "--bento", str(tmp_path), "--name", "localhost/x", "--ref-file", str(ref_file)]
    assert main([*args, "--labels", str(tmp_path / "image-labels")]) == Exit.ERROR
    dockerfile = tmp_path / "src" / "deploy" / "Dockerfile"
    assert f"{dockerfile} not found: build the bento first (make bento)" in capsys.readouterr().err
    assert not ref_file.parent.exists()
