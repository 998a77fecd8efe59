"""The JSON Schema of the lesson format, generated from its declarations.

``pytorch-tutor lessons schema`` prints it for editors (the YAML language server completes and
validates with it); the loader converts with the same declarations, so the schema and what
the tutor enforces cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from tutor.core import model as m
from tutor.core.checks import KINDS, Check

FORMAT_VERSION = 1
REF = "#/$defs/{name}"


def full_schema() -> dict[str, Any]:
    """One schema for lesson files, with the course file's schema under ``$defs.course``."""
    kinds = [KINDS[key] for key in sorted(KINDS)]
    roots = [m.LessonFile, m.CourseFile, m.CodeStep, m.QuizStep, *kinds]
    _, defs = msgspec.json.schema_components(roots, ref_template=REF)
    defs = copy.deepcopy(defs)
    for cls in (m.CodeStep, m.QuizStep, m.Step, m.Figure):
        _drop_internal(defs.get(cls.__name__, {}), cls.INTERNAL)
    _drop_tag(defs["TensorArg"])
    for kind in kinds:
        defs.update(kind.schema_defs())
    steps = {"oneOf": [{"$ref": REF.format(name="CodeStep")},
                       {"$ref": REF.format(name="QuizStep")}]}
    lesson = defs["LessonFile"]
    lesson["properties"]["steps"]["items"] = steps
    lesson["properties"]["steps"].pop("default", None)  # the loader requires steps
    lesson["required"] = sorted({*lesson.get("required", []), "steps"})
    checks = defs["CodeStep"]["properties"]["checks"]
    checks["items"] = {"oneOf": [_kind_schema(defs, kind) for kind in kinds]}
    checks["minItems"] = 1
    checks.pop("default", None)
    defs["CodeStep"]["required"] = sorted({*defs["CodeStep"].get("required", []), "checks"})
    for kind in kinds:
        defs.pop(kind.__name__)
    defs["course"] = defs.pop("CourseFile")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **defs.pop("LessonFile"),
        "title": "pytorch-tutor lesson",  # after: the generated one is the class's name
        "$defs": defs,
    }
    return _pruned(_clean(schema))


def _kind_schema(defs: dict[str, Any], kind: type[Check]) -> dict[str, Any]:
    """A kind's schema, with the key that selects it first."""
    schema = kind.json_schema(copy.deepcopy(defs[kind.__name__]))
    schema["title"] = f"{kind.key} check"
    properties = schema["properties"]
    schema["properties"] = {kind.key: properties.pop(kind.key), **properties}
    return schema


def _drop_internal(schema: dict[str, Any], internal: tuple[str, ...]) -> None:
    for name in internal:
        schema.get("properties", {}).pop(name, None)
        if name in schema.get("required", []):
            schema["required"].remove(name)


def _drop_tag(schema: dict[str, Any]) -> None:
    """A tagged Struct decoded on its own needs no tag: YAML does not write one."""
    schema["properties"].pop("type", None)
    schema["required"] = [r for r in schema.get("required", []) if r != "type"]


def _clean(node: Any) -> Any:
    """Drop ``None`` values (keys an ``extra_json_schema`` removes) and empty defaults."""
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


def _pruned(schema: dict[str, Any]) -> dict[str, Any]:
    """Without the definitions nothing refers to any more."""
    defs = schema["$defs"]
    used: set[str] = set()
    todo: list[Any] = [{k: v for k, v in schema.items() if k != "$defs"}]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in used:
                    used.add(name)
                    todo.append(defs.get(name))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    schema["$defs"] = {k: v for k, v in defs.items() if k in used or k == "course"}
    return schema
