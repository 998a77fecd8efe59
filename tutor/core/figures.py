"""The figures a passed check reached (the learner's test accuracy...), with what was needed.

A check with a threshold reports the learner's figure as its message on a pass ("yours:
0.87"); the threshold is in the lesson. Shells show the two together, prominently: that
number is what the learner worked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.core import model as m
from tutor.core.checks.metric import MetricCheck
from tutor.core.verdict import Verdict

_YOURS = "yours:"


@dataclass(frozen=True)
class Figure:
    name: str  # the check, as the verdict names it
    value: str  # the learner's figure, as the check wrote it
    needed: str  # the threshold, e.g. "≥ 0.6"

    def __str__(self) -> str:
        return f"{self.value} (needed {self.needed})" if self.needed else self.value


def needed(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    if low is not None:
        return f"≥ {low:g}"
    return f"≤ {high:g}" if high is not None else ""


def figures(step: m.AnyStep, verdict: Verdict) -> list[Figure]:
    """The figures of ``verdict``'s passed checks that have a threshold in ``step``."""
    if not isinstance(step, m.CodeStep):
        return []
    thresholds = {check.title(): needed(check.min, check.max) for check in step.checks
                  if isinstance(check, MetricCheck) and (check.min, check.max) != (None, None)}
    found = []
    for result in verdict.checks:
        if result.passed and result.name in thresholds and result.message.strip():
            value = result.message.strip()
            if value.lower().startswith(_YOURS):
                value = value[len(_YOURS):].strip()
            found.append(Figure(result.name, value, thresholds[result.name]))
    return found
