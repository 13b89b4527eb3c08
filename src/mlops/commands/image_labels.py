"""mlops image-labels: the OCI labels and tags that tie a released image to its model, data and metrics.

The release workflow appends them to $GITHUB_OUTPUT; on a laptop they print to stdout. `--format lines`
prints `tag=...` then one `label=value` a line, for scripts/image.sh (`make image`).

Image tags never move: the tag is the model version qualified by the commit (`<model_version>-<commit12>`),
so a later merge with the same model and new code gets a new tag instead of overwriting this one.
"""

from __future__ import annotations

import argparse
import logging
import re
import secrets
from pathlib import Path
from typing import Any

from mlops.errors import MlopsError
from mlops.io import read_json, read_yaml

log = logging.getLogger(__name__)
PREFIX = "io.mlops"
METRICS = ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metadata", type=Path, required=True, help="model metadata JSON written by train")
    parser.add_argument("--metrics", type=Path, required=True, help="metrics JSON written by evaluate")
    parser.add_argument(
        "--data-dvc", type=Path, help="the raw data's .dvc file (its md5 names the data version)"
    )
    parser.add_argument("--project", type=Path, help="project.yaml: its `image` names the image to push")
    parser.add_argument("--revision", help="the git commit the image is built from (qualifies the tag)")
    parser.add_argument("--format", choices=("github", "lines"), default="github", help="output syntax")
    parser.add_argument("--output", type=Path, help="append to this file (GitHub's $GITHUB_OUTPUT) instead")


def image_tag(model_version: str, revision: str | None) -> str:
    """`<model_version>-<first 12 hex of the commit>`: unique per commit, so it is never overwritten."""
    if not revision:
        return model_version
    if not re.fullmatch(r"[0-9a-f]{12,64}", revision):
        raise MlopsError(f"--revision: expected a git commit (12 to 64 hex digits), got {revision!r}")
    return f"{model_version}-{revision[:12]}"


def image_labels(metadata: dict[str, Any], metrics: dict[str, Any], data_md5: str | None) -> dict[str, str]:
    """Labels named `io.mlops.*`: model version and hash, training data hash, data version, test metrics."""
    labels = {
        f"{PREFIX}.model.version": metadata["model_version"],
        f"{PREFIX}.model.sha256": metadata["model_sha256"],
        f"{PREFIX}.model.estimator": str(metadata.get("estimator", "")),
        f"{PREFIX}.data.train-sha256": metadata["training_data"]["sha256"],
    }
    if data_md5:
        labels[f"{PREFIX}.data.dvc-md5"] = data_md5
    labels.update({f"{PREFIX}.metrics.{name}": f"{metrics[name]:.6g}" for name in METRICS if name in metrics})
    return labels


def _data_md5(path: Path | None) -> str | None:
    if path is None:
        return None
    outs = read_yaml(path).get("outs") or [{}]
    return outs[0].get("md5")


def image_name(project: Path | None) -> dict[str, str]:
    """`image` and its `registry` from project.yaml; none when it leaves the image to the workflow."""
    image = str((read_yaml(project) or {}).get("image") or "") if project else ""
    return {"image": image, "registry": image.split("/", 1)[0]} if image else {}


def render_lines(tag: str, labels: dict[str, str]) -> str:
    """`tag=...` then one `label=value` a line (for shell scripts)."""
    return f"tag={tag}\n" + "".join(f"{key}={value}\n" for key, value in labels.items())


def render(model_version: str, labels: dict[str, str], outputs: dict[str, str]) -> str:
    """GitHub output syntax: `key=value` lines, and a multi-line value between random delimiters."""
    delimiter = f"EOF_{secrets.token_hex(8)}"
    lines = "\n".join(f"{key}={value}" for key, value in labels.items())
    single = "".join(f"{key}={value}\n" for key, value in {"model_version": model_version, **outputs}.items())
    return f"{single}labels<<{delimiter}\n{lines}\n{delimiter}\n"


def run(args: argparse.Namespace) -> int:
    metadata = read_json(args.metadata)
    labels = image_labels(metadata, read_json(args.metrics), _data_md5(args.data_dvc))
    tag = image_tag(metadata["model_version"], args.revision)
    if args.revision:
        labels["org.opencontainers.image.revision"] = args.revision
    if args.format == "lines":
        text = render_lines(tag, labels)
    else:
        text = render(metadata["model_version"], labels, {"tag": tag, **image_name(args.project)})
    if args.output is None:
        print(text, end="")  # the command's output, not a log message
    else:
        with args.output.open("a", encoding="utf-8") as handle:
            handle.write(text)
        log.info("wrote %d labels for model %s to %s", len(labels), metadata["model_version"], args.output)
    return 0
