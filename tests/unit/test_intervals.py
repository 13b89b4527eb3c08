"""Bootstrap confidence intervals of the headline metrics."""

from __future__ import annotations

import numpy as np
import pytest

from mlops.pipeline.evaluate import bootstrap_intervals, classification_metrics


@pytest.fixture(scope="module")
def scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 4000)
    proba = np.clip(0.5 + (y - 0.5) * 0.3 + rng.normal(scale=0.25, size=y.size), 0, 1)
    return y, proba


def test_the_interval_holds_the_metric_and_shrinks_with_more_rows(scores: tuple) -> None:
    y, proba = scores
    full = classification_metrics(y, proba, 0.5)
    wide = bootstrap_intervals(y[:500], proba[:500], 0.5, 200, 0.95, 0, max_rows=10_000)
    narrow = bootstrap_intervals(y, proba, 0.5, 200, 0.95, 0, max_rows=10_000)
    for name in ("roc_auc", "f1", "brier"):
        assert narrow[name]["low"] < full[name] < narrow[name]["high"]
        width = {k: v[name]["high"] - v[name]["low"] for k, v in (("wide", wide), ("narrow", narrow))}
        # the standard error falls as 1/sqrt(n): 8x the rows, about 2.8x narrower
        assert 2.0 < width["wide"] / width["narrow"] < 4.0
    assert narrow["roc_auc"]["confidence"] == 0.95 and narrow["roc_auc"]["samples"] == 200


def test_m_out_of_n_matches_the_full_bootstrap(scores: tuple) -> None:
    """Resampling 1,000 of 4,000 rows and shrinking by sqrt(1/4) gives about the full bootstrap's width."""
    y, proba = scores
    full = bootstrap_intervals(y, proba, 0.5, 300, 0.95, 1, max_rows=10_000)
    capped = bootstrap_intervals(y, proba, 0.5, 300, 0.95, 1, max_rows=1_000)
    assert capped["roc_auc"]["rows_per_sample"] == 1_000
    for name in ("roc_auc", "accuracy"):
        widths = [r[name]["high"] - r[name]["low"] for r in (full, capped)]
        assert widths[1] == pytest.approx(widths[0], rel=0.25)
