"""mlops card: write the model card (Markdown and HTML) from the pipeline's outputs and project.yaml.

`mlops card --check` writes nothing: it exits 1, naming each field, while project.yaml's `card`
still holds placeholders (the release runs it through `make card-check` and refuses such a card).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mlops.artifacts import Outputs, file_reader
from mlops.errors import ConfigError, Exit
from mlops.io import read_yaml, stage_outputs, write_text
from mlops.model_card import CardInputs, build_card, card_placeholders, load_card_text, render_html
from mlops.project import PROJECT, find_root, shown
from mlops.spec.params import load_params
from mlops.spec.schema import Schema

log = logging.getLogger(__name__)

OUTPUTS = [
    ("model", "model file (.skops)"),
    ("metadata", "model.json (lineage, schema)"),
    ("params", "params.yaml (the gate's fairness bounds)"),
    ("data-dvc", "the raw data's .dvc file (the data version)"),
    ("metrics", "headline metrics (JSON)"),
    ("intervals", "confidence intervals of the metrics (JSON)"),
    ("segments", "metrics per segment (JSON)"),
    ("fairness", "between-group gaps per sensitive column (JSON)"),
    ("importance", "permutation importance (JSON)"),
    ("card-out", "the card (Markdown)"),
    ("html-out", "the card (HTML, served at /card)"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        type=Path,
        help="project.yaml: its `name` (the title) and `card` (purpose, intended use, limits, contact); "
        "default: the project's",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming each `card` field of project.yaml that still holds a placeholder",
    )
    for name, help_text in OUTPUTS:
        parser.add_argument(f"--{name}", type=Path, help=f"{help_text}; required unless --check")


def run(args: argparse.Namespace) -> int:
    project_file = args.project or find_root() / PROJECT
    if args.check:
        return check(project_file)
    missing = [f"--{name}" for name, _ in OUTPUTS if getattr(args, name.replace("-", "_")) is None]
    if missing:
        raise ConfigError(f"mlops card: {', '.join(missing)} required (or --check)")
    outputs = Outputs(file_reader(), missing_ok=False)  # the stage's inputs: none may be missing
    metadata = outputs.metadata(args.metadata)
    inputs = CardInputs(
        name=_project_name(project_file),
        text=load_card_text(project_file),
        schema=Schema.model_validate(metadata["schema"]),
        metadata=metadata,
        metrics=outputs.metrics(args.metrics) or {},
        intervals=outputs.intervals(args.intervals),
        segments=outputs.segments(args.segments),
        fairness=outputs.fairness(args.fairness),
        importance=outputs.importance(args.importance),
        gate=load_params(args.params).gate,
        data_md5=outputs.data_version(args.data_dvc),
    )
    markdown = build_card(args.model, inputs).render().strip() + "\n"
    with stage_outputs(args.card_out, args.html_out) as aside:
        write_text(aside[args.card_out], markdown)
        write_text(aside[args.html_out], render_html(markdown, f"Model card: {inputs.name}"))
    log.info("model card written to %s and %s", args.card_out, args.html_out)
    return 0


def check(project_file: Path) -> int:
    """Exit 1 while any `card` field is a placeholder, naming each; 0 when the card is written."""
    section = (read_yaml(project_file) or {}).get("card")
    found = card_placeholders(section if isinstance(section, dict) else {})
    for name, text in found.items():
        log.error(
            "%s: card.%s is %s", shown(project_file), name, f"a placeholder: {text!r}" if text else "empty"
        )
    if found:
        log.error(
            "the model card is incomplete: write %s in project.yaml", ", ".join(f"card.{n}" for n in found)
        )
        return Exit.VERDICT
    log.info("%s: the model card's words are written", shown(project_file))
    return Exit.OK


def _project_name(project_file: Path) -> str:
    """project.yaml's `name`, the card's title: what a reader calls the model."""
    name = str((read_yaml(project_file) or {}).get("name") or "").strip()
    if not name:
        raise ConfigError(f"{project_file}: no `name` (the project's name, the model card's title)")
    return name
