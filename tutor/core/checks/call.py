"""``call``: call a learner function on fresh inputs and compare with the reference's."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, LessonError, Outcome
from tutor.core.declare import DeclError, Path, convert, describe_path
from tutor.core.feedback import clip, describe, describe_difference, join_words, unusable
from tutor.core.fields import Atol, Axes, Name, Rtol
from tutor.core.runs import Arg, CallProbe, ExprArg, TensorArg, ValueArg
from tutor.core.values import Called, Opaque, Raised, Tensor

ARG_FORMS = "{tensor: {shape: [...]}}, {expr: ...}, {value: ...} or a plain value"


class Call(Check, frozen=True, kw_only=True):
    """The learner's function returns the same as the reference's on inputs generated fresh
    for each trial and each check, so a hard-coded answer cannot pass. An argument is a
    generated `tensor`, an `expr` (Python evaluated in the namespace after the code), a
    `value`, or a plain literal."""

    key: ClassVar[str] = "call"
    summary: ClassVar[str] = "the function returns what the reference's returns, on new inputs"
    example: ClassVar[str] = ("call: f\nargs: [{tensor: {shape: [3, 4], dtype: float32, "
                              "low: 0, high: 1}}, 2]\ntrials: 3")

    function: Name = msgspec.field(name="call")
    args: tuple[Arg, ...] = ()
    kwargs: tuple[tuple[str, Arg], ...] = ()
    trials: Annotated[int, Meta(ge=1, le=20, description="calls, each on new inputs")] = 3
    rtol: Rtol = 1e-5
    atol: Atol = 1e-8
    axes: Axes = ()

    @classmethod
    def from_raw(cls, raw: dict[str, Any], path: Path) -> Call:
        plain = {key: value for key, value in raw.items() if key not in ("args", "kwargs")}
        call = convert(plain, cls, path, what="a call check")
        args = raw.get("args", [])
        kwargs = raw.get("kwargs", {})
        if not isinstance(args, list):
            raise DeclError.at((*path, "args"),
                               f"{describe_path((*path, 'args'))} must be a list of arguments")
        if not isinstance(kwargs, dict):
            raise DeclError.at((*path, "kwargs"),
                               f"{describe_path((*path, 'kwargs'))} must map names to arguments")
        return msgspec.structs.replace(
            call,
            args=tuple(parse_arg(a, (*path, "args", i)) for i, a in enumerate(args)),
            kwargs=tuple((str(k), parse_arg(a, (*path, "kwargs", k))) for k, a in kwargs.items()),
        )

    @classmethod
    def json_schema(cls, generated: dict[str, Any]) -> dict[str, Any]:
        """Arguments are written as forms (``{tensor: ...}``), keyword arguments as a mapping."""
        argument = {"$ref": "#/$defs/Argument"}
        generated["properties"]["args"] = {
            "description": "positional arguments", "type": "array", "items": argument,
            "default": []}
        generated["properties"]["kwargs"] = {
            "description": "keyword arguments: name -> argument", "type": "object",
            "additionalProperties": argument, "default": {}}
        return generated

    @classmethod
    def schema_defs(cls) -> dict[str, Any]:
        return {"Argument": ARGUMENT_SCHEMA}

    def default_title(self) -> str:
        return f"`{self.function}(...)` returns the right result on new inputs"

    def probes(self, index: int) -> list[CallProbe]:
        return [CallProbe(id=f"call:{index}", name=self.function, args=self.args,
                          kwargs=self.kwargs, trials=self.trials)]

    def needs_reference(self) -> bool:
        return True

    def judge(self, index: int, outcome: Outcome) -> str | None:
        name = f"`{self.function}`"
        expected = outcome.theirs(f"call:{index}", name)
        if not isinstance(expected, Called):
            raise LessonError(f"the reference's {name} is {describe(expected)}, not a function")
        got = outcome.mine(f"call:{index}")
        problem = unusable(got, name)
        if problem:
            return problem
        if not isinstance(got, Called) or len(got.results) != len(expected.results):
            return (f"{name} is {describe(got)}, expected a function: define it with "
                    f"`def {self.function}(...):`.")
        for trial, (mine, theirs) in enumerate(zip(got.results, expected.results, strict=True)):
            inputs = self._inputs(expected, trial)
            if isinstance(theirs, Raised):
                raise LessonError(
                    f"the reference {name} raised ({inputs[0].lower()}{inputs[1:]}):\n"
                    f"{theirs.error.format('Traceback (the reference solution):')}")
            problem = describe_difference(mine, theirs, rtol=self.rtol, atol=self.atol,
                                          axes=self.axes, what=f"`{self.function}(...)`")
            if problem:
                again = (f" (trial {trial + 1} of {len(expected.results)}, new random values)"
                         if trial else "")
                return f"{inputs}{again}: {problem}"
        return None

    def _inputs(self, called: Called, trial: int) -> str:
        """"For <the arguments>", from what the reference was really called with."""
        if trial < len(called.args):
            parts = [show_input(a) for a in called.args[trial]]
            pairs = called.kwargs[trial] if trial < len(called.kwargs) else []
            parts += [f"{key}={show_input(a)}" for key, a in pairs]
        else:
            parts = [describe_arg(a) for a in self.args]
            parts += [f"{key}={describe_arg(a)}" for key, a in self.kwargs]
        return f"For {join_words(parts)}" if parts else "When called with no arguments"


def parse_arg(raw: Any, path: Path) -> Arg:
    """One argument as an author writes it: a generated tensor, an expression, a value."""
    if not isinstance(raw, dict):
        return ValueArg(_plain(raw))
    if len(raw) != 1 or next(iter(raw)) not in ("tensor", "expr", "value"):
        keys = ", ".join(map(str, raw)) or "none"
        raise DeclError.at(path, f"{describe_path(path)}: an argument is {ARG_FORMS} (found "
                                 f"the keys: {keys})")
    form, body = next(iter(raw.items()))
    if form == "tensor":
        return convert(body, TensorArg, (*path, "tensor"), what="a generated tensor")
    if form == "expr":
        if not isinstance(body, str):
            raise DeclError.at((*path, "expr"), f"{describe_path((*path, 'expr'))} must be a "
                                                "Python expression (a text)")
        return convert({"expr": body}, ExprArg, path)
    return ValueArg(_plain(body))


def _plain(value: Any) -> Any:
    """Located YAML containers as plain lists and dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def describe_arg(arg: Arg) -> str:
    """How an argument was declared, when the real inputs are not known."""
    if isinstance(arg, TensorArg):
        return f"a {arg.dtype} tensor of shape {list(arg.shape)}"
    if isinstance(arg, ExprArg):
        return f"`{arg.expr}`"
    return repr(arg.value)


def show_input(value: Any) -> str:
    """One input a function was called with: a tensor by its kind, anything else as code."""
    if isinstance(value, Tensor):
        return describe(value)
    if isinstance(value, Opaque):
        return clip(value.repr)
    return clip(repr(value))


ARGUMENT_SCHEMA: dict[str, Any] = {
    "description": "A generated tensor, an expression, or a literal value",
    "anyOf": [
        {"type": "object", "additionalProperties": False, "required": ["tensor"],
         "properties": {"tensor": {"$ref": "#/$defs/TensorArg"}}},
        {"type": "object", "additionalProperties": False, "required": ["expr"],
         "properties": {"expr": {"type": "string", "description": "a Python expression"}}},
        {"type": "object", "additionalProperties": False, "required": ["value"],
         "properties": {"value": {}}},
        {"type": ["number", "string", "boolean", "null", "array"]},
    ],
}
