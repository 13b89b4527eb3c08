"""mlops image-labels: the OCI labels and tags that tie a released image to its model, data and metrics.

The release workflow appends them to $GITHUB_OUTPUT; on a laptop they print to stdout. `--format lines`
prints `tag=...` then one `label=value` a line, for `mlops image` (`make image`).

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

from mlops.artifacts import data_version
from mlops.errors import MlopsError
from mlops.io import read_json, read_yaml
from mlops.project import load_project
from mlops.spec.metrics import HEADLINE

log = logging.getLogger(__name__)
PREFIX = "io.mlops"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--metadata", type=Path, help="model metadata written by train (default: dvc.yaml's)")
    parser.add_argument("--metrics", type=Path, help="metrics JSON written by evaluate (default: dvc.yaml's)")
    parser.add_argument(
        "--data-dvc", type=Path, help="the raw data's .dvc file, its md5 the data version (default: found)"
    )
    parser.add_argument(
        "--project", type=Path, help="project.yaml: its `image` names the image to push (default: found)"
    )
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
    labels.update(
        {f"{PREFIX}.metrics.{name}": f"{metrics[name]:.6g}" for name in HEADLINE if name in metrics}
    )
    return labels


def image_name(image: str) -> dict[str, str]:
    """`image` and its `registry` from project.yaml; none when it leaves the image to the workflow."""
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
    metadata_path, metrics_path, data_dvc, image = _inputs(args)
    metadata = read_json(metadata_path)
    labels = image_labels(
        metadata, read_json(metrics_path), data_version(read_yaml(data_dvc)) if data_dvc else None
    )
    tag = image_tag(metadata["model_version"], args.revision)
    if args.revision:
        labels["org.opencontainers.image.revision"] = args.revision
    if args.format == "lines":
        text = render_lines(tag, labels)
    else:
        text = render(metadata["model_version"], labels, {"tag": tag, **image_name(image)})
    if args.output is None:
        print(text, end="")  # the command's output, not a log message
    else:
        with args.output.open("a", encoding="utf-8") as handle:
            handle.write(text)
        log.info("wrote %d labels for model %s to %s", len(labels), metadata["model_version"], args.output)
    return 0


def _inputs(args: argparse.Namespace) -> tuple[Path, Path, Path | None, str]:
    """model.json, metrics.json, the data's .dvc file and the image: the flags given, else the project's."""
    if None not in (args.metadata, args.metrics, args.data_dvc, args.project):
        return args.metadata, args.metrics, args.data_dvc, _image(args.project)
    project = load_project()
    data_dvc = project.absolute(project.data_dvc) if project.data_dvc else None
    return (
        args.metadata or project.absolute(project.metadata),
        args.metrics or project.absolute(project.metrics),
        args.data_dvc or data_dvc,
        _image(args.project) if args.project else project.image,
    )


def _image(project_file: Path) -> str:
    return str((read_yaml(project_file) or {}).get("image") or "")
