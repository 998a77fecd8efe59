"""The values the judge reasons about: what a worker's run produced, decoded.

A worker never hands the tutor an object: the sandbox decodes its framed messages into these
plain types (numpy arrays for tensor data), so checks and feedback work on values that no
learner code can have patched. Nothing here imports torch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: loading a course needs no numpy
    import numpy as np


@dataclass
class Tensor:
    """A tensor (or numpy array) as it crossed the channel; ``data`` is None on meta, and in
    summaries that carry no values (the inputs a call check was given)."""

    dtype: str
    shape: tuple[int, ...]
    device: str = "cpu"
    requires_grad: bool = False
    is_leaf: bool = True
    grad: Tensor | None = None
    data: np.ndarray | None = None
    kind: str = "tensor"  # or "ndarray"

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass
class Module:
    """What the tutor needs to know about an ``nn.Module`` without holding one."""

    type: str
    n_params: int
    n_trainable: int
    children: list[tuple[str, str]]
    params: list[tuple[str, tuple[int, ...]]]
    training: bool
    state: dict[str, Tensor] | None = None


@dataclass
class Opaque:
    """A value the tutor cannot compare structurally: its type and a short repr, and for
    collections the worker could measure (a Dataset, a DataLoader) their size."""

    type: str
    repr: str
    length: int | None = None  # len(value), where it has one
    details: dict[str, int | str] = field(default_factory=dict)  # batch_size, for a loader


@dataclass(frozen=True)
class Frame:
    """One line of the learner's code in a traceback."""

    line: int | None
    name: str = ""  # the function; "" at module level
    text: str = ""
    col: int | None = None  # where the expression that failed starts in ``text`` (characters)
    end_col: int | None = None  # and where it ends, when it ends on the same line
    repeats: int = 0  # the same frame again, this many more times (recursion)
    hidden: int = 0  # frames left out after this one (a very deep traceback)


@dataclass(frozen=True)
class Operand:
    """One operand of the expression that failed, as the worker found it: what it is (type,
    shape, dtype, device), never the values it holds."""

    text: str  # as the learner wrote it: "preds.argmax(dim=0)"
    type: str  # "Tensor", "Linear", "list", ...
    shape: tuple[int, ...] | None = None
    dtype: str = ""
    device: str = ""
    detail: str = ""  # a torch layer's own settings: "in_features=784, out_features=10, ..."
    items: int | None = None  # the length of a list or a tuple
    of: str = ""  # the type all of its items share
    within: str = ""  # the operand this one is part of: `preds` within `preds.argmax(dim=0)`


@dataclass
class ErrorInfo:
    """An exception raised by code in a worker, trimmed to the learner's own frames, with the
    operands of the expression that failed."""

    type: str
    message: str
    frames: list[Frame] = field(default_factory=list)
    expression: str = ""  # the failing expression on the last frame's line
    operands: list[Operand] = field(default_factory=list)

    @property
    def line(self) -> int | None:
        """The learner's line closest to the error, for "jump to line"."""
        return self.frames[-1].line if self.frames else None

    def format(self, heading: str = "Traceback (your code):", source: str = "",
               hints: bool = True) -> str:
        """A traceback trimmed to the learner's code, with their file's line numbers, then
        the shapes of the failing expression's operands and, with ``hints``, for an error
        beginners often meet its usual cause and fix (verified against ``source``, the
        learner's code, where it is given)."""
        from tutor.core import error_text  # it words these facts, and imports this module

        return error_text.render(self, heading, source, hints)


ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_text(text: str) -> str:
    """``text`` as a terminal would show it, without escape codes (colours, cursor moves,
    window titles) or other control characters: a line rewritten after ``\\r`` (a progress
    bar) shows what the terminal would, its last version over the earlier ones."""
    text = ESCAPES.sub("", text.replace("\r\n", "\n"))
    if "\r" in text:
        text = "\n".join(_overwritten(line) for line in text.split("\n"))
    return CONTROLS.sub("", text)


def _overwritten(line: str) -> str:
    shown = ""
    for part in line.split("\r"):
        shown = part + shown[len(part):]
    return shown


class Missing:
    """The learner's namespace has no such name."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


@dataclass
class Raised:
    """A probe whose code raised instead of returning a value."""

    error: ErrorInfo


@dataclass
class Called:
    """A function called once per trial on fresh inputs: each trial's result (a value or
    ``Raised``) and what it was called with (tensors as summaries, without their values)."""

    results: list[Any]
    args: list[list[Any]] = field(default_factory=list)  # per trial
    kwargs: list[list[tuple[str, Any]]] = field(default_factory=list)  # per trial
    mutated: list[list[str]] = field(default_factory=list)  # per trial: inputs it changed


@dataclass
class Built:
    """A module built from a variable or a class, and its output for a generated input."""

    module: Any  # Module, Raised, or whatever the name held instead
    output: Any = MISSING  # Tensor, Raised, other; MISSING when no input was asked for


def is_placeholder(value: Any) -> bool:
    """The starter's ``...`` (Ellipsis), which a learner has not replaced yet."""
    return isinstance(value, Opaque) and value.type == "ellipsis"


@dataclass(frozen=True)
class Shown:
    """A picture of a tensor the code asked for with ``show(x)``, as the worker cut it down:
    ``data`` holds float32 values, one value per cell (1-D), one slice (2-D) or a stack of
    slices (3-D, labelled by ``labels``); ``shape`` and ``dtype`` are the tensor's own, and
    ``every`` is the stride the worker kept (1: every value)."""

    data: np.ndarray
    shape: tuple[int, ...]
    dtype: str
    title: str = ""
    labels: tuple[str, ...] = ()
    every: int = 1
    names: tuple[str, ...] = ()  # a 2-D tensor's row (and column) names, e.g. classes
    axes: tuple[str, ...] = ()  # one name per axis of ``shape`` (the step's), e.g. B, C, H, W
    held_by: tuple[str, ...] = ()  # the learner's variables that held the tensor, e.g. images


@dataclass(frozen=True)
class Reported:
    """One ``report(epoch=..., loss=...)`` call: each series' value, in the learner's order."""

    values: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class NamedShape:
    """A name the learner's code assigned at module level (its last such ``line``) and what
    it held when the code ended: a tensor's ``shape`` and ``dtype``, a module's ``params``."""

    line: int
    name: str
    type: str  # "Tensor", or the module's class
    shape: tuple[int, ...] | None = None
    dtype: str = ""
    params: int | None = None


@dataclass(frozen=True)
class LayerShape:
    """One direct child of a module in one forward pass (shapes of its first tensor in and
    out; ``calls`` 0 when the pass never reached it)."""

    name: str
    type: str
    input: tuple[int, ...] | None
    output: tuple[int, ...] | None
    params: int = 0
    calls: int = 1


@dataclass(frozen=True)
class LayerTable:
    """A module (``name`` in the code) run once on its check's input, layer by layer."""

    name: str
    type: str
    input: tuple[int, ...]
    output: tuple[int, ...] | None
    error: str = ""  # the forward pass raised: "RuntimeError: mat1 and mat2 ..."
    params: int = 0
    layers: tuple[LayerShape, ...] = ()
    more: int = 0  # layers left out


@dataclass(frozen=True)
class Shapes:
    """Shapes at a glance, after a run: the names it assigned, then its modules' layers."""

    names: tuple[NamedShape, ...] = ()
    more: int = 0  # names left out
    tables: tuple[LayerTable, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.names or self.tables)


# What a run streams to the shell while it goes, besides the text it prints.
Event = Shown | Reported | Shapes
