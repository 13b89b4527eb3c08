"""Release tags never move: `make push-image` (release.yml's push) against a real registry on 127.0.0.1.

Debian's `docker-registry` (the CNCF distribution registry) serves plain HTTP on a free port, its
storage in tmp_path; skopeo pushes to it. The images are tiny ones made here with `podman import`
(one file each, so two of them have different digests) and saved as OCI archives, as buildx hands
its image to the push in release.yml. Missing tools are installed from Debian's packages (root).
"""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, run, wait_for_answer
from tests.image.conftest import ensure_tools

pytestmark = pytest.mark.timeout(300)

PACKAGES = {"/usr/bin/docker-registry": "docker-registry", "skopeo": "skopeo", "podman": "podman"}
Completed = subprocess.CompletedProcess[str]
TinyImage = Callable[[str], Path]
PUSH_IMAGE = ["python3", "-m", "mlops.ci.push_image"]  # as the Makefile runs it, on src/ alone
TAGS = ("0123456789abcdef0123456789abcdef01234567", "v0.3.0-0123456789ab")  # the commit, model-commit


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`host:port` of a registry serving plain HTTP on 127.0.0.1, stopped (by its PID) at the end."""
    ensure_tools(PACKAGES)
    folder = tmp_path_factory.mktemp("registry")
    host = f"127.0.0.1:{free_port()}"
    config = folder / "config.yml"
    storage = f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
    config.write_text(f"version: 0.1\n{storage}http:\n  addr: {host}\n")
    with (folder / "registry.log").open("w") as log:
        server = subprocess.Popen(["/usr/bin/docker-registry", "serve", str(config)], stdout=log, stderr=log)
    try:
        wait_for_answer(f"http://{host}/v2/", server.poll, (folder / "registry.log").read_text, seconds=30)
        yield host
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def tiny_image(tmp_path: Path) -> Iterator[TinyImage]:
    """A function: the OCI archive of a one-file image whose file holds `text`."""
    names: list[str] = []

    def make(text: str) -> Path:
        root = tmp_path / f"root-{text}"
        root.mkdir()
        (root / "hello").write_text(text)
        rootfs = tmp_path / f"rootfs-{text}.tar"
        with tarfile.open(rootfs, "w") as archive:
            archive.add(root / "hello", arcname="hello")
        name = f"localhost/push-test-{tmp_path.name.lower()}-{text}:1"
        run(["podman", "import", "--quiet", rootfs, name], cwd=tmp_path)
        names.append(name)
        saved = tmp_path / f"image-{text}.tar"
        run(["podman", "save", "--quiet", "--format", "oci-archive", "--output", saved, name], cwd=tmp_path)
        return saved

    yield make
    for name in names:
        run(["podman", "rmi", "--force", name], cwd=tmp_path, check=False)


def push(source: Path, refs: list[str], env: dict[str, str] | None = None) -> Completed:
    """`make push-image` as release.yml runs it: SOURCE and REFS (one a line) in the environment."""
    given = {"SOURCE": f"oci-archive:{source}", "REFS": "\n".join(refs), "TLS_VERIFY": "false"}
    given.update(env or {})
    return run(["make", "--no-print-directory", "push-image"], cwd=REPO, check=False, env=given)


def push_script(source: str, refs: list[str], env: dict[str, str] | None = None) -> Completed:
    """mlops.ci.push_image itself, whose exit code make would turn into 2 for any failure."""
    given = {"TLS_VERIFY": "false", "PYTHONPATH": str(REPO / "src"), **(env or {})}
    return run([*PUSH_IMAGE, source, "\n".join(refs)], cwd=REPO, check=False, env=given)


def digest_of(ref: str) -> str | None:
    """The digest the registry has for `ref` (a tag or @digest), or None when it has none."""
    raw = run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"], cwd=REPO, check=False)
    if raw.returncode != 0:
        assert "manifest unknown" in raw.stderr, raw.stderr
        return None
    command = ["skopeo", "manifest-digest", "/dev/stdin"]
    found = subprocess.run(command, input=raw.stdout, capture_output=True, text=True, check=True)
    return found.stdout.strip()


def test_a_second_push_of_the_same_tags_pushes_nothing_and_reports_their_digest(
    registry: str, tiny_image: TinyImage, tmp_path: Path
) -> None:
    """A re-run of the release rebuilds (a new digest) but keeps what the first run pushed and registered."""
    refs = [f"{registry}/acme/churn:{tag}" for tag in TAGS]
    output = tmp_path / "github_output"
    first = push(tiny_image("first"), refs, {"GITHUB_OUTPUT": str(output)})
    assert first.returncode == 0, first.stderr
    digest = first.stdout.strip().splitlines()[-1]
    assert digest.startswith("sha256:") and len(digest) == 71
    assert [digest_of(ref) for ref in refs] == [digest, digest]
    handed_on = f"digest={digest}\nimage={registry}/acme/churn@{digest}\n"  # for the register and sign steps
    assert output.read_text() == handed_on

    rebuilt = tiny_image("second")
    again = push(rebuilt, refs, {"GITHUB_OUTPUT": str(output)})
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == digest
    assert f"already exist at {digest}" in again.stderr and "nothing pushed" in again.stderr
    assert "pushed " + refs[0] not in again.stderr
    assert [digest_of(ref) for ref in refs] == [digest, digest]
    assert output.read_text() == handed_on * 2  # the registration gets the same
    assert digest_of(f"{registry}/acme/churn:other") is None

    fresh = push(rebuilt, [f"{registry}/acme/churn:other"])  # the rebuilt image can be pushed: it differs
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip().splitlines()[-1] != digest


def test_tags_that_partly_exist_push_nothing(registry: str, tiny_image: TinyImage) -> None:
    one, two = (f"{registry}/acme/partly:{tag}" for tag in TAGS)
    assert push(tiny_image("one"), [one]).returncode == 0
    before = digest_of(one)
    result = push_script(f"oci-archive:{tiny_image('two')}", [one, two])
    assert result.returncode == 1
    assert "some tags exist, others do not; nothing pushed" in result.stderr
    assert f"{two} missing" in result.stderr
    assert (digest_of(one), digest_of(two)) == (before, None)


def test_a_registry_that_cannot_be_asked_stops_the_push(tiny_image: TinyImage) -> None:
    """Only the registry's own "no such manifest" means a tag is free: anything else is no answer."""
    ref = f"127.0.0.1:{free_port()}/acme/churn:{TAGS[0]}"
    result = push_script(f"oci-archive:{tiny_image('nowhere')}", [ref])
    assert result.returncode == 1
    assert f"cannot ask the registry about {ref}" in result.stderr
    assert result.stdout == ""


HOSTILE = '$(touch "${HOSTILE_MARKER}")'


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        ([f"127.0.0.1:5000/acme/churn:{HOSTILE}"], "expected repository:tag"),
        ([f"127.0.0.1:5000/acme/churn:a;{HOSTILE}"], "expected repository:tag"),
        (["127.0.0.1:5000/acme/churn"], "expected repository:tag"),
        (["127.0.0.1:5000/acme/churn:a", "127.0.0.1:5000/acme/other:a"], "is not in 127.0.0.1:5000/acme/"),
        ([], "no references to push to"),
    ],
    ids=["command-substitution", "semicolon", "no-tag", "two-repositories", "none"],
)
def test_refs_that_are_not_one_repositorys_tags_are_refused(
    tmp_path: Path, refs: list[str], expected: str
) -> None:
    """Names are data: each ref is wholly repository:tag, one repository; a refusal exits 2, runs nothing."""
    marker = tmp_path / "MARKER"
    env = {"SOURCE": "oci-archive:/nonexistent", "REFS": " ".join(refs), "HOSTILE_MARKER": str(marker)}
    through_make = run(["make", "--no-print-directory", "push-image"], cwd=REPO, check=False, env=env)
    assert through_make.returncode != 0 and expected in through_make.stderr, through_make.stderr
    direct = push_script("oci-archive:/nonexistent", refs, {"HOSTILE_MARKER": str(marker)})
    assert direct.returncode == 2 and expected in direct.stderr, direct.stderr
    assert not marker.exists()
