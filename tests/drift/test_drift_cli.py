"""`mlops drift` end to end: exit codes, outputs, current-data sources, time windows, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.cli import main
from mlops.project import DRIFT_DIR
from tests.conftest import run
from tests.drift.conftest import demo_only, synthetic


@pytest.fixture
def files(tmp_path: Path, schema, config_files) -> dict[str, Path]:
    """A reference, a stable and a shifted batch, and the synthetic schema.yaml / params.yaml."""
    reference = tmp_path / "reference.parquet"
    synthetic(schema, 3_000, 1).to_parquet(reference)
    stable = synthetic(schema, 1_200, 2)
    stable.to_csv(tmp_path / "stable.csv", index=False)
    synthetic(schema, 1_200, 3, charges_shift_sd=0.5).to_csv(tmp_path / "shifted.csv", index=False)
    batches = {"stable": tmp_path / "stable.csv", "shifted": tmp_path / "shifted.csv"}
    return {"reference": reference, **batches, **config_files}


def drift(files: dict[str, Path], current: Path, out: Path, *extra: str) -> int:
    """`mlops drift` against the fixture's reference, schema and params; the exit code."""
    config = ["--schema", str(files["schema"]), "--params", str(files["params"])]
    return main(
        [
            "drift",
            "--reference",
            str(files["reference"]),
            "--current",
            str(current),
            *config,
            "--out",
            str(out),
            *extra,
        ]
    )


def test_no_drift_exit_0_and_drift_exit_1_with_all_outputs(files, tmp_path):
    assert drift(files, files["stable"], tmp_path / "a") == 0
    assert drift(files, files["shifted"], tmp_path / "b", "--run-url", "https://ci/run/1") == 1
    result = json.loads((tmp_path / "b" / "drift.json").read_text())
    assert result["status"] == "drift" and result["drifted_columns"] == ["monthly_charges"]
    assert result["current_rows"] == 1_200 and result["reference_rows"] == 3_000
    assert (tmp_path / "b" / "drift.md").read_text().startswith("## ⚠️ Drift detected")
    assert "<svg" in (tmp_path / "b" / "drift.html").read_text()
    issue = json.loads((tmp_path / "b" / "issue.json").read_text())
    assert issue["label"] == "drift" and "https://ci/run/1" in issue["body"]


def test_batch_under_the_minimum_is_insufficient_data_exit_3(files, tmp_path, schema):
    small = tmp_path / "small.csv"
    synthetic(schema, 400, 4).to_csv(small, index=False)  # drift params: min_rows 1000
    assert drift(files, small, tmp_path / "out") == 3
    result = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert result["status"] == "insufficient_data" and result["columns"] == []
    assert "400 rows, fewer than the minimum of 1000" in result["reasons"][0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("tenure,contract\n", "no data rows"),
        (None, "missing column(s) ['contract']"),
        ("wrong types", "column 'tenure': expected an integer >= 0 <= 120, found line 3: 'twelve'"),
    ],
)
def test_bad_current_data_is_exit_2_with_a_clear_message(files, tmp_path, schema, capsys, content, message):
    bad = tmp_path / "bad.csv"
    if content is None:
        synthetic(schema, 300, 5).drop(columns=["contract"]).to_csv(bad, index=False)
    elif content == "wrong types":
        frame = synthetic(schema, 300, 5).astype({"tenure": "object"})
        frame.loc[1, "tenure"] = "twelve"
        frame.to_csv(bad, index=False)
    else:
        bad.write_text(content)
    assert drift(files, bad, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert message in err and str(bad) in err
    assert not (tmp_path / "out" / "drift.json").exists()


def test_missing_current_path_and_empty_folder_are_exit_2(files, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert drift(files, tmp_path / "nowhere", tmp_path / "out") == 2
    assert drift(files, tmp_path / "empty", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "nowhere: data does not match the schema:\n  - not found" in err and "holds no data files" in err


def test_an_unexpected_failure_is_exit_2_an_error_never_1_the_drift_verdict(files, tmp_path, capsys):
    taken = tmp_path / "out"
    taken.write_text("a file where the report folder goes")
    assert drift(files, files["shifted"], taken) == 2  # the shifted batch: 1 had it been written
    err = capsys.readouterr().err
    assert "unexpected error in 'mlops drift' (exit 2)" in err and "Traceback" in err
    assert taken.read_text() == "a file where the report folder goes"


def _log_lines(frame, start: str, prediction: str = "No") -> list[str]:
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    stamps = [f"{start}T{h % 24:02d}:00:00Z" for h in range(len(records))]
    return [
        json.dumps({"timestamp": t, "inputs": r, "output": {"prediction": prediction, "probability": 0.2},
                    "model_version": "abc"})
        for t, r in zip(stamps, records, strict=True)
    ]  # fmt: skip


def test_time_window_selects_rows_and_a_bad_log_line_is_named(files, tmp_path, schema, capsys):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.jsonl").write_text("\n".join(_log_lines(synthetic(schema, 1_000, 6), "2025-03-01")) + "\n")
    (logs / "b.jsonl").write_text(
        "\n".join(_log_lines(synthetic(schema, 1_000, 7, charges_shift_sd=0.5), "2025-03-05"))
    )
    assert drift(files, logs, tmp_path / "early", "--until", "2025-03-03") == 0
    early = json.loads((tmp_path / "early" / "drift.json").read_text())
    assert early["current_rows"] == 1_000 and early["window"]["until"].startswith("2025-03-03T00:00:00")
    assert drift(files, logs, tmp_path / "late", "--since", "2025-03-04") == 1
    late = json.loads((tmp_path / "late" / "drift.json").read_text())
    assert late["current_rows"] == 1_000 and late["drifted_columns"] == ["monthly_charges"]
    (logs / "c.jsonl").write_text('{"timestamp": "2025-03-06T00:00:00Z", "inputs": {}}\nnot json\n')
    assert drift(files, logs, tmp_path / "bad") == 2
    err = capsys.readouterr().err
    assert "c.jsonl" in err and "line 2: not valid JSON" in err


@pytest.mark.slow
@demo_only
def test_demo_batches_give_the_expected_verdicts(built_project):
    verdicts = {}
    for batch in sorted((built_project / "production").glob("*.csv")):
        out = built_project / DRIFT_DIR / batch.stem  # the default: drift/<batch's name>
        result = run(
            ["mlops", "drift", "--current", batch.relative_to(built_project)], cwd=built_project, check=False
        )
        verdicts[batch.name] = (result.returncode, json.loads((out / "drift.json").read_text()))
    assert set(verdicts) == {"2025-01-stable.csv", "2025-02-drifted.csv"}
    assert (
        verdicts["2025-01-stable.csv"][0] == 0 and verdicts["2025-01-stable.csv"][1]["drifted_columns"] == []
    )
    code, drifted = verdicts["2025-02-drifted.csv"]
    assert code == 1 and {"contract", "monthly_charges"} <= set(drifted["drifted_columns"])


def test_unseen_categories_are_reported_per_column_and_drift_past_the_share(files, tmp_path, schema):
    """A category first seen in production is what monitoring reports, never an error."""
    batch = synthetic(schema, 1_200, 2)
    few, many = tmp_path / "few.csv", tmp_path / "many.csv"
    batch.assign(contract=["Three year" if i < 6 else c for i, c in enumerate(batch["contract"])]).to_csv(
        few, index=False
    )  # 0.5%: under drift.unseen_share (1%)
    changed = batch.assign(
        contract=["Three year" if i % 5 == 0 else c for i, c in enumerate(batch["contract"])],
        female=[7 if i % 50 == 0 else c for i, c in enumerate(batch["female"])],
    )
    changed.to_csv(many, index=False)  # 20% and 2% unseen
    assert drift(files, few, tmp_path / "few") == 0
    columns = {c["column"]: c for c in json.loads((tmp_path / "few" / "drift.json").read_text())["columns"]}
    assert columns["contract"]["unseen_share"] == pytest.approx(6 / 1_200)
    assert not columns["contract"]["drifted"]
    assert "<unseen>" in columns["contract"]["distribution"]["labels"]
    assert drift(files, many, tmp_path / "many") == 1
    result = json.loads((tmp_path / "many" / "drift.json").read_text())
    columns = {c["column"]: c for c in result["columns"]}
    assert columns["contract"]["unseen_share"] == pytest.approx(0.2)
    assert columns["female"]["unseen_share"] == pytest.approx(0.02)
    assert {"contract", "female"} <= set(result["drifted_columns"])
    assert "unseen: 20.0%" in (tmp_path / "many" / "drift.md").read_text()
