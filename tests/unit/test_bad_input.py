"""Bad input files get one line naming the file, line and column, never a traceback or a whole value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mlops.cli import main
from mlops.errors import DataValidationError
from mlops.pipeline.data import check_text
from tests.conftest import REPO

HEADER = "age,plan,label\n"
SCHEMA = {
    "dataset": "toy",
    "target": {"name": "label", "positive": "yes", "negative": "no"},
    "features": [
        {"name": "age", "type": "integer", "min": 0, "max": 120},
        {"name": "plan", "type": "categorical", "categories": ["basic", "pro"], "unseen": "refuse"},
    ],
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "schema.yaml").write_text(yaml.safe_dump(SCHEMA))
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    return tmp_path


def prepare(folder: Path, text: str | bytes, capsys: pytest.CaptureFixture[str]) -> str:
    """`mlops prepare` on a CSV holding `text`; its error output (the exit code must be 2)."""
    data = folder / "data.csv"
    data.write_bytes(text if isinstance(text, bytes) else text.encode())
    argv = ["prepare", "--data", str(data), "--schema", str(folder / "schema.yaml")]
    argv += ["--params", str(folder / "params.yaml")]
    argv += ["--train-out", str(folder / "train.parquet"), "--test-out", str(folder / "test.parquet")]
    assert main(argv) == 2
    assert not (folder / "train.parquet").exists()
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(data) in err
    return err


def rows(n: int, label: str = "yes") -> str:
    return "".join(f"{20 + i},basic,{label if i % 2 else 'no'}\n" for i in range(n))


def test_latin1_names_line_and_column_not_a_byte_offset(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (HEADER + rows(6) + "30,caf\u00e9,no\n").encode("latin-1")
    err = prepare(folder, text, capsys)
    assert "line 8, column 'plan': not UTF-8, found byte 0xe9" in err
    assert "save the file as UTF-8" in err and "position" not in err


def test_a_20_mb_cell_is_named_not_echoed(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = prepare(folder, HEADER + rows(4) + "30," + "x" * 20_000_000 + ",no\n", capsys)
    assert "line 6, column 'plan': longer than 1,048,576 bytes" in err
    assert len(err) < 500


def test_a_giant_line_without_newline_is_refused_reading_a_bounded_part(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(HEADER.encode() + b"1," * 5_000_000)
    with pytest.raises(DataValidationError) as caught:
        check_text(data, max_line_bytes=1000)
    assert caught.value.problems == ["line 2, field 501: longer than 1,000 bytes, the most a line may hold"]


def test_a_long_value_under_the_line_limit_is_cut_in_the_message(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = prepare(folder, HEADER + rows(6) + "30," + "y" * 500_000 + ",no\n", capsys)
    assert "column 'plan': expected one of 'basic', 'pro'; found line 8: 'yyyy" in err
    assert "(500,000 characters)" in err and len(err) < 600


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (rows(3), "column 'label': label 'yes' in 1 row; the split needs at least 2 rows of each label"),
        ("".join(f"{20 + i},pro,no\n" for i in range(40)), "column 'label': every row has the label 'no'"),
        (rows(4), "4 rows split 3 / 1 (prepare.test_size 0.2) cannot put each of 2 labels on both sides"),
    ],
    ids=["three rows", "one class", "too small to split"],
)
def test_small_or_one_class_data_gets_one_line(
    folder: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    assert message in prepare(folder, HEADER + body, capsys)


def test_an_unparsable_line_is_named_and_cut(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = prepare(folder, HEADER + rows(4) + "1,2,3,4,5\n" + rows(4), capsys)
    assert "cannot be parsed as CSV" in err and "line 6" in err


def test_a_regression_target_needs_variation_and_rows_not_labels() -> None:
    import pandas as pd

    from mlops.pipeline.data import check_split

    varied = pd.Series([float(i) for i in range(50)], name="price")
    check_split(varied, 0.2, "data.csv", classification=False)  # every value once: fine for regression
    with pytest.raises(DataValidationError) as caught:
        check_split(varied, 0.2, "data.csv", classification=True)
    assert "the split needs at least 2 rows of each label" in str(caught.value)
    with pytest.raises(DataValidationError) as caught:
        check_split(pd.Series([3.5] * 40, name="price"), 0.2, "data.csv", classification=False)
    assert caught.value.problems == ["column 'price': every row has the value 3.5; nothing to learn"]
    with pytest.raises(DataValidationError) as caught:
        check_split(varied[:3], 0.2, "data.csv", classification=False)
    assert caught.value.problems == [
        "3 rows split 2 / 1 (prepare.test_size 0.2): each side needs at least 2 rows"
    ]
