"""``expect``: properties of a learner variable, stated in the lesson (no reference needed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, Outcome, value_id, value_probe
from tutor.core.declare import FieldError
from tutor.core.feedback import (
    Finding,
    conversion_hint,
    describe,
    device_problem,
    difference,
    dtype_problem,
    fewer_items,
    join_hint,
    shape_problem,
    type_name,
    unusable,
)
from tutor.core.fields import Axes, DType, ExactShape, Name, Shape
from tutor.core.runs import AnyProbe
from tutor.core.values import Tensor

VALUE_RTOL, VALUE_ATOL = 1e-6, 1e-9  # ``value`` is exact up to float rounding

TypeName = Literal["int", "float", "str", "bool", "list", "tuple", "dict", "tensor", "ndarray",
                   "module", "none"]
TENSOR_TYPES = ("tensor", "ndarray")
SCALAR_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}
TYPE_WORDS = {
    "int": "an int", "float": "a float", "str": "a string", "bool": "a bool", "list": "a list",
    "tuple": "a tuple", "dict": "a dict", "tensor": "a torch tensor",
    "ndarray": "a numpy array", "module": "an nn.Module", "none": "None",
}
REQUIRES_GRAD = {
    True: "{what} does not track gradients (requires_grad=False): create it with "
          "requires_grad=True or call .requires_grad_().",
    False: "{what} tracks gradients (requires_grad=True), expected not: use .detach(), or "
           "compute it inside `with torch.no_grad():`.",
}
IS_LEAF = {
    True: "{what} is not a leaf tensor: it was computed from tensors that require grad, and "
          "only leaves get a .grad. Create it directly (e.g. torch.randn(..., "
          "requires_grad=True)) or use .detach().requires_grad_().",
    False: "{what} is a leaf tensor, expected the result of an operation on tensors that "
           "require grad.",
}
GRAD = {
    True: "{grad} is None: call .backward() on a result computed from {what}, and check "
          "that {what} is a leaf with requires_grad=True whose gradient was not cleared "
          "(zero_grad() sets it to None).",
    False: "{grad} is set, expected no gradient: clear it with optimizer.zero_grad() "
           "(or {what_plain}.grad = None).",
}


class Expect(Check, frozen=True, kw_only=True):
    """Each stated property of the learner's variable holds (`null` in a shape matches any
    size; `device: run` is the device the code ran on)."""

    key: ClassVar[str] = "expect"
    summary: ClassVar[str] = "each stated property of the variable holds"
    example: ClassVar[str] = "expect: t\nshape: [null, 10]\ndtype: float32\ndevice: run"

    var: Name = msgspec.field(name="expect")
    shape: Shape | None = None
    axes: Axes = ()
    dtype: DType | None = None
    device: Annotated[Literal["cpu", "cuda", "meta", "mps", "run"] | None, Meta(
        description="run: the device the code ran on")] = None
    requires_grad: bool | None = None
    is_leaf: bool | None = None
    grad: Annotated[bool | None, Meta(description="a gradient is (or is not) present")] = None
    grad_shape: ExactShape | None = None
    type: TypeName | None = None
    value: Annotated[int | float | str | bool | None, Meta(
        description="the exact value of a Python number, bool or string")] = None

    def __post_init__(self) -> None:
        if self.axes and self.shape is None:
            raise FieldError("axes", "axes names the axes of `shape`, which is missing")
        if self.shape is not None and self.axes and len(self.axes) != len(self.shape):
            raise FieldError("axes", f"axes names {list(self.axes)} do not match the shape's "
                                     f"{len(self.shape)} axes")
        tensor_fields = [name for name in self.tensor_fields() if getattr(self, name) is not None]
        if self.type is not None and self.type not in TENSOR_TYPES and tensor_fields:
            raise FieldError(tensor_fields[0], f"{tensor_fields[0]} applies to tensors, but "
                                               f"type is {self.type}")
        if self.value is not None:
            if tensor_fields:
                raise FieldError("value", f"value applies to numbers and strings, but "
                                          f"{tensor_fields[0]} is about a tensor")
            allowed = SCALAR_TYPES.get(self.type or "")
            fits = allowed is not None and isinstance(self.value, allowed) and (
                self.type == "bool" or not isinstance(self.value, bool))
            if self.type is not None and not fits:
                raise FieldError("value", f"value {self.value!r} is not {TYPE_WORDS[self.type]}")

    @staticmethod
    def tensor_fields() -> tuple[str, ...]:
        return ("shape", "dtype", "device", "requires_grad", "is_leaf", "grad", "grad_shape")

    def default_title(self) -> str:
        return f"`{self.var}` has the expected properties"

    def probes(self, index: int) -> list[AnyProbe]:
        return [value_probe(self.var)]

    def reads(self) -> tuple[str, ...]:
        return (self.var,)

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        """The first property that fails, in the order a learner fixes them: a fix to one
        often changes the next (a wrong shape makes the values wrong too)."""
        what = f"`{self.var}`"
        value = outcome.mine(value_id(self.var))
        problem = unusable(value, what, outcome.clues)
        if problem:
            return problem
        if self.type is not None:
            wrong = type_problem(self.type, value, what)
            if wrong:
                return Finding(wrong, "type")
        if any(getattr(self, name) is not None for name in self.tensor_fields()):
            if not isinstance(value, Tensor):
                return Finding(type_problem("tensor", value, what, self.shape) or "", "type")
            found = self._tensor_problem(value, what, outcome)
            if found:
                return found
        if self.value is not None:
            return difference(value, self.value, rtol=VALUE_RTOL, atol=VALUE_ATOL, what=what)
        return None

    def _tensor_problem(self, t: Tensor, what: str, outcome: Outcome) -> Finding | None:
        grad = f"{what[:-1]}.grad`" if what.endswith("`") else f"{what}.grad"
        words = {"what": what, "grad": grad, "what_plain": what.strip("`")}
        if self.shape is not None:
            text = shape_problem(t.shape, self.shape, axes=self.axes, what=what,
                                 clues=outcome.clues)
            if text:
                return Finding(text, "shape", short=fewer_items(t.shape, self.shape))
        if self.dtype is not None:
            text = dtype_problem(t.dtype, self.dtype, what=what, kind=t.kind,
                                 clues=outcome.clues)
            if text:
                return Finding(text, "dtype")
        if self.device is not None:
            wanted = outcome.device if self.device == "run" else self.device
            text = device_problem(t.device, wanted, what=what)
            if text:
                return Finding(text, "device")
        for asked, actual, template in (
            (self.requires_grad, t.requires_grad, REQUIRES_GRAD),
            (self.is_leaf, t.is_leaf, IS_LEAF),
            (self.grad, t.grad is not None, GRAD),
        ):
            if asked is not None and actual != asked:
                return Finding(template[asked].format(**words), "grad")
        if self.grad_shape is not None:
            if t.grad is None:
                return Finding(GRAD[True].format(**words), "grad")
            text = shape_problem(t.grad.shape, self.grad_shape, what=grad, clues=outcome.clues)
            if text:
                return Finding(text, "grad")
        return None


def type_problem(wanted: str, value: Any, what: str,
                 shape: Sequence[int | None] | None = None) -> str | None:
    if type_name(value) == wanted:
        return None
    text = f"{what} is {describe(value)}, expected {TYPE_WORDS.get(wanted, wanted)}"
    hint = (join_hint(value, shape) if shape is not None else "") or conversion_hint(
        value, wanted)
    if not hint:
        return f"{text}."
    return f"{text}: {hint}" if hint.endswith(("?", ".")) else f"{text}: {hint}."
