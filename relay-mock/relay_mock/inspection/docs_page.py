"""`/inspect/docs`: the OpenAPI document as one plain HTML page, rendered on the server.

No script and nothing from a CDN (the sandbox runs offline): every operation with its
parameters, body and responses, and every model with its fields. Every value from the document
is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from relay_mock.inspection.openapi import SCHEMA_PATH, document

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem 2rem; color: #222; }
h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; } h3 { margin: 1.4rem 0 .3rem; font-size: 1rem; }
code, .type { font-family: ui-monospace, monospace; font-size: 13px; }
.method { display: inline-block; min-width: 4.5em; font-weight: 600; }
table { border-collapse: collapse; margin: .3rem 0 .6rem; } td, th { text-align: left; padding: 2px 10px 2px 0;
vertical-align: top; } th { font-weight: 600; color: #555; } .muted { color: #666; }
"""


def type_of(schema: dict[str, Any]) -> str:
    """A JSON schema as a short type expression, models as links (already escaped)."""
    if "$ref" in schema:
        name = escape(schema["$ref"].rsplit("/", 1)[-1])
        return f'<a href="#model-{name}">{name}</a>'
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " | ".join(type_of(option) for option in schema[combinator])
    if "enum" in schema:
        return " | ".join(f"<code>{escape(str(value))}</code>" for value in schema["enum"])
    if "const" in schema:
        return f"<code>{escape(str(schema['const']))}</code>"
    kind = schema.get("type")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {type_of(schema['additionalProperties'])}"
    if kind is None:
        return "any"
    text = escape(kind if isinstance(kind, str) else " | ".join(kind))
    limits = [
        f"{label} {schema[key]}"
        for key, label in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))
        if key in schema
    ]
    if "format" in schema:
        limits.append(str(schema["format"]))
    if "pattern" in schema:
        limits.append(f"matching {schema['pattern']}")
    return text + (f' <span class="muted">({escape(", ".join(limits))})</span>' if limits else "")


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [
        f'<h3 id="{escape(op["operationId"])}"><span class="method">{escape(method.upper())}</span>'
        f"<code>{escape(path)}</code></h3><p>{escape(op['summary'])}</p>"
    ]
    if op["parameters"]:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
            f'<td class="type">{type_of(p["schema"])}</td><td>{escape(p.get("description", ""))}</td></tr>'
            for p in op["parameters"]
        )
        parts.append(f"<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>{rows}</table>")
    if "requestBody" in op:
        for media_type, content in op["requestBody"]["content"].items():
            parts.append(f'<p>body ({escape(media_type)}): <span class="type">{type_of(content["schema"])}</span></p>')
    rows = "".join(
        f"<tr><td>{escape(status)}</td><td>{escape(response['description'])}</td><td class='type'>"
        + ", ".join(
            f"{escape(media_type)} {type_of(content.get('schema', {}))}"
            for media_type, content in response.get("content", {}).items()
        )
        + "</td></tr>"
        for status, response in op["responses"].items()
    )
    parts.append(f"<table><tr><th>status</th><th>meaning</th><th>body</th></tr>{rows}</table>")
    return "".join(parts)


def _model(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(field)}</code>{'' if field in required else ' <span class=muted>optional</span>'}"
        f'</td><td class="type">{type_of(spec)}</td><td>{escape(spec.get("description", ""))}</td></tr>'
        for field, spec in schema.get("properties", {}).items()
    )
    description = f"<p>{escape(schema['description'])}</p>" if "description" in schema else ""
    body = f"<table>{rows}</table>" if rows else f'<p class="type">{type_of(schema)}</p>'
    return f'<h3 id="model-{escape(name)}"><code>{escape(name)}</code></h3>{description}{body}'


def render(doc: dict[str, Any]) -> str:
    by_tag: dict[str, list[str]] = {}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append(_operation(path, method, op))
    sections = "".join(f"<h2>{escape(tag)}</h2>{''.join(ops)}" for tag, ops in by_tag.items())
    models = "".join(_model(name, schema) for name, schema in doc["components"]["schemas"].items())
    info = doc["info"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(info['title'])}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(info['title'])} <span class='muted'>{escape(info['version'])}</span></h1>"
        f"<p>{escape(info['description'])}</p>"
        f'<p>The machine-readable document: <a href="{SCHEMA_PATH}"><code>{SCHEMA_PATH}</code></a> (OpenAPI 3.1). '
        '<a href="/">Back to the UI</a>.</p>'
        f"{sections}<h2>models</h2>{models}</body></html>"
    )


async def get_docs(request: Request) -> Response:
    return HTMLResponse(render(document()), headers={"cache-control": "no-cache"})
