"""How the lesson format is declared: msgspec Structs whose fields carry types, defaults and
JSON Schema, and the errors they give an author.

A declaration is a frozen Struct. Converting YAML data into one reports a problem with a
path (``checks[2].rtol``) that the loader turns into ``file:line:column``; unknown fields are
found first, all at once, each with a "did you mean" when a field is close. Cross-field rules
live in ``__post_init__`` and raise ``FieldError`` naming the field they concern.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import msgspec
from msgspec import inspect as mi

T = TypeVar("T")
Path = tuple[str | int, ...]


class Declared(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every declaration in the lesson format.

    ``INTERNAL`` names fields the loader fills in (a step's lesson, its place in the file):
    they are not part of the format, so YAML may not set them and the schema leaves them out.
    """

    INTERNAL: ClassVar[tuple[str, ...]] = ()


class FieldError(ValueError):
    """A rule about one field, raised from ``__post_init__``."""

    def __init__(self, field: str | Sequence[str | int], message: str):
        super().__init__(message)
        self.path: Path = (field,) if isinstance(field, str) else tuple(field)


@dataclass(frozen=True)
class Issue:
    """One problem: the path of the data it concerns (``on_key``: the key itself, for an
    unknown field) and what is wrong."""

    path: Path
    message: str
    on_key: bool = False


class DeclError(ValueError):
    """Declarations that do not hold."""

    def __init__(self, issues: list[Issue]):
        super().__init__("; ".join(issue.message for issue in issues))
        self.issues = issues

    @classmethod
    def at(cls, path: Path, message: str) -> DeclError:
        return cls([Issue(path, message)])


def convert(raw: Any, kind: type[T], path: Path = (), what: str = "") -> T:
    """``raw`` as a ``kind``; unknown fields first, then the first type or rule problem."""
    unknown = list(unknown_fields(raw, kind, path, what))
    if unknown:
        raise DeclError(unknown)
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        raise _located(exc, path, raw, kind) from None


_AT = re.compile(r"^(?P<message>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?$",
                 re.DOTALL)
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[(\.\.\.)\]")
ANY_KEY = "[...]"  # in a path: a mapping's value whose key msgspec does not name


def _located(exc: msgspec.ValidationError, base: Path, raw: Any, kind: Any) -> DeclError:
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    message, where = match["message"], match["path"] or ""
    # findall gives "" (not None) for the groups that did not take part
    inner = _named([name or (ANY_KEY if any_key else int(index))
                    for name, index, any_key in _STEP.findall(where)], raw)
    path = list(base) + inner
    cause = exc.__cause__
    if isinstance(cause, FieldError):
        path += list(cause.path)
    if message.startswith("Invalid enum value "):  # say which values are allowed
        choices = [str(c) for c in _choices(mi.type_info(kind), inner)]
        if choices:
            value = message.removeprefix("Invalid enum value ")
            return DeclError.at(tuple(path), f"{describe_path(path)} cannot be {value}"
                                             f"{suggest(str(_at(raw, inner)), choices)}")
    return DeclError.at(tuple(path), _plain(message, path, key=bool(match["key"])))


def _at(raw: Any, path: Sequence[str | int]) -> Any:
    for step in path:
        try:
            raw = raw[step]
        except (KeyError, IndexError, TypeError):
            return ""
    return raw


def _choices(info: mi.Type, path: Sequence[str | int]) -> tuple[Any, ...]:
    """The values a ``Literal`` field allows, found by following ``path`` through the types."""
    for step in (*path, None):
        while isinstance(info, (mi.Metadata, mi.UnionType)):
            if isinstance(info, mi.Metadata):
                info = info.type
                continue
            kinds = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(kinds) != 1:
                return ()
            info = kinds[0]
        if step is None:
            break
        if isinstance(info, mi.StructType):
            found = [f.type for f in info.fields if f.encode_name == step]
            if not found:
                return ()
            info = found[0]
        elif isinstance(info, (mi.ListType, mi.VarTupleType)):
            info = info.item_type
        elif isinstance(info, mi.DictType):
            info = info.value_type
        else:
            return ()
    return info.values if isinstance(info, mi.LiteralType) else ()


def _named(path: list[str | int], raw: Any) -> list[str | int]:
    """``path`` with the key of a one-entry mapping in place of msgspec's ``[...]``."""
    node = raw
    for depth, step in enumerate(path):
        if step == ANY_KEY and isinstance(node, dict) and len(node) == 1:
            path[depth] = step = str(next(iter(node)))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return path


def _plain(message: str, path: Sequence[str | int], key: bool = False) -> str:
    """msgspec's wording, as an author reads it: "Expected `int` >= 0" -> "must be an int >= 0"."""
    field = f"each key of {describe_path(path)}" if key else describe_path(path)
    found = re.match(r"Expected `(?P<want>[^`]+)`(?P<rest>.*?)(?:, got `(?P<got>[^`]+)`)?$",
                     message)
    if found:
        want = _TYPE_WORDS.get(found["want"], found["want"])
        got = f", not {_TYPE_WORDS.get(found['got'], found['got'])}" if found["got"] else ""
        rest = found["rest"]
        pattern = re.fullmatch(r" matching regex '(.*)'", rest)
        if pattern and pattern[1] in PATTERN_WORDS:
            want, rest = PATTERN_WORDS[pattern[1]], ""
        return f"{field} must be {want}{rest}{got}"
    missing = re.match(r"Object missing required field `([^`]+)`", message)
    if missing:
        where = f" in {field}" if path else ""
        return f"missing required field {missing[1]!r}{where}"
    return f"{field}: {message}" if path else message


# The patterns of tutor.core.fields, as an author reads them.
PATTERN_WORDS = {
    r"^[A-Za-z_][A-Za-z0-9_]*$": "a Python variable name (letters, digits and _, not starting "
                                 "with a digit)",
    r"^[a-z0-9][a-z0-9_.-]*$": "an id: lowercase letters, digits, '.', '_' and '-'",
}
_TYPE_WORDS = {
    "int": "a whole number", "float": "a number", "str": "a text", "bool": "true or false",
    "array": "a list", "object": "a mapping", "null": "empty (null)",
    "int | null": "a whole number or null", "float | null": "a number or null",
    "str | null": "a text or null", "bool | null": "true, false or null",
}


def describe_path(path: Sequence[str | int]) -> str:
    """``checks[2].rtol``, or "the file" for the top level."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += step if step == ANY_KEY or not text else f".{step}"
    return text or "the file"


# --------------------------------------------------------------------------- unknown fields


def unknown_fields(raw: Any, kind: Any, path: Path = (), what: str = "") -> Iterator[Issue]:
    """Each key of ``raw`` that ``kind`` has no field for, recursively, with a suggestion."""
    info = kind if isinstance(kind, mi.Type) else type_info(kind)
    yield from _walk(raw, info, path, what)


@functools.cache
def type_info(kind: type) -> mi.Type:
    """msgspec's description of a declaration, built once (it costs a millisecond)."""
    return mi.type_info(kind)


def _walk(raw: Any, info: mi.Type, path: Path, what: str) -> Iterator[Issue]:
    if isinstance(info, mi.Metadata):
        yield from _walk(raw, info.type, path, what)
    elif isinstance(info, mi.StructType) and isinstance(raw, dict):
        yield from _struct_keys(raw, info, path, what)
    elif isinstance(info, (mi.ListType, mi.VarTupleType)) and isinstance(raw, list):
        for index, item in enumerate(raw):
            yield from _walk(item, info.item_type, (*path, index), "")
    elif isinstance(info, mi.DictType) and isinstance(raw, dict):
        for key, item in raw.items():
            yield from _walk(item, info.value_type, (*path, key), "")
    elif isinstance(info, mi.UnionType):
        structs = [t for t in info.types if isinstance(t, (mi.StructType, mi.Metadata))]
        if len(structs) == 1 and isinstance(raw, dict):
            yield from _walk(raw, structs[0], path, what)


def _struct_keys(raw: dict, info: mi.StructType, path: Path, what: str) -> Iterator[Issue]:
    internal = set(getattr(info.cls, "INTERNAL", ()))
    fields = {f.encode_name: f for f in info.fields if f.name not in internal}
    place = f" in {what}" if what else (f" in {describe_path(path)}" if path else "")
    for key in raw:
        if key in fields:
            yield from _walk(raw[key], fields[key].type, (*path, key), "")
            continue
        yield Issue((*path, key), f"unknown field {key!r}{place}{suggest(str(key), fields)}",
                    on_key=True)


def suggest(word: str, choices: Sequence[str] | dict[str, Any]) -> str:
    """": did you mean 'solution'?" when one choice is close, else the allowed choices."""
    names = sorted(choices)
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if close:
        return f": did you mean {close[0]!r}?"
    return f" (allowed: {', '.join(names)})"
