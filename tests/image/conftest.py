"""The image, built once per session by `make image` in a copy of the built project, and run with podman.

Missing tools are installed from Debian's packages (podman, runc, mmdebstrap; root, as in CI), so
these tests never skip. The base image stays in podman's store between runs (mlops image makes
it only when missing); later sessions reuse the cached layers and build in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BIN, REPO, copy_built, free_port, run, wait_for_answer
from tests.service.conftest import (  # the service's data fixtures, shared
    feature_names,  # noqa: F401
    metadata,  # noqa: F401
    records,  # noqa: F401
    test_frame,  # noqa: F401
    uv_binary,
)

RUNTIME = "/usr/sbin/runc"  # Debian's default crun refuses cgroups in hybrid mode here
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
PACKAGES = {"podman": "podman", RUNTIME: "runc", "mmdebstrap": "mmdebstrap"}
STARTUP_SECONDS = 120
DEPLOYMENT = REPO / "deploy" / "base" / "deployment.yaml"


def ensure_tools(packages: dict[str, str] = PACKAGES) -> None:
    """Install what is missing of `packages` (tool -> Debian package); fail (never skip) when that is
    impossible."""
    missing = [package for tool, package in packages.items() if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        listed = " ".join(missing)
        raise AssertionError(f"missing {listed}: apt-get install -y {listed} (as root)")
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, capture_output=True)


@pytest.fixture(scope="session")
def image_project(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the built project (make image adds .venv and build/ to it)."""
    return copy_built(built_project, tmp_path_factory.mktemp("image") / "project")


@pytest.fixture(scope="session")
def image_ref(image_project: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`make image` in the project copy, as a user runs it: the reference it wrote to build/image-ref
    (what it printed is kept in build/make-image.log)."""
    ensure_tools()
    uv = uv_binary()
    env = {
        "BENTOML_HOME": str(tmp_path_factory.mktemp("bentoml-home")),
        "PATH": f"{BIN}{os.pathsep}{Path(uv).parent}{os.pathsep}{os.environ['PATH']}",
        "IMAGE_NAME": "localhost/model-service-test",
    }
    made = run(["make", "image", f"UV={uv}"], cwd=image_project, env=env, timeout=1800)
    (image_project / "build" / "make-image.log").write_text(made.stdout + made.stderr)
    return (image_project / "build" / "image-ref").read_text().strip()


def deployment_container() -> dict[str, Any]:
    """The container spec and the pod's securityContext from deploy/base/deployment.yaml."""
    pod = yaml.safe_load(DEPLOYMENT.read_text())["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return {**container, "podSecurityContext": pod["securityContext"]}


def run_once(image: str, entrypoint: str, *args: str) -> str:
    """The output of ENTRYPOINT ARGS run in a throw-away container of the image."""
    cmd = ["podman", "run", "--rm", "--runtime", RUNTIME, *ULIMITS, "--entrypoint", entrypoint, image]
    return run([*cmd, *args], cwd=REPO).stdout


class Container:
    """`podman run -d` of the image on a free 127.0.0.1 port; `stop()` sends SIGTERM and waits."""

    def __init__(self, image: str, args: list[str], options: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = ["podman", "run", "-d", "--runtime", RUNTIME, *ULIMITS, "-p", f"127.0.0.1:{self.port}:3000"]
        self.id = run([*cmd, *options, image, *args], cwd=REPO).stdout.strip()

    def wait_for(self, path: str, status: int = 200) -> float:
        """Seconds until `path` answers `status`."""
        return wait_for_answer(self.url + path, self.exited, self.logs, STARTUP_SECONDS, status)

    def running(self) -> bool:
        state = run(["podman", "inspect", "--format", "{{.State.Running}}", self.id], cwd=REPO).stdout
        return state.strip() == "true"

    def exited(self) -> int | None:
        """The container's exit code once it has stopped; None while it runs."""
        return None if self.running() else self.exit_code()

    def exit_code(self) -> int:
        out = run(["podman", "wait", self.id], cwd=REPO, timeout=90).stdout
        return int(out.strip())

    def logs(self) -> str:
        result = run(["podman", "logs", self.id], cwd=REPO, check=False)
        return result.stdout + result.stderr

    def signal(self, name: str) -> None:
        run(["podman", "kill", "--signal", name, self.id], cwd=REPO)

    def remove(self) -> None:
        run(["podman", "rm", "--force", "--time", "5", self.id], cwd=REPO, check=False)


def pod_options(log_dir: Path, container: dict[str, Any]) -> list[str]:
    """podman flags for what deploy/ asks of the pod: user, read-only root, /tmp, log volume, env."""
    pod = container["podSecurityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    log_dir.chmod(0o777)  # the volume is the pod's fsGroup's in Kubernetes; here any user may write
    env = {item["name"]: item["value"] for item in container["env"]}
    options = ["--user", f"{pod['runAsUser']}:{pod['runAsGroup']}", "--read-only", "--tmpfs", "/tmp"]
    options += ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    options += ["--volume", f"{log_dir}:{env['MLOPS_INFERENCE_LOG_DIR']}"]
    for name, value in env.items():
        options += ["--env", f"{name}={value}"]
    return options


@pytest.fixture(scope="module")  # stopped when its module is done, not at the end of the suite
def deployed(image_ref: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Container, Path]]:
    """The image run as deploy/ runs it, and the host folder its inference log is written to."""
    spec = deployment_container()
    log_dir = tmp_path_factory.mktemp("container-log")
    started = Container(image_ref, spec["args"], pod_options(log_dir, spec))
    try:
        started.wait_for("/readyz")
        yield started, log_dir
    finally:
        started.remove()
