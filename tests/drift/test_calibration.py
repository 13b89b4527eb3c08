"""Calibration on seeded synthetic data: rare false alarms, reliable detection, at every size.

The reference has 5,000 rows (like the Telco training split), so `auto` uses the distance tests;
a small-reference case checks the p-value tests (KS / chi-square) too.
"""

from __future__ import annotations

import pytest

from mlops.drift import check_drift
from tests.drift.conftest import category_shares, shifted_share, synthetic

SEEDS = range(20)
DETECTION_SEEDS = {1_000: SEEDS, 10_000: SEEDS, 100_000: range(5)}  # power is ~1 long before 100k
SIZES = [1_000, 10_000, 100_000]
REFERENCE_ROWS = 5_000


@pytest.mark.parametrize("rows", SIZES)
def test_same_distribution_rarely_raises_dataset_drift(schema, params, rows):
    alarms = [
        seed
        for seed in SEEDS
        if check_drift(
            synthetic(schema, REFERENCE_ROWS, 1000 + seed), synthetic(schema, rows, seed), schema, params
        ).status
        == "drift"
    ]
    assert len(alarms) <= 1, f"dataset drift on same-distribution data for seeds {alarms}"


def test_small_reference_uses_p_values_with_about_five_percent_false_columns(schema, params):
    """Reference <= size_cutoff: KS / chi-square (p < 0.05) flag ~5% of stable columns, no dataset drift."""
    quiet = params.model_copy(update={"key_columns": ()})
    results = [
        check_drift(synthetic(schema, 1_000, 500 + s), synthetic(schema, 1_000, s), schema, quiet)
        for s in SEEDS
    ]
    assert {c.test for r in results for c in r.columns} == {"ks", "chisquare"}
    flagged = sum(len(r.drifted_columns) for r in results) / (len(SEEDS) * len(schema.features))
    assert 0.01 <= flagged <= 0.10
    assert sum(r.status == "drift" for r in results) <= 1


@pytest.mark.parametrize("rows", SIZES)
@pytest.mark.parametrize("reference_rows", [1_000, REFERENCE_ROWS])
def test_half_sd_shift_in_one_numeric_column_is_detected(schema, params, rows, reference_rows):
    for seed in DETECTION_SEEDS[rows]:
        reference = synthetic(schema, reference_rows, 1000 + seed)
        result = check_drift(reference, synthetic(schema, rows, seed, charges_shift_sd=0.5), schema, params)
        column = next(c for c in result.columns if c.column == "monthly_charges")
        assert column.drifted, f"seed {seed}: {column}"
        assert result.columns[0].column == "monthly_charges"  # the most drifted column comes first
        assert result.status == "drift"  # monthly_charges is a key column in params.yaml
        assert result.drifted_columns[:1] == [column]


@pytest.mark.parametrize("rows", SIZES)
@pytest.mark.parametrize(("column", "index"), [("contract", 0), ("payment_method", 1), ("senior_citizen", 1)])
def test_twenty_point_change_of_one_category_share_is_detected(schema, params, rows, column, index):
    shares = category_shares(schema)
    moved = {**shares, column: shifted_share(shares[column], index, 0.20)}
    for seed in DETECTION_SEEDS[rows]:
        reference = synthetic(schema, REFERENCE_ROWS, 1000 + seed)
        result = check_drift(reference, synthetic(schema, rows, seed, shares=moved), schema, params)
        assert [c.column for c in result.drifted_columns] == [column], f"seed {seed}"
        assert result.status == ("drift" if column in params.key_columns else "no_drift")


def test_dataset_verdict_without_key_columns_follows_the_drifted_share(schema, params):
    share_only = params.model_copy(update={"key_columns": ()})
    reference = synthetic(schema, REFERENCE_ROWS, 1)
    one_column = check_drift(reference, synthetic(schema, 2_000, 2, charges_shift_sd=0.5), schema, share_only)
    assert one_column.status == "no_drift" and len(one_column.drifted_columns) == 1
    everything = {k: v[::-1] for k, v in category_shares(schema).items()}
    many = check_drift(reference, synthetic(schema, 2_000, 2, shares=everything), schema, share_only)
    assert many.drifted_share >= 0.5 and many.status == "drift"
