"""The values the judge reasons about: what a worker's run produced, decoded.

A worker never hands the tutor an object: the sandbox decodes its framed messages into these
plain types (numpy arrays for tensor data), so checks and feedback work on values that no
learner code can have patched. Nothing here imports torch.
"""

from __future__ import annotations

import math
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
    """A value the tutor cannot compare structurally: its type and a short repr."""

    type: str
    repr: str


@dataclass(frozen=True)
class Frame:
    """One line of the learner's code in a traceback."""

    line: int | None
    name: str = ""  # the function; "" at module level
    text: str = ""


@dataclass
class ErrorInfo:
    """An exception raised by code in a worker, trimmed to the learner's own frames."""

    type: str
    message: str
    frames: list[Frame] = field(default_factory=list)

    @property
    def line(self) -> int | None:
        """The learner's line closest to the error, for "jump to line"."""
        return self.frames[-1].line if self.frames else None

    def format(self, heading: str = "Traceback (your code):") -> str:
        """A traceback trimmed to the learner's code, with their file's line numbers."""
        lines = [heading] if self.frames else []
        for frame in self.frames:
            lines.append(f"  line {frame.line}, in {frame.name or '<module>'}")
            if frame.text:
                lines.append(f"    {frame.text}")
        lines.append(f"{self.type}: {self.message}" if self.message else self.type)
        return "\n".join(lines)


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


@dataclass
class Built:
    """A module built from a variable or a class, and its output for a generated input."""

    module: Any  # Module, Raised, or whatever the name held instead
    output: Any = MISSING  # Tensor, Raised, other; MISSING when no input was asked for


def is_placeholder(value: Any) -> bool:
    """The starter's ``...`` (Ellipsis), which a learner has not replaced yet."""
    return isinstance(value, Opaque) and value.type == "ellipsis"
