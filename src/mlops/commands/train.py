"""mlops train: fit the Pipeline chosen in params.yaml and save it with skops beside its metadata."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train", type=Path, required=True, help="train split (Parquet)")
    parser.add_argument("--schema", type=Path, required=True, help="schema.yaml")
    parser.add_argument("--params", type=Path, required=True, help="params.yaml")
    parser.add_argument("--model-out", type=Path, required=True, help="model file (.skops)")
    parser.add_argument("--metadata-out", type=Path, required=True, help="model metadata (JSON)")


def run(args: argparse.Namespace) -> int:
    from mlops.io import stage_outputs, write_json
    from mlops.pipeline.data import read_training_rows, target_vector
    from mlops.pipeline.explain import reference_record
    from mlops.pipeline.metadata import model_metadata
    from mlops.pipeline.model import build_pipeline, predictions, save_model
    from mlops.spec.params import check_task, load_params
    from mlops.spec.schema import load_schema

    schema = load_schema(args.schema)
    all_params = load_params(args.params)
    check_task(all_params, schema.target.task, args.params)
    params = all_params.train
    train, split_rows = read_training_rows(args.train, schema, params.max_rows, params.seed)
    y = target_vector(train, schema).to_numpy()
    model = build_pipeline(schema, params).fit(train[schema.feature_names], y)
    with stage_outputs(args.model_out, args.metadata_out) as aside:
        save_model(model, aside[args.model_out])
        metadata = model_metadata(
            aside[args.model_out],
            args.train,
            schema,
            params,
            y,
            predictions(model, train[schema.feature_names], schema.target),
            reference_record(train, schema),
            split_rows=split_rows,
        )
        write_json(aside[args.metadata_out], metadata)
    log.info(
        "%s model %s saved to %s (%s, trained on %d of %d rows)",
        schema.target.task,
        metadata["model_version"],
        args.model_out,
        params.estimator,
        len(train),
        split_rows,
    )
    return 0
