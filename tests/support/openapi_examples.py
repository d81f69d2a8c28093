"""The example requests an OpenAPI document carries, as requests a test can send: what /docs'
"Try it out" would send for each documented example."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = "application/json"


@dataclass(frozen=True)
class ExampleRequest:
    method: str
    path: str  # path parameters filled in
    query: dict[str, Any]
    body: Any  # None: no body

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.query or ''} {self.body if self.body is not None else ''}"


def _examples(holder: dict[str, Any]) -> list[Any]:
    """The values of an OpenAPI `examples` map (or a lone `example`) on a parameter or media type."""
    if "examples" in holder:
        return [example["value"] for example in holder["examples"].values()]
    return [holder["example"]] if "example" in holder else []


def _parameter_value(operation: str, parameter: dict[str, Any]) -> Any:
    found = _examples(parameter) or _examples(parameter.get("schema", {}))
    if not found:
        raise AssertionError(f"{operation}: documents an example but none for its parameter {parameter['name']!r}")
    return found[0]


def example_requests(document: dict[str, Any]) -> list[ExampleRequest]:
    """One request per documented example, for every operation that documents one (in its body or
    in a parameter). A required parameter of such an operation without an example fails: "Try it
    out" would leave it blank."""
    requests = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            parameters = operation.get("parameters", [])
            bodies = _examples(operation.get("requestBody", {}).get("content", {}).get(JSON, {}))
            if not bodies and not any(_examples(p) for p in parameters):
                continue
            filled = {
                p["name"]: (p["in"], _parameter_value(name, p)) for p in parameters if p.get("required") or _examples(p)
            }
            query = {key: value for key, (where, value) in filled.items() if where == "query"}
            target = path.format(**{key: value for key, (where, value) in filled.items() if where == "path"})
            requests += [ExampleRequest(method, target, query, body) for body in (bodies or [None])]
    return requests
