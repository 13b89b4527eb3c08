"""mlops card: write the model card (Markdown and HTML) from the pipeline's outputs and project.yaml."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mlops.card import CardInputs, build_card, load_card_text, render_html
from mlops.io import read_json, read_yaml, write_text
from mlops.params import load_params
from mlops.schema import Schema

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name, help_text in [
        ("model", "model file (.skops)"),
        ("metadata", "model.json (lineage, schema)"),
        ("project", "project.yaml (its `card` section: purpose, intended use, limits, contact)"),
        ("params", "params.yaml (the gate's fairness bounds)"),
        ("data-dvc", "the raw data's .dvc file (the data version)"),
        ("metrics", "headline metrics (JSON)"),
        ("intervals", "confidence intervals of the metrics (JSON)"),
        ("segments", "metrics per segment (JSON)"),
        ("fairness", "between-group gaps per sensitive column (JSON)"),
        ("importance", "permutation importance (JSON)"),
        ("card-out", "the card (Markdown)"),
        ("html-out", "the card (HTML, served at /card)"),
    ]:
        parser.add_argument(f"--{name}", type=Path, required=True, help=help_text)


def run(args: argparse.Namespace) -> int:
    metadata = read_json(args.metadata)
    project = read_yaml(args.project) or {}
    inputs = CardInputs(
        name=str(project.get("name", "model")),
        text=load_card_text(args.project),
        schema=Schema.model_validate(metadata["schema"]),
        metadata=metadata,
        metrics=read_json(args.metrics),
        intervals=read_json(args.intervals),
        segments=read_json(args.segments),
        fairness=read_json(args.fairness),
        importance=read_json(args.importance).get("importance", []),
        gate=load_params(args.params).gate,
        data_md5=((read_yaml(args.data_dvc) or {}).get("outs") or [{}])[0].get("md5"),
    )
    markdown = build_card(args.model, inputs).render().strip() + "\n"
    write_text(args.card_out, markdown)
    write_text(args.html_out, render_html(markdown, f"Model card: {inputs.name}"))
    log.info("model card written to %s and %s", args.card_out, args.html_out)
    return 0
