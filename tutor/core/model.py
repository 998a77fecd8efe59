"""The course as data: courses, lessons, steps and the checks a step declares.

Everything here is plain, immutable data built by ``tutor.core.loader`` from YAML.
No torch, no textual: the UI, the CLI and the checker all share these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Where:
    """A place in a lesson file, for messages of the form ``file:line:column``."""

    file: Path
    line: int = 1  # 1-based
    column: int = 1  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """Base of every check: an optional name, an extra hint shown on failure, a place."""

    name: str = ""
    message: str = ""  # appended to the feedback when the check fails
    where: Where | None = field(default=None, compare=False)

    kind: str = field(default="", init=False)

    def title(self) -> str:
        return self.name or self.default_title()

    def default_title(self) -> str:
        return self.kind


@dataclass(frozen=True)
class CompareCheck(Check):
    """A learner variable equals the same variable produced by the reference solution."""

    var: str = ""
    rtol: float = 1e-5
    atol: float = 1e-8
    axes: tuple[str, ...] = ()  # names used in shape messages, e.g. ("B", "C", "H", "W")
    kind: str = field(default="compare", init=False)

    def default_title(self) -> str:
        return f"`{self.var}` matches the expected value"


@dataclass(frozen=True)
class ExpectCheck(Check):
    """Properties of a learner variable, stated in the lesson (no reference needed)."""

    var: str = ""
    shape: tuple[int | None, ...] | None = None  # None entries match any size
    axes: tuple[str, ...] = ()
    dtype: str | None = None
    device: str | None = None  # "cpu", "cuda", "meta" or "run" (the device the code ran on)
    requires_grad: bool | None = None
    is_leaf: bool | None = None
    grad: bool | None = None  # a gradient is (or is not) present
    grad_shape: tuple[int, ...] | None = None
    type: str | None = None  # "int", "float", "str", "bool", "list", "tuple", "dict", "tensor", "ndarray", "module"
    value: Any = None  # an exact expected value for Python scalars and strings
    kind: str = field(default="expect", init=False)

    def default_title(self) -> str:
        return f"`{self.var}` has the expected properties"


@dataclass(frozen=True)
class ArgSpec:
    """How one argument of a ``call`` check is generated, fresh for every trial."""

    tensor: dict[str, Any] | None = None  # {"shape", "dtype", "low", "high", "requires_grad"}
    expr: str | None = None  # a Python expression evaluated in the step's namespace
    value: Any = None  # a literal

    def to_json(self) -> dict[str, Any]:
        if self.tensor is not None:
            return {"tensor": self.tensor}
        if self.expr is not None:
            return {"expr": self.expr}
        return {"value": self.value}

    def describe(self) -> str:
        if self.tensor is not None:
            dtype = self.tensor.get("dtype", "float32")
            return f"a {dtype} tensor of shape {list(self.tensor.get('shape', []))}"
        if self.expr is not None:
            return f"`{self.expr}`"
        return repr(self.value)


@dataclass(frozen=True)
class CallCheck(Check):
    """Call a learner function on fresh inputs and compare with the reference function."""

    function: str = ""
    args: tuple[ArgSpec, ...] = ()
    kwargs: tuple[tuple[str, ArgSpec], ...] = ()
    trials: int = 3
    rtol: float = 1e-5
    atol: float = 1e-8
    axes: tuple[str, ...] = ()
    kind: str = field(default="call", init=False)

    def default_title(self) -> str:
        return f"`{self.function}(...)` returns the right result on new inputs"


@dataclass(frozen=True)
class ModuleCheck(Check):
    """Structure and behaviour of an ``nn.Module`` (a variable, or a class built with no args)."""

    target: str = ""
    params: int | None = None  # total parameter count
    layers: tuple[tuple[str, str], ...] | None = None  # (name, type) of named_children in order
    input_shape: tuple[int, ...] | None = None
    output_shape: tuple[int | None, ...] | None = None
    same_as_reference: bool = False  # identical outputs when both hold the same weights
    like_reference: bool = False  # parameter count and layers equal the reference's
    rtol: float = 1e-4
    atol: float = 1e-5
    kind: str = field(default="module", init=False)

    def default_title(self) -> str:
        return f"`{self.target}` is built as expected"


@dataclass(frozen=True)
class MetricCheck(Check):
    """An expression evaluated by the judge (never in the learner's process) after the run.

    ``learner`` names the learner variables the expression reads; every other name comes
    from the judge's own run of setup and reference solution, so a learner cannot
    replace the test data or the metric function.
    """

    expr: str = ""
    learner: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    kind: str = field(default="metric", init=False)

    def default_title(self) -> str:
        return f"`{self.expr}`"


@dataclass(frozen=True)
class StdoutCheck(Check):
    """What the learner's code printed contains a text, or matches a regular expression."""

    contains: str | None = None
    matches: str | None = None
    kind: str = field(default="stdout", init=False)

    def default_title(self) -> str:
        if self.contains is not None:
            return f"the output contains {self.contains!r}"
        return f"the output matches /{self.matches}/"


@dataclass(frozen=True)
class SourceCheck(Check):
    """Rules on the learner's source, checked without running it."""

    uses: tuple[str, ...] = ()  # calls that must appear, e.g. "torch.stack" or "stack"
    avoids: tuple[str, ...] = ()  # calls that must not appear
    no_loops: bool = False  # no for/while loops and no comprehensions
    # variable -> names it must be computed from, e.g. ("x", ("device",)): catches a tensor
    # created without ``device=device``, which a CPU-only run cannot tell apart
    made_from: tuple[tuple[str, tuple[str, ...]], ...] = ()
    kind: str = field(default="source", init=False)

    def default_title(self) -> str:
        parts = [f"uses {', '.join(self.uses)}"] if self.uses else []
        if self.avoids:
            parts.append(f"does not use {', '.join(self.avoids)}")
        if self.no_loops:
            parts.append("has no Python loops")
        parts.extend(f"makes `{var}` from {', '.join(f'`{n}`' for n in names)}"
                     for var, names in self.made_from)
        return "the code " + " and ".join(parts) if parts else "source rules"


AnyCheck = CompareCheck | ExpectCheck | CallCheck | ModuleCheck | MetricCheck | StdoutCheck | SourceCheck


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Reject:
    """A known mistake: running ``code`` must fail with feedback containing ``feedback``."""

    code: str
    feedback: str
    where: Where | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    lesson_id: str
    explanation: str = ""
    where: Where | None = field(default=None, compare=False)

    kind: str = field(default="", init=False)


@dataclass(frozen=True)
class CodeStep(Step):
    starter: str = ""
    solution: str = ""
    setup: str = ""
    hints: tuple[str, ...] = ()
    checks: tuple[AnyCheck, ...] = ()
    accepts: tuple[str, ...] = ()
    rejects: tuple[Reject, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    requires: Literal["any", "cuda"] = "any"
    data: tuple[str, ...] = ()
    kind: str = field(default="code", init=False)


@dataclass(frozen=True)
class QuizStep(Step):
    question: str = ""
    choices: tuple[str, ...] = ()
    answer: tuple[int, ...] = ()  # 0-based indices of the correct choices
    why: str = ""  # shown after answering
    hints: tuple[str, ...] = ()
    kind: str = field(default="quiz", init=False)

    def is_correct(self, picked: set[int] | list[int] | tuple[int, ...]) -> bool:
        return set(picked) == set(self.answer)


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    path: Path


@dataclass(frozen=True)
class Problem:
    """Something wrong in a course's files, reported as ``file:line:column: message``."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    description: str
    root: Path
    lessons: tuple[Lesson, ...]
    problems: tuple[Problem, ...] = ()  # files that could not be loaded; the rest still works

    def steps(self) -> list[Step]:
        return [step for lesson in self.lessons for step in lesson.steps]

    def step(self, step_id: str) -> Step:
        for step in self.steps():
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def lesson_of(self, step_id: str) -> Lesson:
        for lesson in self.lessons:
            if any(step.id == step_id for step in lesson.steps):
                return lesson
        raise KeyError(step_id)
