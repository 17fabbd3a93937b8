"""The import graph keeps its layers: read from the source with `ast`, so a violation fails here, not in review.

- `autograd` never imports `nn` (the engine knows nothing of models);
- `nn` uses only public `autograd` names: what ``autograd.__all__`` lists, and the lazily
  loaded observer packages (`autograd.viz`, `autograd.testing`, `autograd.functional`);
- `autograd.engine` imports `autograd.graph` only (it sees nodes, never tensors);
- `autograd.graph` imports nothing else of the package;
- the core never imports its observers (viz, testing, anomaly's hooks are set from outside).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import autograd

ROOT = Path(__file__).resolve().parents[1]
OBSERVER_PACKAGES = {"viz", "testing", "functional"}  # public submodules loaded on first use


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(path: Path) -> str:
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """Every import in ``path`` (also inside functions): ``(absolute module, imported names, line)``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolve against the file's own package
                base = _package_of(path).split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            found.append((module, [alias.name for alias in node.names], node.lineno))
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _top(module: str) -> str:
    return module.partition(".")[0]


def test_the_reader_resolves_relative_imports():
    # the checks below are only as good as this resolution
    found = imports(ROOT / "autograd" / "viz" / "reader.py")
    assert any(module == "autograd.engine" for module, _, _ in found)


@pytest.mark.parametrize("path", _files("autograd"), ids=lambda p: str(p.relative_to(ROOT)))
def test_autograd_never_imports_nn(path):
    offending = [(m, line) for m, _, line in imports(path) if _top(m) == "nn"]
    assert not offending, f"{path.name} imports nn at {offending}: the engine must not know about models"


@pytest.mark.parametrize("path", _files("nn"), ids=lambda p: str(p.relative_to(ROOT)))
def test_nn_uses_only_public_autograd_names(path):
    public = set(autograd.__all__)
    problems = []
    for module, names, line in imports(path):
        if _top(module) != "autograd":
            continue
        if module == "autograd":
            private = [n for n in names if n not in public and n not in OBSERVER_PACKAGES]
            if private:
                problems.append(f"line {line}: from autograd import {', '.join(private)} (not in autograd.__all__)")
        elif module.split(".")[1] not in OBSERVER_PACKAGES:
            problems.append(f"line {line}: imports {module} (use the names autograd exports)")
    tree = ast.parse(path.read_text())
    aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    aliases = {name for name in aliases if name in ("autograd", "ag")}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if node.attr not in public and node.attr not in OBSERVER_PACKAGES:
                problems.append(f"line {node.lineno}: {node.value.id}.{node.attr} is not a public autograd name")
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_engine_sees_nodes_only():
    inside = {m for m, _, _ in imports(ROOT / "autograd" / "engine.py") if _top(m) == "autograd"}
    assert inside == {"autograd.graph"}, f"autograd/engine.py imports {sorted(inside)}; it may import the graph only"


def test_graph_imports_nothing_of_the_package():
    inside = {m for m, _, _ in imports(ROOT / "autograd" / "graph.py") if _top(m) == "autograd"}
    assert not inside, f"autograd/graph.py imports {sorted(inside)}"


CORE = ("tensor", "graph", "engine", "backprop", "primitive", "ops", "fused", "routines", "function", "scopes")


@pytest.mark.parametrize("name", CORE)
def test_core_never_imports_its_observers(name):
    observers = {"autograd.viz", "autograd.testing", "autograd.anomaly", "autograd.gradcheck"}
    found = {m for m, _, _ in imports(ROOT / "autograd" / f"{name}.py")}
    assert not found & observers, f"autograd/{name}.py imports the observer(s) {sorted(found & observers)}"
