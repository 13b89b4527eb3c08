"""The raw CSV is validated a record batch at a time: the typed frame and every error message are
those a check of the whole file gives (pandas reading it whole, as before), whatever the batches."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops.errors import DataValidationError
from mlops.pipeline import data
from mlops.pipeline.data import text_batches
from mlops.spec.schema import Schema, validate_frame
from tests.raw_table import raw_table

SCHEMA = Schema.model_validate(
    {
        "dataset": "toy",
        "target": {"name": "label", "positive": "yes", "negative": "no"},
        "features": [
            {"name": "age", "type": "integer", "min": 0, "max": 120, "nullable": True},
            {"name": "plan", "type": "categorical", "categories": ["basic", "pro"], "unseen": "refuse"},
            {"name": "spend", "type": "float"},
        ],
    }
)
ROWS = 3_000


def write(path: Path, broken: dict[int, tuple[str, str]]) -> Path:
    """ROWS valid rows (some cells blank or padded with spaces), with `broken` {row: (column, value)}."""
    lines = ["age,plan,label,spend"]
    for i in range(ROWS):
        cells = {"age": str(i % 90) if i % 13 else "", "plan": " pro" if i % 3 else "basic "}
        cells |= {"label": "yes" if i % 4 else "no", "spend": f"{i * 0.37:.2f}"}
        if i in broken:
            column, value = broken[i]
            cells[column] = value
        lines.append(",".join(cells[name] for name in ("age", "plan", "label", "spend")))
    path.write_text("\n".join(lines) + "\n")
    return path


def read_whole(path: Path) -> pd.DataFrame:
    """The reader before batches: pandas reads every cell as text, then the frame is validated."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True)
    text = raw.apply(lambda column: column.str.strip()).replace("", None)
    return validate_frame(text, SCHEMA, str(path))


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "CSV_BLOCK_BYTES", 4_096)  # ~250 rows a batch: a dozen batches


def test_a_valid_file_read_in_batches_is_the_whole_file_typed(tmp_path: Path, small_batches: None) -> None:
    path = write(tmp_path / "data.csv", {})
    assert len(list(text_batches(path))) > 5
    pd.testing.assert_frame_equal(raw_table(path, SCHEMA), read_whole(path))


BROKEN = {
    4: ("age", "old"),
    700: ("age", "-3"),
    1_500: ("age", "4.5"),
    1_501: ("plan", "gold"),
    2_100: ("age", "oops"),
    2_998: ("plan", "free"),
    **{row: ("age", "x") for row in range(2_300, 2_310)},  # more than the five examples a check shows
    2_999: ("spend", ""),
}


def test_problems_in_many_batches_give_the_whole_files_message(tmp_path: Path, small_batches: None) -> None:
    path = write(tmp_path / "data.csv", BROKEN)
    with pytest.raises(DataValidationError) as whole:
        read_whole(path)
    with pytest.raises(DataValidationError) as batched:
        raw_table(path, SCHEMA)
    assert batched.value.problems == whole.value.problems
    assert batched.value.problems == [
        "column 'age': expected an integer >= 0 <= 120, found line 6: 'old', line 2102: 'oops', "
        "line 2302: 'x', line 2303: 'x', line 2304: 'x' (and 7 more rows)",
        "column 'age': expected an integer, found line 1502: '4.5'",
        "column 'age': expected >= 0, found line 702: '-3'",
        "column 'plan': expected one of 'basic', 'pro'; found line 1503: 'gold', line 3000: 'free'",
        "column 'spend': expected a value (column is not nullable), found line 3001: <empty>",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty (no header, no rows)"),
        ("age,plan,label,spend\n", "the file has no data rows"),
        ("age,plan,spend\n1,pro,2\n", "missing column(s) ['label']; the file has: age, plan, spend"),
        (
            "age,plan,label,spend\n1,pro,yes,2\n1,pro\n",
            "cannot be parsed as CSV: line 3 has 2 fields, the header 4",
        ),
    ],
    ids=["empty", "header only", "missing column", "short line"],
)
def test_a_file_without_rows_or_columns_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(DataValidationError) as caught:
        raw_table(path, SCHEMA)
    assert caught.value.problems == [message]
