"""mlops evaluate: score the model on the held-out split; write metrics, segment metrics and plots."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops.errors import ConfigError, MlopsError
from mlops.project import IMPORTANCE_FILE
from mlops.spec.metrics import BY_TASK

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from mlops.spec.params import EvaluateParams
    from mlops.spec.schema import Schema

log = logging.getLogger(__name__)

# Test rows read and predicted at a time: the stage's memory stops growing with the split.
BATCH_ROWS = 250_000


@dataclass(frozen=True)
class Scored:
    """What the metrics need of the test split, one entry per row except `sample`: the target codes
    (or values), the predictions, the segment and sensitive columns (as categoricals of their values
    as text, `evaluate.ValueCodes`, a byte a row each); and the rows permutation
    importance scores (`positions` of the split, their features in `sample`) with the score on all
    rows it compares them to."""

    y: np.ndarray
    predicted: np.ndarray
    columns: pd.DataFrame
    positions: np.ndarray
    sample: pd.DataFrame
    baseline: float


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, required=True, help="model file (.skops)")
    parser.add_argument("--test", type=Path, required=True, help="test split (Parquet)")
    parser.add_argument("--schema", type=Path, required=True, help="schema.yaml")
    parser.add_argument("--params", type=Path, required=True, help="params.yaml")
    parser.add_argument("--metrics-out", type=Path, required=True, help="headline metrics (JSON)")
    parser.add_argument("--segments-out", type=Path, required=True, help="metrics per segment (JSON)")
    parser.add_argument("--plots-dir", type=Path, required=True, help="folder for plot data")
    parser.add_argument(
        "--intervals-out", type=Path, required=True, help="confidence intervals of the metrics (JSON)"
    )
    parser.add_argument(
        "--fairness-out", type=Path, required=True, help="between-group gaps per sensitive column (JSON)"
    )


def run(args: argparse.Namespace) -> int:
    from mlops.io import stage_outputs, write_json
    from mlops.pipeline import evaluate
    from mlops.pipeline.model import load_model
    from mlops.spec.params import check_task, load_params
    from mlops.spec.schema import load_schema

    schema = load_schema(args.schema)
    all_params = load_params(args.params)
    task = schema.target.task
    check_task(all_params, task, args.params)
    params = all_params.evaluate
    unknown = [s for s in params.segments if s not in schema.feature_names]
    if unknown:
        raise ConfigError(f"{args.params}: evaluate.segments names {unknown}, not features of the schema")
    model = load_model(args.model)
    scored = _score(args.test, model, schema, params)
    y, predicted = scored.y, scored.predicted
    metrics = evaluate.task_metrics(task, y, predicted, params.threshold) | _context(schema, y, params)
    if task == "multiclass":
        metrics["per_class"] = evaluate.per_class_metrics(y, predicted, schema.target.labels)
    importance = evaluate.feature_importance(
        model,
        scored.sample,
        y[scored.positions],
        scored.baseline,
        params.importance_repeats,
        params.seed,
        len(y),
        task,
    )
    intervals, gaps = _governance(params, schema, scored.columns[list(schema.sensitive)], y, predicted)
    segments = evaluate.segment_metrics(scored.columns, y, predicted, params.segments, params.threshold, task)
    written = {
        args.segments_out: segments,
        args.intervals_out: intervals,
        args.fairness_out: gaps,
        args.metrics_out: metrics,
    }
    with stage_outputs(args.plots_dir, *written) as aside:
        _write_plots(aside[args.plots_dir], schema, y, predicted, params.threshold)
        write_json(aside[args.plots_dir] / IMPORTANCE_FILE, {"importance": importance})
        for path, payload in written.items():
            write_json(aside[path], payload)
    shown = ", ".join(f"{name} {metrics[name]:.4f}" for name in BY_TASK[task][:3] if name in metrics)
    log.info("%s: %s on %d test rows", task, shown, len(y))
    return 0


def _context(schema: Schema, y: np.ndarray, params: EvaluateParams) -> dict[str, Any]:
    """What the metrics were measured on: the rows, and the threshold and positive rate (binary)
    or the target's mean (regression)."""
    task = schema.target.task
    if task == "binary":
        return {"threshold": params.threshold, "rows": len(y), "positive_rate": round(float(y.mean()), 6)}
    if task == "regression":
        return {"rows": len(y), "target_mean": round(float(y.mean()), 6)}
    return {"rows": len(y)}


def _write_plots(plots: Path, schema: Schema, y: np.ndarray, predicted: np.ndarray, threshold: float) -> None:
    """The plot data of the task (dvc.yaml's `plots`): binary the curves and confusion rows,
    multi-class the confusion rows, regression the residuals."""
    from mlops.io import write_json, write_with
    from mlops.pipeline import evaluate

    target = schema.target
    if target.task == "regression":
        write_json(plots / "residuals.json", {"residuals": evaluate.residual_points(y, predicted)})
        return
    if target.task == "multiclass":
        confusion = evaluate.class_confusion_rows(y, predicted, target.labels)
    else:
        write_json(plots / "roc.json", {"roc": evaluate.roc_points(y, predicted)})
        write_json(
            plots / "precision_recall.json",
            {"precision_recall": evaluate.precision_recall_points(y, predicted)},
        )
        write_json(plots / "calibration.json", {"calibration": evaluate.calibration_points(y, predicted)})
        labels = (str(target.negative), str(target.positive))
        confusion = evaluate.confusion_rows(y, predicted, threshold, labels)
    write_with(plots / "confusion.csv", lambda tmp: confusion.to_csv(tmp, index=False, lineterminator="\n"))


def _governance(
    params: EvaluateParams,
    schema: Schema,
    groups: pd.DataFrame,
    y: np.ndarray,
    predicted: np.ndarray,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """The metrics' confidence intervals and, for a binary task, the fairness gaps between groups of
    each sensitive column (its rates are of the positive class; other tasks get {} and say so)."""
    from mlops.pipeline import evaluate, fairness

    task = schema.target.task
    intervals = evaluate.bootstrap_intervals(
        y,
        predicted,
        params.threshold,
        params.bootstrap_samples,
        params.confidence,
        params.seed,
        params.bootstrap_max_rows,
        task,
    )
    if task != "binary":
        if schema.sensitive:
            log.warning("fairness is checked for binary tasks only: not for this %s task", task)
        return intervals, {}
    return intervals, fairness.group_fairness(groups, y, predicted, params.threshold, params.min_group_rows)


def _score(path: Path, model: Pipeline, schema: Schema, params: EvaluateParams) -> Scored:
    """Read the test split BATCH_ROWS rows at a time, predict each batch and keep only `Scored`:
    the split is never held whole; per row, the target, the prediction, the score permutation
    importance compares against (until the baseline is taken) and a code per kept column."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlops.pipeline import evaluate
    from mlops.pipeline.data import target_vector
    from mlops.pipeline.model import predictions

    parquet = pq.ParquetFile(path)
    task = schema.target.task
    positions = evaluate.importance_positions(
        parquet.metadata.num_rows, params.seed, params.importance_max_rows
    )
    wanted = np.sort(positions)
    kept = list(dict.fromkeys([*params.segments, *schema.sensitive]))
    ys, predicted, responses, picked = [], [], [], []
    columns = {name: evaluate.ValueCodes() for name in kept}
    start = 0
    names = [*schema.feature_names, schema.target.name]
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=names):
        frame = pa.Table.from_batches([batch]).to_pandas()
        features = frame[schema.feature_names]
        ys.append(target_vector(frame, schema).to_numpy())
        predicted.append(predictions(model, features, schema.target))
        responses.append(
            predicted[-1] if task == "regression" else evaluate.importance_response(model, features, task)
        )
        for name, codes in columns.items():
            codes.add(frame[name])
        inside = wanted[(wanted >= start) & (wanted < start + len(frame))]
        picked.append(features.iloc[inside - start])
        start += len(frame)
    if not ys:
        raise MlopsError(f"{path}: the test split holds no rows to evaluate on")
    y, scores, response = (_joined(parts) for parts in (ys, predicted, responses))
    sample = pd.concat(picked).iloc[np.searchsorted(wanted, positions)]
    baseline = float(evaluate.IMPORTANCE_SCORE[task](y, response))
    kept_columns = pd.DataFrame({name: codes.column() for name, codes in columns.items()})
    return Scored(y, scores, kept_columns, positions, sample, baseline)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The batches' arrays as one, the list emptied: each batch's copy is let go before the next
    array is joined, so the split's arrays are never held twice over."""
    import numpy as np

    joined = np.concatenate(parts)
    parts.clear()
    return joined
