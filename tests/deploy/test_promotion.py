"""GitOps promotion against local git repositories: the Makefile targets the workflows call, real git and gto.

release.yml runs `make register` after the push; promote.yml runs `make check-promotion` and
`make promote` on a stage tag. Here `origin` is a bare repository in tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import run
from tests.deploy.conftest import (
    BOT_EMAIL,
    BOT_NAME,
    DIGEST_A,
    DIGEST_B,
    IMAGE,
    commit,
    git,
    gto,
    make,
    remote_tags,
)

pytestmark = pytest.mark.timeout(300)


def test_each_merge_registers_the_next_version_with_its_image(repos: tuple[Path, Path]) -> None:
    work, origin = repos
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_A}", PUSH="1").returncode == 0
    commit(work, "second")
    assert make("register", work, IMAGE=f"{IMAGE.upper()}@{DIGEST_B}", PUSH="1").returncode == 0
    tags = remote_tags(origin)
    assert set(tags) == {"model-service@v0.1.0", "model-service@v0.1.1"}
    assert tags["model-service@v0.1.1"] == git(work, "rev-parse", "HEAD")
    message = git(work, "tag", "--list", "--format=%(contents)", "model-service@v0.1.1")
    assert message.strip() == f"image: {IMAGE}@{DIGEST_B}"  # lower-cased for the registry


def test_a_commit_is_registered_once(repos: tuple[Path, Path]) -> None:
    work, origin = repos
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_A}", PUSH="1").returncode == 0
    again = make("register", work, IMAGE=f"{IMAGE}@{DIGEST_B}", PUSH="1")
    assert again.returncode != 0
    expected = (
        f"HEAD is already registered as model-service@v0.1.0 with {IMAGE}@{DIGEST_A}, not {IMAGE}@{DIGEST_B}"
    )
    assert expected in again.stderr, again.stderr
    assert list(remote_tags(origin)) == ["model-service@v0.1.0"]


def test_a_rerun_of_the_release_registers_nothing_and_succeeds(
    repos: tuple[Path, Path], tmp_path: Path
) -> None:
    """A re-run on the same commit pushes no image (its tags exist) and hands over the same digest."""
    work, origin = repos
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_A}", PUSH="1").returncode == 0
    before = remote_tags(origin)
    rerun = tmp_path / "rerun"  # a fresh checkout with the tags, as the register job makes
    run(["git", "clone", "-q", str(origin), rerun], cwd=tmp_path)
    again = make("register", rerun, IMAGE=f"{IMAGE}@{DIGEST_A}", PUSH="1")
    assert again.returncode == 0, again.stderr
    assert (
        f"HEAD is already registered as model-service@v0.1.0 with {IMAGE}@{DIGEST_A}: nothing to do"
        in again.stderr
    )
    assert remote_tags(origin) == before
    assert git(rerun, "tag", "--list") == "model-service@v0.1.0"


def test_a_pushed_tag_never_moves(repos: tuple[Path, Path], tmp_path: Path) -> None:
    """A clone without the tags would compute v0.1.0 again: origin refuses to overwrite it."""
    work, origin = repos
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_A}", PUSH="1").returncode == 0
    before = remote_tags(origin)
    shallow = tmp_path / "shallow"
    run(["git", "clone", "-q", "--no-tags", str(origin), shallow], cwd=tmp_path)
    git(shallow, "config", "user.email", "tests@example.com")
    git(shallow, "config", "user.name", "Tests")
    commit(shallow, "later")
    moved = make("register", shallow, IMAGE=f"{IMAGE}@{DIGEST_B}", PUSH="1")
    assert moved.returncode != 0
    assert "model-service@v0.1.0" in moved.stderr and "already exists" in moved.stderr
    assert remote_tags(origin) == before


def test_register_refuses_an_image_not_named_by_digest(repos: tuple[Path, Path]) -> None:
    work, origin = repos
    result = make("register", work, IMAGE=f"{IMAGE}:latest", PUSH="1")
    assert result.returncode != 0
    assert "expected an image by digest" in result.stderr
    assert remote_tags(origin) == {}


PLACEHOLDER = {"name": "model-service", "newName": "ghcr.io/owner/repo", "digest": "sha256:" + "0" * 64}


def overlay(repo: Path, stage: str) -> str:
    return (repo / "deploy" / "overlays" / stage / "kustomization.yaml").read_text()


def test_a_stage_tag_becomes_an_overlay_change_on_a_branch(repos: tuple[Path, Path], tmp_path: Path) -> None:
    work, origin = repos
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_A}", PUSH="1").returncode == 0
    commit(work, "second")
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_B}", PUSH="1").returncode == 0
    gto(work, "assign", "model-service", "--version", "v0.1.0", "--stage", "prod")
    main_before, staging_before = git(work, "rev-parse", "main"), overlay(work, "staging")
    assert yaml.safe_load(overlay(work, "prod"))["images"] == [PLACEHOLDER]  # as committed: no promotion yet
    output = tmp_path / "github_output"
    checked = make("check-promotion", work, TAG="model-service#prod#1", GITHUB_OUTPUT=str(output))
    assert checked.returncode == 0, checked.stderr
    assert "stage=prod\nversion=v0.1.0\n" in output.read_text()

    promoted = make("promote", work, TAG="model-service#prod#1", PUSH="1")
    assert promoted.returncode == 0, promoted.stderr
    branch = "promote/prod/v0.1.0"
    assert git(origin, "rev-parse", branch) == git(work, "rev-parse", "HEAD")
    assert git(work, "rev-parse", "HEAD~1") == main_before  # one commit on top of main
    changed = git(work, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    assert changed == ["deploy/overlays/prod/kustomization.yaml"]
    text = overlay(work, "prod")
    assert "# What runs in prod" in text  # the comments stay
    (image,) = yaml.safe_load(text)["images"]
    assert image == {"name": "model-service", "newName": IMAGE, "digest": DIGEST_A}
    assert overlay(work, "staging") == staging_before
    rendered = run(["kubectl", "kustomize", work / "deploy" / "overlays" / "prod"], cwd=work).stdout
    assert f"image: {IMAGE}@{DIGEST_A}" in rendered
    assert "prod runs model-service v0.1.0" in git(work, "log", "-1", "--format=%s")


@pytest.mark.parametrize(
    ("make_tag", "tag", "expected"),
    [
        (lambda r: None, "model-service@v0.1.0", "not a GTO stage assignment"),
        (lambda r: gto(r, "assign", "model-service", "--version", "v0.1.0", "--stage", "qa"),
         "model-service#qa#1", "stage 'qa' has no overlay in deploy/overlays/ (stages: prod, staging)"),
        (lambda r: (gto(r, "assign", "model-service", "--version", "v0.1.0", "--stage", "prod"),
                    gto(r, "deprecate", "model-service", "v0.1.0", "prod")),
         "model-service#prod!#2", "not a GTO stage assignment"),
        (lambda r: None, "no-such-tag", "no-such-tag"),
    ],
    ids=["registration", "unknown-stage", "unassignment", "missing"],
)  # fmt: skip
def test_promotion_refuses_what_is_not_a_stage_with_an_overlay(
    repos: tuple[Path, Path], make_tag: object, tag: str, expected: str
) -> None:
    work, origin = repos
    assert make("register", work, IMAGE=f"{IMAGE}@{DIGEST_A}").returncode == 0
    make_tag(work)  # type: ignore[operator]
    before = git(work, "rev-parse", "HEAD"), overlay(work, "prod")
    for target in ("check-promotion", "promote"):
        result = make(target, work, TAG=tag, PUSH="1")
        assert result.returncode != 0
        assert expected in result.stderr, result.stderr
    assert (git(work, "rev-parse", "HEAD"), overlay(work, "prod")) == before
    assert git(work, "branch", "--show-current") == "main"
    assert "promote/" not in git(origin, "branch", "--list")


OTHER = f"ghcr.io/o/r@{DIGEST_A}"  # the audit's image: a digest in someone else's repository


BOT = (BOT_NAME, BOT_EMAIL)


def registration_by_hand(work: Path, message: str | None, who: tuple[str, str] = BOT) -> None:
    """`model-service@v0.1.0` made with git, not `make register`, then assigned to prod:
    `model-service#prod#1` asks for its image. With message None the version tag is lightweight, which
    gto refuses to assign: the stage tag is then made with git too, as gto makes it."""
    identity = ["-c", f"user.name={who[0]}", "-c", f"user.email={who[1]}"]
    annotation = ["-a", "-m", message] if message is not None else []
    git(work, *identity, "tag", *annotation, "model-service@v0.1.0", "HEAD")
    if message is None:
        assignment = "Assigning stage prod to artifact model-service version v0.1.0"
        git(work, "tag", "-a", "-m", assignment, "model-service#prod#1", "HEAD")
    else:
        gto(work, "assign", "model-service", "--version", "v0.1.0", "--stage", "prod")


@pytest.mark.parametrize(
    ("message", "who", "expected"),
    [
        (f"image: {OTHER}", (BOT_NAME, BOT_EMAIL),
         f"registration tag model-service@v0.1.0's image {OTHER}: not the project's repository {IMAGE}"),
        (f"image: {IMAGE}@{DIGEST_A}", ("Mallory", "mallory@example.com"),
         "tagged by 'Mallory <mallory@example.com>', not by the release ('github-actions[bot] <41898282+"),
        (None, (BOT_NAME, BOT_EMAIL), "no such tag; a release registers each version (`make register`)"),
        (f"image: {IMAGE}@{DIGEST_A}\nimage: {OTHER}", (BOT_NAME, BOT_EMAIL),
         "is not one line `image: name@sha256:<64 hex>`"),
    ],
    ids=["other-repository", "other-tagger", "lightweight", "two-images"],
)  # fmt: skip
def test_promotion_refuses_an_image_no_release_registered(
    repos: tuple[Path, Path], message: str | None, who: tuple[str, str], expected: str
) -> None:
    """Only project.yaml's repository, at the digest the release's registration tag records, is promoted."""
    work, origin = repos
    registration_by_hand(work, message, who)
    before = git(work, "rev-parse", "HEAD"), overlay(work, "prod")
    for target in ("check-promotion", "promote"):
        result = make(target, work, TAG="model-service#prod#1", PUSH="1")
        assert result.returncode == 2, result.stderr
        assert expected in result.stderr, result.stderr
    assert (git(work, "rev-parse", "HEAD"), overlay(work, "prod")) == before
    assert "promote/" not in git(origin, "branch", "--list")


def test_a_registration_made_as_the_release_makes_it_is_promoted(repos: tuple[Path, Path]) -> None:
    """The tag `make register` writes, made by hand, passes: the refusals above are about form."""
    work, _ = repos
    registration_by_hand(work, f"image: {IMAGE}@{DIGEST_B}")
    promoted = make("promote", work, TAG="model-service#prod#1")
    assert promoted.returncode == 0, promoted.stderr
    assert yaml.safe_load(overlay(work, "prod"))["images"][0]["digest"] == DIGEST_B


def test_register_refuses_an_image_of_another_repository(repos: tuple[Path, Path]) -> None:
    work, origin = repos
    result = make("register", work, IMAGE=OTHER, PUSH="1")
    assert result.returncode == 2
    assert f"--image {OTHER}: not the project's repository {IMAGE}" in result.stderr, result.stderr
    assert remote_tags(origin) == {} and git(work, "tag", "--list") == ""


@pytest.mark.parametrize(
    ("github_repository", "image", "status"),
    [("Acme/Churn", f"{IMAGE}@{DIGEST_A}", 0), ("acme/other", f"{IMAGE}@{DIGEST_A}", 2), ("", OTHER, 2)],
    ids=["from-github-repository", "other-github-repository", "unknown"],
)
def test_an_empty_project_image_means_the_github_repository(
    repos: tuple[Path, Path], github_repository: str, image: str, status: int
) -> None:
    """project.yaml's `image: ""` is ghcr.io/<GITHUB_REPOSITORY>, lower-cased, as release.yml pushes it."""
    work, _ = repos
    (work / "project.yaml").write_text('image: ""\n')
    result = make("register", work, env={"GITHUB_REPOSITORY": github_repository}, IMAGE=image)
    assert result.returncode == status, result.stderr
    if github_repository == "acme/other":
        assert "not the project's repository ghcr.io/acme/other" in result.stderr
    if not github_repository:
        assert "no `image`, and GITHUB_REPOSITORY is not set" in result.stderr
