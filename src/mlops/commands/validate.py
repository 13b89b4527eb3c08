"""mlops validate: check params.yaml, schema.yaml and project.yaml before any other stage runs.

A typo found by `mlops train` would come after the split and a wait for nothing; this first, cheap
stage finds it in seconds: every other stage depends on its output, so `dvc repro` stops here (a
failing stage would keep its previous outputs either way: they are `persist` in dvc.yaml). The
output says only what was checked, never a hash of it, so a valid edit re-runs no stage it does not
concern.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schema", type=Path, required=True, help="schema.yaml")
    parser.add_argument("--params", type=Path, required=True, help="params.yaml")
    parser.add_argument("--project", type=Path, required=True, help="project.yaml (its `card` section)")
    parser.add_argument("--out", type=Path, required=True, help="the record that the checks passed (JSON)")


def run(args: argparse.Namespace) -> int:
    from mlops.errors import ConfigError
    from mlops.io import write_json
    from mlops.model_card import load_card_text
    from mlops.spec.params import load_params, schema_problems
    from mlops.spec.schema import load_schema

    schema = load_schema(args.schema)
    params = load_params(args.params)
    load_card_text(args.project)
    problems = schema_problems(params, schema)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"{args.params}: names columns {args.schema} does not have:\n{listed}")
    checked = [str(args.schema), str(args.params), str(args.project)]
    write_json(args.out, {"checked": checked, "valid": True})
    log.info("%s valid", ", ".join(checked))
    return 0
