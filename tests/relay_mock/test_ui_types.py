"""scripts/gen_ui_types.py: the web UI's types are the OpenAPI document's, translated faithfully,
and the committed file is the one the generator writes today (as `make lint` checks)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PART = {"$ref": "#/components/schemas/Part"}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_ui_types", REPO / "scripts" / "gen_ui_types.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _generator()


def test_the_committed_ui_types_are_what_the_generator_writes() -> None:
    committed = (REPO / "relay-mock" / "relay_mock" / "ui" / "api-types.d.ts").read_text()
    assert committed == gen.generated(), "relay_mock/ui/api-types.d.ts is stale: run `make ui-types`"


def test_two_runs_write_the_same_bytes() -> None:
    assert gen.generated() == gen.generated()


def test_a_model_becomes_an_interface_with_optional_fields_where_the_server_may_leave_them_out() -> None:
    document: dict[str, Any] = {
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "description": "A thing.",
                    "additionalProperties": True,
                    "properties": {
                        "id": {"type": "string"},
                        "state": {"enum": ["pending", "sent"], "type": "string"},
                        "count": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "how many"},
                        "parts": {
                            "type": "array",
                            "items": {"anyOf": [{"$ref": "#/components/schemas/Part"}, {"type": "null"}]},
                        },
                        "by_name": {"type": "object", "additionalProperties": {"type": "number"}},
                        "anything": {},
                        "odd-name": {"type": "boolean"},
                    },
                    "required": ["id", "state"],
                },
                "Part": {"type": "object", "properties": {"kind": {"const": "log"}}, "required": ["kind"]},
            }
        }
    }
    text = gen.render(document)
    assert 'export interface Part {\n  kind: "log";\n}\n' in text
    assert (
        "/** A thing. */\n"
        "export interface Thing {\n"
        "  id: string;\n"
        '  state: "pending" | "sent";\n'
        "  /** how many */\n"
        "  count?: number | null;\n"
        "  parts?: (Part | null)[];\n"
        "  by_name?: { [key: string]: number };\n"
        "  anything?: unknown;\n"
        '  "odd-name"?: boolean;\n'
        "}\n"
    ) in text
    assert text.index("export interface Part") < text.index("export interface Thing")  # by name


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "https://example.com/elsewhere.json"},
        {"type": "array", "prefixItems": [{"type": "string"}]},
        {"type": "tuple-ish"},
    ],
)
def test_a_schema_it_cannot_translate_stops_it_rather_than_a_guess(schema: dict[str, Any]) -> None:
    with pytest.raises(gen.SchemaError):
        gen.ts_type(schema)


def test_the_shapes_the_ui_once_kept_by_hand_are_in_the_document() -> None:
    """The five "not in models.py" shapes of the old hand-kept types.d.ts are on the wire; the
    document declares them now, so the generated file has them."""
    text = gen.generated()
    assert "export interface LiveEnvelope {" in text and "  lagged?: boolean;" in text
    assert "export interface Readiness {" in text
    assert "export interface RelayVerdictCounts {" in text
    for name in ("Change", "Leak", "Suggestion", "LogRecord", "MetricPoint"):
        assert f"export interface {name} {{" in text
