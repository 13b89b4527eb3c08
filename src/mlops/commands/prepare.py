"""mlops prepare: validate the raw data (CSV or Parquet) against the schema, then write a seeded,
stratified split, streamed: the memory does not grow with the rows."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="raw data: CSV, or Parquet (.parquet, .pq)")
    parser.add_argument("--schema", type=Path, required=True, help="schema.yaml")
    parser.add_argument("--params", type=Path, required=True, help="params.yaml")
    parser.add_argument("--train-out", type=Path, required=True, help="train split (Parquet)")
    parser.add_argument("--test-out", type=Path, required=True, help="test split (Parquet)")


def run(args: argparse.Namespace) -> int:
    from mlops.io import stage_outputs
    from mlops.pipeline.data import write_split
    from mlops.spec.params import load_params
    from mlops.spec.schema import load_schema

    schema = load_schema(args.schema)
    params = load_params(args.params).prepare
    with stage_outputs(args.train_out, args.test_out) as aside:
        outs = (aside[args.train_out], aside[args.test_out])
        train, test = write_split(args.data, schema, params.test_size, params.seed, outs, outs[0].parent)
    log.info("%s: %d rows valid; %d train, %d test", args.data, train + test, train, test)
    return 0
