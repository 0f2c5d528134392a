"""Imports point one way, down the data's path: read from the source with ``ast``.

Every project import (module level or inside a function) must stay in the importing module's own
package or reach a lower layer, and the module-level import graph has no cycle. Third-party
imports are not checked here (``test_packaging`` checks that they are declared)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "xperience_suite"

#: Layers, lowest first: the first part of a module's name below ``xperience_suite``.
LAYERS = [
    {"__init__", "errors", "cores", "io", "progress", "cache_root", "config_tree", "owned",
     "plugins", "sweep_jobs"},
    {"metrics"},
    {"episode"},
    {"windows"},
    {"features"},
    {"sample"},
    {"store"},
    {"data"},
    {"tasks"},
    {"heads"},
    {"runs"},
    {"report"},
    {"extract", "export", "select_heads"},  # command-line modules
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """``(imported project module, line, at module level)`` of every project import in ``path``."""
    tree = ast.parse(path.read_text())
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "__init__":
        package = []
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] if node.module else [f"{target}.{a.name}".strip(".")
                                                       for a in node.names]
            elif (node.module or "").startswith("xperience_suite"):
                names = [node.module.removeprefix("xperience_suite").strip(".")]
            else:
                continue
        elif isinstance(node, ast.Import):
            names = [a.name.removeprefix("xperience_suite").strip(".") for a in node.names
                     if a.name.startswith("xperience_suite")]
        else:
            continue
        found += [(n or "__init__", node.lineno, id(node) in top) for n in names]
    return found


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_package_has_a_layer():
    tops = {m.split(".")[0] for m in _modules()}
    assert sorted(tops - set(RANK)) == []


def test_imports_point_down_the_layers():
    upward = []
    for name, path in _modules().items():
        own = name.split(".")[0]
        for target, line, _ in _imports(path):
            other = target.split(".")[0]
            if other != own and RANK[other] > RANK[own]:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert upward == []


def test_no_function_level_project_imports():
    """An import inside a function to dodge a cycle means an idea lives in the wrong place."""
    inner = [f"{path.relative_to(PACKAGE)}:{line} imports {target}"
             for name, path in _modules().items()
             for target, line, at_top in _imports(path) if not at_top]
    assert inner == []


def test_no_import_cycles():
    modules = _modules()
    graph = {name: {t for t, _, at_top in _imports(path) if at_top and t in modules and t != name}
             for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in modules:
        if name not in state:
            visit(name, [name])


def test_the_checker_sees_an_upward_and_an_inner_import(tmp_path):
    """The checks above can fail: a module of ``windows`` importing ``runs`` inside a function."""
    global PACKAGE
    real, PACKAGE = PACKAGE, tmp_path / "xperience_suite"
    (PACKAGE / "windows").mkdir(parents=True)
    (PACKAGE / "windows" / "bad.py").write_text(
        "from ..errors import XperienceError\n\n\ndef f():\n    from ..runs import training\n")
    try:
        with pytest.raises(AssertionError, match="windows/bad.py:5 imports runs"):
            test_imports_point_down_the_layers()
        with pytest.raises(AssertionError, match="windows/bad.py:5 imports runs"):
            test_no_function_level_project_imports()
    finally:
        PACKAGE = real
