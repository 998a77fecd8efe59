"""The authors' reference of the lesson format, generated from its declarations.

``docs/writing-lessons.md`` holds this text between two markers and a test fails when it is
stale (``pytorch-tutor lessons reference --write docs/writing-lessons.md`` refreshes it), so
every kind, field, allowed value and default an author reads is the one the loader enforces.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
from msgspec import inspect as mi

from tutor.core import model as m
from tutor.core.checks import KINDS, Check
from tutor.core.runs import TensorArg

BEGIN = "<!-- BEGIN GENERATED REFERENCE (pytorch-tutor lessons reference) -->"
END = "<!-- END GENERATED REFERENCE -->"
TYPE_TEXT: dict[str, tuple[str, str]] = {  # fields whose YAML differs from their Python type
    "call.args": ("list of [arguments](#arguments-of-call)", "[]"),
    "call.kwargs": ("mapping of name to [argument](#arguments-of-call)", "{}"),
    "code.checks": ("list of [checks](#checks), at least 1", "required"),
    "lesson.steps": ("list of [steps](#steps), at least 1", "required"),
}


NESTED_ELSEWHERE = (m.Reject,)  # has a section of its own


def reference_markdown() -> str:
    """The reference, as Markdown."""
    parts = ["## Reference", "",
             "Generated from the tutor's own declarations; `name` and `message` are shared by "
             "every check.", ""]
    parts += _section("### course.yaml", m.CourseFile, "course")
    parts += _section("### A lesson file", m.LessonFile, "lesson")
    parts += ["### Steps", ""]
    parts += _section("#### Code steps", m.CodeStep, "code")
    parts += _section("#### Quiz steps (`kind: quiz`)", m.QuizStep, "quiz")
    parts += ["#### rejects", ""] + _table(m.Reject, "reject")
    parts += ["### Checks", "",
              "A check is a mapping whose key names its kind, for example `compare: t`.", "",
              "| kind | passes when |", "| --- | --- |"]
    parts += [f"| [`{key}`](#{key}) | {KINDS[key].summary} |" for key in sorted(KINDS)]
    parts.append("")
    for key in sorted(KINDS):
        parts += _kind(KINDS[key])
    parts += ["### Arguments of `call`", "",
              "Each argument is one of: `{tensor: {...}}`, a tensor generated fresh for every "
              "trial from the check's seed; `{expr: \"...\"}`, a Python expression evaluated in "
              "the step's namespace after the code; `{value: ...}`, or a plain value, used as "
              "it is.", "", "`tensor`:", ""]
    parts += _table(TensorArg, "tensor")
    return "\n".join(parts).rstrip() + "\n"


def _section(title: str, kind: type, key: str) -> list[str]:
    doc = _doc(kind)
    return [title, "", *([doc, ""] if doc else []), *_table(kind, key)]


def _kind(kind: type[Check]) -> list[str]:
    example = "\n".join(f"  {line}" if i else f"- {line}"
                        for i, line in enumerate(kind.example.splitlines()))
    return [f"#### {kind.key}", "", _doc(kind), "", "```yaml", example, "```", "",
            *_table(kind, kind.key, skip=("name", "message"))]


def _doc(kind: type) -> str:
    return " ".join((kind.__doc__ or "").split())


def _table(kind: type, key: str, skip: tuple[str, ...] = ()) -> list[str]:
    """One row per field, then a table for each nested mapping (a check's ``source`` rules)."""
    info = mi.type_info(kind)
    assert isinstance(info, mi.StructType)
    hidden = set(getattr(kind, "INTERNAL", ())) | set(skip)
    rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    nested: list[type] = []
    for field in info.fields:
        if field.name in hidden:
            continue
        text, default = TYPE_TEXT.get(f"{key}.{field.encode_name}") or (
            _type(field.type), _default(field))
        rows.append(f"| `{field.encode_name}` | {text} | {default} | {_meaning(field.type)} |")
        if f"{key}.{field.encode_name}" not in TYPE_TEXT:
            nested += [cls for cls in _structs(field.type) if cls not in NESTED_ELSEWHERE]
    rows.append("")
    for cls in nested:
        rows += [f"`{cls.__name__}`: {_doc(cls)}", "", *_table(cls, cls.__name__.lower())]
    return rows


def _type(info: mi.Type, plural: bool = False) -> str:
    """A field's type as a phrase an author reads: "list of whole numbers ≥ 0, at most 8"."""
    if isinstance(info, mi.Metadata):
        return _type(info.type, plural)
    if isinstance(info, mi.StrType):
        noun = "name" if info.pattern and "A-Za-z_" in info.pattern else (
            "id" if info.pattern else "text")
        return noun + ("s" if plural else "")
    if isinstance(info, (mi.IntType, mi.FloatType)):
        noun = "whole number" if isinstance(info, mi.IntType) else "number"
        return noun + ("s" if plural else "") + _bounds(info)
    if isinstance(info, mi.BoolType):
        return "true/false" + (" values" if plural else "")
    if isinstance(info, mi.LiteralType):
        values = [f"`{v}`" for v in info.values]
        return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]
    if isinstance(info, (mi.VarTupleType, mi.ListType)):
        return ("lists" if plural else "list") + f" of {_type(info.item_type, True)}" + \
            _length(info)
    if isinstance(info, mi.TupleType):
        return "[" + ", ".join(_type(t) for t in info.item_types) + "]"
    if isinstance(info, mi.DictType):
        return (f"mapping of {_type(info.key_type)} to {_type(info.value_type)}")
    if isinstance(info, mi.UnionType):
        kinds = [_type(t, plural) for t in info.types if not isinstance(t, mi.NoneType)]
        text = " or ".join(kinds)
        return f"{text}; or null" if info.includes_none and "," in text else (
            f"{text} or null" if info.includes_none else text)
    if isinstance(info, mi.StructType):
        return f"mapping{'s' if plural else ''} ({info.cls.__name__})"
    return "any value" if isinstance(info, mi.AnyType) else type(info).__name__


def _bounds(info: Any) -> str:
    parts = [f"{sign} {value:g}" for sign, value in (
        (">", info.gt), ("≥", info.ge), ("<", info.lt), ("≤", info.le)) if value is not None]
    return (" " + " and ".join(parts)) if parts else ""


def _length(info: Any) -> str:
    parts = []
    if getattr(info, "min_length", None):
        parts.append(f"at least {info.min_length}")
    if getattr(info, "max_length", None):
        parts.append(f"at most {info.max_length}")
    return f", {' and '.join(parts)}" if parts else ""


def _structs(info: mi.Type) -> list[type]:
    """The declarations a field's type holds (a nested mapping gets its own table)."""
    if isinstance(info, mi.Metadata):
        return _structs(info.type)
    if isinstance(info, mi.StructType):
        return [info.cls]
    if isinstance(info, (mi.VarTupleType, mi.ListType)):
        return _structs(info.item_type)
    if isinstance(info, mi.DictType):
        return _structs(info.value_type)
    if isinstance(info, mi.UnionType):
        return [cls for t in info.types for cls in _structs(t)]
    return []


def _default(field: mi.Field) -> str:
    if field.required:
        return "required"
    default = field.default
    if default is msgspec.NODEFAULT:
        default = field.default_factory()
    if default is None:
        return "null"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, (tuple, list)):
        return "[]" if not default else str(list(default))
    if isinstance(default, dict):
        return "{}" if not default else str(default)
    if isinstance(default, str):
        return f'`"{default}"`'
    return f"{default:g}" if isinstance(default, float) else str(default)


def _meaning(info: mi.Type) -> str:
    """The field's description, from the outermost ``Meta`` that has one."""
    while isinstance(info, mi.Metadata):
        description = (info.extra_json_schema or {}).get("description")
        if description:
            return str(description).replace("|", "\\|")
        info = info.type
    if isinstance(info, mi.UnionType):
        for member in info.types:
            found = _meaning(member)
            if found:
                return found
    return ""


def with_reference(document: str) -> str:
    """``document`` with its generated block replaced by the current reference."""
    block = f"{BEGIN}\n\n{reference_markdown()}\n{END}"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(document):
        return document.rstrip() + "\n\n" + block + "\n"
    return pattern.sub(lambda _: block, document)


def write_reference(path: Path) -> bool:
    """Refresh the generated block of ``path``; True when it changed."""
    old = path.read_text(encoding="utf-8")
    new = with_reference(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
