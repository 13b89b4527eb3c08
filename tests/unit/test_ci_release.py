"""mlops.ci.release_ref and mlops.ci.push_image's checks, in process (tests/image/test_registry.py
pushes to a real registry; tests/deploy/test_hostile_names.py feeds them payloads)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops.ci import process, push_image, release_ref
from mlops.errors import Exit

REPO_REF = "127.0.0.1:5000/acme/churn"


@pytest.mark.parametrize(
    ("ref", "default", "code", "said"),
    [
        ("refs/heads/main", "main", Exit.OK, "release: refs/heads/main is the default branch"),
        ("refs/heads/feature", "main", Exit.VERDICT, "releases are made from refs/heads/main only"),
        ("refs/pull/3/merge", "main", Exit.VERDICT, "refusing to release refs/pull/3/merge"),
        (
            "refs/heads/a\nb",
            "main",
            Exit.ERROR,
            "refusing 'refs/heads/a\\nb': expected refs/(heads|tags|pull)",
        ),
        ("refs/heads/main", "ma in", Exit.ERROR, "refusing 'refs/heads/ma in'"),
        ("refs/remotes/main", "main", Exit.ERROR, "refusing 'refs/remotes/main'"),
    ],
)
def test_release_ref_refuses_all_but_the_default_branch(
    capsys: pytest.CaptureFixture[str], ref: str, default: str, code: Exit, said: str
) -> None:
    assert release_ref.main([ref, default]) == code
    out, err = capsys.readouterr()
    assert said in (err if code else out)
    assert (out + err).count("\n") == 1  # one line, whatever the ref holds


def test_refs_are_split_on_whitespace_and_kept_in_order() -> None:
    text = f"{REPO_REF}:0123abc\n {REPO_REF}:v0.3.0-0123\t"
    assert push_image.parse_refs(text) == [f"{REPO_REF}:0123abc", f"{REPO_REF}:v0.3.0-0123"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "no references to push to"),
        (f"{REPO_REF}", "expected repository:tag (^[a-z0-9]"),
        (f"{REPO_REF}:a;b", f"'{REPO_REF}:a;b': expected repository:tag"),
        (f"{REPO_REF}:-a", "expected repository:tag"),
        (f"{REPO_REF}:{'a' * 129}", "expected repository:tag"),
        (f"{REPO_REF}:a 127.0.0.1:5000/acme/other:a", "'127.0.0.1:5000/acme/other:a' is not in " + REPO_REF),
    ],
)
def test_refs_that_are_not_one_repositorys_tags_are_refused(text: str, said: str) -> None:
    with pytest.raises(push_image.PushError) as refused:
        push_image.parse_refs(text)
    assert said in str(refused.value) and refused.value.code == Exit.ERROR


def test_tls_verify_is_true_or_false_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TLS_VERIFY", "no")
    assert push_image.main(["oci-archive:/nonexistent", f"{REPO_REF}:a"]) == Exit.ERROR
    assert capsys.readouterr().err == "push-image: TLS_VERIFY=no: expected true or false\n"


def test_tags_with_different_digests_push_nothing_and_name_each() -> None:
    refs = [f"{REPO_REF}:a", f"{REPO_REF}:b"]
    with pytest.raises(push_image.PushError) as refused:
        push_image.already_pushed(refs, {refs[0]: "sha256:1", refs[1]: "sha256:2"})
    assert str(refused.value) == (
        f"the tags exist with different digests; nothing pushed:\n  {refs[0]} sha256:1\n  {refs[1]} sha256:2"
    )
    assert refused.value.code == Exit.VERDICT
    assert push_image.already_pushed(refs, {refs[0]: "sha256:1", refs[1]: "sha256:1"}) == "sha256:1"


def test_a_commands_output_can_go_to_a_file_byte_for_byte(tmp_path: Path) -> None:
    """A manifest's digest is of its exact bytes: no newline translation, nothing returned."""
    target = tmp_path / "manifest"
    script = "import sys; sys.stdout.buffer.write(b'{\\r\\n\"a\": 1}\\n')"
    assert process.run([sys.executable, "-c", script], output=target) == ""
    assert target.read_bytes() == b'{\r\n"a": 1}\n'
    with pytest.raises(process.CommandError, match="exit 3") as failed:
        process.run([sys.executable, "-c", "raise SystemExit(3)"], output=target)
    assert failed.value.returncode == 3
