"""Build, save and load the model: one scikit-learn Pipeline, preprocessing included.

Preprocessing lives inside the Pipeline, so the service applies exactly the transform training
saw. Files are written with skops, never pickle, and loaded with an explicit list of trusted types.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops.errors import MlopsError
from mlops.io import write_with
from mlops.spec.metrics import Task
from mlops.spec.params import TrainParams
from mlops.spec.schema import Feature, Schema, Target

# Every type a saved model may contain beyond skops' own defaults. Loading refuses anything else.
TRUSTED_TYPES = [
    "numpy.dtype",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.utils._bunch.Bunch",
]


# How skops refers to arrays and shared objects in schema.json: by the Python id() of the object.
_OBJECT_ID = re.compile(r'(?:"__id__": |"file": ")(\d+)')


def build_pipeline(schema: Schema, params: TrainParams) -> Pipeline:
    """An unfitted Pipeline: impute and scale numbers, one-hot encode categories, then the estimator
    of the schema's task (a classifier, or for regression its regressor counterpart).

    The encoders take their categories from the schema, so the column layout never depends on the
    data, and a value outside them (allowed by `unseen: encode`) is encoded as unknown: no column set.
    A feature with `max_levels` or `min_frequency` gets an encoder of its own that groups its infrequent
    training levels, and values outside the schema, into one 'other' column.
    """
    numeric = [f.name for f in schema.numeric]
    plain = [f for f in schema.categorical if not f.grouped]
    transformers: list[tuple[str, Any, list[str]]] = []  # a block with no columns stays unfitted
    if numeric:
        transformers.append(
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)
        )
    if plain:
        categories = [list(f.categories or ()) for f in plain]
        encoder = OneHotEncoder(categories=categories, handle_unknown="ignore", sparse_output=False)
        transformers.append(("categorical", encoder, [f.name for f in plain]))
    grouped = [f for f in schema.categorical if f.grouped]
    transformers += [(f"levels_{f.name}", _grouping_encoder(f), [f.name]) for f in grouped]
    preprocess = ColumnTransformer(transformers, verbose_feature_names_out=False)
    task = schema.target.task
    step = "regressor" if task == "regression" else "classifier"
    return Pipeline([("preprocess", preprocess), (step, _estimator(params, task))])


def _grouping_encoder(feature: Feature) -> OneHotEncoder:
    """One-hot columns for the frequent levels of one feature and one shared 'other' column."""
    return OneHotEncoder(
        categories=[list(feature.categories or ())],
        max_categories=feature.max_levels,
        min_frequency=feature.min_frequency,
        handle_unknown="infrequent_if_exist",
        sparse_output=False,
    )


Estimator: TypeAlias = (
    LogisticRegression | HistGradientBoostingClassifier | Ridge | HistGradientBoostingRegressor
)


def trained_estimator(params: TrainParams, task: Task) -> dict[str, Any]:
    """What the pipeline's last step is, for model.json and the card: the scikit-learn class the
    task gets from params.yaml's `train.estimator` (for regression not the name's family member,
    e.g. `Ridge` for logistic_regression) and the settings it is given."""
    kind, settings = _estimator_spec(params, task)
    return {"class": kind.__name__, "settings": settings}


def _estimator(params: TrainParams, task: Task) -> Estimator:
    kind, settings = _estimator_spec(params, task)
    return kind(**settings)


def _estimator_spec(params: TrainParams, task: Task) -> tuple[type[Estimator], dict[str, Any]]:
    """params.yaml's estimator for the task; for regression, the same family's regressor:
    logistic regression becomes ridge regression (alpha = 1 / C, the same L2 penalty), gradient
    boosting its regressor with the same settings (class weights apply to classification only)."""
    regression = task == "regression"
    if params.estimator == "logistic_regression":
        chosen = params.logistic_regression
        if regression:
            return Ridge, {"alpha": 1 / chosen.C, "max_iter": chosen.max_iter, "random_state": params.seed}
        return LogisticRegression, {
            "C": chosen.C,
            "max_iter": chosen.max_iter,
            "class_weight": chosen.class_weight,
            "random_state": params.seed,
        }
    hgb = params.hist_gradient_boosting
    shared = {
        "learning_rate": hgb.learning_rate,
        "max_iter": hgb.max_iter,
        "max_leaf_nodes": hgb.max_leaf_nodes,
        "min_samples_leaf": hgb.min_samples_leaf,
        "l2_regularization": hgb.l2_regularization,
        "random_state": params.seed,
    }
    if regression:
        return HistGradientBoostingRegressor, shared
    return HistGradientBoostingClassifier, shared | {"class_weight": hgb.class_weight}


def positive_proba(model: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """Probability of the positive class (the model is fitted on 0/1 targets)."""
    return model.predict_proba(features)[:, 1]


def class_proba(model: Pipeline, features: pd.DataFrame, classes: int) -> np.ndarray:
    """Probabilities of every class, one column per class code 0..classes-1 (data.target_vector),
    zero for a class the model never saw in training."""
    proba = np.zeros((len(features), classes))
    proba[:, model.classes_.astype(int)] = model.predict_proba(features)
    return proba


def predictions(model: Pipeline, features: pd.DataFrame, target: Target) -> np.ndarray:
    """What each task's metrics are computed from: binary the positive class's probability,
    multi-class every class's probability (rows x classes), regression the predicted value."""
    if target.task == "binary":
        return positive_proba(model, features)
    if target.task == "regression":
        return np.asarray(model.predict(features), dtype="float64")
    return class_proba(model, features, len(target.labels))


def save_model(model: Pipeline, path: Path) -> None:
    """Save with skops, atomically, after checking the file will load with TRUSTED_TYPES."""
    _forget_the_machine(model)
    payload = _reproducible_zip(sio.dumps(model))
    untrusted = [t for t in sio.get_untrusted_types(data=payload) if t not in TRUSTED_TYPES]
    if untrusted:
        raise MlopsError(f"{path}: the model holds types not in model.TRUSTED_TYPES: {untrusted}")
    write_with(path, lambda tmp: tmp.write_bytes(payload))


def _forget_the_machine(model: Pipeline) -> None:
    """HistGradientBoosting's binner keeps the OpenMP thread count of the machine that fit it, so the
    same model saved on 1, 2 or 8 cores gave three files and three model versions. It is set back to
    None, the estimator's own default: use the cores of the machine that predicts."""
    binner = getattr(model[-1], "_bin_mapper", None)
    if binner is not None:
        binner.n_threads = None


def _reproducible_zip(payload: bytes) -> bytes:
    """Rewrite a skops archive so that the same model always gives the same bytes.

    skops names array files and shared objects by `id()` and stamps the current time; both change
    from run to run. They are renumbered in order of appearance and the timestamps fixed. The
    model's version is its file's hash, so without this every retraining would be a new version.
    """
    with zipfile.ZipFile(io.BytesIO(payload)) as source:
        members = {info.filename: (info, source.read(info)) for info in source.infolist()}
    text = members["schema.json"][1].decode("utf-8")
    numbers: dict[str, str] = {}
    for found in _OBJECT_ID.finditer(text):
        numbers.setdefault(found.group(1), str(len(numbers)))
    renamed = _OBJECT_ID.sub(lambda m: m.group(0).replace(m.group(1), numbers[m.group(1)]), text)
    members["schema.json"] = (members["schema.json"][0], renamed.encode("utf-8"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, (info, data) in sorted((_renamed(name, numbers), item) for name, item in members.items()):
            fixed = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            target.writestr(fixed, data)
    return out.getvalue()


def _renamed(name: str, numbers: dict[str, str]) -> str:
    stem, dot, suffix = name.partition(".")
    return f"{numbers.get(stem, stem)}{dot}{suffix}"


def load_model(path: Path) -> Pipeline:
    """Load a skops file, refusing any type outside TRUSTED_TYPES."""
    if not path.is_file():
        raise MlopsError(f"{path}: model file not found; run the pipeline first (make run)")
    untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
    if untrusted:
        raise MlopsError(f"{path}: refusing to load untrusted types {untrusted}")
    return sio.load(path, trusted=TRUSTED_TYPES)
