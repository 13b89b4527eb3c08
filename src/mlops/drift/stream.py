"""The drift check over a source of any size: a map over record batches, then a merge, then the check.

Map: each batch of current data (mlops.drift.sources.current_batches) becomes a `Part`: the column
summary the drift check needs (mlops.drift.summary) and, with a model, the scores the performance
estimate needs (mlops.drift.scoring.ScoreSummary). Merge: parts add up in any order and grouping.
Then the check and the estimate run once on the merged part against the in-memory reference. Memory
is one batch plus the bounded summaries, whatever the number of rows; a cluster can run the map.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlops.drift.check import DriftResult, check_summary, column_plans, summarize_batch
from mlops.drift.scoring import ScoreSummary, binary_classifier, score_batch
from mlops.drift.sources import current_batches
from mlops.drift.summary import ColumnPlan, Summary, summarize
from mlops.spec.params import DriftParams
from mlops.spec.schema import Schema


@dataclass(frozen=True)
class Scorer:
    """What scoring a batch needs: the model, the version it logs under, the decision threshold."""

    model: Any
    version: str
    threshold: float


@dataclass(frozen=True)
class Part:
    columns: Summary
    scores: ScoreSummary | None

    def merge(self, other: Part) -> Part:
        scores = None if self.scores is None or other.scores is None else self.scores.merge(other.scores)
        return Part(self.columns.merge(other.columns), scores)


def summarize_part(
    batch: pd.DataFrame,
    plans: tuple[ColumnPlan, ...],
    schema: Schema,
    params: DriftParams,
    scorer: Scorer | None,
) -> Part:
    """The map step for one batch."""
    scores = None
    if scorer is not None:
        scores = score_batch(scorer.model, scorer.version, batch, schema, scorer.threshold)
    return Part(summarize_batch(batch, plans, schema, params), scores)


def merge_parts(parts: Iterable[Part]) -> Part | None:
    merged = None
    for part in parts:
        merged = part if merged is None else merged.merge(part)
    return merged


def stream_check(
    reference: pd.DataFrame,
    current: Path,
    schema: Schema,
    params: DriftParams,
    window: tuple[pd.Timestamp | None, pd.Timestamp | None],
    scorer: Scorer | None,
) -> tuple[DriftResult, ScoreSummary | None]:
    """The drift result of the source `current` and its merged scores (None without a scorer, or
    when no row is in the window). A model that is not a binary classifier scores nothing."""
    plans = column_plans(reference, schema, params)
    if scorer is not None and not binary_classifier(scorer.model):
        scorer = None
    batches = current_batches(current, schema, params.prediction_column, *window)
    merged = merge_parts(summarize_part(b, plans, schema, params, scorer) for b in batches if len(b))
    if merged is None:
        merged = Part(summarize(pd.DataFrame(), plans), None)
    return check_summary(reference, merged.columns, schema, params), merged.scores
