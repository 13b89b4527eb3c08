"""The committed raw data, as DVC delivers it: valid against the schema, every class present (a
classification target) or a target that varies (regression)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlops.pipeline.data import target_vector
from mlops.spec.schema import load_schema
from tests.raw_table import raw_table


def test_raw_data_matches_its_schema(built_project: Path) -> None:
    schema = load_schema(built_project / "schema.yaml")
    raw = built_project / yaml.safe_load((built_project / "project.yaml").read_text())["data"]
    frame = raw_table(raw, schema)
    y = target_vector(frame, schema)
    assert len(frame) >= 100
    if schema.target.task == "regression":
        assert y.notna().all() and y.nunique() > 10
    else:  # every class of schema.yaml is there, none under 2% of the rows
        shares = y.value_counts(normalize=True)
        assert sorted(shares.index) == list(range(len(schema.target.labels)))
        assert shares.min() > 0.02
    for feature in schema.categorical:  # `unseen: encode` accepts others: the training data has none
        outside = sorted(set(frame[feature.name].dropna()) - set(feature.categories or ()))
        assert not outside, f"{feature.name}: values outside schema.yaml's categories: {outside[:5]}"


def test_telco_table_is_the_published_one(built_project: Path) -> None:
    schema = load_schema(built_project / "schema.yaml")
    if schema.dataset != "telco-customer-churn":
        pytest.skip("the Telco checks apply to the demo data only")
    frame = raw_table(built_project / "data/telco_churn.csv", schema)
    assert len(frame) == 7043
    assert round(target_vector(frame, schema).mean(), 3) == 0.265
    assert frame["total_charges"].isna().sum() == 11
    assert (frame.loc[frame["total_charges"].isna(), "tenure"] == 0).all()
