"""Mergeable summaries of current data: the drift check as a map over record batches and a merge.

Each record batch becomes a `Summary` (counts per category, a numeric sketch per numeric column,
rows, flags); summaries of any two parts merge into the summary of both, in any order and grouping,
so a file, a folder of files or a partitioned dataset is read a batch at a time in bounded memory
(and the map can run on workers). The check (mlops.drift.check) and the performance estimate
(mlops.drift.scoring) run on the merged summary against the reference, which stays in memory.

A numeric sketch keeps, per cell of width `width` (cell k holds origin + [k, k+1) x width), the count,
the sum, the smallest and largest value, and the sum of a 0/1 mark (the true label, for scores).
A cell whose values are all equal is exact; otherwise its values are represented by their mean.
The count, mean and standard deviation of the whole column are kept exactly (Chan's merge of
moments). Past MAX_CELLS cells a sketch halves its resolution, so its size is bounded whatever
the row count. docs/drift.md says how far the tests can move because of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mlops.spec.schema import label_codes

MAX_CELLS = 1 << 16
CELLS_PER_SD = 1024  # a numeric feature's cells are 1/1024 of the reference's standard deviation wide
SCORE_CELL = 2.0**-16  # scores (0 to 1): 65,536 cells, as many as MAX_CELLS allows


@dataclass(frozen=True)
class NumericSketch:
    """Values of one numeric column in cells; see the module docstring."""

    width: float
    origin: float
    keys: np.ndarray  # int64, sorted, unique
    counts: np.ndarray  # int64
    sums: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    marks: np.ndarray
    moments: tuple[int, float, float]  # count, mean, sum of squared deviations

    @classmethod
    def of(
        cls, values: np.ndarray, width: float, origin: float = 0.0, marks: np.ndarray | None = None
    ) -> NumericSketch:
        """The sketch of `values` (missing values dropped)."""
        values = np.asarray(values, dtype="float64")
        keep = ~np.isnan(values)
        values = values[keep]
        marks = np.zeros(values.size) if marks is None else np.asarray(marks, dtype="float64")[keep]
        keys = np.floor((values - origin) / width).astype("int64")
        mean = float(values.mean()) if values.size else 0.0
        moments = (int(values.size), mean, float(((values - mean) ** 2).sum()))
        ones = np.ones(values.size, dtype="int64")
        return _reduced(cls(width, origin, keys, ones, values, values, values, marks, moments))

    def merge(self, other: NumericSketch) -> NumericSketch:
        width = max(self.width, other.width)
        a, b = self.coarsened(width), other.coarsened(width)
        joined = _joined(a, b, _merged_moments(a.moments, b.moments))
        return _bounded(_reduced(joined))

    def coarsened(self, width: float) -> NumericSketch:
        """The same values in cells `width` wide (a power-of-two multiple of this one's)."""
        if width == self.width:
            return self
        factor = round(width / self.width)
        return _reduced(replace(self, width=width, keys=self.keys // factor))

    @property
    def rows(self) -> int:
        return self.moments[0]

    def values(self) -> np.ndarray:
        """Each cell's value: exact when its values are equal, else their mean (within the cell)."""
        means = np.clip(self.sums / np.maximum(self.counts, 1), self.lows, self.highs)
        return np.where(self.lows == self.highs, self.lows, means)

    def mean(self) -> float:
        return self.moments[1]

    def std(self) -> float:
        """The population standard deviation, as numpy's `std` gives it."""
        count, _, squares = self.moments
        return float(np.sqrt(squares / count)) if count else float("nan")


def _joined(a: NumericSketch, b: NumericSketch, moments: tuple[int, float, float]) -> NumericSketch:
    """Two sketches of one width side by side, cells not yet combined."""
    return NumericSketch(
        a.width, a.origin, np.concatenate([a.keys, b.keys]), np.concatenate([a.counts, b.counts]),
        np.concatenate([a.sums, b.sums]), np.concatenate([a.lows, b.lows]),
        np.concatenate([a.highs, b.highs]), np.concatenate([a.marks, b.marks]), moments,
    )  # fmt: skip


_ARRAYS = ("keys", "counts", "sums", "lows", "highs", "marks")


def _reduced(sketch: NumericSketch) -> NumericSketch:
    """Cells with equal keys combined into one."""
    order = np.argsort(sketch.keys, kind="stable")
    keys = sketch.keys[order]
    if keys.size == 0:
        return replace(sketch, **{f: getattr(sketch, f)[order] for f in _ARRAYS})
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return replace(
        sketch,
        keys=keys[starts],
        counts=np.add.reduceat(sketch.counts[order], starts),
        sums=np.add.reduceat(sketch.sums[order], starts),
        lows=np.minimum.reduceat(sketch.lows[order], starts),
        highs=np.maximum.reduceat(sketch.highs[order], starts),
        marks=np.add.reduceat(sketch.marks[order], starts),
    )


def _bounded(sketch: NumericSketch) -> NumericSketch:
    """Halve the resolution until the sketch holds at most MAX_CELLS cells."""
    while sketch.keys.size > MAX_CELLS:
        sketch = sketch.coarsened(sketch.width * 2)
    return sketch


def _merged_moments(a: tuple[int, float, float], b: tuple[int, float, float]) -> tuple[int, float, float]:
    (na, ma, sa), (nb, mb, sb) = a, b
    count = na + nb
    if count == 0:
        return 0, 0.0, 0.0
    delta = mb - ma
    return count, ma + delta * nb / count, sa + sb + delta * delta * na * nb / count


def numeric_width(reference: np.ndarray) -> float:
    """The cell width for a numeric column: CELLS_PER_SD cells per reference standard deviation,
    rounded down to a power of two so sketches of one column always merge without loss."""
    values = reference[~np.isnan(reference)]
    scale = float(np.std(values)) if values.size else 0.0
    scale = scale or (float(np.abs(values).max()) if values.size else 0.0) or 1.0
    return float(2.0 ** np.floor(np.log2(scale / CELLS_PER_SD)))


# --- categories -----------------------------------------------------------------------------------


def category_counts(values: pd.Series, categories: Sequence[Any]) -> np.ndarray:
    """Counts per category, then values outside them (unseen), then missing values."""
    codes = label_codes(values, list(categories))
    codes[(codes < 0) & values.notna().to_numpy()] = len(categories)
    return np.roll(np.bincount(codes + 1, minlength=len(categories) + 2), -1)


# --- one batch, and the merge ---------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnPlan:
    """How to summarize one column: as numbers in cells `width` wide, or as counts of `categories`."""

    name: str
    width: float | None = None  # numeric
    categories: tuple[Any, ...] = ()  # categorical


@dataclass(frozen=True)
class Summary:
    """What the check needs of the current data. `present` names the columns some batch had;
    `like_labels` says every prediction is one of the target's labels (or a number, for regression)."""

    rows: int
    columns: dict[str, NumericSketch | np.ndarray]
    present: frozenset[str]
    like_labels: bool = True

    def merge(self, other: Summary) -> Summary:
        columns = {name: _merge_column(self.columns[name], other.columns[name]) for name in self.columns}
        return Summary(
            self.rows + other.rows,
            columns,
            self.present | other.present,
            self.like_labels and other.like_labels,
        )


def _merge_column(a: NumericSketch | np.ndarray, b: NumericSketch | np.ndarray) -> NumericSketch | np.ndarray:
    if isinstance(a, NumericSketch) and isinstance(b, NumericSketch):
        return a.merge(b)
    return np.asarray(a) + np.asarray(b)


def summarize(frame: pd.DataFrame, plans: Sequence[ColumnPlan], like_labels: bool = True) -> Summary:
    """One batch's summary; a column the batch lacks counts as missing on every row."""
    columns: dict[str, NumericSketch | np.ndarray] = {}
    for plan in plans:
        values = frame[plan.name] if plan.name in frame else pd.Series(np.nan, index=frame.index)
        if plan.width is not None:
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            columns[plan.name] = NumericSketch.of(numbers, plan.width)
        else:
            columns[plan.name] = category_counts(values, plan.categories)
    present = frozenset(p.name for p in plans if p.name in frame)
    return Summary(len(frame), columns, present, like_labels)


def merge_all(summaries: Iterable[Summary]) -> Summary | None:
    """The merge of all summaries, or None when there are none."""
    merged = None
    for summary in summaries:
        merged = summary if merged is None else merged.merge(summary)
    return merged
