"""The README's "How the code is laid out" table is the package's layering, checked against every
import in src/mlops (those inside functions too): a module imports only from its own layer and the
layers below it, no imports go round in a cycle, and every module of the package is in the table
once, so a new module, or a new import up the layers, fails here until the table says where it goes."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "src" / "mlops"
SECTION = "## How the code is laid out"


def named_in_table() -> list[tuple[str, int]]:
    """Each name in the table's second column (`cli`, `commands/`) with its row, 0 the top layer."""
    text = (REPO / "README.md").read_text()
    section = text[text.index(SECTION) :].split("\n## ", 1)[0]
    rows = [line.split("|")[2] for line in section.splitlines() if re.match(r"\| \w", line)][1:]
    return [(name, row) for row, cells in enumerate(rows) for name in re.findall(r"`([\w/]+)`", cells)]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path) for path in PACKAGE.rglob("*.py")}


def unit(module: str) -> str:
    """The table's name for a module: `mlops.report.html` is `report/`, `mlops.model_card` is `card`."""
    first = module.split(".")[1]
    return f"{first}/" if (PACKAGE / first).is_dir() else first


def imports(path: Path) -> Iterator[str]:
    """The mlops modules `path` imports, anywhere in the file (`from mlops.io import x`: mlops.io)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name not in MODULES and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in MODULES:
                yield name


def graph() -> dict[str, set[str]]:
    """Each module of the package, but the package itself, and the modules it imports."""
    edges = {module_name(path): set(imports(path)) for path in PACKAGE.rglob("*.py")}
    return {module: targets - {module, "mlops"} for module, targets in edges.items() if module != "mlops"}


def test_every_module_is_in_the_table_once() -> None:
    named = [name for name, _ in named_in_table()]
    assert sorted(name for name in set(named) if named.count(name) > 1) == []
    units = {unit(module) for module in graph()}
    assert sorted(units - set(named)) == [], "add these to the README's layer table"
    assert sorted(set(named) - units) == [], "the README's layer table names modules that do not exist"
    assert len({row for _, row in named_in_table()}) >= 4


def test_no_import_reaches_up_a_layer() -> None:
    layer = dict(named_in_table())
    upward = [
        f"{source} ({unit(source)}) imports {target} ({unit(target)})"
        for source, targets in graph().items()
        for target in targets
        if layer[unit(target)] < layer[unit(source)]
    ]
    assert upward == []


def test_no_imports_go_round_in_a_cycle() -> None:
    edges = graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path[path.index(module) :], module))
        if module not in done:
            for target in sorted(edges[module]):
                visit(target, (*path, module))
            done.add(module)

    for module in sorted(edges):
        visit(module, ())
