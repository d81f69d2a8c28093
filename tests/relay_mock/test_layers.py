"""relay-mock's layers: a module imports only its own layer and those below, the adapters do not
import each other, and no package imports a package that imports it back.

The imports are read from the source with `ast` (tests/relay_mock/test_import_graph.py: every
form, `if TYPE_CHECKING:` and function-local imports too). A module's place is the longest entry
of LAYERS that names it or a package holding it; a module no entry names fails the test, so a
new module is placed on purpose.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.relay_mock.test_import_graph import PACKAGE, ROOT, cycles, import_graph, module_files

# Lowest first. A module may import its own layer and any layer above it in this table.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # What every layer speaks: the wire format, the API's models (with the verifier's findings,
    # which they hold as they are), the settings.
    (
        "protocol",
        (
            "relay_mock",
            "relay_mock.protocol",
            "relay_mock.models",
            "relay_mock.findings",
            "relay_mock.settings",
            "relay_mock.dsn",
            "relay_mock.sandbox_projects",
        ),
    ),
    # The database: writes in one writer, reads through the read pool; models and plain records out.
    ("store", ("relay_mock.store",)),
    # The trace verifier, and the service layer every reader of it goes through (verify/run.py,
    # verify/traces.py).
    ("verify", ("relay_mock.verify",)),
    # What relay-mock does besides verifying; and the HTTP client of the inspection API.
    (
        "services",
        (
            "relay_mock.ingest",
            "relay_mock.faults",
            "relay_mock.forwarding",
            "relay_mock.spotlight",
            "relay_mock.relay_view",
            "relay_mock.live",
            "relay_mock.served",
            "relay_mock.tail",
            "relay_mock.client",
        ),
    ),
    # What the adapters share: the operations table (the HTTP routes and the MCP tools are both
    # views of it), parameter parsing, body validation, JSON responses, the web surface's guard.
    (
        "http",
        (
            "relay_mock.inspection.operations",
            "relay_mock.inspection.params",
            "relay_mock.inspection.bodies",
            "relay_mock.inspection.responses",
            "relay_mock.web_guard",
        ),
    ),
    # The adapters: each turns a surface's requests into calls of the layers below.
    (
        "adapters",
        ("relay_mock.inspection", "relay_mock.mcp", "relay_mock.spotlight.stream", "relay_mock.pytest_plugin"),
    ),
    # What starts the process: the ASGI app that mounts the adapters, the server, the CLI.
    ("entry", ("relay_mock.app", "relay_mock.server", "relay_mock.cli", "relay_mock.__main__")),
)
# The layer whose entries must not import each other.
ISOLATED = "adapters"
# Imports the rules would refuse, each with why it stays. None today: keep it that way.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


def place(module: str) -> tuple[int, str]:
    """(layer index, entry) of the longest entry naming the module or a package holding it."""
    best: tuple[int, str] | None = None
    for index, (_, entries) in enumerate(LAYERS):
        for entry in entries:
            # The package root's entry names its __init__ only (it holds the version).
            inside = entry != PACKAGE and module.startswith(entry + ".")
            if (module == entry or inside) and (best is None or len(entry) > len(best[1])):
                best = (index, entry)
    if best is None:
        raise LookupError(f"{module} is in no layer: add it to LAYERS in tests/relay_mock/test_layers.py")
    return best


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import that goes up a layer, or across from one adapter to another."""
    found = []
    for module, targets in sorted(graph.items()):
        layer, entry = place(module)
        for target in sorted(targets):
            if (module, target) in ALLOWED:
                continue
            target_layer, target_entry = place(target)
            if target_layer > layer:
                found.append(f"{module} ({LAYERS[layer][0]}) imports {target} ({LAYERS[target_layer][0]})")
            elif target_layer == layer and LAYERS[layer][0] == ISOLATED and target_entry != entry:
                found.append(f"{module} imports {target}: one adapter through another")
    return found


def package_graph(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The imports between relay-mock's top-level packages and modules (relay_mock.X)."""

    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: dict[str, set[str]] = {package(module): set() for module in graph}
    for module, targets in graph.items():
        # The package root (`relay_mock`, its __init__) holds only the version.
        packages[package(module)] |= {package(t) for t in targets if package(t) not in (package(module), "relay_mock")}
    return packages


def check(root: Path) -> tuple[list[str], list[list[str]]]:
    graph = import_graph(module_files(root))
    return violations(graph), cycles(package_graph(graph))


def test_every_import_goes_down_the_layers_and_no_package_cycle() -> None:
    upward, package_cycles = check(ROOT)
    assert upward == []
    assert package_cycles == []


def test_every_entry_of_the_table_names_a_module() -> None:
    modules = module_files(ROOT)
    for _, entries in LAYERS:
        for entry in entries:
            assert any(m == entry or m.startswith(entry + ".") for m in modules), f"{entry} names no module"
    for module in modules:
        place(module)  # raises for a module no entry names


# The checker must refuse what it exists for: a planted import in a copy of the package.


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "relay_mock", tmp_path / "relay_mock", ignore=shutil.ignore_patterns("ui", "__pycache__"))
    assert check(tmp_path) == ([], []), "the copy must pass before anything is planted"
    return tmp_path


def plant(root: Path, module: str, line: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_an_upward_import_fails(package_copy: Path) -> None:
    plant(package_copy, "relay_mock/store/values", "from relay_mock.verify.report import Report")
    upward, _ = check(package_copy)
    assert upward == ["relay_mock.store.values (store) imports relay_mock.verify.report (verify)"]


def test_an_import_inside_a_function_counts(package_copy: Path) -> None:
    plant(package_copy, "relay_mock/models", "def late():\n    from relay_mock import app\n    return app")
    upward, _ = check(package_copy)
    assert upward == ["relay_mock.models (protocol) imports relay_mock.app (entry)"]


def test_one_adapter_importing_another_fails(package_copy: Path) -> None:
    plant(package_copy, "relay_mock/mcp", "from relay_mock.inspection.traces import get_trace")
    upward, _ = check(package_copy)
    assert upward == ["relay_mock.mcp imports relay_mock.inspection.traces: one adapter through another"]


def test_a_package_cycle_within_a_layer_fails(package_copy: Path) -> None:
    # ingest imports faults; faults importing ingest back is a cycle of two services.
    plant(package_copy, "relay_mock/faults", "from relay_mock import ingest")
    upward, package_cycles = check(package_copy)
    assert upward == []
    assert any({"relay_mock.faults", "relay_mock.ingest"} <= set(cycle) for cycle in package_cycles), package_cycles


def test_a_module_in_no_layer_fails(package_copy: Path) -> None:
    (package_copy / "relay_mock" / "services").mkdir()
    (package_copy / "relay_mock" / "services" / "__init__.py").write_text("")
    with pytest.raises(LookupError, match=r"relay_mock.services is in no layer"):
        check(package_copy)
