"""mlops evaluate: score the model on the held-out split; write metrics, segment metrics and plots."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from mlops.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlops.params import EvaluateParams

log = logging.getLogger(__name__)


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
    import pandas as pd

    from mlops import evaluate
    from mlops.data import target_vector
    from mlops.io import write_json
    from mlops.model import load_model, positive_proba
    from mlops.params import load_params
    from mlops.schema import load_schema

    schema = load_schema(args.schema)
    params = load_params(args.params).evaluate
    unknown = [s for s in params.segments if s not in schema.feature_names]
    if unknown:
        raise ConfigError(f"{args.params}: evaluate.segments names {unknown}, not features of the schema")
    test = pd.read_parquet(args.test)
    features = test[schema.feature_names]
    y = target_vector(test, schema).to_numpy()
    model = load_model(args.model)
    proba = positive_proba(model, features)
    metrics = evaluate.classification_metrics(y, proba, params.threshold)
    metrics |= {"threshold": params.threshold, "rows": len(y), "positive_rate": round(float(y.mean()), 6)}
    labels = (str(schema.target.negative), str(schema.target.positive))
    _write_plots(args.plots_dir, y, proba, params.threshold, labels)
    importance = evaluate.feature_importance(
        model, features, y, params.importance_repeats, params.seed, params.importance_max_rows
    )
    write_json(args.plots_dir / "importance.json", {"importance": importance})
    segments = evaluate.segment_metrics(test, y, proba, params.segments, params.threshold)
    write_json(args.segments_out, segments)
    _write_governance(args, params, test[schema.sensitive], y, proba)
    write_json(args.metrics_out, metrics)
    log.info("ROC AUC %.4f, F1 %.4f on %d test rows", metrics["roc_auc"], metrics["f1"], len(y))
    return 0


def _write_plots(
    plots: Path, y: np.ndarray, proba: np.ndarray, threshold: float, labels: tuple[str, str]
) -> None:
    """The curves and the confusion rows DVC plots (dvc.yaml's `plots`)."""
    from mlops import evaluate
    from mlops.io import write_json, write_with

    write_json(plots / "roc.json", {"roc": evaluate.roc_points(y, proba)})
    write_json(
        plots / "precision_recall.json",
        {"precision_recall": evaluate.precision_recall_points(y, proba)},
    )
    write_json(plots / "calibration.json", {"calibration": evaluate.calibration_points(y, proba)})
    confusion = evaluate.confusion_rows(y, proba, threshold, labels)
    write_with(plots / "confusion.csv", lambda tmp: confusion.to_csv(tmp, index=False, lineterminator="\n"))


def _write_governance(
    args: argparse.Namespace, params: EvaluateParams, groups: pd.DataFrame, y: np.ndarray, proba: np.ndarray
) -> None:
    """The metrics' confidence intervals and the fairness gaps between groups of each sensitive column."""
    from mlops import evaluate, fairness
    from mlops.io import write_json

    intervals = evaluate.bootstrap_intervals(
        y,
        proba,
        params.threshold,
        params.bootstrap_samples,
        params.confidence,
        params.seed,
        params.bootstrap_max_rows,
    )
    write_json(args.intervals_out, intervals)
    gaps = fairness.group_fairness(groups, y, proba, params.threshold, params.min_group_rows)
    write_json(args.fairness_out, gaps)
