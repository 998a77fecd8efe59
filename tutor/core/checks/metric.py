"""``metric``: an expression the judge evaluates after the run, never in the learner's process."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, LessonError, Outcome, state_probe
from tutor.core.declare import FieldError
from tutor.core.feedback import (
    NAN_CAUSES,
    Finding,
    describe,
    format_number,
    small_value,
    unusable,
)
from tutor.core.fields import Name
from tutor.core.runs import Metric, ValueProbe, expression_problem
from tutor.core.values import MISSING, Raised, Tensor


class MetricCheck(Check, frozen=True, kw_only=True):
    """The expression, evaluated after the run by the judge (a process that ran `setup` and
    the reference, never the learner's code) with the names in `learner` replaced by the
    learner's values, is true or within `min`/`max`. A learner module is rebuilt as a copy of
    the reference's same-named variable holding the learner's weights."""

    key: ClassVar[str] = "metric"
    summary: ClassVar[str] = "an expression over the learner's values is true, or in range"
    example: ClassVar[str] = 'metric: "accuracy(model)"\nlearner: [model]\nmin: 0.8'

    expr: Annotated[str, Meta(description="a Python expression")] = msgspec.field(name="metric")
    learner: Annotated[tuple[Name, ...], Meta(
        description="the learner's variables the expression reads")] = ()
    min: Annotated[float | None, Meta(description="the lowest value that passes")] = None
    max: Annotated[float | None, Meta(description="the highest value that passes")] = None

    def __post_init__(self) -> None:
        problem = expression_problem(self.expr)
        if problem:
            raise FieldError("metric", problem)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise FieldError("min", f"min {self.min:g} is above max {self.max:g}: no value "
                                    "could pass")

    def default_title(self) -> str:
        return f"`{self.expr}`"

    def probes(self, index: int) -> list[ValueProbe]:
        return [state_probe(name) for name in self.learner]

    def metrics(self, index: int) -> list[Metric]:
        pairs = tuple((name, state_probe(name).id) for name in self.learner)
        return [Metric(id=f"metric:{index}", expr=self.expr, learner=pairs)]

    def needs_reference(self) -> bool:
        return True

    def reads(self) -> tuple[str, ...]:
        return self.learner

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        for name in self.learner:  # a value the judge cannot use: say why in the learner's terms
            problem = unusable(outcome.value(name), f"`{name}`", outcome.clues)
            if problem:
                return problem
        label = self.name or f"`{self.expr}`"
        value = outcome.metrics.get(f"metric:{index}", MISSING)
        if value is MISSING:
            return Finding(f"{label} could not be measured: the judge got nothing to measure, "
                           "which happens when your code stops before the end.", "measure")
        if isinstance(value, Raised):
            return Finding(f"Measuring {label} failed:\n"
                           f"{value.error.format(source=outcome.source)}", "raises",
                           value.error.type)
        value = _scalar(value)
        if isinstance(value, bool):
            if value:
                return None
            head = f"Not yet: {self.name}." if self.name else f"`{self.expr}` is not true yet."
            return Finding(" ".join([head, *self._shown(outcome)]), "measure")
        if not isinstance(value, (int, float)):
            raise LessonError(f"{label} gave {describe(value)}; a metric must give a bool or a "
                              "number")
        text = _out_of_range(label, value, self.min, self.max)
        return Finding(text, "measure") if text else None

    def _shown(self, outcome: Outcome) -> list[str]:
        """The learner's values the expression read, where they are small enough to show."""
        shown = []
        for name in self.learner:
            value = outcome.value(name)
            text = small_value(value)
            if text:
                shown.append(f"`{name}` is {text}.")
        return shown

    def achieved(self, index: int, outcome: Outcome) -> str:
        """The learner's figure (their accuracy...) when there is a threshold."""
        if self.min is None and self.max is None:
            return ""
        value = _scalar(outcome.metrics.get(f"metric:{index}"))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return ""
        return f"yours: {format_number(value)}"


def _scalar(value: Any) -> Any:
    """A one-element tensor as its number."""
    if isinstance(value, Tensor) and value.numel == 1 and value.data is not None:
        return value.data.reshape(-1)[0].item()
    return value


def _out_of_range(label: str, value: float, low: float | None, high: float | None) -> str | None:
    if math.isnan(value):
        return f"{label} is NaN. {NAN_CAUSES}."
    if low is not None and value < low:
        return f"{label} {format_number(value)} is below the required {format_number(low)}."
    if high is not None and value > high:
        return f"{label} {format_number(value)} is above the allowed {format_number(high)}."
    return None
