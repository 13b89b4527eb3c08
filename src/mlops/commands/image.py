"""mlops image: the container image of a built bento, built with podman (`make image`).

    mlops image --bento DIR --name NAME --ref-file FILE --labels FILE

Built from the Dockerfile the bento carries (deploy/Dockerfile, at src/deploy/Dockerfile in the
bento: the one the release workflow builds), on a Debian base image made locally with mmdebstrap
when it is missing (no image registry is needed; the package registries are). --labels is
`mlops image-labels --format lines` output: `tag=...`, then `label=value` lines. BASE_IMAGE names
the local base image (made when `podman image exists` says it is missing), PODMAN_RUNTIME the OCI
runtime, CA_BUNDLE the machine's certificates, mounted for the build only. Writes the image
reference, NAME:TAG, to --ref-file, atomically. A missing bento, tool or tag exits 2; a failed
build exits with podman's code, after the end of its output.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlops.ci.process import CommandError
from mlops.ci.process import run as command
from mlops.errors import MlopsError
from mlops.io import write_text

log = logging.getLogger(__name__)
TOOLS = ("podman", "mmdebstrap")
INSTALL = "Debian: apt-get install -y podman runc mmdebstrap"
STEP = re.compile(r"STEP [0-9]+/[0-9]+: ")  # podman's numbered build steps: the progress shown
FAILED_TAIL = 40  # lines of the build's output shown when it fails
# The base: Debian bookworm's Python 3.11 with pip, like python:3.11-slim (Debian's pip refuses to
# install outside a venv unless the EXTERNALLY-MANAGED marker goes; the official image has none).
MMDEBSTRAP = [
    "mmdebstrap", "--quiet", "--variant=minbase",
    "--include=python3,python3-venv,python3-pip,ca-certificates",
    '--customize-hook=rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED',
    '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
    "bookworm",
]  # fmt: skip
PIP_CONFIG = "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bento", type=Path, required=True, help="the built bento's folder")
    parser.add_argument("--name", required=True, help="the image's name, e.g. localhost/model-service")
    parser.add_argument("--ref-file", type=Path, required=True, help="where NAME:TAG is written")
    parser.add_argument(
        "--labels", type=Path, required=True, help="`mlops image-labels --format lines` output"
    )


def run(args: argparse.Namespace) -> int:
    """Check the inputs, make the base if need be, build, write the reference; podman's code if it fails."""
    dockerfile = args.bento / "src" / "deploy" / "Dockerfile"
    if not dockerfile.is_file():
        raise MlopsError(f"{dockerfile} not found: build the bento first (make bento)")
    for tool in TOOLS:
        if shutil.which(tool) is None:
            raise MlopsError(f"{tool} not found ({INSTALL})")
    tag, labels = read_labels(args.labels)
    base = os.environ.get("BASE_IMAGE", "localhost/mlops-base:bookworm")
    with tempfile.TemporaryDirectory(prefix="mlops-image-") as folder:
        work = Path(folder)
        ensure_base(base, work)
        code = build(args.bento, dockerfile, f"{args.name}:{tag}", labels, base, work)
    if code != 0:
        return code
    write_text(args.ref_file, f"{args.name}:{tag}\n")
    size = command(["podman", "image", "inspect", "--format", "{{.Size}}", f"{args.name}:{tag}"]).strip()
    log.info("built %s:%s (%s bytes)", args.name, tag, size)
    return 0


def read_labels(path: Path) -> tuple[str, list[str]]:
    """The tag (`tag=` line) and the `label=value` lines of `mlops image-labels --format lines`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise MlopsError(f"{path}: {error.strerror or error}") from None
    tags = [line.removeprefix("tag=") for line in lines if line.startswith("tag=")]
    if not tags or not tags[0]:
        raise MlopsError(f"{path}: no tag= line")
    return tags[0], [line for line in lines if not line.startswith("tag=")]


def ensure_base(base: str, work: Path) -> None:
    """Make the base image with mmdebstrap unless podman's store has it."""
    try:
        command(["podman", "image", "exists", base])
        return
    except CommandError as error:
        if error.returncode != 1:  # 1: no such image; anything else is podman failing
            raise MlopsError(str(error)) from None
    log.info("making the base image %s with mmdebstrap (about 70 s)", base)
    rootfs = work / "rootfs.tar"
    try:
        command([*MMDEBSTRAP, rootfs], timeout=1800)
        command(["podman", "import", "--quiet", "--change", 'CMD ["/bin/bash"]', rootfs, base])
    except CommandError as error:
        raise MlopsError(f"the base image {base}: {error}") from None


def build(bento: Path, dockerfile: Path, ref: str, labels: list[str], base: str, work: Path) -> int:
    """`podman build`: its numbered steps (cut to 100 characters) on stderr as they come, all of its
    output in a log whose end is shown when it fails; podman's exit code."""
    pip_config = work / "pip.conf"
    pip_config.write_text(PIP_CONFIG, encoding="utf-8")
    ca = os.environ.get("CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    words = [
        "podman", "build", "--runtime", os.environ.get("PODMAN_RUNTIME", "/usr/sbin/runc"),
        "--network", "host", "--pull=never", "--from", base,
        "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096",
        # build-time only (mounts are not layers): the machine's CA bundle, and pip told to trust it
        "--volume", f"{ca}:/etc/ssl/certs/ca-certificates.crt:ro",
        "--volume", f"{pip_config}:/etc/pip.conf:ro",
        *(word for label in labels for word in ("--label", label)), "--tag", ref,
        "--file", str(dockerfile), str(bento),
    ]  # fmt: skip
    log.info("building %s with podman from %s", ref, dockerfile)
    output: list[str] = []
    with subprocess.Popen(words, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as podman:
        assert podman.stdout is not None
        for line in podman.stdout:
            output.append(line)
            if STEP.match(line):
                print(line.rstrip("\n")[:100], file=sys.stderr, flush=True)
    if podman.returncode != 0:
        tail = "".join(output[-FAILED_TAIL:])
        log.error("podman build failed (exit %d); the end of its output:\n%s", podman.returncode, tail)
    return podman.returncode
