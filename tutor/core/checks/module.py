"""``module``: the structure and behaviour of an ``nn.Module`` (a variable, or a class)."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, LessonError, Outcome
from tutor.core.declare import FieldError
from tutor.core.feedback import (
    Finding,
    describe,
    difference,
    format_shape,
    shape_problem,
    unusable,
)
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
    layer_types: Annotated[tuple[str, ...] | None, Meta(
        description="the types of its layers in order, whatever they are named (layers "
                    "without parameters of other types, such as nn.ReLU(), may come "
                    "between)")] = None
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

    def reads(self) -> tuple[str, ...]:
        return (self.target,)

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        """The first of: how it is built, its layers, its parameter count, its output (a
        missing layer changes the count and the output too); a module that registered no
        parameter at all is said first, since it explains the rest."""
        what = f"`{self.target}`"
        got = outcome.mine(f"module:{index}")
        problem = unusable(got, what, outcome.clues)
        if problem:
            return problem
        built = got if isinstance(got, Built) else Built(got)
        if isinstance(built.module, Raised):
            error = built.module.error
            return Finding(f"Building {what} raised an error:\n"
                           f"{error.format(source=outcome.source)}", "raises",
                           error.type)
        if not isinstance(built.module, Module):
            return Finding(f"{what} is {describe(built.module)}, expected an nn.Module: a class "
                           "that subclasses nn.Module, or an instance of one.", "type")
        theirs = self._reference(outcome, index, what) if self.needs_reference() else None
        like = theirs.module if theirs is not None and self.like_reference else None
        params = self._params_problem(built.module, like, what)
        if params and built.module.n_params == 0:  # nothing registered: the root of it all
            return Finding(params, "params")
        layers = self._layers_problem(built.module, like, what) or self._types_problem(
            built.module, what)
        if layers:
            return Finding(layers, "layers")
        if params:
            return Finding(params, "params")
        return self._output_problem(built, theirs, outcome)

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

    def _types_problem(self, built: Module, what: str) -> str | None:
        """The layers' types in order, names free; parameterless extras are allowed."""
        if self.layer_types is None:
            return None
        want, weighted = list(self.layer_types), _per_layer(built)
        have = [(name, kind) for name, kind in built.children
                if kind in want or weighted.get(name, 0) > 0]
        kinds = [kind for _, kind in have]
        if kinds == want:
            return None
        at = next((k for k, (a, b) in enumerate(zip(kinds, want, strict=False)) if a != b),
                  min(len(kinds), len(want)))
        if at >= len(kinds):
            wrong = f"it has no layer where a {want[at]} should come next"
        elif at >= len(want):
            wrong = f"layer `{have[at][0]}` ({kinds[at]}) is one more than expected"
        else:
            wrong = f"layer `{have[at][0]}` is a {kinds[at]}, expected a {want[at]}"
        return (f"{what}'s layers differ from {' -> '.join(want)}: {wrong} (layer {at + 1} "
                "of the expected ones, counting in order).")

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

    def _output_problem(self, got: Built, theirs: Built | None,
                        outcome: Outcome) -> Finding | None:
        if self.input_shape is None:
            return None
        where = f"For an input of shape {format_shape(self.input_shape)}"
        output = got.output
        if isinstance(output, Raised):
            return Finding(f"{where}, the forward pass raised an error:\n"
                           f"{output.error.format(source=outcome.source)}", "raises",
                           output.error.type)
        if not isinstance(output, Tensor):
            return Finding(f"{where}, the forward pass returned {describe(output)}, expected a "
                           "tensor: does forward() end with `return`?", "output")
        if self.output_shape is not None:
            problem = shape_problem(output.shape, self.output_shape, what="the output",
                                    clues=outcome.clues)
            if problem:
                mixed = _batch_mixed(output.shape, self.input_shape, outcome)
                return Finding(f"{where}: {problem}" + (f" {mixed}" if mixed else ""),
                               "output")
        if theirs is None or not self.same_as_reference:
            return None
        if not isinstance(theirs.output, Tensor):
            raise LessonError(f"the reference's forward pass gave {describe(theirs.output)}, "
                              "not a tensor")
        found = difference(output, theirs.output, rtol=self.rtol, atol=self.atol,
                           what="the output", clues=outcome.clues)
        if found is None:
            return None
        return Finding(f"{where}, with the same weights as the reference: {found.text} (Both "
                       "models got identical weights by parameter name, so your layers need "
                       "the reference's names.)", "output")


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


def _batch_mixed(got: tuple[int, ...], given: tuple[int, ...], outcome: Outcome) -> str:
    """More output rows than images, a whole number per image: a reshape that let the batch
    axis take the rest (`reshape(-1, 192)` on 768 values per image gives 4 rows each)."""
    if not got or not given or got[0] <= given[0] or got[0] % given[0]:
        return ""
    per = got[0] // given[0]
    text = f"Your network makes {got[0]} rows from a batch of {given[0]} ({per} per image)"
    calls = outcome.clues.facts.calls_to("reshape") + outcome.clues.facts.calls_to("view")
    if not calls:
        return f"{text}: does an axis hold values of several images?"
    return (f"{text}: a `.reshape(-1, N)` (or `.view`) with the wrong N splits each image "
            "into several rows. Keep the batch axis with `t.reshape(t.shape[0], -1)` or "
            "`t.flatten(start_dim=1)`, and check how many values each image has there.")
