"""The drift check over a source of any size: a map over data files, then a merge, then the check.

Map (`file_part`): each data file of the current data is read a record batch at a time
(mlops.drift.sources.current_batches), and each batch becomes a `Part`: the column summary the drift
check needs (mlops.drift.summary) and, with a model, the scores the performance estimate needs
(mlops.drift.scoring.ScoreSummary). Merge: parts add up in any order and grouping. Then the check
and the estimate run once on the merged part against the in-memory reference. Memory is one batch
plus the bounded summaries, whatever the number of rows.

The map runs here, one file after another (`local_map`), or as one task per file on a Dask
cluster's workers (mlops.drift.cluster.cluster_map, the only module that imports Dask, which the
command passes in when given a scheduler): the same `file_part` either way. A source is a local
file or folder, or an `s3://` URL (mlops.drift.remote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlops.drift import remote
from mlops.drift.check import DriftResult, check_summary, column_plans, summarize_batch
from mlops.drift.scoring import ScoreSummary, binary_classifier, score_batch
from mlops.drift.sources import current_batches, data_files, day_outside
from mlops.drift.summary import ColumnPlan, Summary, summarize
from mlops.spec.params import DriftParams
from mlops.spec.schema import Schema

Source = Path | str  # a local file or folder, or an s3:// URL
Window = tuple[pd.Timestamp | None, pd.Timestamp | None]  # since, until; None: open


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


@dataclass(frozen=True)
class Job:
    """What the map needs besides the file: the same for every file, sent once to each worker."""

    plans: tuple[ColumnPlan, ...]
    schema: Schema
    params: DriftParams
    scorer: Scorer | None
    window: Window


def summarize_part(batch: pd.DataFrame, job: Job) -> Part:
    """The map step for one batch."""
    scores = None
    if job.scorer is not None:
        scorer = job.scorer
        scores = score_batch(scorer.model, scorer.version, batch, job.schema, scorer.threshold)
    return Part(summarize_batch(batch, job.plans, job.schema, job.params), scores)


def file_part(file: str, job: Job) -> Part | None:
    """The map step for one data file (a local path or an s3:// URL): its batches' parts merged;
    None when no row of it is in the window."""
    if remote.is_url(file):
        return remote.read_copy(file, lambda copy: file_part(str(copy), job))
    batches = current_batches(Path(file), job.schema, job.params.prediction_column, *job.window)
    return merge_parts(summarize_part(batch, job) for batch in batches if len(batch))


def source_files(current: Source, window: Window) -> list[str]:
    """The data files of a source, local paths or URLs, but those in `date=` folders the window excludes."""
    files = remote.list_files(current) if remote.is_url(current) else map(str, data_files(Path(current)))
    return [file for file in files if not day_outside(Path(file), *window)]


def local_map(current: Source, job: Job) -> Part | None:
    """The map on this machine: the data files one after another, each part merged into the last."""
    return merge_parts(file_part(file, job) for file in source_files(current, job.window))


Map = Callable[[Source, Job], Part | None]  # local_map, or a cluster's (mlops.drift.cluster)


def merge_parts(parts: Iterable[Part | None]) -> Part | None:
    """The merge of the parts that are not None; None when there is none."""
    merged = None
    for part in parts:
        if part is not None:
            merged = part if merged is None else merged.merge(part)
    return merged


def stream_check(
    reference: pd.DataFrame,
    current: Source,
    schema: Schema,
    params: DriftParams,
    window: Window,
    scorer: Scorer | None,
    run_map: Map = local_map,
) -> tuple[DriftResult, ScoreSummary | None]:
    """The drift result of the source `current` and its merged scores (None without a scorer, or
    when no row is in the window). A model that is not a binary classifier scores nothing."""
    plans = column_plans(reference, schema, params)
    if scorer is not None and not binary_classifier(scorer.model):
        scorer = None
    merged = run_map(current, Job(plans, schema, params, scorer, window))
    if merged is None:
        merged = Part(summarize(pd.DataFrame(), plans), None)
    return check_summary(reference, merged.columns, schema, params), merged.scores
