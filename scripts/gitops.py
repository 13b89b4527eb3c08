"""GitOps with GTO: register a released image as a model version, and turn a stage tag into an overlay change.

    python scripts/gitops.py register --image ghcr.io/o/r@sha256:... [--push]
    python scripts/gitops.py promote --tag 'model-service#prod#3' [--push]

The registry is git itself (GTO, iterative's git-tag registry). `register` (release.yml, after the
push) makes an annotated tag `model-service@vX.Y.Z` on HEAD whose message records the image by
digest; `gto assign model-service --version vX.Y.Z --stage prod` makes the stage tag. `promote`
(promote.yml, on that tag) reads the version's image from its registration tag, writes it into
deploy/overlays/<stage>/kustomization.yaml and commits that on a branch `promote/<stage>/<version>`,
ready for a pull request. Tags never move: `register` refuses a commit that already has a version,
and `--push` pushes without force, so the remote refuses to overwrite an existing tag.

Names are data: a tag that is not whole GTO tag grammar, or an image that is not wholly
name@sha256:<64 hex>, is refused before anything else runs (exit code 2); other refusals exit 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from github_api import git_environment
from gto.constants import tag_re

log = logging.getLogger("gitops")

ARTIFACT = "model-service"
FIRST_VERSION = "v0.1.0"
IMAGE = re.compile(r"(?P<name>[a-z0-9][a-z0-9._/:-]*[a-z0-9])@(?P<digest>sha256:[0-9a-f]{64})")
OVERLAYS = Path("deploy/overlays")


class GitOpsError(Exception):
    """A refusal the user can act on; printed without a traceback, exit code 1."""


class BadNameError(GitOpsError):
    """A tag or image name outside its pattern, refused before it reaches git or gto; exit code 2."""


@dataclass(frozen=True)
class Promotion:
    stage: str
    version: str
    image: str  # name@sha256:digest

    @property
    def branch(self) -> str:
        return f"promote/{self.stage}/{self.version}"


def git(*args: str, repo: Path) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GitOpsError(f"git {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


def push_ref(repo: Path, ref: str) -> None:
    """`git push origin REF`, never forced: the remote refuses to move an existing tag.

    In a workflow the checkout keeps no credentials; GITOPS_PUSH_TOKEN (the job's token) is handed
    to git through its environment, as actions/checkout does, never on a command line or in a log.
    """
    env = git_environment("GITOPS_PUSH_TOKEN")
    result = subprocess.run(
        ["git", "push", "origin", ref], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise GitOpsError(f"git push origin {ref}: {result.stderr.strip()}")


def gto(*args: str, repo: Path) -> str:
    gto_bin = Path(sys.executable).with_name("gto")
    result = subprocess.run([str(gto_bin), *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GitOpsError(f"gto {' '.join(args)}: {(result.stderr or result.stdout).strip()}")
    return result.stdout.strip()


def parse_image(text: str, where: str) -> str:
    """`text` as `name@sha256:<64 hex>`, whole; anything else is refused (deploy/ refers by digest only)."""
    match = IMAGE.fullmatch(text.lower())  # registries want lower case; GitHub's OWNER/REPO may not be
    if match is None:
        raise BadNameError(
            f"{where} {text!r}: expected an image by digest (name@sha256:<64 hex digits>, {IMAGE.pattern})"
        )
    return match.group(0)


def checked_tag(tag: str) -> str:
    """`tag` if the whole of it is GTO's tag grammar: a name from a push event never reaches git as more.

    GTO's own pattern ends in `$`, which also matches before a final newline: `fullmatch` does not.
    """
    if tag_re.fullmatch(tag) is None:
        raise BadNameError(
            f"--tag {tag!r}: expected a GTO tag, e.g. {ARTIFACT}#prod#1 (GTO's grammar: {tag_re.pattern})"
        )
    return tag


def register(repo: Path, image: str, push: bool) -> str:
    """Tag HEAD as the next patch version of the artifact, the image in the tag's message."""
    image = parse_image(image, "--image")
    first = not git("tag", "--list", f"{ARTIFACT}@v*", repo=repo)
    bump = ["--version", FIRST_VERSION] if first else ["--bump-patch"]  # gto refuses to bump nothing
    # gto refuses a commit that already has a version: one version per commit, tags never move
    gto("register", ARTIFACT, "HEAD", *bump, "--message", f"image: {image}", repo=repo)
    head = git("rev-parse", "HEAD", repo=repo)
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
    message = git("tag", "--list", "--format=%(contents)", f"{ARTIFACT}@{version}", repo=repo)
    image = message.strip().removeprefix("image: ")  # as `register` wrote it
    return Promotion(stage, version, parse_image(image, f"tag {ARTIFACT}@{version}'s image"))


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


def write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as handle:
        handle.write(text)
    Path(handle.name).replace(path)


def promote(repo: Path, tag: str, push: bool) -> Promotion:
    """Commit the overlay change for `tag` on a new branch from HEAD; push it when asked."""
    promotion = promotion_of(repo, tag)
    overlay = repo / OVERLAYS / promotion.stage / "kustomization.yaml"
    text = overlay.read_text(encoding="utf-8")
    changed = set_image(text, promotion.image)
    if changed == text:
        raise GitOpsError(f"{promotion.stage} already runs {promotion.image}: nothing to promote")
    git("switch", "--create", promotion.branch, repo=repo)
    write_atomic(overlay, changed)
    git("add", str(overlay.relative_to(repo)), repo=repo)
    message = f"deploy: {promotion.stage} runs {ARTIFACT} {promotion.version}\n\n{tag}: {promotion.image}"
    git("commit", "--quiet", "--message", message, repo=repo)
    if push:
        push_ref(repo, f"refs/heads/{promotion.branch}")
    log.info("%s: %s now runs %s (branch %s)", tag, promotion.stage, promotion.image, promotion.branch)
    return promotion


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path())
    commands = parser.add_subparsers(dest="command", required=True)
    reg = commands.add_parser("register", help="tag HEAD as the next model version, with its image")
    reg.add_argument("--image", required=True, help="the pushed image, name@sha256:digest")
    reg.add_argument("--push", action="store_true", help="push the tag to origin (never forced)")
    che = commands.add_parser("check", help="the stage and version a GTO stage tag names, or a refusal")
    che.add_argument("--tag", required=True, help="a GTO stage tag, e.g. model-service#prod#1")
    che.add_argument("--github-output", type=Path, help="append stage=, version= here")
    pro = commands.add_parser("promote", help="the overlay change a stage tag asks for, on a branch")
    pro.add_argument("--tag", required=True, help="a GTO stage tag, e.g. model-service#prod#1")
    pro.add_argument("--push", action="store_true", help="push the branch to origin")
    pro.add_argument("--github-output", type=Path, help="append branch=, stage=, version= here")
    args = parser.parse_args(argv)
    try:
        if args.command == "register":
            register(args.repo, args.image, args.push)
            return 0
        if args.command == "check":
            promotion = promotion_of(args.repo, args.tag)
            log.info("%s: %s -> %s (%s)", args.tag, promotion.version, promotion.stage, promotion.image)
        else:
            promotion = promote(args.repo, args.tag, args.push)
    except GitOpsError as error:
        log.error("%s", error)
        return 2 if isinstance(error, BadNameError) else 1
    if args.github_output:
        with args.github_output.open("a", encoding="utf-8") as handle:
            handle.write(f"branch={promotion.branch}\nstage={promotion.stage}\nversion={promotion.version}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
