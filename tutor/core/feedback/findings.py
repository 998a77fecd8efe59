"""What a check found wrong, and what the judge knows that lets it verify a cause first."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from tutor.core.source_facts import SourceFacts

# The failure modes, in the order a learner fixes them: a name that is missing or raised,
# then its type, its shape, dtype, device and values. An author's advice names one of them.
Mode = Literal[
    "missing", "placeholder", "raises", "type", "length", "keys", "shape", "dtype", "device",
    "grad", "values", "inputs", "params", "layers", "output", "printed", "source", "measure",
]
MODES: tuple[str, ...] = Mode.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Finding:
    """One failed property, in words, with the mode it belongs to (``raises`` carries the
    exception's type) so that only the author's advice for that mode is added."""

    text: str
    mode: Mode = "values"
    error: str = ""  # the exception type, for mode "raises"
    short: bool = False  # fewer items than expected along an axis, more along none
    one_number: bool = False  # the expected value is a single number
    none: bool = False  # the learner's value is None
    per_axis: bool = False  # the values are off by one number per row or per column
    named: bool = False  # a cause was found and said (a relation, a missing `f`...)

    def __str__(self) -> str:
        return self.text

    def prefixed(self, prefix: str) -> Finding:
        return replace(self, text=f"{prefix}{self.text}")


@dataclass(frozen=True)
class Clues:
    """What the judge knows besides the two values: the learner's source (to verify that a
    call they made explains a difference), the device of the run, and for a call check the
    other trials' expected results (a result that belongs to another input)."""

    source: str = ""
    device: str = "cpu"
    others: tuple[Any, ...] = field(default=(), compare=False)

    @cached_property
    def facts(self) -> SourceFacts:
        return SourceFacts(self.source)

    def may_reduce(self) -> bool:
        """Whether the code may reduce a tensor (sum, mean, argmax...); unknown code may."""
        return not self.source or any(
            self.calls(name) for name in ("sum", "mean", "max", "min", "argmax", "argmin",
                                          "std", "var", "prod", "median", "amax", "amin"))

    def may_broadcast(self) -> bool:
        """Whether the code does arithmetic between tensors, where a broadcast can hide."""
        if not self.source or self.facts.tree is None:
            return not self.source
        ops = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod)
        return any(isinstance(n, (ast.BinOp, ast.AugAssign)) and isinstance(n.op, ops)
                   for n in ast.walk(self.facts.tree)) or any(
            self.calls(name) for name in ("add", "sub", "mul", "div", "where", "expand",
                                          "broadcast_to", "expand_as"))

    def calls(self, entry: str) -> bool:
        """Whether the learner's code calls ``entry`` ("Tensor", "torch.std", "view")."""
        return bool(self.source) and bool(self.facts.calls_to(entry))


NO_CLUES = Clues()
