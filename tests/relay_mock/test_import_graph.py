"""No module of relay-mock imports a module that imports it back, directly or through others.

The graph is read from the source with `ast`: every `import x`, `from x import y` (y counts
when it is a module itself), relative imports, and imports under `if TYPE_CHECKING:` too (a
cycle that only the type checker walks is still two modules that cannot be read apart).
Cycles are the strongly connected components of more than one module."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "relay-mock"
PACKAGE = "relay_mock"


def module_files(root: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name the module's imports could refer to."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    return {
        name: {target for target in imported_names(name, path) if target in modules and target != name}
        for name, path in modules.items()
    }


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components of two or more modules (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_relay_mock_has_no_import_cycles() -> None:
    modules = module_files(ROOT)
    assert len(modules) > 50, "the package was not found where the test looks"
    assert cycles(import_graph(modules)) == []


# The checker must see the cycles it exists for.


def test_finds_a_cycle_through_three_modules_and_ignores_a_chain() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_reads_relative_type_checking_and_submodule_imports(tmp_path: Path) -> None:
    package = tmp_path / PACKAGE
    (package / "store").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "store" / "__init__.py").write_text("")
    (package / "store" / "writer.py").write_text("from . import telemetry\n")
    (package / "store" / "telemetry.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .writer import Record\n"
    )
    (package / "live.py").write_text("from relay_mock.store import writer\n")
    (package / "app.py").write_text("import relay_mock.live\n")
    graph = import_graph(module_files(tmp_path))
    assert graph["relay_mock.app"] == {"relay_mock.live"}
    assert graph["relay_mock.live"] == {"relay_mock.store", "relay_mock.store.writer"}
    assert cycles(graph) == [["relay_mock.store.telemetry", "relay_mock.store.writer"]]
