"""Names are data, never code: tag, image, branch, ref and folder names built to run a command reach
the Makefile targets and the scripts the workflows call, with real git, make and gto, and nothing runs.

Each hostile name would `touch` MARKER (a path in tmp_path, named by the environment variable
HOSTILE_MARKER in some names) if any shell or make parsed it as code; a name that is not what its
step expects is refused with exit code 2, naming the value and the pattern it had to match.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, run
from tests.deploy.conftest import DIGEST_A, IMAGE, clone_with_deploy, git, gto, make, remote_tags

pytestmark = pytest.mark.timeout(300)

SECRET = "push-token-that-must-not-leak"

# Each way a shell (or make, for `$(shell ...)`) could be made to run `touch "${HOSTILE_MARKER}"`.
PAYLOADS = {
    "backticks": '`touch "${HOSTILE_MARKER}"`',
    "command-substitution": '$(touch "${HOSTILE_MARKER}")',
    "semicolon-and-quotes": '";touch "${HOSTILE_MARKER}";"',
    "newline": '"\ntouch "${HOSTILE_MARKER}"\n"',
    "single-quotes-and-spaces": "' ; touch \"${HOSTILE_MARKER}\" ; '",
    "make-function": '$(shell touch "${HOSTILE_MARKER}")',
    "make-variable": "$(HOSTILE_MARKER)",
}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "MARKER"


def hostile_env(marker: Path) -> dict[str, str]:
    """The environment of a promotion job: the push token, and where a payload would leave its mark."""
    return {"HOSTILE_MARKER": str(marker), "GITOPS_PUSH_TOKEN": SECRET}


def registered_with_staging(work: Path) -> None:
    """v0.1.0 registered and assigned to staging: `model-service#staging#1` is a real stage tag."""
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_A}").returncode == 0
    gto(work, "assign", "model-service", "--version", "v0.1.0", "--stage", "staging")


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_hostile_stage_tag_runs_nothing(repos: tuple[Path, Path], marker: Path, payload: str) -> None:
    """Next to a real stage tag, its name plus a payload is refused by check-promotion and promote."""
    work, origin = repos
    registered_with_staging(work)
    tag = "model-service#staging#1" + payload
    before = git(work, "rev-parse", "HEAD"), git(work, "branch", "--list")
    for target in ("check-promotion", "promote"):
        result = make(target, work, env=hostile_env(marker), TAG=tag, PUSH="1")
        assert result.returncode != 0, result.stdout
        assert "expected a GTO tag" in result.stderr and repr(tag) in result.stderr, result.stderr
        assert not marker.exists(), f"make {target} ran the payload in {tag!r}"
    assert (git(work, "rev-parse", "HEAD"), git(work, "branch", "--list")) == before
    assert "promote/" not in git(origin, "branch", "--list")


def test_the_audit_tag_pushed_to_git_runs_nothing_and_leaks_no_token(
    repos: tuple[Path, Path], marker: Path, tmp_path: Path
) -> None:
    """The audit's case: a real git tag whose name writes the environment (and the token) to a file."""
    work, origin = repos
    registered_with_staging(work)
    tag = f"model-service#staging#1`env>{marker}`"
    git(work, "tag", tag, "model-service#staging#1")
    assert tag in git(work, "tag", "--list")
    output = tmp_path / "github_output"
    for target in ("check-promotion", "promote"):
        # as promote.yml runs it: the tag and the token in the step's environment only
        env = {**hostile_env(marker), "TAG": tag, "GITHUB_OUTPUT": str(output)}
        result = run(
            ["make", "--no-print-directory", target, f"GITOPS_REPO={work}"], cwd=REPO, check=False, env=env
        )
        assert result.returncode != 0 and repr(tag) in result.stderr, result.stderr
        assert not marker.exists(), f"make {target} ran the payload in {tag!r}"
    assert not output.exists()  # no stage or version handed to the next job
    assert SECRET not in result.stdout + result.stderr
    assert "promote/" not in git(origin, "branch", "--list")


@pytest.mark.parametrize(
    "tag", ["model-service#staging#1\n", "model-service#staging#1 ", " model-service#staging#1"]
)
def test_a_stage_tag_with_a_newline_or_space_is_refused(repos: tuple[Path, Path], tag: str) -> None:
    """GTO's own pattern ends in `$`, which Python lets match before a final newline: the check is whole."""
    work, _ = repos
    registered_with_staging(work)
    result = run(
        [BIN / "mlops", "gitops", "--repo", work, "check", "--tag", tag],
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2
    assert f"--tag {tag!r}: expected a GTO tag" in result.stderr


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_hostile_image_is_not_registered(repos: tuple[Path, Path], marker: Path, payload: str) -> None:
    work, origin = repos
    image = f"{IMAGE}@{DIGEST_A}{payload}"
    result = make("register", work, env=hostile_env(marker), IMAGE=image, PUSH="1")
    assert result.returncode != 0
    assert "expected an image by digest" in result.stderr and repr(image) in result.stderr, result.stderr
    assert not marker.exists(), f"make register ran the payload in {image!r}"
    assert remote_tags(origin) == {} and git(work, "tag", "--list") == ""


def test_a_repository_in_a_folder_with_a_hostile_name_is_just_a_folder(tmp_path: Path, marker: Path) -> None:
    """GITOPS_REPO is a path like any other: the targets work in it, and its name runs nothing."""
    folder = tmp_path / 'work ;touch "${HOSTILE_MARKER}"; $(touch "${HOSTILE_MARKER}") `x`'
    work, origin = clone_with_deploy(folder, tmp_path / "origin.git")
    assert (
        make("register", work, env=hostile_env(marker), IMAGE=f"{IMAGE}@{DIGEST_A}", PUSH="1").returncode == 0
    )
    gto(work, "assign", "model-service", "--version", "v0.1.0", "--stage", "staging")
    promoted = make("promote", work, env=hostile_env(marker), TAG="model-service#staging#1", PUSH="1")
    assert promoted.returncode == 0, promoted.stderr
    assert not marker.exists()
    assert list(remote_tags(origin)) == ["model-service@v0.1.0"]
    assert git(origin, "branch", "--list", "promote/*") == "promote/staging/v0.1.0"


RELEASE_REF = ["python3", "-m", "mlops.ci.release_ref"]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_hostile_ref_is_not_released(marker: Path, payload: str) -> None:
    """release.yml's first step, on a ref (a branch a manual run names) built to run a command."""
    for ref, default in ((f"refs/heads/main{payload}", "main"), ("refs/heads/main", f"main{payload}")):
        env = {"HOSTILE_MARKER": str(marker), "PYTHONPATH": str(REPO / "src")}
        result = run([*RELEASE_REF, ref, default], cwd=REPO, check=False, env=env)
        assert result.returncode == 2, (ref, default, result.stderr)
        assert "expected refs/(heads|tags|pull)/<name>, <name> of [A-Za-z0-9._/-]+" in result.stderr
        assert result.stderr.count("\n") == 1  # quoted: a newline in the value cannot forge a log line
        assert not marker.exists()


RETRAIN = [BIN / "mlops", "retrain"]


# git refuses spaces and newlines in a branch name; ${IFS} is the shell's space
BRANCH_PAYLOADS = [
    '`touch${IFS}"${HOSTILE_MARKER}"`',
    '$(touch${IFS}"${HOSTILE_MARKER}")',
    ';touch${IFS}"${HOSTILE_MARKER}";',
]


@pytest.mark.parametrize("payload", BRANCH_PAYLOADS)
def test_a_hostile_retrain_branch_commits_and_opens_nothing(
    tmp_path: Path, marker: Path, payload: str
) -> None:
    """`mlops retrain commit` names the branch it is on: only retrain/<12 hex> will do; the pull request's
    opener takes a branch name of [A-Za-z0-9._/-]+ only."""
    repo = tmp_path / "repo"
    run(["git", "init", "-q", "-b", "main", repo], cwd=tmp_path)
    run(["git", "commit", "-q", "--allow-empty", "-m", "start"], cwd=repo, env={
        "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"})  # fmt: skip
    branch = "retrain/0123456789ab" + payload
    run(["git", "switch", "-q", "-c", branch], cwd=repo)
    (repo / "results.txt").write_text("new results\n")
    head = git(repo, "rev-parse", "HEAD")
    env = {"HOSTILE_MARKER": str(marker), "RETRAIN_PUSH_TOKEN": SECRET}
    result = run([*RETRAIN, "commit", "--push"], cwd=repo, check=False, env=env)
    assert result.returncode == 2
    assert f"branch {branch!r}: expected retrain/<12 hex digits>" in result.stderr, result.stderr
    opener = ["python3", "-m", "mlops.ci.pull_request", "--repo", "acme/churn", "--base", "main", "--head"]
    result = run([*opener, branch], cwd=repo, check=False, env=env | {"PYTHONPATH": str(REPO / "src")})
    assert result.returncode == 2
    assert f"--head {branch!r}: expected a branch name of [A-Za-z0-9._/-]+" in result.stderr, result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == "?? results.txt"  # nothing staged
    assert not marker.exists()


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_a_hostile_data_version_is_refused(tmp_path: Path, marker: Path, payload: str) -> None:
    result = run(
        [*RETRAIN, "checkout", "--data-md5", "0" * 32 + payload],
        cwd=tmp_path,
        check=False,
        env={"HOSTILE_MARKER": str(marker)},
    )
    assert result.returncode == 2 and "expected the 32-hex md5" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    ("target", "variable", "option"),
    [("report", "BASE", "--base"), ("ship-log", "LOG", "--log"), ("register", "IMAGE", "--image"),
     ("register", "GITOPS_REPO", "--repo"), ("check-promotion", "TAG", "--tag"),
     ("promote", "TAG", "--tag")],
)  # fmt: skip
@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_make_hands_a_caller_value_to_its_command_as_one_argument(
    tmp_path: Path, marker: Path, target: str, variable: str, option: str, payload: str
) -> None:
    """Every Makefile target that takes a value passes it on as typed, on make's command line or in
    the environment; UV is a shim that records the command it was given instead of running it."""
    argv = tmp_path / "argv"
    shim = tmp_path / "uv-shim"
    shim.write_text(f"#!/bin/sh\nprintf '%s\\0' \"$@\" > '{argv}'\n")
    shim.chmod(0o755)
    value = "x" + payload
    for where in ("command line", "environment"):
        argv.unlink(missing_ok=True)
        given = {"TAG": "t", "IMAGE": "i", "GITOPS_REPO": "r", "GITHUB_OUTPUT": "o", variable: value}
        env = {"HOSTILE_MARKER": str(marker), **(given if where == "environment" else {})}
        line = [f"{key}={text}" for key, text in given.items()] if where == "command line" else []
        command = ["make", "--no-print-directory", "-o", "install", target, f"UV={shim}", *line]
        result = run(command, cwd=REPO, check=False, env=env)
        assert result.returncode == 0, (where, result.stderr)
        args = argv.read_bytes().decode().split("\0")
        assert args[args.index(option) + 1] == value, (where, args)
        assert not marker.exists(), f"make {target} ran the payload in {variable} from the {where}"
