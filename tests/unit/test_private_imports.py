"""No module in src/ imports a dependency's private module (`bentoml._internal`, `_bentoml_impl`, ...).

Private modules change without notice between releases: code that imports or patches them breaks,
or silently stops doing what it says, on a dependency upgrade a team cannot see coming. The package
uses what its libraries document; this keeps it so.
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

OWN_PACKAGE = "mlops"


def private_imports(source: str) -> list[str]:
    """The private modules `source` imports, by name: a dotted part starting with `_` (not dunder
    names such as `__future__`) in a module outside this package, in an import statement or an
    `import_module("...")` call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = (
                [node.module] if _is_private(node.module) else [f"{node.module}.{a.name}" for a in node.names]
            )
        elif isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
            first = node.args[0]
            names = [first.value] if isinstance(first, ast.Constant) and isinstance(first.value, str) else []
        else:
            continue
        found += [name for name in names if _is_private(name)]
    return list(dict.fromkeys(found))


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
    )


def _is_private(name: str) -> bool:
    parts = name.split(".")
    if parts[0] == OWN_PACKAGE:
        return False
    return any(part.startswith("_") and not part.endswith("__") for part in parts)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from bentoml._internal.container import BentoMLContainer", ["bentoml._internal.container"]),
        ("import bentoml._internal.server", ["bentoml._internal.server"]),
        ("from _bentoml_impl.server.app import ServiceAppFactory", ["_bentoml_impl.server.app"]),
        ("import _bentoml_sdk", ["_bentoml_sdk"]),
        ("from bentoml import _internal, exceptions", ["bentoml._internal"]),
        ("import importlib\nimportlib.import_module('bentoml._internal.x')", ["bentoml._internal.x"]),
        ("def f():\n    from sklearn.utils._param import check", ["sklearn.utils._param"]),
        ("from bentoml.exceptions import BadInput\nimport bentoml", []),
        ("from __future__ import annotations\nfrom typing import Any", []),
        ("from mlops.serving._fast import x\nfrom . import _local", []),
        ('LOGGER = "bentoml._internal.server.http_app"', []),
    ],
)
def test_private_imports_are_found(source: str, expected: list[str]) -> None:
    assert private_imports(source) == expected


def test_no_module_in_src_imports_a_private_module() -> None:
    modules = sorted((REPO / "src").rglob("*.py"))
    assert len(modules) > 20  # the package is there, not an empty glob
    found = {
        str(path.relative_to(REPO)): names
        for path in modules
        if (names := private_imports(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"private modules imported (use what the library documents): {found}"
