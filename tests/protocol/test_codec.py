"""The msgpack codec: round trips, and nothing but ProtocolError for any input.

Over 400 lines: one codec, fuzzed from every side (round trips, junk,
mutations, limits); the strategies are shared across all of them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import msgpack
import pytest
from accord.protocol import PROTOCOL_VERSION, codec, messages
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol import limits as L
from accord.protocol.errors import MESSAGE_CHARS, ErrorCode, ProtocolError
from accord.protocol.events import Event
from accord.protocol.messages import (
    CLIENT_TYPES,
    SERVER_TYPES,
    Ack,
    Cmd,
    Create,
    Error,
    Hello,
    Ping,
    Pong,
    Presence,
    Welcome,
)
from accord.protocol.model import Card, Id, Seq, Stamp, new_session
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from protocol_support import kind_of, strategy_for

#: Round trips run once per message, command and event kind, so each needs few examples.
FAST = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def frame(**fields: Any) -> bytes:
    """A raw frame from plain fields, bypassing the encoder's types."""
    return msgpack.packb(fields, use_bin_type=True)


def refusal(data: Any, decode: Any = codec.decode_client) -> ProtocolError:
    """The ProtocolError ``decode`` raises for ``data`` (fails the test if it decodes)."""
    with pytest.raises(ProtocolError) as info:
        decode(data)
    return info.value


def fits_error_frame(exc: ProtocolError) -> bool:
    """True when the error can be sent back to a client as an error frame."""
    sent = Error(code=exc.code.value, message=exc.message)
    return codec.decode_server(codec.encode(sent)) == Error(
        code=exc.code.value, message=exc.message
    )


# ---- round trips -------------------------------------------------------------------

CLIENT_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "create": strategy_for(Create),
    "hello": strategy_for(Hello),
    "ping": strategy_for(Ping),
    **{
        f"cmd:{kind_of(cls)}": st.builds(Cmd, op=strategy_for(messages.OpId), c=strategy_for(cls))
        for cls in C.COMMAND_TYPES
    },
}
SERVER_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "welcome": strategy_for(Welcome),
    "ack": strategy_for(Ack),
    "error": strategy_for(Error),
    "presence": strategy_for(Presence),
    "pong": strategy_for(Pong),
    **{
        f"event:{kind_of(cls)}": st.builds(
            Event,
            seq=strategy_for(Seq),
            at=strategy_for(Stamp),
            by=strategy_for(Id),
            body=strategy_for(cls),
            op=st.sampled_from(["", "op1", "x" * L.ID_CHARS]),
        )
        for cls in E.EVENT_TYPES
    },
}


def test_every_message_command_and_event_has_a_round_trip_case() -> None:
    """The round-trip cases cover every message type, command kind and event kind."""
    client = {k.split(":")[0] for k in CLIENT_STRATEGIES}
    server = {k.split(":")[0] for k in SERVER_STRATEGIES}
    assert client == set(CLIENT_TYPES)
    assert server == set(SERVER_TYPES)
    assert len(CLIENT_STRATEGIES) == 3 + len(C.COMMAND_TYPES)
    assert len(SERVER_STRATEGIES) == 5 + len(E.EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(CLIENT_STRATEGIES))
@FAST
@given(data=st.data())
def test_client_message_round_trips(name: str, data: st.DataObject) -> None:
    """Every client message decodes back to an equal message of the same type."""
    message = data.draw(CLIENT_STRATEGIES[name])
    encoded = codec.encode(message)
    assert len(encoded) <= L.MAX_CLIENT_FRAME
    decoded = codec.decode_client(encoded)
    assert type(decoded) is type(message)
    assert decoded == message


@pytest.mark.parametrize("name", sorted(SERVER_STRATEGIES))
@FAST
@given(data=st.data())
def test_server_message_round_trips(name: str, data: st.DataObject) -> None:
    """Every server message decodes back to an equal message of the same type."""
    message = data.draw(SERVER_STRATEGIES[name])
    decoded = codec.decode_server(codec.encode(message))
    assert type(decoded) is type(message)
    assert decoded == message


@FAST
@given(st.one_of(*CLIENT_STRATEGIES.values(), *SERVER_STRATEGIES.values()))
def test_frames_are_plain_msgpack_maps_with_type_and_version(message: Any) -> None:
    """A frame is a msgpack map with ``t`` and ``v`` holding only maps, arrays and scalars."""

    def no_ext(code: int, data: bytes) -> Any:
        raise AssertionError(f"ext type {code} on the wire")

    value = msgpack.unpackb(codec.encode(message), raw=False, ext_hook=no_ext, timestamp=0)
    assert value["v"] == PROTOCOL_VERSION
    assert value["t"] in CLIENT_TYPES or value["t"] in SERVER_TYPES
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            assert all(type(k) is str for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            assert type(item) in (str, int, float, bool, type(None)), type(item)


# ---- nothing but ProtocolError --------------------------------------------------------

FIELD_NAMES = sorted(
    {"t", "v", "k", "op", "c", "body", "seq", "snapshot", "marks", "ballots", "votes"}
    | {f.name for cls in (*C.COMMAND_TYPES, *E.EVENT_TYPES) for f in dataclasses.fields(cls)}
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(sorted(CLIENT_TYPES | SERVER_TYPES) + [kind_of(c) for c in C.COMMAND_TYPES]),
    st.binary(max_size=8),
    st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=8)),
    st.builds(msgpack.Timestamp, st.integers(0, 2**33), st.integers(0, 999_999_999)),
)
KEYS = st.one_of(
    st.sampled_from(FIELD_NAMES),
    st.text(max_size=6),
    st.integers(-5, 5),
    st.binary(max_size=4),
    st.booleans(),
    st.none(),
    st.floats(),
)
NESTED = st.recursive(
    SCALARS,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(KEYS, kids, max_size=4)),
    max_leaves=40,
)
FRAMES = st.builds(
    lambda t, v, rest: {**rest, "t": t, "v": v},
    st.sampled_from([*sorted(CLIENT_TYPES | SERVER_TYPES), "nope"]),
    st.one_of(st.just(PROTOCOL_VERSION), SCALARS),
    st.dictionaries(st.sampled_from(FIELD_NAMES), NESTED, max_size=6),
)


def pack(value: Any) -> bytes:
    """msgpack bytes for any generated value (skipping the few msgpack cannot pack)."""
    try:
        return msgpack.packb(value, use_bin_type=True, datetime=False)
    except (TypeError, ValueError, OverflowError):
        assume(False)
        raise


def decodes_or_refuses(data: Any) -> None:
    """Both decoders either return a message or raise a ProtocolError that fits an error frame."""
    for decode in (codec.decode_client, codec.decode_server):
        try:
            message = decode(data)
        except ProtocolError as exc:
            assert isinstance(exc.code, ErrorCode)
            assert exc.message
            assert fits_error_frame(exc)
        else:
            assert decode(codec.encode(message)) == message


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_only_raise_protocol_error(data: bytes) -> None:
    """Decoding arbitrary bytes returns a message or raises ProtocolError, nothing else."""
    decodes_or_refuses(data)


@FUZZ
@given(NESTED)
def test_random_msgpack_only_raises_protocol_error(value: Any) -> None:
    """Arbitrary nested msgpack (ext types, bytes, odd keys, NaN, huge ints) never crashes."""
    decodes_or_refuses(pack(value))


@FUZZ
@given(FRAMES)
def test_message_shaped_junk_only_raises_protocol_error(value: dict[Any, Any]) -> None:
    """Maps with a real type tag and version but junk fields are refused cleanly."""
    decodes_or_refuses(pack(value))


def _mutate(data: st.DataObject, value: Any, junk: Any) -> Any:
    """``value`` with one place in it replaced, dropped or added to."""
    if not isinstance(value, dict | list) or not value or data.draw(st.integers(0, 3)) == 0:
        return junk
    if isinstance(value, dict):
        key = data.draw(st.sampled_from(sorted(value, key=repr)))
        action = data.draw(st.sampled_from(["descend", "drop", "add"]))
        out = dict(value)
        if action == "drop":
            del out[key]
        elif action == "add":
            out[data.draw(KEYS)] = junk
        else:
            out[key] = _mutate(data, value[key], junk)
        return out
    index = data.draw(st.integers(0, len(value) - 1))
    out_list = list(value)
    out_list[index] = _mutate(data, value[index], junk)
    return out_list


@FUZZ
@given(
    message=st.one_of(*CLIENT_STRATEGIES.values(), *SERVER_STRATEGIES.values()),
    junk=NESTED,
    data=st.data(),
)
def test_mutated_frames_only_raise_protocol_error(
    message: Any, junk: Any, data: st.DataObject
) -> None:
    """A valid frame with one field changed to junk decodes or is refused cleanly."""
    plain = msgpack.unpackb(codec.encode(message), raw=False)
    decodes_or_refuses(pack(_mutate(data, plain, junk)))


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.data())
def test_flipped_bytes_in_valid_frames_only_raise_protocol_error(
    noise: bytes, data: st.DataObject
) -> None:
    """Overwriting bytes inside a valid command frame never makes the decoder crash."""
    encoded = bytearray(codec.encode(Cmd(op="op1", c=C.AddCard(lane="value", text="cheaper"))))
    at = data.draw(st.integers(0, len(encoded) - 1))
    encoded[at : at + len(noise)] = noise
    decodes_or_refuses(bytes(encoded))


# ---- specific refusals, with stable codes and field paths ----------------------------------


def test_over_long_card_text_names_the_field() -> None:
    """A command whose text is too long is a bad_message naming ``c.text`` and the limit."""
    data = codec.encode(Cmd(op="op1", c=C.AddCard(lane="value", text="x" * (L.TEXT_CHARS + 1))))
    exc = refusal(data)
    assert exc.code is ErrorCode.BAD_MESSAGE
    assert exc.message == f"c.text: expected str of 1 to {L.TEXT_CHARS} chars"


def test_text_with_no_lower_bound_says_at_most() -> None:
    """An over-long optional text says ``expected str of at most N chars``."""
    data = codec.encode(Cmd(op="op1", c=C.AddNeed(text="ok", why="y" * (L.TEXT_CHARS + 1))))
    assert refusal(data).message == f"c.why: expected str of at most {L.TEXT_CHARS} chars"


def test_list_items_are_named_by_index() -> None:
    """A bad list item is named by its index, e.g. ``online[1]``."""
    exc = refusal(
        frame(
            t="welcome",
            v=PROTOCOL_VERSION,
            session_id="s1",
            member_id="m1",
            role="participant",
            epoch="e",
            seq=0,
            mode="snapshot",
            online=["m1", 7],
        ),
        codec.decode_server,
    )
    assert exc.code is ErrorCode.BAD_MESSAGE
    assert exc.message == f"online[1]: expected str of 1 to {L.ID_CHARS} chars"


def test_nested_snapshot_fields_are_named_by_path() -> None:
    """A bad field deep in a snapshot is named by its full path through maps."""
    snapshot = {
        "id": "s1",
        "question": "q",
        "created_at": 1.0,
        "needs": {"n3": {"id": "n3", "text": "y" * (L.TEXT_CHARS + 1)}},
    }
    exc = refusal(
        frame(
            t="welcome",
            v=PROTOCOL_VERSION,
            session_id="s1",
            member_id="m1",
            role="participant",
            epoch="e",
            seq=0,
            mode="snapshot",
            snapshot=snapshot,
        ),
        codec.decode_server,
    )
    assert exc.message == f"snapshot.needs['n3'].text: expected str of 1 to {L.TEXT_CHARS} chars"


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        ({"lane": "value"}, ErrorCode.BAD_MESSAGE, "c.text: missing"),
        (
            {"lane": "moon", "text": "a"},
            ErrorCode.BAD_MESSAGE,
            "c.lane: expected one of no_change | stakeholders | value",
        ),
        (
            {"lane": "value", "text": 5},
            ErrorCode.BAD_MESSAGE,
            f"c.text: expected str of 1 to {L.TEXT_CHARS} chars",
        ),
    ],
)
def test_command_field_errors(command: dict[str, Any], code: ErrorCode, message: str) -> None:
    """Missing, mistyped and out-of-choice command fields are named with what was expected."""
    exc = refusal(frame(t="cmd", v=PROTOCOL_VERSION, op="op1", c={"k": "add_card", **command}))
    assert (exc.code, exc.message) == (code, message)


def test_numbers_are_range_and_type_checked() -> None:
    """Ints are range-checked, bools are not ints, and NaN is no float."""
    exc = refusal(frame(t="cmd", v=PROTOCOL_VERSION, op="o", c={"k": "start_timer", "seconds": 0}))
    assert exc.message == f"c.seconds: expected int from 1 to {L.MAX_TIMER_SECONDS}"
    assert refusal(frame(t="ping", v=PROTOCOL_VERSION, n=True)).message == "n: expected int"
    assert refusal(frame(t="ping", v=PROTOCOL_VERSION, n=1.0)).message == "n: expected int"
    exc = refusal(
        frame(t="pong", v=PROTOCOL_VERSION, n=1, server_time=math.nan), codec.decode_server
    )
    assert exc.code is ErrorCode.BAD_MESSAGE
    assert exc.message.startswith("server_time: expected")


def test_missing_op_is_named() -> None:
    """A command frame without an op id is refused naming ``op``."""
    exc = refusal(frame(t="cmd", v=PROTOCOL_VERSION, c={"k": "set_ready", "ready": True}))
    assert (exc.code, exc.message) == (ErrorCode.BAD_MESSAGE, "op: missing")


def test_unknown_command_kind_is_unknown_type() -> None:
    """An unknown command kind is ``unknown_type`` at ``c.k``."""
    exc = refusal(frame(t="cmd", v=PROTOCOL_VERSION, op="o", c={"k": "launch_rockets"}))
    assert exc.code is ErrorCode.UNKNOWN_TYPE
    assert exc.message == "c.k: unknown kind 'launch_rockets'"


def test_too_many_items_is_limit() -> None:
    """A list over its cap is refused with ``limit``."""
    marks = {f"c{i}": 1 for i in range(L.MAX_MARKS + 1)}
    exc = refusal(
        frame(t="cmd", v=PROTOCOL_VERSION, op="o", c={"k": "cast", "vote_id": "v1", "marks": marks})
    )
    assert exc.code is ErrorCode.LIMIT
    assert exc.message == f"c.marks: expected at most {L.MAX_MARKS} entries, got {L.MAX_MARKS + 1}"


def test_oversized_frames_are_too_large() -> None:
    """Frames over 64 KiB from a client, or 8 MiB from the relay, are ``too_large``."""
    assert L.MAX_CLIENT_FRAME == 64 * 1024 and L.MAX_SERVER_FRAME == 8 * 1024 * 1024
    exact = bytes(L.MAX_CLIENT_FRAME)
    assert refusal(exact).code is ErrorCode.BAD_FRAME  # the size is fine; the bytes are not
    assert refusal(exact + b"\x00").code is ErrorCode.TOO_LARGE
    assert refusal(exact + b"\x00", codec.decode_server).code is ErrorCode.BAD_FRAME
    huge = bytes(L.MAX_SERVER_FRAME + 1)
    assert refusal(huge, codec.decode_server).code is ErrorCode.TOO_LARGE


def test_big_welcome_within_server_limit_decodes() -> None:
    """A server frame above the client limit but under 8 MiB decodes on the client side."""
    session = new_session("s1", "Which way?", 1.0)
    for i in range(200):
        session.cards[f"c{i}"] = Card(id=f"c{i}", lane="value", text="z" * 400, author="m1")
    welcome = Welcome(
        session_id="s1",
        member_id="m1",
        role="participant",
        epoch="e1",
        seq=1,
        mode="snapshot",
        snapshot=session,
    )
    data = codec.encode(welcome)
    assert len(data) > L.MAX_CLIENT_FRAME
    assert codec.decode_server(data) == welcome
    assert refusal(data).code is ErrorCode.TOO_LARGE


def test_text_frames_are_bad_frame() -> None:
    """A str (a websocket text frame) instead of bytes is ``bad_frame``."""
    exc = refusal('{"t": "ping", "v": 2}')
    assert exc.code is ErrorCode.BAD_FRAME
    assert exc.message == "frame: expected binary msgpack, got text"
    assert refusal("", codec.decode_server).code is ErrorCode.BAD_FRAME


@pytest.mark.parametrize("version", [0, 1, 3, "2", 2.0, True, None, [2]])
def test_wrong_version_is_version(version: Any) -> None:
    """Any ``v`` other than the integer protocol version is refused with ``version``."""
    exc = refusal(frame(t="ping", v=version, n=1))
    assert exc.code is ErrorCode.VERSION
    assert exc.message.startswith("v: ")


def test_missing_version_is_version() -> None:
    """A frame without ``v`` is refused with ``version``."""
    assert refusal(frame(t="ping", n=1)).code is ErrorCode.VERSION


@pytest.mark.parametrize("kind", ["nope", "welcome", 7, None])
def test_unknown_type_is_unknown_type(kind: Any) -> None:
    """An unknown ``t`` (or a server type sent to the relay) is ``unknown_type``."""
    exc = refusal(frame(t=kind, v=PROTOCOL_VERSION))
    assert exc.code is ErrorCode.UNKNOWN_TYPE
    assert exc.message.startswith("t: unknown message type")


def test_client_types_are_unknown_to_the_client_decoder() -> None:
    """The client decoder refuses a client-only message type."""
    data = codec.encode(Ping(n=3))
    assert refusal(data, codec.decode_server).code is ErrorCode.UNKNOWN_TYPE


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (msgpack.ExtType(5, b"x"), "ext type 5"),
        (msgpack.Timestamp(1, 0), "Timestamp"),
        (b"raw", "bytes"),
        ({1: "a"}, "map key"),
        ({b"k": "a"}, "map key"),
    ],
)
def test_non_plain_msgpack_is_bad_frame(value: Any, needle: str) -> None:
    """Ext types, timestamps, binary values and non-str keys are ``bad_frame``."""
    data = msgpack.packb(
        {"t": "ping", "v": PROTOCOL_VERSION, "n": 0, "x": value}, use_bin_type=True
    )
    exc = refusal(data)
    assert exc.code is ErrorCode.BAD_FRAME
    assert needle in exc.message


@pytest.mark.parametrize("depth", [L.MAX_DEPTH + 1, 600, 20_000])
def test_deep_nesting_is_bad_frame(depth: int) -> None:
    """Nesting deeper than MAX_DEPTH is ``bad_frame``, however deep it goes."""
    data = b"\x81\xa1x" * depth + b"\xc0"  # {"x": {"x": ... nil}}
    exc = refusal(data)
    assert exc.code is ErrorCode.BAD_FRAME


def test_nesting_at_the_limit_is_allowed() -> None:
    """A value nested exactly MAX_DEPTH levels below the frame passes; one more is refused."""

    def nested(levels: int) -> Any:
        inner: Any = None
        for _ in range(levels):
            inner = [inner]
        return inner

    # The frame map is level 0, so its field holding MAX_DEPTH - 1 lists puts nil at MAX_DEPTH.
    assert (
        codec.decode_client(frame(t="ping", v=PROTOCOL_VERSION, n=0, x=nested(L.MAX_DEPTH - 1)))
        == Ping()
    )
    assert (
        refusal(frame(t="ping", v=PROTOCOL_VERSION, n=0, x=nested(L.MAX_DEPTH))).code
        is ErrorCode.BAD_FRAME
    )


def test_non_map_frames_and_garbage() -> None:
    """A non-map frame is ``bad_message``; trailing bytes and bad UTF-8 are ``bad_frame``."""
    assert refusal(msgpack.packb([1, 2])).code is ErrorCode.BAD_MESSAGE
    assert (
        refusal(msgpack.packb({"t": "ping", "v": PROTOCOL_VERSION}) + b"\x00").code
        is ErrorCode.BAD_FRAME
    )
    assert refusal(b"\xa2\xff\xfe").code is ErrorCode.BAD_FRAME
    assert refusal(b"").code is ErrorCode.BAD_FRAME


def test_unknown_fields_are_ignored() -> None:
    """Fields a decoder does not know are ignored, so newer peers can add optional fields."""
    assert codec.decode_client(frame(t="ping", v=PROTOCOL_VERSION, n=4, later="x")) == Ping(n=4)


def test_huge_offending_values_give_short_messages() -> None:
    """An error about a huge value still fits in an error frame."""
    for data in (
        frame(t="x" * 60_000, v=PROTOCOL_VERSION),
        frame(t="ping", v="y" * 60_000),
        frame(t="cmd", v=PROTOCOL_VERSION, op="o", c={"k": "z" * 60_000}),
    ):
        exc = refusal(data)
        assert len(exc.message) <= MESSAGE_CHARS
        assert fits_error_frame(exc)


def test_error_codes_travel_as_their_names() -> None:
    """An ErrorCode member encodes as its string name."""
    # An enum member where the type says a plain name: the codec must still send the name.
    sent = Error(code=ErrorCode.WRONG_PHASE, message="not now", op="op7")  # type: ignore[arg-type]
    data = codec.encode(sent)
    assert msgpack.unpackb(data)["code"] == "wrong_phase"
    assert codec.decode_server(data) == Error(code="wrong_phase", message="not now", op="op7")


def test_presence_and_ack_defaults() -> None:
    """Optional fields may be left out and take their documented defaults."""
    assert codec.decode_server(frame(t="ack", v=PROTOCOL_VERSION, op="o", seq=3)) == Ack(
        op="o", seq=3
    )
    assert codec.decode_server(
        frame(t="presence", v=PROTOCOL_VERSION, member_id="m2", online=True)
    ) == Presence(member_id="m2", online=True)
    assert codec.decode_server(frame(t="pong", v=PROTOCOL_VERSION)) == Pong()
    assert codec.decode_client(frame(t="hello", v=PROTOCOL_VERSION, code="abcd")) == Hello(
        code="abcd"
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(strategy_for(Event))
def test_an_event_encoded_once_gives_the_same_bytes(event: Event) -> None:
    """EncodedEvent's stored form and frames equal encode_plain and encode, with and without op."""
    once = codec.EncodedEvent(event)
    assert once.stored == codec.encode_plain(event)
    assert once.frame(op=True) == codec.encode(event)
    blank = Event(seq=event.seq, at=event.at, by=event.by, body=event.body, op="")
    assert once.frame(op=False) == codec.encode(blank)
    again = codec.EncodedEvent.from_stored(once.stored)
    assert again.frame(op=True) == once.frame(op=True)
    assert again.frame(op=False) == once.frame(op=False)
