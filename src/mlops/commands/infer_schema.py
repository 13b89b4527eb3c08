"""mlops infer-schema: write schema.yaml for a new CSV or Parquet table; point params.yaml at it.

The inferred schema is printed for review: check the categories, the bounds and which columns
may be blank before the first `dvc repro`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError, DataValidationError
from mlops.io import write_text, write_with
from mlops.spec.metrics import AUTO, HEADLINE, TASKS

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, required=True, help="the data to describe: CSV, or Parquet (.parquet, .pq)"
    )
    parser.add_argument("--target", required=True, help="the column to predict")
    parser.add_argument(
        "--task",
        default=AUTO,
        choices=[AUTO, *TASKS],
        help="binary, multiclass or regression (default: inferred from the target's values)",
    )
    parser.add_argument(
        "--positive", default="", help="a binary target's positive label (default: 1 for a 0/1 target)"
    )
    parser.add_argument(
        "--ignore", nargs="*", action="extend", default=[], help="columns that are not features, e.g. ids"
    )
    parser.add_argument("--dataset", help="the dataset's name (default: from the file name)")
    parser.add_argument(
        "--max-categories",
        type=int,
        help="most distinct values a text column may have; more is refused as an id or free text "
        "(default 1000)",
    )
    parser.add_argument(
        "--max-levels",
        type=int,
        help="columns with more categories get `max_levels`: one-hot columns for this many levels at "
        "most, the rarest sharing one 'other' column (default 30)",
    )
    parser.add_argument(
        "--unseen",
        choices=["encode", "refuse"],
        default="encode",
        help="what a category outside the schema's list gets: encoded as unknown (default) or refused",
    )
    parser.add_argument("--out", type=Path, required=True, help="schema.yaml to write")
    parser.add_argument("--params", type=Path, help="params.yaml to point at the new columns (optional)")
    parser.add_argument(
        "--metric",
        default=AUTO,
        choices=[AUTO, *HEADLINE],
        help="the quality gate's metric, one of the task's (default: mlops.spec.metrics.DEFAULT_GATE)",
    )


def run(args: argparse.Namespace) -> int:
    import yaml

    from mlops.pipeline.data import read_text
    from mlops.pipeline.infer import (
        MAX_CATEGORIES,
        MAX_LEVELS,
        dataset_name,
        infer_schema,
        params_changes,
        schema_document,
    )

    frame = read_text(args.data)
    if frame.empty:
        raise DataValidationError(str(args.data), ["the file has no data rows"])
    schema = infer_schema(
        frame,
        target=args.target,
        positive=args.positive,
        task=args.task,
        ignore=[name.strip() for item in args.ignore for name in item.split(",") if name.strip()],
        dataset=args.dataset or dataset_name(args.data.stem),
        source=args.data.name,
        max_categories=args.max_categories or MAX_CATEGORIES,
        max_levels=args.max_levels or MAX_LEVELS,
        unseen=args.unseen,
    )
    text = _HEADER.format(name=args.data.name) + yaml.safe_dump(
        schema_document(schema), sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
    )
    write_text(args.out, text)
    sys.stdout.write(text)
    kinds = {
        kind: sum(f.type == kind for f in schema.features) for kind in ("integer", "float", "categorical")
    }
    log.info(
        "%s: %d rows, a %s task; wrote %s with %s features; review it",
        args.data,
        len(frame),
        schema.target.task,
        args.out,
        kinds,
    )
    if args.params:
        changes = params_changes(schema, args.metric, frame[schema.target.name])
        update_params(args.params, changes)
        log.info("%s: set %s", args.params, ", ".join(f"{k}={v}" for k, v in changes.items()))
    return 0


_HEADER = (
    "# The one description of the input data, inferred by `mlops infer-schema` from {name}.\n"
    "# Review it: the categories, the bounds (padded beyond the values seen) and `nullable`.\n"
)


def update_params(path: Path, changes: dict[str, Any]) -> None:
    """Set dotted keys in params.yaml, keeping its comments; keys whose section is absent are skipped."""
    from ruamel.yaml import YAML  # DVC's own YAML library: a round trip keeps comments

    yaml_rt = YAML()
    yaml_rt.preserve_quotes = True
    yaml_rt.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    try:
        document = yaml_rt.load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{path}: file not found") from error
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        section = document
        for parent in parents:
            section = section.get(parent) if hasattr(section, "get") else None
        if hasattr(section, "__setitem__") and key in section:
            section[key] = _flow(value)
    write_with(path, lambda tmp: yaml_rt.dump(document, tmp))


def _flow(value: Any) -> Any:
    """Lists and mappings written inline, like the rest of params.yaml."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, list | dict):
        flowing = CommentedSeq(value) if isinstance(value, list) else CommentedMap(value)
        flowing.fa.set_flow_style()
        return flowing
    return value
