"""The codecs the ``framekit`` command knows by name, and how a stack of them is written.

A stack is codec names joined by commas, byte codecs first and at most one frame codec (or
message codec, ``http-response``) last: ``chunked,gzip,lines``. Each name may take options
after colons: a bare value sets the codec's main option (``lines:crlf``,
``length-prefixed:4``, ``limited:1024``), and ``option=value`` any option by its name
(``lines:crlf:max-length=1000``, ``chunked:lenient=yes``). Every option is also a flag,
``--NAME-OPTION`` (``--chunked-lenient``, ``--gzip-max-output-size 1G``), which applies to
every use of that codec in the stack; an option written in the stack wins over the flag.

The options are the codec classes' own (their attrs fields), with their types and defaults,
so a codec's new option is a flag with nothing added here; a new codec (``resp3``,
``smtp-replies``, ``http-response``) is one :class:`CodecEntry` in :data:`CODECS`.
"""

from __future__ import annotations

import codecs as text_codecs
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import attrs

from framekit._cli_http import RequestStream, ResponseStream
from framekit.codecs import (
    Brotli,
    Chunked,
    Deflate,
    Delimited,
    Gzip,
    LengthPrefixed,
    Limited,
    Lines,
    Netstring,
    OctetCounted,
    RawDeflate,
    TextLines,
    Zstd,
)
from framekit.codecs.resp import Resp
from framekit.codecs.smtp import Commands, Data, Replies

__all__ = [
    "CODECS",
    "CodecEntry",
    "Option",
    "StackError",
    "StackItem",
    "build",
    "parse_size",
    "parse_stack",
]

#: A byte codec decodes bytes for the codecs after it; a frame codec ends a stack with
#: frames, a message codec (``http-response``) with messages: a head and its body each.
Kind: TypeAlias = Literal["bytes", "frames", "messages"]

#: Size suffixes: ``64K``, ``8M``, ``1G`` (powers of 1024).
_SIZE_SUFFIXES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class StackError(ValueError):
    """A stack or an option the command cannot use; the message says what and why."""


def parse_size(text: str) -> int:
    """An integer, with an optional K, M, G or T suffix (powers of 1024): ``64K`` is 65536.

    Raises ValueError on anything else.
    """
    text = text.strip().replace("_", "")
    factor = 1
    if text[-1:].upper() in _SIZE_SUFFIXES:
        factor = _SIZE_SUFFIXES[text[-1].upper()]
        text = text[:-1]
    return int(text, 0) * factor


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected yes or no, got {text!r}")


def _parse_bytes_list(text: str) -> tuple[bytes, ...]:
    """``|``-separated byte strings with backslash escapes: ``\\r\\n|\\n``, ``\\x00``."""
    return tuple(text_codecs.escape_decode(part.encode())[0] for part in text.split("|"))


@attrs.define(frozen=True)
class Option:
    """One option of a codec: its field name, how a value is read, and what it accepts."""

    name: str
    parse: Callable[[str], object]
    #: What the option accepts, for --help: ``yes|no``, ``SIZE``, ``lf|crlf|any``, ...
    metavar: str
    default: object
    is_bool: bool = False

    @property
    def flag_name(self) -> str:
        """The option as it is written on the command line: ``max-length``."""
        return self.name.replace("_", "-")


def _option(name: str, hint: Any, default: object) -> Option:
    """The Option of a field typed ``hint`` (the types codec options have)."""
    if hint is bool:
        return Option(name, _parse_bool, "yes|no", default, is_bool=True)
    if hint is int:
        return Option(name, parse_size, "N", default)
    if hint is str:
        return Option(name, str, "TEXT", default)
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin is Literal:
        choices = {str(choice): choice for choice in arguments}  # Literal[2, 3] takes ints

        def parse_choice(text: str) -> object:
            if text not in choices:
                raise ValueError(f"expected one of {', '.join(choices)}, got {text!r}")
            return choices[text]

        return Option(name, parse_choice, "|".join(choices), default)
    if origin is tuple and arguments and arguments[0] is bytes:
        return Option(name, _parse_bytes_list, "BYTES[|BYTES...]", default)
    if origin in (typing.Union, types.UnionType):
        members = [_option(name, member, default) for member in arguments]
        none_allowed = type(None) in arguments
        usable = [m for m in members if m.metavar != "NONE"]

        def parse_union(text: str) -> object:
            if none_allowed and text.strip().lower() == "none":
                return None
            problems = []
            for member in usable:
                try:
                    return member.parse(text)
                except ValueError as error:
                    problems.append(str(error))
            raise ValueError("; ".join(problems))

        metavar = "|".join(m.metavar for m in usable) + ("|none" if none_allowed else "")
        return Option(name, parse_union, metavar, default)
    if hint is type(None):
        return Option(name, str, "NONE", default)
    raise TypeError(f"option {name!r}: no command-line form for {hint!r}")


@attrs.define(frozen=True)
class CodecEntry:
    """A codec the command knows: its name, its class, and its main option.

    ``factory`` is the codec's attrs class (for a message codec, the attrs class of its
    options, :class:`~framekit._cli_http.ResponseStream`); its fields are the options (but
    ``exclude``: encoder-only settings such as a compression level). ``argument`` is the
    option a bare value after the name sets (``lines:crlf`` sets ``ending``). ``describe``,
    when given, turns one of its frames (and the ``--preview`` size) into the fields of its
    JSON line (``type``, ``value``, ...; default: :func:`framekit.cli.describe`).
    """

    name: str
    factory: type
    kind: Kind
    summary: str
    argument: str | None = None
    exclude: frozenset[str] = frozenset()
    describe: Callable[[Any, int], dict[str, object]] | None = None

    def options(self) -> list[Option]:
        """Every option of the codec, in the order of its fields."""
        hints = typing.get_type_hints(self.factory)
        return [
            _option(field.name, hints[field.name], field.default)
            for field in attrs.fields(self.factory)
            if field.init and field.name not in self.exclude
        ]

    def option(self, name: str) -> Option:
        """The option called ``name`` (``max-length`` or ``max_length``). Raises StackError."""
        wanted = name.replace("-", "_")
        for option in self.options():
            if option.name == wanted:
                return option
        known = ", ".join(option.flag_name for option in self.options()) or "none"
        raise StackError(f"{self.name} has no option {name!r} (its options: {known})")


_ENCODER_ONLY = frozenset({"level", "quality"})

#: Every codec the command knows, by name. A protocol codec is added by one entry here.
CODECS: dict[str, CodecEntry] = {
    entry.name: entry
    for entry in [
        CodecEntry("chunked", Chunked, "bytes", "HTTP/1.1 chunked transfer coding (RFC 9112)"),
        CodecEntry("limited", Limited, "bytes", "a body of LENGTH bytes", argument="length"),
        CodecEntry("gzip", Gzip, "bytes", "gzip (RFC 1952)", exclude=_ENCODER_ONLY),
        CodecEntry(
            "deflate", Deflate, "bytes", "zlib-wrapped or raw deflate", exclude=_ENCODER_ONLY
        ),
        CodecEntry(
            "raw-deflate", RawDeflate, "bytes", "raw deflate (RFC 1951)", exclude=_ENCODER_ONLY
        ),
        CodecEntry("brotli", Brotli, "bytes", "brotli (RFC 7932)", exclude=_ENCODER_ONLY),
        CodecEntry("zstd", Zstd, "bytes", "Zstandard (RFC 8878)", exclude=_ENCODER_ONLY),
        CodecEntry("lines", Lines, "frames", "lines, as bytes", argument="ending"),
        CodecEntry("text-lines", TextLines, "frames", "lines, decoded to text", argument="ending"),
        CodecEntry(
            "delimited",
            Delimited,
            "frames",
            "frames ended by one of several delimiters",
            argument="delimiters",
        ),
        CodecEntry(
            "length-prefixed",
            LengthPrefixed,
            "frames",
            "frames after a length field",
            argument="length_field_length",
        ),
        CodecEntry("netstring", Netstring, "frames", "netstrings (LEN:DATA,)"),
        CodecEntry(
            "octet-counted", OctetCounted, "frames", "RFC 6587 octet counting (LEN SP DATA)"
        ),
        CodecEntry("resp3", Resp, "frames", "Redis's RESP3 (and RESP2) replies"),
        CodecEntry("smtp-replies", Replies, "frames", "SMTP replies, multi-line ones whole"),
        CodecEntry("smtp-commands", Commands, "frames", "SMTP commands (verb and argument)"),
        CodecEntry(
            "smtp-data",
            Data,
            "bytes",
            "an SMTP DATA body: dot-stuffed lines to CRLF.CRLF",
            exclude=frozenset({"encode_policy"}),
        ),
        CodecEntry(
            "http-response",
            ResponseStream,
            "messages",
            "HTTP/1.1 responses, each head and its body (keep-alive, pipelined)",
        ),
        CodecEntry(
            "http-request",
            RequestStream,
            "messages",
            "HTTP/1.1 requests, each head and its body (keep-alive, pipelined)",
        ),
    ]
}


@attrs.define(frozen=True)
class StackItem:
    """One codec of a stack: its entry and the options written in the stack."""

    entry: CodecEntry
    options: Mapping[str, object]


def parse_stack(text: str, codecs: Mapping[str, CodecEntry] = CODECS) -> list[StackItem]:
    """The codecs of a stack such as ``chunked,gzip,lines:crlf``, with their written options.

    Raises StackError naming the part that is wrong: an unknown codec or option, a value the
    option does not accept, a frame codec before a byte codec, or two frame codecs.
    """
    items = []
    for part in text.split(","):
        name, *arguments = part.strip().split(":")
        entry = codecs.get(name)
        if entry is None:
            known = ", ".join(codecs)
            raise StackError(f"unknown codec {name!r} in {text!r} (known: {known})")
        options: dict[str, object] = {}
        for argument in arguments:
            key, equals, value = argument.partition("=")
            if not equals:
                if entry.argument is None:
                    raise StackError(
                        f"{name} takes no bare value ({argument!r}): write OPTION=VALUE"
                    )
                key, value = entry.argument, argument
            option = entry.option(key)
            try:
                options[option.name] = option.parse(value)
            except ValueError as error:
                raise StackError(f"{name}:{option.flag_name}: {error}") from None
        items.append(StackItem(entry, options))
    kinds = [item.entry.kind for item in items]
    if any(kind != "bytes" for kind in kinds[:-1]):
        raise StackError(
            f"in {text!r}, a frame codec can only be the last: byte codecs (chunked, gzip, "
            "...) decode bytes for the codecs after them, and a frame codec (or a message "
            "codec, http-response) ends the stack"
        )
    return items


def build(item: StackItem, flags: Mapping[str, object] = {}) -> Any:
    """The codec of ``item``: the flags' options (by field name), then the stack's own.

    Raises StackError when the codec refuses the options (a missing or invalid one).
    """
    options = {**flags, **item.options}
    try:
        return item.entry.factory(**options)
    except (TypeError, ValueError) as error:
        raise StackError(f"{item.entry.name}: {error}") from None


def describe_stack(items: Sequence[StackItem]) -> str:
    """The stack as it would be written: ``chunked,gzip,lines``."""
    return ",".join(item.entry.name for item in items)
