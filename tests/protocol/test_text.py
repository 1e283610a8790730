"""The text policy: every string field of every frame refuses control and bidi characters.

The test walks the wire schema itself (every message type, every command and
event kind, the whole snapshot model), so a field added later is covered
without touching this file.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgpack
import pytest
from accord.protocol import PROTOCOL_VERSION, codec, text
from accord.protocol import commands as C
from accord.protocol import events as E
from accord.protocol.errors import ErrorCode, ProtocolError
from accord.protocol.messages import CLIENT_TYPES, SERVER_TYPES, Cmd, Error
from accord.protocol.schema import Range, Text, decode_as

#: One of each kind the policy refuses, with the words its refusal uses.
HOSTILE: dict[str, str] = {
    "\x1b": "control character U+001B",
    "\x07": "control character U+0007",
    "\t": "control character U+0009",
    "\r": "control character U+000D",
    "\x7f": "control character U+007F",
    "\x9b": "control character U+009B",
    "\u202e": "bidirectional control U+202E",
    "\u2066": "bidirectional control U+2066",
    "\u200f": "bidirectional control U+200F",
    "\u2028": "line separator U+2028",
}


@dataclass
class Site:
    """Where a string sits in a plain frame: how to reach it, its error path, its limit."""

    keys: tuple[Any, ...]
    path: str
    lines: bool
    literal: bool = False
    is_key: bool = False


@dataclass
class Sample:
    """A valid plain frame with every optional part filled in, and its string sites."""

    decode: Callable[[bytes], Any]
    frame: dict[str, Any]
    sites: list[Site] = dataclasses.field(default_factory=list)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _fill(tp: Any, keys: tuple[Any, ...], path: str, sites: list[Site], pick: Any) -> Any:
    """A valid plain value of ``tp`` with every optional part present, noting string sites."""
    limits: tuple[Any, ...] = ()
    while get_origin(tp) is Annotated:
        tp, *extra = get_args(tp)
        limits += tuple(extra)
    origin = get_origin(tp)
    if tp is str:
        lim = next(x for x in limits if isinstance(x, Text))
        sites.append(Site(keys, path, lim.lines))
        return "a" * max(lim.min, 1)
    if tp is bool:
        return True
    if tp is int or tp is float:
        rng = next((x for x in limits if isinstance(x, Range)), None)
        return int(rng.lo) if rng is not None else 1
    if origin is Literal:
        sites.append(Site(keys, path, False, literal=True))
        return get_args(tp)[0]
    if origin is list:
        (item,) = get_args(tp)
        return [_fill(item, (*keys, 0), f"{path}[0]", sites, pick)]
    if origin is dict:
        _, val = get_args(tp)
        sites.append(Site(keys, path, False, is_key=True))
        return {"k1": _fill(val, (*keys, "k1"), f"{path}['k1']", sites, pick)}
    if origin is Union or origin is types.UnionType:
        rest = [o for o in get_args(tp) if o is not type(None)]
        if len(rest) == 1:
            return _fill(rest[0], keys, path, sites, pick)
        cls = pick(rest)
        sites.append(Site((*keys, "k"), _join(path, "k"), False, literal=True))
        return {"k": cls.KIND, **_fill(cls, keys, path, sites, pick)}
    assert dataclasses.is_dataclass(tp) and isinstance(tp, type), tp
    hints = typing.get_type_hints(tp, include_extras=True)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(tp):
        if f.init:
            out[f.name] = _fill(hints[f.name], (*keys, f.name), _join(path, f.name), sites, pick)
    return out


def _samples() -> Iterator[tuple[str, Sample]]:
    """One sample per message type and, for ``cmd`` and ``event``, per kind."""
    for types_, decode in (
        (CLIENT_TYPES, codec.decode_client),
        (SERVER_TYPES, codec.decode_server),
    ):
        for t, cls in types_.items():
            kinds: list[Any] = [None]
            if cls is Cmd:
                kinds = list(C.COMMAND_TYPES)
            elif cls is E.Event:
                kinds = list(E.EVENT_TYPES)
            for kind in kinds:
                sites: list[Site] = [Site(("t",), "t", False)]

                def pick(options: list[Any], kind: Any = kind) -> Any:
                    return kind if kind in options else options[0]

                body = _fill(cls, (), "", sites, pick)
                frame = {"t": t, "v": PROTOCOL_VERSION, **body}
                name = t if kind is None else f"{t}:{kind.KIND}"
                yield name, Sample(decode, frame, sites)


SAMPLES = dict(_samples())


def _with(frame: dict[str, Any], site: Site, value: str) -> dict[str, Any]:
    """A deep copy of ``frame`` with the string at ``site`` (a value or a key) replaced."""
    copy = msgpack.unpackb(msgpack.packb(frame))
    *parents, last = site.keys
    holder = copy
    for key in parents:
        holder = holder[key]
    if site.is_key:
        target = holder[last]
        target[value] = target.pop("k1")
    else:
        holder[last] = value
    return typing.cast(dict[str, Any], copy)


def _refusal(sample: Sample, frame: dict[str, Any]) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        sample.decode(msgpack.packb(frame, use_bin_type=True))
    return info.value


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_string_field_refuses_control_and_bidi(name: str) -> None:
    """Each string of the frame, with any refused character in it, is bad_message naming it."""
    sample = SAMPLES[name]
    sample.decode(msgpack.packb(sample.frame, use_bin_type=True))  # the sample itself is valid
    assert sample.sites
    for site in sample.sites:
        for bad, words in HOSTILE.items():
            exc = _refusal(sample, _with(sample.frame, site, f"a{bad}a"))
            assert exc.code is ErrorCode.BAD_MESSAGE, (site.path, exc)
            assert exc.message.startswith(f"{site.path}: "), (site.path, exc.message)
            if not site.literal:
                assert f"{words} is not allowed" in exc.message, exc.message
            assert bad not in exc.message


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_newlines_only_where_a_field_allows_lines(name: str) -> None:
    """A line break passes in multi-line fields and is refused, named, in one-line ones."""
    sample = SAMPLES[name]
    for site in sample.sites:
        frame = _with(sample.frame, site, "line one\nline two")
        if site.lines:
            sample.decode(msgpack.packb(frame, use_bin_type=True))
        else:
            exc = _refusal(sample, frame)
            assert exc.code is ErrorCode.BAD_MESSAGE
            assert exc.message.startswith(f"{site.path}: "), exc.message


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_lone_surrogates_are_refused_naming_the_field(name: str) -> None:
    """A lone surrogate in any string is refused by the decoder with the field's path."""
    sample = SAMPLES[name]
    cls = (CLIENT_TYPES | SERVER_TYPES)[sample.frame["t"]]
    for site in sample.sites[1:]:  # all but ``t``, which the codec reads before decode_as
        with pytest.raises(ProtocolError) as info:
            decode_as(cls, _with(sample.frame, site, "a\ud83da"))
        assert info.value.code is ErrorCode.BAD_MESSAGE
        assert info.value.message.startswith(f"{site.path}: "), info.value.message


def test_surrogates_on_the_wire_are_invalid_utf8() -> None:
    """Encoded surrogates are not UTF-8, so the frame is refused before any field is read."""
    data = msgpack.packb(
        {
            "t": "cmd",
            "v": PROTOCOL_VERSION,
            "op": "o1",
            "c": {"k": "add_card", "lane": "value", "text": "\ud800"},
        },
        unicode_errors="surrogatepass",
    )
    with pytest.raises(ProtocolError) as info:
        codec.decode_client(data)
    assert info.value.code is ErrorCode.BAD_FRAME


def test_frame_type_with_control_characters_is_bad_message() -> None:
    """A ``t`` holding an escape sequence is refused as bad_message naming ``t``."""
    data = msgpack.packb({"t": "\x1b]0;owned\x07", "v": PROTOCOL_VERSION})
    with pytest.raises(ProtocolError) as info:
        codec.decode_client(data)
    assert info.value.code is ErrorCode.BAD_MESSAGE
    assert info.value.message == "t: control character U+001B is not allowed"


def test_multi_line_fields_are_the_long_form_ones() -> None:
    """Exactly the long-form command fields accept several lines."""
    sites = [s for name, smp in SAMPLES.items() if name.startswith("cmd:") for s in smp.sites]
    multi = {s.path for s in sites if s.lines}
    assert multi == {
        "c.text",  # card text (add_card, edit_card) and note text (add_note)
        "c.why",
        "c.success",
        "c.description",
        "c.reason",
        "c.statement",
        "c.rationale",
        "c.dissent",
    }
    need = SAMPLES["cmd:add_need"].sites
    assert [s.lines for s in need if s.path == "c.text"] == [False]


def test_problem_names_the_character() -> None:
    """``problem`` says what is wrong in words and a code point, or None."""
    assert text.problem("Ada Lovelace") is None
    assert text.problem("") is None
    assert text.problem("👩‍💻 Jürgen, 東京, שלום") is None
    assert text.problem("two\nlines", multiline=True) is None
    assert text.problem("two\nlines") == "line break U+000A is not allowed in a one-line field"
    assert text.problem("Ops\x1b[2J") == "control character U+001B is not allowed"
    assert text.problem("\u202egnp.exe") == "bidirectional control U+202E is not allowed"
    assert text.problem("a\udc00") == "lone surrogate U+DC00 is not allowed"


def test_visible_printable_and_tidy() -> None:
    """Escapes for the command line, same-length pictures for the board, tidy input."""
    assert text.visible("Ops\x1b[2J\u202e") == "Ops\\x1b[2J\\u202e"
    assert text.visible("a\nb") == "a\\nb"
    assert text.visible("a\nb", multiline=True) == "a\nb"
    assert text.printable("Ops\x1b[2J\x7f\u202e\nx") == "Ops\u241b[2J\u2421\ufffd x"
    assert text.tidy("one\r\ntwo\tthree\x1b") == "one two three"
    assert text.tidy("one\r\ntwo\rthree", multiline=True) == "one\ntwo\nthree"
    assert text.problem(text.tidy("a\u202eb\x00\n")) is None


def test_scrub_makes_stored_values_decodable() -> None:
    """Scrubbing a plain tree replaces refused characters so a strict decode passes."""
    plain = {"t": "error", "v": PROTOCOL_VERSION, "code": "invalid", "message": "x\x1b[2J\u202e"}
    fixed = text.scrub(plain, multiline=False)
    assert fixed["message"] == "x\ufffd[2J\ufffd"
    assert codec.decode_server(msgpack.packb(fixed)) == Error(
        code="invalid", message="x\ufffd[2J\ufffd"
    )


def test_error_messages_follow_the_policy() -> None:
    """A ProtocolError never carries a raw control character in its message."""
    exc = ProtocolError(ErrorCode.INVALID, "no card 'x\x1b]0;t\x07'\nsecond line")
    assert text.problem(exc.message) is None
    assert "\\x1b" in exc.message
