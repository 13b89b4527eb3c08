"""HistGradientBoosting's trees evaluated by treelite's compiled interpreter (GTIL), not scikit-learn.

On one record scikit-learn walks the trees in a per-tree Python loop: about 70% of a worker's CPU
when served (docs/performance.md). Treelite imports the fitted estimator (`treelite.sklearn.
import_model`, no compiler, nothing written to disk) and evaluates every tree in C++. It is built once
at start-up from the verified skops Pipeline's last step; the model file does not change.

Only the raw scores come from treelite (`pred_margin=True`): the link (sigmoid, softmax, identity)
is applied here in float64 as scikit-learn applies it, because treelite's own link differs from
scikit-learn's by up to 1e-7. Categorical splits are not compiled: treelite sends a category unseen
in training down another branch (the served Pipeline one-hot encodes, so its trees have none).
Before it serves, the compiled form is checked against the estimator on a probe matrix
(`PROBE_ROWS` rows, some values missing) to `TOLERANCE`; a model it cannot import, or that answers
differently, is served by scikit-learn, with one log line saying why; so is every model when treelite
is not installed (an image built without its wheel serves as before, only slower).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

try:  # in the serving group; without it every model is served by scikit-learn (compile_trees)
    import treelite
    import treelite.gtil
    import treelite.sklearn
except ImportError as missing:
    treelite = None  # type: ignore[assignment]
    TREELITE_MISSING = str(missing)

log = logging.getLogger(__name__)

# Batches up to this many rows go to treelite, larger ones to scikit-learn, whose vectorised
# loop over the trees wins on large batches. Measured with `benchmarks/serving.py` (`crossover_rows`:
# both on the same transformed rows of the demo model, 200 trees of 8 leaves, one thread each, the
# median of repeated calls per batch size). On a quiet 2-core machine (2026-12-07, load 0.9)
# treelite took 0.66 of scikit-learn's time at 100 rows and 1.08 at 150; on a loaded one
# scikit-learn was first the faster between 100 and 200 rows in six runs, and treelite won at 64 and
# below in all. docs/performance.md has the runs.
CROSSOVER_ROWS = 100
TOLERANCE = 1e-9  # largest difference from the estimator's own answer the compiled form may give
PROBE_ROWS = 64
LOSSES = {HistGradientBoostingClassifier: "log_loss", HistGradientBoostingRegressor: "squared_error"}


class NotCompiledError(ValueError):
    """The estimator is not one whose trees treelite evaluates exactly as scikit-learn does."""


@dataclass(frozen=True)
class CompiledTrees:
    """Stands in for a fitted HistGradientBoosting estimator on the served path: the same outputs
    (`predict_proba` of a classifier, `predict` of a regressor), from treelite up to `crossover`
    rows and from the estimator itself above."""

    estimator: Any
    model: Any  # a treelite.Model
    crossover: int = CROSSOVER_ROWS

    @property
    def served_by(self) -> str:
        return f"treelite {treelite.__version__} GTIL up to {self.crossover} rows, scikit-learn above"

    def outputs(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities (rows x classes) of a classifier, values of a regressor."""
        if len(matrix) > self.crossover:
            return _estimator_outputs(self.estimator, matrix)
        return self.compiled_outputs(matrix)

    def compiled_outputs(self, matrix: np.ndarray) -> np.ndarray:
        """The outputs from treelite whatever the batch size (the benchmark and the start-up check)."""
        raw = treelite.gtil.predict(self.model, matrix, nthread=1, pred_margin=True)
        scores = raw.reshape(len(matrix), -1)
        if isinstance(self.estimator, HistGradientBoostingRegressor):
            return scores[:, 0]
        if scores.shape[1] == 1:  # binary: one score, the positive class's log-odds
            proba = np.empty((len(scores), 2))
            expit(scores[:, 0], out=proba[:, 1])
            np.subtract(1.0, proba[:, 1], out=proba[:, 0])
            return proba
        return np.asarray(softmax(scores, axis=1))


def compile_trees(estimator: Any) -> CompiledTrees | Any:
    """The compiled form of `estimator`, or `estimator` itself (logged once) when it has none."""
    if type(estimator) not in LOSSES:
        log.info("serving %s with scikit-learn: it has no trees to compile", type(estimator).__name__)
        return estimator
    if treelite is None:
        log.warning("serving %s with scikit-learn (slower): %s", type(estimator).__name__, TREELITE_MISSING)
        return estimator
    try:
        return _compiled(estimator)
    except NotCompiledError as reason:
        log.warning("serving %s with scikit-learn (slower): %s", type(estimator).__name__, reason)
        return estimator


def _compiled(estimator: Any) -> CompiledTrees:
    expected = LOSSES[type(estimator)]
    if estimator.loss != expected:
        raise NotCompiledError(f"loss={estimator.loss!r}: only {expected!r} is reproduced exactly")
    if estimator.is_categorical_ is not None and estimator.is_categorical_.any():
        raise NotCompiledError(
            "it has categorical splits, and treelite sends an unseen category down another branch"
        )
    try:
        trees = CompiledTrees(estimator, treelite.sklearn.import_model(estimator))
    except (treelite.TreeliteError, NotImplementedError, ValueError) as error:
        raise NotCompiledError(f"treelite cannot import it: {error}") from error
    probe = _probe(estimator.n_features_in_)
    gap = float(np.max(np.abs(trees.compiled_outputs(probe) - _estimator_outputs(estimator, probe))))
    if not gap <= TOLERANCE:
        raise NotCompiledError(f"treelite's answers differ from scikit-learn's by {gap:.3g} on the probe")
    return trees


def _probe(features: int) -> np.ndarray:
    """Rows spread over each feature's usual range, one value in ten missing."""
    rng = np.random.default_rng(0)
    matrix = rng.normal(scale=2.0, size=(PROBE_ROWS, features))
    matrix[rng.random(matrix.shape) < 0.1] = np.nan
    return matrix


def model_outputs(estimator: Any, matrix: Any) -> np.ndarray:
    """`predict_proba` of a classifier, `predict` of a regressor, compiled or not."""
    if isinstance(estimator, CompiledTrees):
        return estimator.outputs(matrix)
    return _estimator_outputs(estimator, matrix)


def _estimator_outputs(estimator: Any, matrix: Any) -> np.ndarray:
    if hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict_proba(matrix))
    return np.asarray(estimator.predict(matrix), dtype="float64")


def served_by(estimator: Any) -> str:
    """Which predictor evaluates the model, for /metadata."""
    if isinstance(estimator, CompiledTrees):
        return estimator.served_by
    return f"scikit-learn ({type(estimator).__name__})"
