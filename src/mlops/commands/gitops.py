"""mlops gitops: register a released image as a model version, and turn a stage tag into an overlay change.

    mlops gitops register --image ghcr.io/o/r@sha256:... [--push]
    mlops gitops check --tag 'model-service#prod#3'
    mlops gitops promote --tag 'model-service#prod#3' [--push]

The registry is git itself (GTO, iterative's git-tag registry). `register` (release.yml, after the
push) makes an annotated tag `model-service@vX.Y.Z` on HEAD whose message records the image by
digest; `gto assign model-service --version vX.Y.Z --stage prod` makes the stage tag. `promote`
(promote.yml, on that tag) reads the version's image from its registration tag, writes it into
deploy/overlays/<stage>/kustomization.yaml and commits that on a branch `promote/<stage>/<version>`,
ready for a pull request (`check` and `promote` write stage=, version= and branch= to the step's
outputs, mlops.ci.outputs). Tags never move: `register` refuses a commit that already has a version
with another image (the same image, a re-run of the release, is a success that does nothing), and
`--push` pushes without force, so the remote refuses to overwrite an existing tag.

Names are data: a tag that is not whole GTO tag grammar, or an image that is not wholly
name@sha256:<64 hex>, is refused before anything else runs. Every refusal exits 2 (Exit.ERROR).

Images come from the release only. The project's repository is project.yaml's `image`, or, when that
is empty, `ghcr.io/<GITHUB_REPOSITORY>` (as release.yml pushes it); `register` and `promote` refuse
any other. The record of what a release pushed is the registration tag itself, so
promotion trusts only a tag in the form `register` writes: an annotated tag, tagged by the release
identity (REGISTRAR, the identity release.yml's register job tags as; GITOPS_REGISTRAR changes it),
its whole message `image: <repository>@sha256:<64 hex>`. A tagger is only a name git was given: what
stops anyone else from making such a tag on GitHub is the tag ruleset `make github-settings` applies.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlops.ci.git import git_environment
from mlops.ci.outputs import set_output
from mlops.ci.process import CommandError
from mlops.ci.process import run as command
from mlops.errors import Exit, MlopsError
from mlops.io import write_text

log = logging.getLogger(__name__)

ARTIFACT = "model-service"
FIRST_VERSION = "v0.1.0"
IMAGE = re.compile(r"(?P<name>[a-z0-9][a-z0-9._/:-]*[a-z0-9])@(?P<digest>sha256:[0-9a-f]{64})")
OVERLAYS = Path("deploy/overlays")
PROJECT = "project.yaml"
REGISTRAR = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"


class GitOpsError(MlopsError):
    """A refusal the user can act on: a name outside its pattern (refused before it reaches git or
    gto), an image that is not the project's, a registration not in the release's form, a tag that
    would move."""


@dataclass(frozen=True)
class Promotion:
    stage: str
    version: str
    image: str  # name@sha256:digest

    @property
    def branch(self) -> str:
        return f"promote/{self.stage}/{self.version}"


def git(*args: str, repo: Path) -> str:
    return _run(["git", *args], repo)


def push_ref(repo: Path, ref: str) -> None:
    """`git push origin REF`, never forced: the remote refuses to move an existing tag.

    In a workflow the checkout keeps no credentials; GITOPS_PUSH_TOKEN (the job's token) is handed
    to git through its environment, as actions/checkout does, never on a command line or in a log.
    """
    _run(["git", "push", "origin", ref], repo, env=git_environment("GITOPS_PUSH_TOKEN"))


def gto(*args: str, repo: Path) -> str:
    return _run([str(Path(sys.executable).with_name("gto")), *args], repo)


def _run(words: list[str], repo: Path, env: dict[str, str] | None = None) -> str:
    try:
        return command(words, cwd=repo, env=env).strip()
    except CommandError as error:
        raise GitOpsError(str(error)) from None


def parse_image(text: str, where: str) -> str:
    """`text` as `name@sha256:<64 hex>`, whole; anything else is refused (deploy/ refers by digest only)."""
    match = IMAGE.fullmatch(text.lower())  # registries want lower case; GitHub's OWNER/REPO may not be
    if match is None:
        raise GitOpsError(
            f"{where} {text!r}: expected an image by digest (name@sha256:<64 hex digits>, {IMAGE.pattern})"
        )
    return match.group(0)


def project_repository(repo: Path) -> str:
    """The repository releases push to: project.yaml's `image`, else ghcr.io/<GITHUB_REPOSITORY>.

    The same rule release.yml follows (`needs.bento.outputs.image || format('ghcr.io/{0}', ...)`),
    lower-cased as registries want it.
    """
    path = repo / PROJECT
    project = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    image = str((project or {}).get("image") or "") if isinstance(project, dict) else ""
    github_repository = os.environ.get("GITHUB_REPOSITORY", "")
    if not image and not github_repository:
        raise GitOpsError(
            f"{path}: no `image`, and GITHUB_REPOSITORY is not set: the repository releases push to is"
            " unknown (set project.yaml's image, e.g. ghcr.io/OWNER/REPOSITORY)"
        )
    return (image or f"ghcr.io/{github_repository}").lower()


def project_image(repo: Path, image: str, where: str) -> str:
    """`image` (name@sha256:...) when its name is the project's repository; refused otherwise."""
    expected = project_repository(repo)
    name = image.split("@")[0]
    if name != expected:
        raise GitOpsError(
            f"{where} {image}: not the project's repository {expected}"
            " (project.yaml's image, else ghcr.io/<GITHUB_REPOSITORY>): only what a release pushed is used"
        )
    return image


def registered_image(repo: Path, version: str) -> str:
    """The image the registration tag of `version` records, if the tag is in the form `register` writes.

    An annotated tag tagged by the release identity (a lightweight one has no tagger), whose whole
    message is one `image: name@sha256:<64 hex>` line of the project's repository.
    """
    tag = f"{ARTIFACT}@{version}"
    where = f"registration tag {tag}"
    if not git("tag", "--list", tag, repo=repo):  # GTO names a version by its commit when none is registered
        raise GitOpsError(f"{where}: no such tag; a release registers each version (`make register`)")
    tagger = git("tag", "--list", "--format=%(taggername) %(taggeremail)", tag, repo=repo)
    registrar = os.environ.get("GITOPS_REGISTRAR") or REGISTRAR
    if tagger != registrar:
        raise GitOpsError(f"{where}: tagged by {tagger!r}, not by the release ({registrar!r})")
    message = git("tag", "--list", "--format=%(contents)", tag, repo=repo)
    if not message.startswith("image: ") or "\n" in message.strip():
        expected = "one line `image: name@sha256:<64 hex>`"
        raise GitOpsError(f"{where}: message {message!r} is not {expected}")
    image = parse_image(message.strip().removeprefix("image: "), f"{where}'s image")
    return project_image(repo, image, f"{where}'s image")


def checked_tag(tag: str) -> str:
    """`tag` if the whole of it is GTO's tag grammar: a name from a push event never reaches git as more.

    GTO's own pattern ends in `$`, which also matches before a final newline: `fullmatch` does not.
    """
    from gto.constants import tag_re

    if tag_re.fullmatch(tag) is None:
        raise GitOpsError(
            f"--tag {tag!r}: expected a GTO tag, e.g. {ARTIFACT}#prod#1 (GTO's grammar: {tag_re.pattern})"
        )
    return tag


def register(repo: Path, image: str, push: bool) -> str:
    """Tag HEAD as the next patch version of the artifact, the image in the tag's message.

    A re-run of the release on the same commit pushes no image (its tags exist) and hands over the
    digest registered before: HEAD's version already records it, so there is nothing to do.
    """
    image = project_image(repo, parse_image(image, "--image"), "--image")
    head = git("rev-parse", "HEAD", repo=repo)
    existing = git("tag", "--points-at", head, "--list", f"{ARTIFACT}@v*", repo=repo).split()
    if existing:
        tag = existing[0]
        registered = registered_image(repo, tag.removeprefix(f"{ARTIFACT}@"))
        if registered != image:
            raise GitOpsError(f"HEAD is already registered as {tag} with {registered}, not {image}")
        log.info("HEAD is already registered as %s with %s: nothing to do", tag, image)
        return tag
    first = not git("tag", "--list", f"{ARTIFACT}@v*", repo=repo)
    bump = ["--version", FIRST_VERSION] if first else ["--bump-patch"]  # gto refuses to bump nothing
    # gto refuses a commit that already has a version: one version per commit, tags never move
    gto("register", ARTIFACT, "HEAD", *bump, "--message", f"image: {image}", repo=repo)
    tag = git("tag", "--points-at", head, "--list", f"{ARTIFACT}@v*", repo=repo).split()[0]
    if push:
        push_ref(repo, f"refs/tags/{tag}")
    log.info("registered %s for %s", tag, image)
    return tag


def promotion_of(repo: Path, tag: str) -> Promotion:
    """The stage, version and image (from the version's registration tag) a GTO stage tag names."""
    event = json.loads(gto("check-ref", checked_tag(tag), "--json", repo=repo) or "{}")
    if event.get("event") != "assignment":
        raise GitOpsError(f"{tag}: not a GTO stage assignment (expected e.g. {ARTIFACT}#prod#1)")
    if event["artifact"] != ARTIFACT:
        raise GitOpsError(f"{tag}: artifact {event['artifact']!r} is not {ARTIFACT!r}")
    stage, version = event["stage"], event["version"]
    if not (repo / OVERLAYS / stage / "kustomization.yaml").is_file():
        stages = sorted(p.name for p in (repo / OVERLAYS).iterdir() if p.is_dir())
        listed = ", ".join(stages)
        raise GitOpsError(f"{tag}: stage {stage!r} has no overlay in {OVERLAYS}/ (stages: {listed})")
    return Promotion(stage, version, registered_image(repo, version))


def set_image(text: str, image: str) -> str:
    """The overlay with its `images` entry's newName and digest set to `image`; comments kept."""
    name, digest = image.split("@")
    replaced, count = re.subn(
        r"^(?P<indent>\s+)newName: .*\n(?P=indent)digest: .*$",
        lambda m: f"{m['indent']}newName: {name}\n{m['indent']}digest: {digest}",
        text,
        flags=re.MULTILINE,
    )
    if count != 1:
        raise GitOpsError(f"expected one `images` entry with newName and digest lines, found {count}")
    return replaced


def promote(repo: Path, tag: str, push: bool) -> Promotion:
    """Commit the overlay change for `tag` on a new branch from HEAD; push it when asked."""
    promotion = promotion_of(repo, tag)
    overlay = repo / OVERLAYS / promotion.stage / "kustomization.yaml"
    text = overlay.read_text(encoding="utf-8")
    changed = set_image(text, promotion.image)
    if changed == text:
        raise GitOpsError(f"{promotion.stage} already runs {promotion.image}: nothing to promote")
    git("switch", "--create", promotion.branch, repo=repo)
    write_text(overlay, changed)
    git("add", str(overlay.relative_to(repo)), repo=repo)
    message = f"deploy: {promotion.stage} runs {ARTIFACT} {promotion.version}\n\n{tag}: {promotion.image}"
    git("commit", "--quiet", "--message", message, repo=repo)
    if push:
        push_ref(repo, f"refs/heads/{promotion.branch}")
    log.info("%s: %s now runs %s (branch %s)", tag, promotion.stage, promotion.image, promotion.branch)
    return promotion


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", type=Path, default=Path(), help="the git repository (default: here)")
    steps = parser.add_subparsers(dest="step", required=True)
    reg = steps.add_parser("register", help="tag HEAD as the next model version, with its image")
    reg.add_argument("--image", required=True, help="the pushed image, name@sha256:digest")
    reg.add_argument("--push", action="store_true", help="push the tag to origin (never forced)")
    che = steps.add_parser("check", help="the stage and version a GTO stage tag names, or a refusal")
    che.add_argument("--tag", required=True, help="a GTO stage tag, e.g. model-service#prod#1")
    pro = steps.add_parser("promote", help="the overlay change a stage tag asks for, on a branch")
    pro.add_argument("--tag", required=True, help="a GTO stage tag, e.g. model-service#prod#1")
    pro.add_argument("--push", action="store_true", help="push the branch to origin")


def run(args: argparse.Namespace) -> int:
    if args.step == "register":
        register(args.repo, args.image, args.push)
        return Exit.OK
    if args.step == "check":
        promotion = promotion_of(args.repo, args.tag)
        log.info("%s: %s -> %s (%s)", args.tag, promotion.version, promotion.stage, promotion.image)
    else:
        promotion = promote(args.repo, args.tag, args.push)
    for name in ("branch", "stage", "version"):
        set_output(name, getattr(promotion, name))
    return Exit.OK
