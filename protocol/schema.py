"""Typed conversion between dataclasses and plain msgpack-able values, with validation.

Every wire type is a dataclass whose fields carry ``Annotated`` limits. This
module turns a dataclass type into a compiled decoder that checks types and
limits and names the offending field in its error (``needs[3].text: expected
str of at most 500 chars``), and into an encoder that emits only maps, lists,
str, int, float, bool and nil, so any language can speak the protocol.
"""

from __future__ import annotations

import dataclasses
import reprlib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from .errors import ErrorCode, ProtocolError
from .text import problem

T = TypeVar("T")

Decoder = Callable[[Any, str], Any]
Encoder = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Text:
    """Limit for a str field: between ``min`` and ``max`` characters, one line unless ``lines``.

    Every str field also follows the text policy of ``text.py``: no control or
    bidirectional characters, and a line break only when ``lines`` is true.
    """

    max: int
    min: int = 0
    lines: bool = False


@dataclass(frozen=True, slots=True)
class Range:
    """Limit for an int or float field: ``lo <= value <= hi``."""

    lo: float
    hi: float


@dataclass(frozen=True, slots=True)
class Items:
    """Limit for a list or map field: at most ``max`` entries."""

    max: int


def _fail(path: str, message: str, code: ErrorCode = ErrorCode.BAD_MESSAGE) -> ProtocolError:
    return ProtocolError(code, f"{path or 'frame'}: {message}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_DECODERS: dict[Any, Decoder] = {}
_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {}


def decode_as(tp: type[T], value: Any, path: str = "") -> T:
    """Validate ``value`` as ``tp`` and build it.

    Raises:
        ProtocolError: with a code and a message naming the offending field.
    """
    return typing.cast(T, decoder_for(tp)(value, path))


def decoder_for(tp: Any) -> Decoder:
    """Return the compiled decoder for a type expression (cached)."""
    key = tp
    found = _DECODERS.get(key)
    if found is None:
        found = _build_decoder(tp, ())
        _DECODERS[key] = found
    return found


def _build_decoder(tp: Any, limits: tuple[Any, ...]) -> Decoder:
    origin = get_origin(tp)
    if origin is typing.Annotated:
        base, *extra = get_args(tp)
        return _build_decoder(base, limits + tuple(extra))
    if tp is str:
        return _str_decoder(limits)
    if tp is bool:
        return _bool_decoder
    if tp is int or tp is float:
        return _number_decoder(tp, limits)
    if tp is type(None) or tp is None:
        return _none_decoder
    if origin is Literal:
        return _literal_decoder(get_args(tp))
    if origin is list:
        (item,) = get_args(tp)
        return _list_decoder(decoder_for(item), limits)
    if origin is dict:
        key_tp, val_tp = get_args(tp)
        if key_tp is not str:
            raise TypeError("wire maps must have str keys")
        return _dict_decoder(decoder_for(val_tp), limits)
    if origin is Union or origin is types.UnionType:
        return _union_decoder(get_args(tp))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_decoder(tp)
    raise TypeError(f"unsupported wire type {tp!r}")


def _str_decoder(limits: tuple[Any, ...]) -> Decoder:
    text = next((lim for lim in limits if isinstance(lim, Text)), None)
    if text is None:
        raise TypeError("every wire str needs a Text limit")
    lo, hi, lines = text.min, text.max, text.lines

    def dec(value: Any, path: str) -> Any:
        if type(value) is not str or not lo <= len(value) <= hi:
            if lo:
                raise _fail(path, f"expected str of {lo} to {hi} chars")
            raise _fail(path, f"expected str of at most {hi} chars")
        if not value.isprintable():
            wrong = problem(value, lines)
            if wrong is not None:
                raise _fail(path, wrong)
        return value

    return dec


def _bool_decoder(value: Any, path: str) -> Any:
    if type(value) is not bool:
        raise _fail(path, "expected bool")
    return value


def _number_decoder(tp: type, limits: tuple[Any, ...]) -> Decoder:
    rng = next((lim for lim in limits if isinstance(lim, Range)), None)
    allowed: tuple[type, ...] = (int,) if tp is int else (int, float)
    name = tp.__name__

    def dec(value: Any, path: str) -> Any:
        if type(value) not in allowed:
            raise _fail(path, f"expected {name}")
        if rng is not None and not rng.lo <= value <= rng.hi:
            raise _fail(path, f"expected {name} from {_num(rng.lo)} to {_num(rng.hi)}")
        if tp is float and value != value:  # NaN is not a number anyone meant to send
            raise _fail(path, "expected a finite number")
        return tp(value)

    return dec


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _none_decoder(value: Any, path: str) -> Any:
    if value is not None:
        raise _fail(path, "expected nil")
    return None


def _literal_decoder(choices: tuple[Any, ...]) -> Decoder:
    allowed = frozenset(choices)
    listed = " | ".join(sorted(str(c) for c in choices))

    def dec(value: Any, path: str) -> Any:
        if type(value) is not str or value not in allowed:
            raise _fail(path, f"expected one of {listed}")
        return value

    return dec


def _list_decoder(item: Decoder, limits: tuple[Any, ...]) -> Decoder:
    cap = next((lim.max for lim in limits if isinstance(lim, Items)), None)
    if cap is None:
        raise TypeError("every wire list needs an Items limit")

    def dec(value: Any, path: str) -> Any:
        if type(value) is not list:
            raise _fail(path, f"expected list of at most {cap} items")
        if len(value) > cap:
            raise _fail(path, f"expected at most {cap} items, got {len(value)}", ErrorCode.LIMIT)
        return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]

    return dec


def _dict_decoder(val: Decoder, limits: tuple[Any, ...]) -> Decoder:
    cap = next((lim.max for lim in limits if isinstance(lim, Items)), None)
    key_text = next((lim for lim in limits if isinstance(lim, Text)), Text(64))
    if cap is None:
        raise TypeError("every wire map needs an Items limit")

    def dec(value: Any, path: str) -> Any:
        if type(value) is not dict:
            raise _fail(path, f"expected map of at most {cap} entries")
        if len(value) > cap:
            raise _fail(path, f"expected at most {cap} entries, got {len(value)}", ErrorCode.LIMIT)
        out: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str or not key_text.min <= len(k) <= key_text.max:
                raise _fail(path, f"expected keys of at most {key_text.max} chars")
            if not k.isprintable():
                wrong = problem(k)
                if wrong is not None:
                    raise _fail(path, f"a key: {wrong}")
            out[k] = val(v, f"{path}[{k!r}]")
        return out

    return dec


def _union_decoder(options: tuple[Any, ...]) -> Decoder:
    nullable = type(None) in options
    rest = tuple(o for o in options if o is not type(None))
    if len(rest) == 1:
        inner = decoder_for(rest[0])

        def optional(value: Any, path: str) -> Any:
            if value is None and nullable:
                return None
            return inner(value, path)

        return optional
    kinds: dict[str, Decoder] = {}
    for cls in rest:
        kind = getattr(cls, "KIND", None)
        if not isinstance(kind, str):
            raise TypeError(f"union member {cls!r} needs a KIND tag")
        kinds[kind] = _dataclass_decoder(cls)

    def tagged(value: Any, path: str) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not dict:
            raise _fail(path, "expected map with a 'k' tag")
        kind = value.get("k")
        dec = kinds.get(kind) if type(kind) is str else None
        if dec is None:
            wrong = problem(kind) if type(kind) is str else None
            if wrong is not None:
                raise _fail(_join(path, "k"), wrong)
            raise _fail(
                _join(path, "k"), f"unknown kind {reprlib.repr(kind)}", ErrorCode.UNKNOWN_TYPE
            )
        return dec(value, path)

    return tagged


def _dataclass_decoder(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls, include_extras=True)
    plan: list[tuple[str, Decoder | None, Any]] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            default: Any = ("value", f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = ("factory", f.default_factory)
        else:
            default = None
        plan.append((f.name, None, (hints[f.name], default)))
    compiled: list[tuple[str, Decoder, Any]] = []

    def dec(value: Any, path: str) -> Any:
        if not compiled:
            compiled.extend((n, decoder_for(spec[0]), spec[1]) for n, _, spec in plan)
        if type(value) is not dict:
            raise _fail(path, "expected map")
        kwargs: dict[str, Any] = {}
        for name, field_dec, default in compiled:
            if name in value:
                kwargs[name] = field_dec(value[name], _join(path, name))
            elif default is None:
                raise _fail(_join(path, name), "missing")
            elif default[0] == "factory":
                kwargs[name] = default[1]()
            else:
                kwargs[name] = default[1]
        return cls(**kwargs)

    return dec


def encode_value(value: Any) -> Any:
    """Turn a dataclass tree into plain maps/lists/scalars for msgpack."""
    tp = type(value)
    if tp is str or tp is int or tp is bool or tp is float or value is None:
        return value
    if isinstance(value, str):  # a str subclass such as an ErrorCode member
        return str(value)
    if tp is list or tp is tuple:
        return [encode_value(v) for v in value]
    if tp is dict:
        return {k: encode_value(v) for k, v in value.items()}
    enc = _ENCODERS.get(tp)
    if enc is None:
        enc = _build_encoder(tp)
        _ENCODERS[tp] = enc
    return enc(value)


def _build_encoder(cls: type) -> Callable[[Any], dict[str, Any]]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"cannot encode {cls!r}")
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    kind = getattr(cls, "KIND", None)

    def enc(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"k": kind} if kind is not None else {}
        for name in names:
            out[name] = encode_value(getattr(value, name))
        return out

    return enc
