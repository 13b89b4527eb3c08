"""`mlops prepare` streams the split: the train and test files it writes a record batch at a time
hold the rows, order and types that scikit-learn's split of the whole frame gives (as prepare did
before), whatever the batches; raw data may be Parquet, its columns and types checked first."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.model_selection import train_test_split

from mlops.cli import main
from mlops.errors import DataValidationError
from mlops.pipeline import data
from mlops.pipeline.data import read_text, write_split
from mlops.spec.schema import Schema
from tests.conftest import REPO
from tests.raw_table import raw_table

ROWS = 2_000
TARGETS = {
    "binary": {"name": "label", "positive": "yes", "negative": "no"},
    "multiclass": {"name": "label", "task": "multiclass", "classes": ["low", "mid", "high"]},
    "integer-coded": {"name": "label", "positive": 1, "negative": 0},
    "regression": {"name": "label", "task": "regression"},
}
FEATURES = [
    {"name": "age", "type": "integer", "min": 0, "max": 120, "nullable": True},
    {"name": "plan", "type": "categorical", "categories": ["basic", "pro"]},
    {"name": "flag", "type": "categorical", "categories": [0, 1], "nullable": True},
    {"name": "spend", "type": "float"},
]


def schema_for(task: str) -> Schema:
    return Schema.model_validate({"dataset": "toy", "target": TARGETS[task], "features": FEATURES})


def table(task: str) -> pd.DataFrame:
    """ROWS rows as a CSV holds them; `flag` is blank only near the end, so the batches before hold
    integers and the whole column is float (pandas' type for integers with a missing value)."""
    rng = np.random.default_rng(3)
    labels = {
        "binary": rng.choice(["no", "yes"], ROWS, p=[0.8, 0.2]),
        "multiclass": rng.choice(["low", "mid", "high"], ROWS, p=[0.6, 0.3, 0.1]),
        "integer-coded": rng.choice([0, 1], ROWS, p=[0.7, 0.3]).astype(str),
        "regression": rng.normal(size=ROWS).round(3).astype(str),
    }
    flag = rng.choice(["0", "1"], ROWS).astype(object)
    flag[-5:] = ""
    frame = {"age": rng.integers(0, 90, ROWS).astype(str), "plan": rng.choice(["basic", "pro"], ROWS)}
    frame |= {"label": labels[task], "flag": flag, "spend": rng.gamma(2, 10, ROWS).round(2).astype(str)}
    return pd.DataFrame(frame)


def whole_split(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How prepare split before it streamed: scikit-learn on the whole typed frame, file order kept."""
    strata = frame["label"] if schema.target.is_classification else None
    train, test = train_test_split(frame, test_size=0.2, random_state=7, stratify=strata)
    return train.sort_index().reset_index(drop=True), test.sort_index().reset_index(drop=True)


def streamed(source: Path, schema: Schema, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    outs = (folder / "train.parquet", folder / "test.parquet")
    rows = write_split(source, schema, 0.2, 7, outs, folder)
    train, test = pd.read_parquet(outs[0]), pd.read_parquet(outs[1])
    assert rows == (len(train), len(test))
    assert sorted(path.name for path in folder.iterdir()) == ["test.parquet", "train.parquet"]
    return train, test


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "CSV_BLOCK_BYTES", 4_096)  # ~150 rows a batch
    monkeypatch.setattr(data, "PARQUET_BATCH_ROWS", 150)


@pytest.mark.parametrize("task", list(TARGETS))
def test_the_streamed_split_is_the_whole_frames(task: str, tmp_path: Path, small_batches: None) -> None:
    schema = schema_for(task)
    source = tmp_path / "data.csv"
    table(task).to_csv(source, index=False)
    assert len(list(data.text_batches(source))) > 5
    frame = raw_table(source, schema)
    assert frame["flag"].dtype == "float64"  # integers in most batches, a blank in the last
    (tmp_path / "out").mkdir()
    train, test = streamed(source, schema, tmp_path / "out")
    expected_train, expected_test = whole_split(frame, schema)
    pd.testing.assert_frame_equal(train, expected_train)
    pd.testing.assert_frame_equal(test, expected_test)


@pytest.mark.parametrize("task", ["binary", "integer-coded"])
def test_a_parquet_table_splits_as_its_csv(task: str, tmp_path: Path, small_batches: None) -> None:
    schema = schema_for(task)
    csv = tmp_path / "data.csv"
    table(task).to_csv(csv, index=False)
    parquet = tmp_path / "data.parquet"
    pd.read_csv(csv).to_parquet(parquet, index=False)  # typed as pandas reads it: ints, floats, text
    (tmp_path / "from-csv").mkdir()
    (tmp_path / "from-parquet").mkdir()
    from_csv = streamed(csv, schema, tmp_path / "from-csv")
    from_parquet = streamed(parquet, schema, tmp_path / "from-parquet")
    for side in (0, 1):
        pd.testing.assert_frame_equal(from_parquet[side], from_csv[side])


def test_parquet_value_errors_are_numbered_by_row(tmp_path: Path, small_batches: None) -> None:
    frame = pd.read_csv(_csv(tmp_path, "binary"))
    frame.loc[[2, 1_000], "age"] = [130, -1]
    frame.loc[1_500, "label"] = "maybe"
    path = tmp_path / "data.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        raw_table(path, schema_for("binary"))
    assert caught.value.problems == [
        "column 'age': expected >= 0, found row 1001: -1",
        "column 'age': expected <= 120, found row 3: 130",
        "column 'label': expected one of 'no', 'yes'; found row 1501: 'maybe'",
    ]


@pytest.mark.parametrize(
    ("column", "values", "expected"),
    [
        ("age", "text", "column 'age': expected numbers (integer or floating point), found Parquet type"),
        ("plan", 1, "column 'plan': expected text (string), found Parquet type int64"),
        ("label", True, "column 'label': expected text (string), found Parquet type bool"),
        ("flag", "0", "column 'flag': expected numbers (integer or floating point), found Parquet type"),
    ],
)
def test_a_parquet_column_of_the_wrong_type_is_named(
    column: str, values: object, expected: str, tmp_path: Path
) -> None:
    frame = pd.read_csv(_csv(tmp_path, "binary")).assign(**{column: values})
    path = tmp_path / "data.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        raw_table(path, schema_for("binary"))
    assert str(path) in str(caught.value)
    assert [problem.startswith(expected) for problem in caught.value.problems] == [True]


def test_a_parquet_file_missing_a_column_or_not_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pd.read_csv(_csv(tmp_path, "binary")).drop(columns=["spend"]).to_parquet(path, index=False)
    with pytest.raises(DataValidationError) as caught:
        raw_table(path, schema_for("binary"))
    assert caught.value.problems == ["missing column(s) ['spend']; the file has: age, plan, label, flag"]
    path.write_text("age,plan\n1,basic\n")
    with pytest.raises(DataValidationError) as caught:
        raw_table(path, schema_for("binary"))
    assert caught.value.problems[0].startswith("cannot be read as Parquet: ")


def test_prepare_refuses_a_mistyped_parquet_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "schema.yaml").write_text(yaml.safe_dump(schema_for("binary").model_dump(mode="json")))
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    path = tmp_path / "data.parquet"
    pd.read_csv(_csv(tmp_path, "binary")).astype({"spend": str}).to_parquet(path, index=False)
    argv = ["prepare", "--data", str(path), "--schema", str(tmp_path / "schema.yaml")]
    argv += ["--params", str(tmp_path / "params.yaml"), "--train-out", str(tmp_path / "out/train.parquet")]
    assert main([*argv, "--test-out", str(tmp_path / "out/test.parquet")]) == 2
    err = capsys.readouterr().err
    assert f"{path}: data does not match the schema" in err
    assert "column 'spend': expected numbers (integer or floating point), found Parquet type" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_infer_schema_reads_parquet_as_the_csv(tmp_path: Path) -> None:
    csv = _csv(tmp_path, "multiclass")
    parquet = tmp_path / "data.parquet"
    pd.read_csv(csv).to_parquet(parquet, index=False)
    documents = []
    for source in (csv, parquet):
        out = tmp_path / f"{source.suffix[1:]}.yaml"
        argv = ["infer-schema", "--data", str(source), "--target", "label", "--dataset", "toy"]
        assert main([*argv, "--out", str(out)]) == 0
        documents.append(yaml.safe_load(out.read_text()) | {"source": ""})
    assert documents[0] == documents[1]
    assert [f["type"] for f in documents[1]["features"]] == ["integer", "categorical", "categorical", "float"]
    assert read_text(parquet)["spend"].tolist()[:3] == read_text(csv)["spend"].tolist()[:3]


def _csv(folder: Path, task: str) -> Path:
    path = folder / "table.csv"
    table(task).to_csv(path, index=False)
    return path
