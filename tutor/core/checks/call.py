"""``call``: call a learner function on fresh inputs and compare with the reference's."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, LessonError, Outcome
from tutor.core.declare import DeclError, FieldError, Path, convert, describe_path
from tutor.core.feedback import (
    Finding,
    article,
    clip,
    describe,
    difference,
    join_words,
    small_value,
    unusable,
)
from tutor.core.fields import Atol, Axes, ExactTypes, ExtraKeys, Name, Rtol, Size
from tutor.core.runs import Arg, CallProbe, ChoiceArg, ExprArg, TensorArg, ValueArg
from tutor.core.values import Called, Module, Opaque, Raised, Tensor

ARG_FORMS = ("{tensor: {shape: [...]}}, {expr: ..., as: ...}, {value: ...}, {choose: [...]} "
             "or a plain value")


class Call(Check, frozen=True, kw_only=True):
    """The learner's function returns the same as the reference's on inputs generated fresh
    for each trial and each check, so a hard-coded answer cannot pass, and leaves its inputs
    as they were. An argument is a generated `tensor` (whose sizes may vary per trial, see
    `sizes`), an `expr` (Python evaluated in the namespace after the code, named in messages
    by `as`), a `value`, one of several values per trial (`choose`), or a plain literal."""

    key: ClassVar[str] = "call"
    summary: ClassVar[str] = "the function returns what the reference's returns, on new inputs"
    example: ClassVar[str] = ("call: f\nargs: [{tensor: {shape: [3, 4], dtype: float32, "
                              "low: 0, high: 1}}, 2]\ntrials: 3")

    function: Name = msgspec.field(name="call")
    shown_as: Annotated[str, Meta(
        description="how messages name the function, when the check calls a helper of the "
                    "step's setup rather than the learner's own (\"your Lizard class\")")
    ] = msgspec.field(name="as", default="")
    sizes: Annotated[dict[Name, Annotated[tuple[Size, ...], Meta(min_length=1)]], Meta(
        description="named sizes for tensor shapes: trial k takes the k-th value of each "
                    "(cycling), e.g. {B: [1, 7, 64]} tries a batch of one too")] = {}
    args: tuple[Arg, ...] = ()
    kwargs: tuple[tuple[str, Arg], ...] = ()
    trials: Annotated[int, Meta(ge=1, le=20, description="calls, each on new inputs")] = 3
    may_modify_inputs: Annotated[bool, Meta(
        description="the function may change its arguments in place (by default it must "
                    "leave the caller's tensors as they were)")] = False
    exact_types: ExactTypes = False
    extra_keys: ExtraKeys = False
    rtol: Rtol = 1e-5
    atol: Atol = 1e-8
    axes: Axes = ()

    def __post_init__(self) -> None:
        used: set[str] = set()
        places: list[tuple[str, int | str, Arg]] = [
            ("args", i, a) for i, a in enumerate(self.args)]
        places += [("kwargs", key, a) for key, a in self.kwargs]
        for field, at, arg in places:
            if isinstance(arg, TensorArg):
                names = {s for s in arg.shape if isinstance(s, str)}
                unknown = sorted(names - set(self.sizes))
                if unknown:
                    raise FieldError((field, at, "tensor", "shape"),
                                     f"the size {unknown[0]!r} is not in `sizes`")
                try:
                    arg.check_size(self.sizes)
                except FieldError as exc:
                    raise FieldError((field, at, "tensor", "shape"), str(exc)) from None
                used |= names
        unused = sorted(set(self.sizes) - used)
        if unused and (self.args or self.kwargs):  # from_raw checks again with the arguments
            raise FieldError("sizes", f"the size {unused[0]!r} is not used by any argument")

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
        parsed_args = tuple(parse_arg(a, (*path, "args", i)) for i, a in enumerate(args))
        parsed_kwargs = tuple((str(k), parse_arg(a, (*path, "kwargs", k)))
                              for k, a in kwargs.items())
        try:  # replace() runs the rules on sizes again, now with the arguments
            return msgspec.structs.replace(call, args=parsed_args, kwargs=parsed_kwargs)
        except FieldError as exc:
            raise DeclError.at((*path, *exc.path), f"{describe_path(path)}: {exc}") from None

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
        return f"{self._called()} returns the right result on new inputs"

    def probes(self, index: int) -> list[CallProbe]:
        return [CallProbe(id=f"call:{index}", name=self.function, args=self.args,
                          kwargs=self.kwargs, trials=self.trials,
                          sizes=tuple((name, tuple(values)) for name, values in
                                      sorted(self.sizes.items())))]

    def needs_reference(self) -> bool:
        return True

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        name = self.shown_as or f"`{self.function}`"
        expected = outcome.theirs(f"call:{index}", name)
        if not isinstance(expected, Called):
            raise LessonError(f"the reference's {name} is {describe(expected)}, not a function")
        got = outcome.mine(f"call:{index}")
        problem = unusable(got, name, outcome.clues)
        if problem:
            return problem
        if not isinstance(got, Called) or len(got.results) != len(expected.results):
            return Finding(f"{name} is {describe(got)}, expected a function: define it with "
                           f"`def {self.function}(...):`.", "type")
        constant = self._same_for_every_input(got, expected)
        if constant:
            return constant
        for trial, theirs in enumerate(expected.results):
            inputs = self._inputs(expected, trial)
            if isinstance(theirs, Raised):
                raise LessonError(
                    f"the reference {name} raised ({inputs[0].lower()}{inputs[1:]}):\n"
                    f"{theirs.error.format('Traceback (the reference solution):')}")
            found = self._trial(got, expected, trial, outcome)
            if found:
                fresh = ", new random values" if self._random_inputs() else ""
                again = f" (trial {trial + 1} of {len(expected.results)}{fresh})" if trial else ""
                return found.prefixed(f"{inputs}{again}: ")
        return None

    def _trial(self, got: Called, expected: Called, trial: int,
               outcome: Outcome) -> Finding | None:
        """What is wrong with one call: its result, or what it did to its inputs."""
        mine, theirs = got.results[trial], expected.results[trial]
        what = self._called()
        others = tuple(r for k, r in enumerate(expected.results) if k != trial)
        clues = replace(outcome.clues, others=others)
        found = difference(mine, theirs, rtol=self.rtol, atol=self.atol, axes=self.axes,
                           what=what, clues=clues, exact_types=self.exact_types,
                           extra_keys=self.extra_keys)
        if found is not None:
            return found
        changed = got.mutated[trial] if trial < len(got.mutated) else []
        if changed and not self.may_modify_inputs:
            names = join_words([f"`{name}`" for name in changed])
            return Finding(
                f"{what} returns the right result but changes its input {names} in place (an "
                "in-place method such as unsqueeze_() or div_(), or `-=`/`+=` on a tensor): the "
                "caller's tensor must stay as it was. Work on a copy, or use the operation "
                "that returns a new tensor (unsqueeze(), /, x = x - ...).", "inputs")
        return None

    def _random_inputs(self) -> bool:
        """Whether the trials' inputs are drawn at random (not chosen by the author)."""
        return any(isinstance(a, TensorArg) for a in [*self.args, *(a for _, a in self.kwargs)])

    def _same_for_every_input(self, got: Called, expected: Called) -> Finding | None:
        """The learner's function gave one result for every trial where the reference's
        results differ: it does not depend on its inputs (a hard-coded or outside value)."""
        mine, theirs = got.results, expected.results
        if len(mine) < 2 or any(isinstance(r, Raised) for r in [*mine, *theirs]):
            return None
        first = difference(mine[0], theirs[0], rtol=self.rtol, atol=self.atol,
                           extra_keys=self.extra_keys)
        # A result of the wrong kind (None from a missing return), one whose cause the
        # difference names, or all zeros (a count that never matches) has a more specific
        # cause than "ignores its inputs".
        if (first is not None and (first.mode != "values" or first.named)) or _all_zero(
                mine[0]):
            return None
        # The same to the last bit: a loose tolerance would take close results for one.
        same = all(difference(r, mine[0], rtol=0.0, atol=0.0) is None for r in mine[1:])
        differ = any(difference(r, theirs[0], rtol=self.rtol, atol=self.atol) is not None
                     for r in theirs[1:])
        wrong = any(difference(m, t, rtol=self.rtol, atol=self.atol,
                               extra_keys=self.extra_keys) is not None
                    for m, t in zip(mine, theirs, strict=False))
        if not (same and differ and wrong):
            return None
        value = _short_list([small_value(mine[0], 6)])
        wanted = _short_list([small_value(r, 6) for r in theirs])
        each, need = ((f" ({value} each time)", f"they need {wanted}")
                      if value and wanted else ("", "each needs its own"))
        return Finding(
            f"{self._called()} returns the same result for each of the {len(mine)} inputs the "
            f"check tried{each}, where {need}: does it use its arguments, or a value from "
            "outside the function (a global, a number typed in)?", "values")

    def _called(self) -> str:
        """How messages name a call: the author's name for it, or `f(...)`."""
        return self.shown_as or f"`{self.function}(...)`"

    def _inputs(self, called: Called, trial: int) -> str:
        """"For <the arguments>", from what the reference was really called with (an
        expression's display name where the author gave one)."""
        if trial < len(called.args):
            declared: list[Arg | None] = [*self.args, *(a for _, a in self.kwargs)]
            shown = [*called.args[trial],
                     *(a for _, a in (called.kwargs[trial] if trial < len(called.kwargs)
                                      else []))]
            keys = [""] * len(called.args[trial]) + [
                f"{key}=" for key, _ in (called.kwargs[trial] if trial < len(called.kwargs)
                                         else [])]
            parts = [key + (spec.shown_as if isinstance(spec, ExprArg) and spec.shown_as
                            else show_input(value))
                     for key, value, spec in zip(
                         keys, shown, declared + [None] * (len(shown) - len(declared)),
                         strict=False)]
        else:
            parts = [describe_arg(a) for a in self.args]
            parts += [f"{key}={describe_arg(a)}" for key, a in self.kwargs]
        return f"For {join_words(parts)}" if parts else "When called with no arguments"


def parse_arg(raw: Any, path: Path) -> Arg:
    """One argument as an author writes it: a generated tensor, an expression, a value."""
    if not isinstance(raw, dict):
        return ValueArg(_plain(raw))
    forms = {"tensor", "expr", "value", "choose"}
    if not (len(raw) == 1 and next(iter(raw)) in forms) and set(raw) != {"expr", "as"}:
        keys = ", ".join(map(str, raw)) or "none"
        raise DeclError.at(path, f"{describe_path(path)}: an argument is {ARG_FORMS} (found "
                                 f"the keys: {keys})")
    form, body = next(iter(raw.items()))
    if form == "tensor":
        return convert(body, TensorArg, (*path, "tensor"), what="a generated tensor")
    if form == "expr":
        shown = raw.get("as", "")
        if not isinstance(body, str) or not isinstance(shown, str):
            raise DeclError.at((*path, "expr"), f"{describe_path((*path, 'expr'))} must be a "
                                                "Python expression (a text), and `as` a text")
        return convert({"expr": body, "shown_as": shown}, ExprArg, path)
    if form == "choose":
        if not isinstance(body, list) or not body:
            raise DeclError.at((*path, "choose"), f"{describe_path((*path, 'choose'))} must be "
                                                  "a list of values, one per trial")
        return ChoiceArg(tuple(_plain(body)))
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
        return f"a {arg.dtype} tensor of shape [{', '.join(map(str, arg.shape))}]"
    if isinstance(arg, ExprArg):
        return arg.shown_as or f"`{arg.expr}`"
    if isinstance(arg, ChoiceArg):
        return f"one of {', '.join(map(repr, arg.values))}"
    return repr(arg.value)


def show_input(value: Any) -> str:
    """One input a function was called with, as a person would name it: "a float32 tensor of
    shape [3, 4]", "a list of 4 float32 tensors...", "a DataLoader over 1,000 items in
    batches of 64", "a Network network"; a plain value as code."""
    if isinstance(value, Module):
        return f"{article(value.type)} {value.type} network"
    if isinstance(value, (Tensor, Opaque)) or (
            isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (Tensor, Module, Opaque)) for v in value)):
        return describe(value)
    return clip(repr(value))


ARGUMENT_SCHEMA: dict[str, Any] = {
    "description": "A generated tensor, an expression, a literal value, or one value per trial",
    "anyOf": [
        {"type": "object", "additionalProperties": False, "required": ["tensor"],
         "properties": {"tensor": {"$ref": "#/$defs/TensorArg"}}},
        {"type": "object", "additionalProperties": False, "required": ["expr"],
         "properties": {"expr": {"type": "string", "description": "a Python expression"},
                        "as": {"type": "string",
                               "description": "how messages name its value"}}},
        {"type": "object", "additionalProperties": False, "required": ["value"],
         "properties": {"value": {}}},
        {"type": "object", "additionalProperties": False, "required": ["choose"],
         "properties": {"choose": {"type": "array", "minItems": 1,
                                   "description": "trial k takes the k-th value (cycling)"}}},
        {"type": ["number", "string", "boolean", "null", "array"]},
    ],
}


def _all_zero(value: object) -> bool:
    """A zero number, or a tensor whose every element is zero."""
    if isinstance(value, Tensor):
        return value.data is not None and not value.data.any()
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


def _short_list(shown: list[str]) -> str:
    """Values joined for a sentence, or "" when any is too long to read at a glance."""
    if not shown or any(not text or len(text) > 24 for text in shown):
        return ""
    return join_words(shown)
