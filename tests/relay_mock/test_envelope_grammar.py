"""The envelope grammar, rule by rule, as relay-mock's strict parser applies it.

    {envelope header JSON}\\n  {item header JSON}\\n  payload\\n  (items repeat; final newline optional)

Refusals are checked by their exact `detail`: it is what a client sees in the 400 response.
"""

from __future__ import annotations

import time

import orjson
import pytest

from relay_mock.protocol.envelope import MAX_ITEMS, Envelope, envelope_from_event, parse_envelope
from relay_mock.protocol.ingest_errors import MalformedEnvelope, PayloadTooLarge

EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"


def payloads(envelope: Envelope) -> list[bytes]:
    return [item.payload for item in envelope.items]


def refusal(data: bytes) -> tuple[str, list[str]]:
    with pytest.raises(MalformedEnvelope) as refused:
        parse_envelope(data)
    assert refused.value.status == 400
    return refused.value.detail, refused.value.causes


# -- payload framing ------------------------------------------------------------------------------


def test_an_explicit_length_takes_exactly_that_many_bytes() -> None:
    envelope = parse_envelope(b'{}\n{"type":"attachment","length":5}\nhello\n')
    assert payloads(envelope) == [b"hello"]
    assert envelope.items[0].header == {"type": "attachment", "length": 5}


def test_without_a_length_the_payload_runs_to_the_next_newline() -> None:
    envelope = parse_envelope(b'{}\n{"type":"event"}\n{"message":"a"}\n{"type":"event"}\n{"message":"b"}\n')
    assert payloads(envelope) == [b'{"message":"a"}', b'{"message":"b"}']


def test_without_a_length_the_last_payload_runs_to_the_end() -> None:
    assert payloads(parse_envelope(b'{}\n{"type":"event"}\n{"message":"a"}')) == [b'{"message":"a"}']


def test_an_explicit_length_payload_may_hold_newlines_and_binary() -> None:
    binary = b"\n\x00\r\n\xff\n"
    envelope = parse_envelope(b'{}\n{"type":"attachment","length":6}\n' + binary + b'\n{"type":"event"}\n{}')
    assert payloads(envelope) == [binary, b"{}"]


def test_an_item_offset_points_at_its_payload_in_the_envelope() -> None:
    data = b'{}\n{"type":"attachment","length":3}\nabc\n{"type":"event"}\n{}\n'
    envelope = parse_envelope(data)
    assert [data[i.offset : i.offset + len(i.payload)] for i in envelope.items] == [b"abc", b"{}"]


# -- empty things ---------------------------------------------------------------------------------


def test_an_empty_object_is_a_valid_envelope_header() -> None:
    assert parse_envelope(b'{}\n{"type":"event"}\n{}\n').header == {}


def test_an_envelope_may_have_zero_items() -> None:
    assert parse_envelope(b'{"event_id":"%s"}\n' % EVENT_ID.encode()).items == []


def test_a_header_alone_without_a_newline_is_an_envelope_with_zero_items() -> None:
    assert parse_envelope(b"{}").items == []


def test_an_explicit_length_of_zero_is_an_empty_payload() -> None:
    envelope = parse_envelope(b'{}\n{"type":"attachment","length":0}\n\n{"type":"attachment","length":0}\n')
    assert payloads(envelope) == [b"", b""]


def test_an_immediate_newline_is_an_empty_implicit_payload() -> None:
    envelope = parse_envelope(b'{}\n{"type":"attachment"}\n\n{"type":"event"}\n{}\n')
    assert payloads(envelope) == [b"", b"{}"]


def test_a_last_item_header_without_payload_or_newline_has_an_empty_payload() -> None:
    assert payloads(parse_envelope(b'{}\n{"type":"attachment"}')) == [b""]


def test_an_empty_body_is_refused() -> None:
    assert refusal(b"") == ("empty envelope", ["the body holds no envelope header"])


def test_a_whitespace_body_is_refused() -> None:
    assert refusal(b" \r\n\n") == ("empty envelope", ["the body holds no envelope header"])


# -- newlines at the end --------------------------------------------------------------------------


def test_the_final_newline_is_optional_after_an_explicit_length() -> None:
    assert payloads(parse_envelope(b'{}\n{"type":"attachment","length":3}\nabc')) == [b"abc"]


def test_trailing_newlines_after_the_last_item_are_ignored() -> None:
    assert payloads(parse_envelope(b'{}\n{"type":"attachment"}\nabc\n\n\n\r\n')) == [b"abc"]


def test_trailing_newlines_after_the_header_of_an_empty_envelope_are_ignored() -> None:
    assert parse_envelope(b"{}\n\n\n").items == []


# -- CRLF -----------------------------------------------------------------------------------------
# "\r" is JSON whitespace, so CRLF-terminated headers parse; a payload without a length keeps
# its "\r" (only "\n" ends it). Relay is stricter: it wants "\n" right after each header.


def test_crlf_after_headers_is_accepted() -> None:
    envelope = parse_envelope(b'{"event_id":"%s"}\r\n{"type":"event"}\r\n{}' % EVENT_ID.encode())
    assert (envelope.event_id, envelope.items[0].type) == (EVENT_ID, "event")


def test_crlf_after_an_implicit_payload_leaves_the_carriage_return_in_the_payload() -> None:
    assert payloads(parse_envelope(b'{}\r\n{"type":"event"}\r\n{}\r\n')) == [b"{}\r"]


def test_crlf_after_an_explicit_length_payload_is_refused() -> None:
    data = b'{}\n{"type":"attachment","length":3}\nabc\r\n'
    carriage_return = data.index(b"abc") + 3
    assert refusal(data) == (
        "item 0 payload is not followed by a newline",
        [f"byte {carriage_return} is b'\\r'; the payload is longer than its declared length 3"],
    )


# -- item types -----------------------------------------------------------------------------------


def test_unknown_item_types_are_kept_with_their_headers() -> None:
    data = b'{}\n{"type":"future_thing","item_count":2,"x":[1]}\n{"version":2,"items":[{},{}]}\n'
    item = parse_envelope(data).items[0]
    assert (item.type, item.header, item.payload) == (
        "future_thing",
        {"type": "future_thing", "item_count": 2, "x": [1]},
        b'{"version":2,"items":[{},{}]}',
    )


def test_an_item_without_a_type_is_refused() -> None:
    assert refusal(b'{}\n{"length":2}\n{}\n') == (
        "item 0 has no type",
        ['an item header needs a non-empty "type" string'],
    )


def test_an_item_with_an_empty_type_is_refused() -> None:
    assert refusal(b'{}\n{"type":"event"}\n{}\n{"type":""}\n{}\n')[0] == "item 1 has no type"


def test_an_item_with_a_non_string_type_is_refused() -> None:
    assert refusal(b'{}\n{"type":7}\n{}\n')[0] == "item 0 has no type"


# -- lengths that do not fit ----------------------------------------------------------------------


def test_a_length_running_past_the_end_names_the_item_and_the_byte_counts() -> None:
    assert refusal(b'{}\n{"type":"event"}\n{}\n{"type":"attachment","length":10}\nabc\n') == (
        "item 1 is truncated",
        ["its header declares 10 bytes but only 4 remain"],
    )


def test_a_payload_longer_than_its_length_is_refused() -> None:
    data = b'{}\n{"type":"attachment","length":2}\nabc\n'
    assert refusal(data) == (
        "item 0 payload is not followed by a newline",
        [f"byte {data.index(b'abc') + 2} is b'c'; the payload is longer than its declared length 2"],
    )


@pytest.mark.parametrize("length", [b"-1", b"1.5", b'"3"', b"true"])
def test_a_length_that_is_not_a_non_negative_integer_is_refused(length: bytes) -> None:
    assert refusal(b'{}\n{"type":"attachment","length":' + length + b"}\nabc\n")[0] == "item 0 has an invalid length"


# -- headers that are not JSON objects ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "kind"), [(b"[]", "list"), (b'"event"', "str"), (b"42", "int"), (b"null", "NoneType")]
)
def test_an_envelope_header_that_is_not_an_object_is_refused(header: bytes, kind: str) -> None:
    assert refusal(header + b"\n") == ("envelope header is not a JSON object", [f"at byte 0: got {kind}"])


def test_an_item_header_that_is_not_an_object_is_refused() -> None:
    assert refusal(b'{}\n["event"]\n{}\n') == ("item 0 header is not a JSON object", ["at byte 3: got list"])


def test_an_envelope_header_that_is_not_json_is_refused() -> None:
    assert refusal(b"{event_id: 1}\n")[0] == "envelope header is not valid JSON"


def test_an_item_header_that_is_not_json_is_refused() -> None:
    detail, causes = refusal(b'{}\n{"type":"event"\n{}\n')
    assert detail == "item 0 header is not valid JSON"
    assert causes[0].startswith("at byte 3: ")


def test_a_blank_line_where_an_item_header_belongs_is_refused() -> None:
    assert refusal(b'{}\n\n{"type":"event"}\n{}\n')[0] == "item 0 header is not valid JSON"


# -- envelope header fields -----------------------------------------------------------------------


@pytest.mark.parametrize("event_id", [EVENT_ID, "9ec79c33-ec99-42ab-8353-589fcb2e04dc"])
def test_an_event_id_in_either_uuid_spelling_is_accepted(event_id: str) -> None:
    assert parse_envelope(b'{"event_id":"%s"}\n' % event_id.encode()).event_id == event_id


def test_an_event_id_that_is_not_a_uuid_is_refused() -> None:
    assert refusal(b'{"event_id":"not-a-uuid"}\n') == ("envelope header event_id is not a UUID", ["got 'not-a-uuid'"])


def test_an_event_id_that_is_not_a_string_is_refused() -> None:
    assert refusal(b'{"event_id":12}\n') == ("envelope header event_id is not a string", ["got 12"])


@pytest.mark.parametrize("field", ["dsn", "sent_at"])
def test_a_dsn_or_sent_at_that_is_not_a_string_is_refused(field: str) -> None:
    assert refusal(b'{"%s":1}\n' % field.encode()) == (f"envelope header {field} is not a string", ["got 1"])


def test_a_trace_header_that_is_not_an_object_is_refused() -> None:
    assert refusal(b'{"trace":"abc"}\n') == ("envelope header trace is not an object", ["got str"])


# -- size of the item list ------------------------------------------------------------------------


def test_an_envelope_may_hold_max_items_items() -> None:
    assert len(parse_envelope(b"{}\n" + b'{"type":"a"}\n\n' * MAX_ITEMS).items) == MAX_ITEMS


def test_an_envelope_with_more_than_max_items_items_is_too_large() -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        parse_envelope(b"{}\n" + b'{"type":"a"}\n\n' * (MAX_ITEMS + 1))
    assert (refused.value.status, refused.value.reason) == (413, "too_many_items")
    assert refused.value.detail == f"envelope has more than {MAX_ITEMS} items"


def test_many_items_led_by_carriage_returns_parse_in_linear_time() -> None:
    # Regression: every item starting with "\r" copied the rest of the envelope: over two minutes.
    data = b"{}\n" + (b'\r{"type":"a"}\n' + b"x" * 8000 + b"\n") * 5000
    started = time.monotonic()
    assert len(parse_envelope(data).items) == 5000
    assert time.monotonic() - started < 5


# -- legacy /store/ events ------------------------------------------------------------------------


def test_a_store_event_round_trips_through_its_envelope() -> None:
    event = {"event_id": EVENT_ID, "message": "line one\nline two", "level": "error"}
    envelope = parse_envelope(envelope_from_event(event))
    assert envelope.header == {"event_id": EVENT_ID}
    assert [(item.header, orjson.loads(item.payload)) for item in envelope.items] == [
        ({"type": "event", "length": len(orjson.dumps(event))}, event)
    ]


def test_a_store_transaction_becomes_a_transaction_item() -> None:
    envelope = parse_envelope(envelope_from_event({"type": "transaction", "spans": []}))
    assert (envelope.header, envelope.items[0].type) == ({}, "transaction")


def test_a_store_event_without_a_string_event_id_gets_an_empty_envelope_header() -> None:
    assert parse_envelope(envelope_from_event({"event_id": 5, "message": "x"})).header == {}


def test_a_header_nested_deeper_than_the_store_can_write_is_refused() -> None:
    # orjson parses 1,024 levels but writes 254: the store writer would fail on it after parsing.
    assert refusal(b'{"x":' + b"[" * 254 + b"]" * 254 + b"}\n")[0] == "envelope header nests too deeply"
    assert parse_envelope(b'{"x":' + b"[" * 253 + b"]" * 253 + b"}\n").items == []


def test_a_store_event_nested_deeper_than_the_store_can_write_is_refused() -> None:
    with pytest.raises(MalformedEnvelope, match="store body nests too deeply"):
        envelope_from_event({"x": orjson.loads(b"[" * 300 + b"]" * 300)})
