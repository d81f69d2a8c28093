"""The inspection API's OpenAPI document: a valid OpenAPI 3.1 document that lists exactly the
routes the app serves under /inspect/, and the docs page rendered from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31
from starlette.applications import Starlette
from starlette.routing import Route

from relay_mock.app import RelayMock
from relay_mock.inspection.docs_page import render
from relay_mock.inspection.openapi import DOCS_PATH, SCHEMA_PATH, document, openapi_path
from relay_mock.settings import RelaySettings, load_projects

# The document and its page describe the API; they are not part of it.
ABOUT_THE_API = {SCHEMA_PATH, DOCS_PATH}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    mock = RelayMock(RelaySettings(data_dir=Path(tmp_path_factory.mktemp("relay"))), load_projects({}))
    inspection = mock.inspector.app
    assert isinstance(inspection, Starlette)
    return inspection


def served(app: Starlette) -> set[tuple[str, str]]:
    return {
        (openapi_path(route.path), method.lower())
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/inspect/") and route.path not in ABOUT_THE_API
        for method in route.methods or ()
        if method != "HEAD"  # Starlette answers HEAD wherever it answers GET
    }


def described(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, methods in doc["paths"].items() for method in methods}


def test_the_document_is_valid_openapi_3_1() -> None:
    errors = [error.message for error in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(document())]

    assert errors == []


def test_the_validator_rejects_a_broken_document() -> None:
    broken = {**document(), "paths": {"/inspect/x": {"get": {"responses": "none"}}}}

    assert not jsonschema_rs.validator_for(OPENAPI_31).is_valid(broken)


def test_every_inspection_route_is_in_the_document_and_nothing_else(app: Starlette) -> None:
    assert served(app) == described(document())


def test_the_route_check_sees_a_route_missing_from_the_document(app: Starlette) -> None:
    extra = Starlette(routes=[*app.routes, Route("/inspect/undocumented", lambda request: None)])

    assert served(extra) - described(document()) == {("/inspect/undocumented", "get")}


def test_every_reference_resolves() -> None:
    doc = document()
    text = str(doc)

    referenced = set(re.findall(r"#/components/schemas/([\w-]+)", text))

    assert referenced <= set(doc["components"]["schemas"]), referenced - set(doc["components"]["schemas"])


def test_every_error_response_has_the_detail_and_causes_shape() -> None:
    doc = document()

    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
    assert doc["components"]["schemas"]["ApiError"]["required"] == ["detail"]
    assert set(doc["components"]["schemas"]["ApiError"]["properties"]) == {"detail", "causes"}


def test_the_docs_page_lists_every_operation_and_model() -> None:
    doc = document()

    page = render(doc)

    for path, methods in doc["paths"].items():
        assert f"<code>{path}</code>" in page
        for operation in methods.values():
            assert f'id="{operation["operationId"]}"' in page
    for name in doc["components"]["schemas"]:
        assert f'id="model-{name}"' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_the_docs_page_escapes_what_it_shows() -> None:
    doc = document()
    hostile = {**doc, "info": {**doc["info"], "description": "<img src=x onerror=alert(1)>"}}

    page = render(hostile)

    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
