"""Push a built image to each of its tags, unless they exist: release tags never move.

    python3 -m mlops.ci.push_image SOURCE REFS        (make push-image SOURCE=... REFS=...)

SOURCE is a skopeo reference to the built image (release.yml: `oci-archive:<file>` that buildx
wrote, with its SBOM and provenance; the tests: a `podman save` archive). REFS is whitespace-separated
`repository:tag` references, all in one repository (docker/metadata-action's tags output); names
are data, so each is wholly repository:tag (the registry's grammar) or nothing runs (exit 2).
The registry is asked first (`skopeo inspect`): when every tag exists, nothing is pushed, the
existing digest is reported and the exit code is 0 (a re-run of the release on the same commit
pushes no new digest, so its registration still matches). When some exist and others do not,
nothing is pushed and the exit code is 1: that needs a person, as does a registry that cannot be
asked or a failed copy (1). Otherwise the image is copied to each tag with its digest kept
(`--preserve-digests`). The digest is the one line on stdout and, in a workflow, goes to the step's
outputs as `digest=`, with `image=<repository>@<digest>` (what the release signs).
TLS_VERIFY=false allows a plain-HTTP registry (a test's on 127.0.0.1). Runs on the runner's Python
with PYTHONPATH=src: standard library and skopeo only (release.yml's push job runs no project code).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from mlops.ci.outputs import set_output
from mlops.ci.process import CommandError, run
from mlops.errors import Exit

REF = re.compile(r"[a-z0-9][a-z0-9._/:-]*[a-z0-9]:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")  # repository:tag
NO_SUCH_TAG = ("manifest unknown", "MANIFEST_UNKNOWN", "NAME_UNKNOWN")  # the registry's own "none"


class PushError(Exception):
    """Nothing (more) pushed; `code` is ERROR for bad input, VERDICT for what needs a person."""

    def __init__(self, message: str, code: Exit = Exit.VERDICT) -> None:
        super().__init__(message)
        self.code = code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        tls = tls_verify(os.environ.get("TLS_VERIFY", "true"))
        if shutil.which("skopeo") is None:
            raise PushError("skopeo not found (Debian/Ubuntu: apt-get install -y skopeo)", Exit.ERROR)
        refs = parse_refs(args.refs)
        digest = push_unless_tagged(args.source, refs, tls)
    except PushError as error:
        print(f"push-image: {error}", file=sys.stderr)
        return error.code
    print(digest)
    set_output("digest", digest, show=False)
    set_output("image", f"{repository(refs[0])}@{digest}", show=False)
    return Exit.OK


def tls_verify(value: str) -> str:
    if value not in ("true", "false"):
        raise PushError(f"TLS_VERIFY={value}: expected true or false", Exit.ERROR)
    return value


def repository(ref: str) -> str:
    return ref.rpartition(":")[0]


def parse_refs(text: str) -> list[str]:
    """The whitespace-separated references, each wholly repository:tag, all in the first one's repository."""
    refs = text.split()
    if not refs:
        raise PushError("no references to push to", Exit.ERROR)
    for ref in refs:
        if not REF.fullmatch(ref):
            raise PushError(f"{ref!r}: expected repository:tag (^{REF.pattern}$)", Exit.ERROR)
        if repository(ref) != repository(refs[0]):
            raise PushError(f"{ref!r} is not in {repository(refs[0])}", Exit.ERROR)
    return refs


def push_unless_tagged(source: str, refs: list[str], tls: str) -> str:
    """The digest the tags have: found in the registry when all exist, else pushed to each of them."""
    with tempfile.TemporaryDirectory(prefix="push-image-") as folder:
        work = Path(folder)
        found = {ref: digest for ref in refs if (digest := existing_digest(ref, tls, work))}
        if len(found) == len(refs):
            return already_pushed(refs, found)
        if found:
            listed = "".join(f"\n  {ref} {found.get(ref, 'missing')}" for ref in refs)
            raise PushError(f"some tags exist, others do not; nothing pushed (tags never move):{listed}")
        return copy_to_each(source, refs, tls, work)


def existing_digest(ref: str, tls: str, work: Path) -> str | None:
    """The digest of `ref`'s top manifest (an index for a multi-platform image), or None when the
    registry says it has no such tag; any other answer (auth, network) stops the push."""
    manifest = work / "manifest"
    try:
        run(["skopeo", "inspect", "--raw", f"--tls-verify={tls}", f"docker://{ref}"], output=manifest)
    except CommandError as error:
        if any(words in str(error) for words in NO_SUCH_TAG):
            return None
        raise PushError(f"cannot ask the registry about {ref}: {error}") from None
    try:
        return run(["skopeo", "manifest-digest", manifest]).strip()
    except CommandError as error:
        raise PushError(str(error)) from None


def already_pushed(refs: list[str], found: dict[str, str]) -> str:
    """The one digest every tag has (a re-run: nothing pushed); PushError when they differ."""
    digests = set(found.values())
    if len(digests) > 1:
        listed = "".join(f"\n  {ref} {found[ref]}" for ref in refs)
        raise PushError(f"the tags exist with different digests; nothing pushed:{listed}")
    (digest,) = digests
    print(
        f"push-image: {' '.join(refs)} already exist at {digest} (tags never move): nothing pushed",
        file=sys.stderr,
    )
    return digest


def copy_to_each(source: str, refs: list[str], tls: str, work: Path) -> str:
    """`skopeo copy` of `source` to each ref, digests kept; the digest, the same for every tag."""
    pushed = ""
    for ref in refs:
        copy = ["skopeo", "copy", "--quiet", "--all", "--preserve-digests", f"--dest-tls-verify={tls}"]
        try:
            run([*copy, "--digestfile", work / "digest", source, f"docker://{ref}"])
        except CommandError as error:
            raise PushError(str(error)) from None
        digest = (work / "digest").read_text(encoding="utf-8").strip()
        if pushed and digest != pushed:
            raise PushError(f"{ref} got {digest}, not {pushed}")
        pushed = digest
        print(f"push-image: pushed {ref} at {digest}", file=sys.stderr)
    return pushed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python3 -m mlops.ci.push_image", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("source", help="a skopeo reference to the built image, e.g. oci-archive:image.tar")
    parser.add_argument("refs", help="'REPOSITORY:TAG ...': the tags to push to, one repository")
    return parser


if __name__ == "__main__":
    sys.exit(main())
