"""docs/security.md names a test for every property it promises: each named test must exist."""

from __future__ import annotations

import ast
import re

from tests.conftest import REPO

NAMED = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def test_every_property_names_tests_that_exist() -> None:
    rows = [
        line for line in (REPO / "docs" / "security.md").read_text().splitlines() if line.startswith("| ")
    ]
    properties = rows[1:]  # the header row names no test
    assert len(properties) >= 10
    for row in properties:
        named = NAMED.findall(row)
        assert named, f"docs/security.md: a property with no test: {row}"
        for path, name in named:
            tree = ast.parse((REPO / path).read_text())
            functions = {
                n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            assert name in functions, f"docs/security.md names {path}::{name}, which does not exist"
