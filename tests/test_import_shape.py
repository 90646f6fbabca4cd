"""Imports run one way: no cycle among the app's modules (imports made inside functions included),
and the Frappe layer imports the app's modules at the top, never inside a function to dodge one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = "mexico_localization"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / APP).rglob("*.py") if "tests" not in p.relative_to(ROOT).parts}


def imports(path: Path, known: set[str], top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from package import submodule` depends on the submodule, not on the package's __init__.
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name for name in submodules if name in known] or [node.module]
        found.update(name for name in names if name in known)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, set(known)) - {name} for name, path in known.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle, as the modules along it, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(edges[start]))]
        state[start] = 1
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(step) == 1:
                return [*path[path.index(step):], step]
            elif not state.get(step):
                state[step] = 1
                path.append(step)
                stack.append(iter(sorted(edges.get(step, ()))))
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_app():
    edges = graph()
    assert len(edges) > 80, "the app's modules were not found"
    assert cycle(edges) is None, " -> ".join(cycle(edges) or [])


def test_the_frappe_layer_imports_the_app_at_the_top_only():
    known = set(modules())
    for name, path in modules().items():
        if ".einvoice" in name:
            inner = imports(path, known) - imports(path, known, top_level_only=True)
            assert not inner, f"{name} imports {sorted(inner)} inside a function"


def test_the_pure_core_never_imports_frappe():
    for name, path in modules().items():
        if name.startswith((f"{APP}.cfdi", f"{APP}.facturapi", f"{APP}.testing")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            used = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            used |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            assert "frappe" not in used, name
