"""``module``: the structure and behaviour of an ``nn.Module`` (a variable, or a class)."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, LessonError, Outcome
from tutor.core.declare import FieldError
from tutor.core.feedback import describe, describe_difference, format_shape, shape_problem, unusable
from tutor.core.fields import ITEM_BYTES, Atol, ExactShape, Name, Rtol, Shape, Size
from tutor.core.runs import Limits, ModuleProbe
from tutor.core.values import Built, Module, Raised, Tensor

Layer = Annotated[tuple[str, str], Meta(description="[name, type], e.g. [conv1, Conv2d]")]


class ModuleCheck(Check, frozen=True, kw_only=True):
    """The module (a class is built with no arguments) has that many parameters, these layers
    in this order (extra layers without parameters, such as `nn.ReLU()`, are accepted), this
    output shape for a generated input, and with `same_as_reference` the same outputs as the
    reference when both hold identical weights; with `like_reference` its parameter count and
    layers are the reference's."""

    key: ClassVar[str] = "module"
    summary: ClassVar[str] = "the module is built as stated (or like the reference's)"
    example: ClassVar[str] = ("module: Network\nparams: 32998\nlayers: [[conv1, Conv2d], "
                              "[fc1, Linear]]\ninput: [1, 1, 28, 28]\noutput: [1, 10]")

    target: Name = msgspec.field(name="module")
    params: Annotated[Size | None, Meta(description="the total parameter count")] = None
    layers: Annotated[tuple[Layer, ...] | None, Meta(
        description="named_children() in order: [name, type] pairs")] = None
    input_shape: ExactShape | None = msgspec.field(name="input", default=None)
    output_shape: Shape | None = msgspec.field(name="output", default=None)
    same_as_reference: Annotated[bool, Meta(
        description="identical outputs when both hold the same weights (needs input)")] = False
    like_reference: Annotated[bool, Meta(
        description="the parameter count and layers of the reference's module")] = False
    rtol: Rtol = 1e-4
    atol: Atol = 1e-5

    def __post_init__(self) -> None:
        if self.input_shape is None and (self.output_shape is not None or self.same_as_reference):
            field = "output" if self.output_shape is not None else "same_as_reference"
            raise FieldError(field, f"checking the output needs an `input` shape ({field})")
        if self.input_shape is not None:
            size = math.prod(self.input_shape) * ITEM_BYTES["float32"]
            if size > Limits.result_bytes:
                raise FieldError("input", f"an input of shape {list(self.input_shape)} is "
                                          "larger than a check can hold")

    def default_title(self) -> str:
        return f"`{self.target}` is built as expected"

    def probes(self, index: int) -> list[ModuleProbe]:
        return [ModuleProbe(id=f"module:{index}", name=self.target,
                            input_shape=self.input_shape, same_weights=self.same_as_reference)]

    def needs_reference(self) -> bool:
        return self.same_as_reference or self.like_reference

    def judge(self, index: int, outcome: Outcome) -> str | None:
        what = f"`{self.target}`"
        got = outcome.mine(f"module:{index}")
        problem = unusable(got, what)
        if problem:
            return problem
        built = got if isinstance(got, Built) else Built(got)
        if isinstance(built.module, Raised):
            return f"Building {what} raised an error:\n{built.module.error.format()}"
        if not isinstance(built.module, Module):
            return (f"{what} is {describe(built.module)}, expected an nn.Module: a class that "
                    "subclasses nn.Module, or an instance of one.")
        theirs = self._reference(outcome, index, what) if self.needs_reference() else None
        like = theirs.module if theirs is not None and self.like_reference else None
        problems = [
            self._params_problem(built.module, like, what),
            self._layers_problem(built.module, like, what),
            self._output_problem(built, theirs),
        ]
        return "\n".join(p for p in problems if p) or None

    @staticmethod
    def _reference(outcome: Outcome, index: int, what: str) -> Built:
        theirs = outcome.theirs(f"module:{index}", what)
        built = theirs if isinstance(theirs, Built) else Built(theirs)
        if isinstance(built.module, Raised):
            raise LessonError(f"building the reference {what} failed:\n"
                              f"{built.module.error.format()}")
        if not isinstance(built.module, Module):
            raise LessonError(f"the reference solution's {what} is {describe(built.module)}, "
                              "not a module")
        return built

    def _params_problem(self, built: Module, like: Module | None, what: str) -> str | None:
        want = self.params if self.params is not None else (like.n_params if like else None)
        if want is None or built.n_params == want:
            return None
        return (f"{what} has {built.n_params:,} parameters, expected {want:,}. "
                + _per_layer_hint(built, like))

    def _layers_problem(self, built: Module, like: Module | None, what: str) -> str | None:
        if self.layers is not None:
            want = [(name, kind) for name, kind in self.layers]
        elif like is not None:
            want = [(name, kind) for name, kind in like.children]
        else:
            return None
        # Extra layers without parameters (nn.ReLU instead of F.relu, pooling, dropout) are a
        # matter of style, not of structure: accept them.
        wanted, weighted = {name for name, _ in want}, _per_layer(built)
        have = [(name, kind) for name, kind in built.children
                if name in wanted or weighted.get(name, 0) > 0]
        if have == want:
            return None
        have_types: dict[str, str] = dict(have)
        want_types: dict[str, str] = dict(want)
        found = [
            f"layer `{name}` ({kind}) is missing" if name not in have_types
            else f"layer `{name}` is a {have_types[name]}, expected a {kind}"
            for name, kind in want
            if have_types.get(name) != kind
        ]
        found += [f"layer `{name}` ({kind}) is not expected" for name, kind in have
                  if name not in want_types]
        if not found:
            order = ", ".join(name for name, _ in have)
            found = [f"the layers are in a different order ({order}; expected "
                     f"{', '.join(name for name, _ in want)})"]
        return (
            f"{what}'s layers differ: {'; '.join(found)}. Layers are named after the "
            "attributes you assign in __init__ (self.conv1 = ...), in that order; in an "
            "nn.Sequential they are numbered 0, 1, 2... unless you name them with an "
            "OrderedDict."
        )

    def _output_problem(self, got: Built, theirs: Built | None) -> str | None:
        if self.input_shape is None:
            return None
        where = f"For an input of shape {format_shape(self.input_shape)}"
        output = got.output
        if isinstance(output, Raised):
            return f"{where}, the forward pass raised an error:\n{output.error.format()}"
        if not isinstance(output, Tensor):
            return (f"{where}, the forward pass returned {describe(output)}, expected a "
                    "tensor: does forward() end with `return`?")
        if self.output_shape is not None:
            problem = shape_problem(output.shape, self.output_shape, what="the output")
            if problem:
                return f"{where}: {problem}"
        if theirs is None or not self.same_as_reference:
            return None
        if not isinstance(theirs.output, Tensor):
            raise LessonError(f"the reference's forward pass gave {describe(theirs.output)}, "
                              "not a tensor")
        problem = describe_difference(output, theirs.output, rtol=self.rtol, atol=self.atol,
                                      what="the output")
        if problem is None:
            return None
        return (f"{where}, with the same weights as the reference: {problem} (Both models got "
                "identical weights by parameter name, so your layers need the reference's "
                "names.)")


def _per_layer_hint(built: Module, like: Module | None) -> str:
    mine = _per_layer(built)
    if like is not None:
        theirs = _per_layer(like)
        layers = dict.fromkeys([*theirs, *mine])
        differ = [f"{layer} has {mine.get(layer, 0):,} (expected {theirs.get(layer, 0):,})"
                  for layer in layers if mine.get(layer, 0) != theirs.get(layer, 0)]
        return "Per layer: " + "; ".join(differ) + "."
    if not mine:
        return ("It has no parameters: assign its layers to attributes of self inside "
                "__init__ (self.fc = nn.Linear(...)), after super().__init__().")
    listing = ", ".join(f"{layer} {count:,}" for layer, count in mine.items())
    return (f"Your parameters per layer: {listing}. A Linear(i, o) has i*o + o; "
            "a Conv2d(i, o, k) has i*o*k*k + o.")


def _per_layer(module: Module) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, shape in module.params:
        layer = name.split(".")[0]
        counts[layer] = counts.get(layer, 0) + math.prod(shape)
    return counts
