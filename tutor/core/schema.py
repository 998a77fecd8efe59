"""JSON Schemas of the lesson format, version 1.

The loader validates every file against these, so the schema that
``pytorch-tutor lessons schema`` prints for editors is exactly what the tutor enforces.
"""

from __future__ import annotations

from typing import Any

FORMAT_VERSION = 1

_ID = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_.-]*$", "maxLength": 80}
_TEXT = {"type": "string"}
_CODE = {"type": "string", "description": "Python source"}
_NUM = {"type": "number"}
_NAME = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}
_SHAPE = {"type": "array", "items": {"type": ["integer", "null"], "minimum": 0}, "maxItems": 8}
_AXES = {"type": "array", "items": {"type": "string"}, "maxItems": 8}
_DTYPES = [
    "float16", "float32", "float64", "bfloat16", "complex64", "complex128",
    "int8", "int16", "int32", "int64", "uint8", "bool",
]

_COMMON = {
    "name": {"type": "string", "description": "Title shown for this check"},
    "message": {"type": "string", "description": "Extra advice shown when the check fails"},
}

_TENSOR_ARG = {
    "type": "object",
    "additionalProperties": False,
    "required": ["shape"],
    "properties": {
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": 8},
        "dtype": {"enum": _DTYPES},
        "low": _NUM,
        "high": _NUM,
        "requires_grad": {"type": "boolean"},
    },
}

_ARG = {
    "description": "A generated tensor, an expression, or a literal value",
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["tensor"],
            "properties": {"tensor": _TENSOR_ARG},
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["expr"],
            "properties": {"expr": {"type": "string"}},
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["value"],
            "properties": {"value": {}},
        },
        {"type": ["number", "string", "boolean", "null", "array"]},
    ],
}


def _check(key: str, key_schema: dict, description: str, **extra: Any) -> dict:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": [key],
        "properties": {key: key_schema, **_COMMON, **extra},
    }


_TOLERANCE = {"rtol": _NUM, "atol": _NUM}

CHECK_SCHEMAS: dict[str, dict] = {
    "compare": _check(
        "compare", _NAME, "The learner's variable equals the reference solution's",
        axes=_AXES, **_TOLERANCE,
    ),
    "expect": _check(
        "expect", _NAME, "Properties of a learner variable",
        shape=_SHAPE, axes=_AXES, dtype={"enum": _DTYPES},
        device={"enum": ["cpu", "cuda", "meta", "mps", "run"]},
        requires_grad={"type": "boolean"}, is_leaf={"type": "boolean"},
        grad={"type": "boolean"}, grad_shape=_SHAPE,
        type={"enum": ["int", "float", "str", "bool", "list", "tuple", "dict", "tensor",
                       "ndarray", "module", "none"]},
        value={"type": ["integer", "number", "string", "boolean"]},
    ),
    "call": _check(
        "call", _NAME, "Call a learner function on fresh inputs; compare with the reference",
        args={"type": "array", "items": _ARG},
        kwargs={"type": "object", "additionalProperties": _ARG},
        trials={"type": "integer", "minimum": 1, "maximum": 20},
        axes=_AXES, **_TOLERANCE,
    ),
    "module": _check(
        "module", _NAME, "Structure and behaviour of an nn.Module variable or class",
        params={"type": "integer", "minimum": 0},
        layers={
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        },
        input=_SHAPE, output=_SHAPE,
        same_as_reference={"type": "boolean"}, like_reference={"type": "boolean"},
        **_TOLERANCE,
    ),
    "metric": _check(
        "metric", {"type": "string"}, "An expression evaluated by the judge after the run",
        learner={"type": "array", "items": _NAME},
        min=_NUM, max=_NUM,
    ),
    "stdout_contains": _check("stdout_contains", {"type": "string"}, "The output contains a text"),
    "stdout_matches": _check(
        "stdout_matches", {"type": "string"}, "The output matches a regular expression"
    ),
    "source": _check(
        "source",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "uses": {"type": "array", "items": {"type": "string"}},
                "avoids": {"type": "array", "items": {"type": "string"}},
                "no_loops": {"type": "boolean"},
                "made_from": {
                    "type": "object",
                    "description": "variable -> names its value must be computed from",
                    "propertyNames": _NAME,
                    "additionalProperties": {
                        "type": "array", "items": _NAME, "minItems": 1},
                },
            },
        },
        "Rules on the source, checked without running it",
    ),
}

_REJECT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code", "feedback"],
    "properties": {
        "code": _CODE,
        "feedback": {"type": "string", "description": "Text the feedback must contain"},
    },
}

_STEP_COMMON = {
    "id": _ID,
    "title": _TEXT,
    "explanation": {"type": "string", "description": "Markdown"},
    "hints": {"type": "array", "items": _TEXT},
}

CODE_STEP = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "starter", "solution", "checks"],
    "properties": {
        **_STEP_COMMON,
        "kind": {"const": "code"},
        "setup": _CODE,
        "starter": _CODE,
        "solution": _CODE,
        "checks": {"type": "array", "minItems": 1, "items": {"type": "object"}},
        "accepts": {"type": "array", "items": _CODE},
        "rejects": {"type": "array", "items": _REJECT},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        "requires": {"enum": ["any", "cuda"]},
        "data": {"type": "array", "items": {"enum": ["fashion-mnist"]}},
    },
}

QUIZ_STEP = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "kind", "question", "choices", "answer"],
    "properties": {
        **_STEP_COMMON,
        "kind": {"const": "quiz"},
        "question": {"type": "string", "description": "Markdown"},
        "choices": {"type": "array", "minItems": 2, "items": _TEXT},
        "answer": {
            "description": "0-based index of the correct choice, or a list of them",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
            ],
        },
        "why": {"type": "string", "description": "Markdown shown after answering"},
    },
}

LESSON = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pytorch-tutor lesson",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "steps"],
    "properties": {
        "id": _ID,
        "title": _TEXT,
        "summary": _TEXT,
        "steps": {"type": "array", "minItems": 1, "items": {"type": "object"}},
    },
}

COURSE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "pytorch-tutor course",
    "type": "object",
    "additionalProperties": False,
    "required": ["format", "id", "title", "lessons"],
    "properties": {
        "format": {"const": FORMAT_VERSION},
        "id": _ID,
        "title": _TEXT,
        "description": _TEXT,
        "lessons": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "description": "lesson file name without .yaml"},
        },
    },
}


def full_schema() -> dict:
    """One schema an editor can use for lesson files (steps and checks fully described)."""
    lesson = dict(LESSON)
    code_step = dict(CODE_STEP, properties=dict(CODE_STEP["properties"]))
    code_step["properties"]["checks"] = {
        "type": "array",
        "minItems": 1,
        "items": {"oneOf": list(CHECK_SCHEMAS.values())},
    }
    quiz = dict(QUIZ_STEP)
    lesson["properties"] = dict(
        LESSON["properties"],
        steps={"type": "array", "minItems": 1, "items": {"oneOf": [code_step, quiz]}},
    )
    lesson["$defs"] = {"course": COURSE}
    return lesson
