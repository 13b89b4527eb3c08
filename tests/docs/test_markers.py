"""Every shell block in README.md and docs/*.md is either run by a named test, which reads the
block's own text from the doc (`doc_block`), or marked in the doc with what it needs that is
missing here. A new block without a marker, a marker naming a missing test, or a test that
restates the commands instead of reading them fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.docs.blocks import NOT_RUN, REPO, Block, commands, documents, shell_blocks

BLOCKS = [block for doc in documents() for block in shell_blocks(doc)]


def _name(block: Block) -> str:
    return f"{block.doc}:{block.line}"


def _constants(tree: ast.Module) -> dict[str, str]:
    """The module's `NAME = "text"` assignments (a doc's path is often named once at the top)."""
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _reads_its_block(test_file: Path, test: str, doc: str) -> str | None:
    """None when `test_file` has the test function `test` and calls doc_block(doc, test) with those
    strings, literal or module constants (in the test or in a fixture it uses); else what is wrong."""
    if not test_file.is_file():
        return f"{test_file.relative_to(REPO)} does not exist"
    tree = ast.parse(test_file.read_text())
    if not any(isinstance(node, ast.FunctionDef) and node.name == test for node in tree.body):
        return f"{test_file.name} has no test function {test}"
    constants = _constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "doc_block":
            values = [
                arg.value if isinstance(arg, ast.Constant) else constants.get(getattr(arg, "id", ""))
                for arg in node.args
            ]
            if values == [doc, test]:
                return None
    return f'{test_file.name} never calls doc_block("{doc}", "{test}"): it must run the block\'s own text'


def test_the_docs_have_shell_blocks() -> None:
    assert {"README.md", "docs/drift.md", "docs/serving.md"} <= {block.doc for block in BLOCKS}
    assert len(BLOCKS) >= 20


@pytest.mark.parametrize("block", BLOCKS, ids=_name)
def test_every_shell_block_is_marked(block: Block) -> None:
    assert block.runner or NOT_RUN.match(block.marker or ""), (
        f"{_name(block)}: the line above this shell block must be "
        "'<!-- run by tests/docs/test_FILE.py::test_NAME -->' or '<!-- not run by tests: REASON -->', "
        f"got {block.marker!r}"
    )


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.runner], ids=_name)
def test_the_named_test_runs_the_block(block: Block) -> None:
    assert block.runner is not None
    test_file, test = block.runner
    problem = _reads_its_block(REPO / test_file, test, block.doc)
    assert problem is None, f"{_name(block)}: {problem}"
    assert commands(block.text), f"{_name(block)}: the block holds no command"


def test_one_block_per_test_and_doc() -> None:
    named = [(block.doc, block.runner[1]) for block in BLOCKS if block.runner]
    assert len(named) == len(set(named)), sorted(n for n in named if named.count(n) > 1)


def test_a_plain_fence_holding_commands_counts_as_a_shell_block(tmp_path: Path) -> None:
    doc = tmp_path / "probe.md"
    doc.write_text("```\nproduction/x.csv: no drift\n```\n\n```\nmake run\n```\n\n```yaml\nmake: 1\n```\n")
    (found,) = shell_blocks("probe.md", root=tmp_path)
    assert (found.line, found.marker, found.text) == (5, None, "make run")


def test_commands_strip_comments_and_join_continuations() -> None:
    text = (
        "# a comment line\n"
        "make drift   # exits 1 on drift\n"
        "mlops drift --current x \\\n    --out 'a # b' # why\n"
        "curl -d '{\n  \"a\": 1}'\n"
    )
    assert commands(text) == [
        "make drift",
        "mlops drift --current x      --out 'a # b'",
        "curl -d '{\n  \"a\": 1}'",
    ]


def test_a_test_that_restates_the_commands_is_refused(tmp_path: Path) -> None:
    restated = tmp_path / "test_restated.py"
    restated.write_text('DOC = "docs/x.md"\n\ndef test_x():\n    run("make drift")\n')
    reading = tmp_path / "test_reading.py"
    reading.write_text('DOC = "docs/x.md"\n\ndef test_x():\n    (line,) = doc_block(DOC, "test_x")\n')
    assert "never calls doc_block" in (_reads_its_block(restated, "test_x", "docs/x.md") or "")
    assert _reads_its_block(reading, "test_x", "docs/x.md") is None
    assert "has no test function" in (_reads_its_block(reading, "test_y", "docs/x.md") or "")
