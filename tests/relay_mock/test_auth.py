"""Ingest authentication: every form Relay accepts, exactly one per request, and who owns a key.

Most tests go through build_record, the whole pure pipeline, so they check what a client
sees (status, detail, causes), not just what the header parser returns.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from relay_mock.ingest import IngestRequest, build_record
from relay_mock.protocol.auth import Auth, auth_from_request
from relay_mock.protocol.ingest_errors import AuthError, IngestError, ProjectRejected
from relay_mock.settings import Project, RelaySettings, load_projects
from relay_mock.store.records import EnvelopeRecord
from tests.support.projects import API, DOWNSTREAM

API_KEY = API.key  # project 1, "api"
DOWNSTREAM_KEY = DOWNSTREAM.key  # project 2, "downstream"
SDK_AUTH = f"Sentry sentry_key={API_KEY}, sentry_version=7, sentry_client=sentry.python/2.75.0"
ENVELOPE = b'{}\n{"type":"event"}\n{"message":"hello"}\n'

Ingest = Callable[..., EnvelopeRecord]


@pytest.fixture(scope="module")
def projects() -> dict[int, Project]:
    return load_projects({})


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> RelaySettings:
    return RelaySettings(data_dir=Path(tmp_path_factory.mktemp("relay")))


@pytest.fixture
def ingest(projects: dict[int, Project], settings: RelaySettings) -> Ingest:
    def ingest(
        headers: dict[str, str] | None = None, *, query: str = "", project: str = "1", body: bytes = ENVELOPE
    ) -> EnvelopeRecord:
        return build_record(
            projects,
            settings,
            IngestRequest(
                project_part=project,
                path=f"/api/{project}/envelope/",
                headers=headers or {},
                query_string=query,
                body=body,
                received_at=0.0,
            ),
            endpoint="envelope",
        )

    return ingest


def refusal(call: Callable[[], object]) -> IngestError:
    with pytest.raises(IngestError) as refused:
        call()
    return refused.value


def refused_auth(headers: dict[str, str], query: str) -> AuthError:
    with pytest.raises(AuthError) as refused:
        auth_from_request(headers, query)
    assert refused.value.status == 401
    return refused.value


# -- each form ------------------------------------------------------------------------------------


def test_x_sentry_auth_as_sentry_python_sends_it() -> None:
    assert auth_from_request({"x-sentry-auth": SDK_AUTH}, "") == Auth(
        API_KEY, "x-sentry-auth", client="sentry.python/2.75.0", version="7"
    )


@pytest.mark.parametrize("prefix", ["Sentry", "sentry", "SENTRY", "sEnTrY"])
def test_the_sentry_prefix_is_case_insensitive(prefix: str) -> None:
    auth = auth_from_request({"x-sentry-auth": f"{prefix} sentry_key={API_KEY}, sentry_version=7"}, "")
    assert auth is not None and auth.public_key == API_KEY


def test_x_sentry_auth_without_the_prefix_is_accepted() -> None:
    auth = auth_from_request({"x-sentry-auth": f"sentry_key={API_KEY}"}, "")
    assert auth is not None and auth.public_key == API_KEY


def test_authorization_sentry_is_accepted() -> None:
    auth = auth_from_request({"authorization": f"Sentry sentry_key={API_KEY}, sentry_version=7"}, "")
    assert auth == Auth(API_KEY, "authorization", version="7")


def test_authorization_basic_carries_the_key_as_the_user() -> None:
    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert auth_from_request({"authorization": f"Basic {token}"}, "") == Auth(API_KEY, "basic")


def test_the_query_parameter_is_accepted_with_client_and_version() -> None:
    query = f"sentry_key={API_KEY}&sentry_version=7&sentry_client=sentry.javascript.browser%2F8.0.0"
    assert auth_from_request({}, query) == Auth(API_KEY, "query", client="sentry.javascript.browser/8.0.0", version="7")


def test_a_request_without_credentials_has_no_auth() -> None:
    assert auth_from_request({"user-agent": "curl"}, "foo=bar") is None


@pytest.mark.parametrize(
    ("headers", "query", "form"),
    [
        ({"x-sentry-auth": SDK_AUTH}, "", "x-sentry-auth"),
        ({"authorization": SDK_AUTH}, "", "authorization"),
        ({"authorization": "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()}, "", "basic"),
        ({}, f"sentry_key={API_KEY}", "query"),
    ],
)
def test_each_form_is_accepted_by_ingest(ingest: Ingest, headers: dict[str, str], query: str, form: str) -> None:
    record = ingest(headers, query=query)
    assert (record.project_id, record.public_key, record.auth_form) == (1, API_KEY, form)


def test_the_envelope_header_dsn_is_the_fallback(ingest: Ingest) -> None:
    body = b'{"dsn":"http://%s@relay-mock:9000/1"}\n{"type":"event"}\n{}\n' % API_KEY.encode()
    record = ingest(body=body)
    assert (record.public_key, record.auth_form) == (API_KEY, "envelope-dsn")


def test_the_dsc_public_key_need_not_be_the_request_key(ingest: Ingest) -> None:
    # A downstream service's envelope carries the upstream service's key in its trace header.
    body = b'{"trace":{"trace_id":"771a43a4192642f0b136d5159a501700","public_key":"%s"}}\n' % API_KEY.encode()
    record = ingest({"x-sentry-auth": f"Sentry sentry_key={DOWNSTREAM_KEY}"}, project="2", body=body)
    assert (record.project, record.public_key) == ("downstream", DOWNSTREAM_KEY)


# -- refusals -------------------------------------------------------------------------------------


def test_two_forms_at_once_are_refused(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest({"x-sentry-auth": SDK_AUTH}, query=f"sentry_key={API_KEY}"))
    assert (refused.status, refused.detail) == (401, "multiple authorization payloads")
    assert refused.causes == ["send credentials in exactly one place; found: x-sentry-auth, query"]


def test_x_sentry_auth_and_authorization_together_are_refused() -> None:
    assert (
        refused_auth({"x-sentry-auth": SDK_AUTH, "authorization": SDK_AUTH}, "").detail
        == "multiple authorization payloads"
    )


def test_no_credentials_and_no_dsn_is_unauthorized(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest())
    assert (refused.status, refused.detail) == (401, "missing authorization")


def test_an_unknown_project_is_forbidden(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest({"x-sentry-auth": SDK_AUTH}, project="9"))
    assert isinstance(refused, ProjectRejected)
    assert (refused.status, refused.detail) == (403, "unknown project 9")
    assert refused.causes == ["configured projects: 1 (api), 2 (downstream), 3 (playground)"]


def test_a_project_id_that_is_not_a_number_is_a_bad_request(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest({"x-sentry-auth": SDK_AUTH}, project="api"))
    assert (refused.status, refused.reason, refused.detail) == (400, "invalid_project", "invalid project id")


def test_another_projects_key_is_refused_naming_its_owner(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest({"x-sentry-auth": f"Sentry sentry_key={DOWNSTREAM_KEY}"}))
    assert (refused.status, refused.reason) == (401, "unknown_key")
    assert refused.detail == "public key is not a key of project 1"
    assert refused.causes == ["that key belongs to project 2 (downstream)"]


def test_a_key_no_project_has_is_refused(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest({"x-sentry-auth": "Sentry sentry_key=deadbeef"}))
    assert refused.status == 401
    assert refused.causes == ["no configured project has the key 'deadbeef'"]


def test_a_wrong_key_in_the_dsn_is_refused_like_a_header_key(ingest: Ingest) -> None:
    body = b'{"dsn":"http://%s@relay-mock:9000/1"}\n' % DOWNSTREAM_KEY.encode()
    refused = refusal(lambda: ingest(body=body))
    assert (refused.status, refused.causes) == (401, ["that key belongs to project 2 (downstream)"])


def test_a_sentry_header_without_sentry_key_is_refused() -> None:
    assert refused_auth({"x-sentry-auth": "Sentry sentry_version=7"}, "").detail == "x-sentry-auth has no sentry_key"


def test_an_empty_sentry_key_is_refused() -> None:
    assert refused_auth({"x-sentry-auth": "Sentry sentry_key=, sentry_version=7"}, "").detail == "empty sentry_key"


def test_an_unsupported_authorization_scheme_is_refused() -> None:
    assert refused_auth({"authorization": "Bearer abc"}, "").detail == "unsupported Authorization scheme"


@pytest.mark.parametrize("token", ["not base64!", "//79", "é"])
def test_basic_credentials_that_are_not_base64_of_text_are_refused(token: str) -> None:
    # "//79" is base64 of bytes that are not UTF-8; "é" used to escape as a bare ValueError.
    assert refused_auth({"authorization": f"Basic {token}"}, "").detail == "Authorization: Basic is not valid base64"


def test_a_dsn_without_a_public_key_is_refused(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest(body=b'{"dsn":"http://relay-mock:9000/1"}\n'))
    assert (refused.status, refused.detail) == (401, "envelope header dsn has no public key")


def test_a_dsn_that_is_not_a_url_is_refused(ingest: Ingest) -> None:
    # Regression: urlsplit raises ValueError on an unclosed "[", which escaped as a 500.
    refused = refusal(lambda: ingest(body=b'{"dsn":"http://[key@relay-mock/1"}\n'))
    assert (refused.status, refused.detail) == (401, "envelope header dsn is not a URL")


# -- project ids: ASCII digits, and few enough for a 64-bit id -------------------------------------


def test_a_superscript_digit_project_id_is_a_bad_request(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest({"x-sentry-auth": SDK_AUTH}, project="²"))
    assert refused.status == 400


def test_a_project_id_of_5000_digits_is_a_bad_request(ingest: Ingest) -> None:
    refused = refusal(lambda: ingest({"x-sentry-auth": SDK_AUTH}, project="1" * 5000))
    assert refused.status in (400, 403)
