"""What a step's checks need from the worker processes, gathered from every kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.core.runs import AnyProbe, Metric

if TYPE_CHECKING:
    from tutor.core.model import CodeStep


def probes_for(step: CodeStep) -> tuple[AnyProbe, ...]:
    """Probes run after the code, identical for the learner and the reference (one per id)."""
    probes: dict[str, AnyProbe] = {}
    for index, check in enumerate(step.checks):
        for probe in check.probes(index):
            probes.setdefault(probe.id, probe)
    return tuple(probes.values())


def metrics_for(step: CodeStep) -> tuple[Metric, ...]:
    """Expressions for a judge run to evaluate on the learner's values."""
    return tuple(metric for index, check in enumerate(step.checks)
                 for metric in check.metrics(index))


def needs_reference(step: CodeStep) -> bool:
    """Whether any check compares with (or is judged by) the reference solution."""
    return any(check.needs_reference() for check in step.checks)
