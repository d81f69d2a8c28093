"""The examples in the services' OpenAPI documents work: what /docs' "Try it out" sends
succeeds against a freshly seeded stack (it used to send `{"sku": "string"}` and get 404)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app as create_api
from api.settings import ApiSettings
from downstream.app import create_app as create_downstream
from downstream.settings import DownstreamSettings
from tests.support.openapi_examples import JSON, example_requests
from tests.support.stack import Stack

SERVICES = ["api", "downstream"]


def _app(service: str) -> FastAPI:
    # Building the document touches neither the database nor Sentry.
    if service == "api":
        return create_api(ApiSettings(sentry_enabled=False))
    return create_downstream(DownstreamSettings(sentry_enabled=False))


def _skus(value: Any) -> list[str]:
    """Every `sku` field anywhere in an example body."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "sku"] + [s for v in value.values() for s in _skus(v)]
    if isinstance(value, list):
        return [s for v in value for s in _skus(v)]
    return []


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_taking_a_json_body_documents_an_example(service: str) -> None:
    document = _app(service).openapi()

    missing = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if JSON in operation.get("requestBody", {}).get("content", {})
        and "examples" not in operation["requestBody"]["content"][JSON]
    ]

    assert missing == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_examples_name_skus_downstream_seeds(service: str) -> None:
    seeded = {sku.strip() for sku in DownstreamSettings().seed_skus.split(",")}
    requests = example_requests(_app(service).openapi())

    named = {sku for request in requests for sku in _skus(request.body)}
    named |= {request.path.rsplit("/", 1)[-1] for request in requests if request.path.startswith("/stock/")}

    assert requests, "no documented examples"
    assert named and named <= seeded, f"examples name {sorted(named)}; downstream seeds {sorted(seeded)}"


@pytest.mark.stack
@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_example_request_succeeds_on_the_stack(stack: Stack, service: str) -> None:
    url = stack.api_url if service == "api" else stack.downstream_url
    with httpx.Client(base_url=url, timeout=15) as http:
        document = http.get("/openapi.json").raise_for_status().json()
        requests = example_requests(document)
        answers = [
            (str(request), http.request(request.method, request.path, params=request.query, json=request.body))
            for request in requests
        ]

    assert requests, f"{service} documents no example requests"
    failed = [f"{sent} -> {answer.status_code} {answer.text[:200]}" for sent, answer in answers if answer.is_error]
    assert failed == []
