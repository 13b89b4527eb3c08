"""mlops prepare: validate the raw CSV against the schema, then write a seeded, stratified split."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="raw CSV")
    parser.add_argument("--schema", type=Path, required=True, help="schema.yaml")
    parser.add_argument("--params", type=Path, required=True, help="params.yaml")
    parser.add_argument("--train-out", type=Path, required=True, help="train split (Parquet)")
    parser.add_argument("--test-out", type=Path, required=True, help="test split (Parquet)")


def run(args: argparse.Namespace) -> int:
    from mlops.io import stage_outputs
    from mlops.pipeline.data import check_split, read_csv, split
    from mlops.spec.params import load_params
    from mlops.spec.schema import load_schema

    schema = load_schema(args.schema)
    params = load_params(args.params).prepare
    frame = read_csv(args.data, schema)
    target = schema.target
    check_split(frame[target.name], params.test_size, str(args.data), target.is_classification)
    train, test = split(frame, schema, params.test_size, params.seed)
    with stage_outputs(args.train_out, args.test_out) as aside:
        train.to_parquet(aside[args.train_out], index=False)
        test.to_parquet(aside[args.test_out], index=False)
    log.info("%s: %d rows valid; %d train, %d test", args.data, len(frame), len(train), len(test))
    return 0
