"""The leak detector behind /inspect/leaks: every secret shape it knows is found inside text, and
values that only look alike (ids, source lines, literals, what scrubbers left) are not."""

from __future__ import annotations

import pytest

from relay_mock.relay_view.leaks import find_leaks, fingerprint

A = "a1B2c3D4e5"

SECRETS = [
    ("bearer", f"Bearer {A}{A}"),
    ("credential", "Basic dXNlcjpodW50ZXIyMg=="),
    ("credential", "://bob:hunter22@"),
    ("private_key", "-----BEGIN RSA PRIVATE KEY-----"),
    ("api_key", f"sk_live_{A}{A}"),
    ("api_key", f"rk_test_{A}{A}"),
    ("api_key", f"ghp_{A * 4}"),
    ("api_key", f"github_pat_{A * 4}"),
    ("api_key", f"xoxb-{A}-{A}"),
    ("api_key", "AKIAIOSFODNN7EXAMPLE"),
    ("api_key", "AIza" + "x" * 35),
    ("token", f"eyJhbGciOi{A}.eyJzdWIiOi{A}.{A}"),
    ("card", "4111 1111 1111 1111"),
]


@pytest.mark.parametrize(("kind", "secret"), SECRETS, ids=[f"{k}-{s[:8]}" for k, s in SECRETS])
def test_a_secret_shape_is_found_inside_text_under_a_neutral_name(kind: str, secret: str) -> None:
    [leak] = find_leaks({"breadcrumbs": {"values": [{"message": f"calling the partner with {secret} now"}]}})

    assert (leak["path"], leak["kind"]) == ("breadcrumbs.values.0.message", kind)
    assert leak["fingerprint"] == fingerprint(secret)


def test_a_value_under_a_secret_name_is_found_and_named_after_its_pair() -> None:
    stored = {"request": {"headers": [["Accept", "*/*"], ["X-Session-Token", "abcdef12"]], "cookies": [["sid", "x"]]}}

    assert [(leak["path"], leak["kind"]) for leak in find_leaks(stored)] == [
        ("request.headers.X-Session-Token", "cookie")
    ]


@pytest.mark.parametrize(
    "stored",
    [
        {"spans": [{"data": {"thread.id": "4399912921181823"}}]},  # an id that passes Luhn's check
        {"exception": {"values": [{"stacktrace": {"frames": [{"pre_context": ["password = get_password(user)"]}]}}]}},
        {"extra": {"session_was_empty": "True", "db_session": "<AsyncSession object at 0x7f>"}},
        {"extra": {"password": "[Filtered]", "token": "********", "note": "token=%5BFiltered%5D"}},
        {"extra": {"card": "[Filtered]"}, "_meta": {"extra": {"note": {"": {"rem": [["@password:filter", "s"]]}}}}},
    ],
    ids=["numeric-id", "source-line", "literals-and-reprs", "already-filtered", "no-strings"],
)
def test_look_alikes_are_no_leak(stored: dict[str, object]) -> None:
    assert find_leaks(stored) == []


def test_a_value_relay_changed_is_no_leak_even_if_it_still_looks_like_one() -> None:
    stored = {"extra": {"note": "Bearer ****"}, "_meta": {"extra": {"note": {"": {"rem": [["@bearer:filter", "m"]]}}}}}

    assert find_leaks(stored) == []
