"""train.max_rows: a training split larger than it is sampled, stratified for classification, uniform
for regression, seeded; the sampled rows read from Parquet are the rows the positions name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops.pipeline import data
from mlops.pipeline.data import read_training_rows, sample_positions
from tests.unit.test_tasks import schema_for, toy


def test_a_split_that_fits_is_kept_whole() -> None:
    assert sample_positions(500, 500, seed=1).tolist() == list(range(500))
    assert sample_positions(10, 500, seed=1, strata=np.zeros(10)).tolist() == list(range(10))


def test_stratified_sample_keeps_each_class_share() -> None:
    strata = np.repeat([0, 1, 2], [7_000, 2_500, 500])
    rng = np.random.default_rng(3)
    rng.shuffle(strata)
    kept = sample_positions(len(strata), 1_000, seed=7, strata=strata)
    assert len(kept) == 1_000
    assert len(np.unique(kept)) == 1_000 and (np.diff(kept) > 0).all()
    assert np.bincount(strata[kept]).tolist() == [700, 250, 50]


def test_largest_remainders_fill_the_quota_and_a_rare_class_keeps_a_row() -> None:
    strata = np.repeat([0, 1, 2], [6_001, 3_996, 3])
    kept = sample_positions(len(strata), 100, seed=0, strata=strata)
    counts = np.bincount(strata[kept]).tolist()
    assert sum(counts) == 100
    assert counts == [59, 40, 1]  # exact shares 60.01, 39.96, 0.03: the rare class lifted to one row


def test_the_same_seed_draws_the_same_rows_and_another_seed_others() -> None:
    strata = np.tile([0, 0, 0, 1], 2_500)
    first = sample_positions(len(strata), 1_000, seed=42, strata=strata)
    assert np.array_equal(first, sample_positions(len(strata), 1_000, seed=42, strata=strata))
    assert not np.array_equal(first, sample_positions(len(strata), 1_000, seed=43, strata=strata))
    plain = sample_positions(10_000, 1_000, seed=42)
    assert np.array_equal(plain, sample_positions(10_000, 1_000, seed=42))
    assert not np.array_equal(plain, sample_positions(10_000, 1_000, seed=43))


def test_uniform_sample_draws_evenly_from_every_part_of_the_split() -> None:
    """Ten equal parts of 100,000 rows each give about a tenth of 10,000 rows: the binomial's
    standard deviation is 30, so 150 either side is five of them."""
    kept = sample_positions(100_000, 10_000, seed=5)
    per_tenth = np.bincount(kept // 10_000, minlength=10)
    assert len(np.unique(kept)) == 10_000
    assert np.abs(per_tenth - 1_000).max() < 150, per_tenth


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_read_training_rows_takes_the_sampled_rows_batch_by_batch(
    task: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 700 rows over 5,000: the rows read are exactly those `sample_positions` names,
    in file order, with the dtypes a whole read gives, and the class shares of the split."""
    monkeypatch.setattr(data, "SAMPLE_BATCH_ROWS", 700)
    schema = schema_for(task)
    frame = toy(task, rows=5_000, seed=2)
    path = tmp_path / "train.parquet"
    frame.to_parquet(path, index=False)
    sampled, split_rows = read_training_rows(path, schema, 1_000, seed=11)
    assert split_rows == 5_000
    assert len(sampled) == 1_000
    whole = pd.read_parquet(path)
    assert sampled.dtypes.equals(whole.dtypes)
    if task == "regression":
        expected = sample_positions(5_000, 1_000, seed=11)
    else:
        codes = pd.factorize(frame["y"])[0]
        expected = sample_positions(5_000, 1_000, seed=11, strata=codes)
        shares = frame["y"].value_counts(normalize=True)
        assert (sampled["y"].value_counts(normalize=True) - shares).abs().max() < 0.001
    pd.testing.assert_frame_equal(sampled, whole.iloc[expected].reset_index(drop=True))


def test_read_training_rows_reads_a_split_that_fits_as_it_is(tmp_path: Path) -> None:
    frame = toy("binary", rows=300)
    path = tmp_path / "train.parquet"
    frame.to_parquet(path, index=False)
    whole, split_rows = read_training_rows(path, schema_for("binary"), 300, seed=0)
    assert split_rows == 300
    pd.testing.assert_frame_equal(whole, pd.read_parquet(path))
