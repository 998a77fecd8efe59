"""What each kind of check needs from the worker processes, as probe requests.

Probe ids tie a check to its values: ``v:<var>`` (a variable), ``c:<i>`` (call check i),
``m:<i>`` (module check i), ``x:<name>`` (a learner value exported for the judge) and
``k:<i>`` (metric check i, evaluated by the judge). ``i`` is the check's index in
``CodeStep.checks``.
"""

from __future__ import annotations

from typing import Any

from tutor.core import model as m


def var_id(name: str) -> str:
    return f"v:{name}"


def probes_for(step: m.CodeStep) -> list[dict[str, Any]]:
    """Probes run after the code, identical for the learner and the reference."""
    probes: dict[str, dict[str, Any]] = {}
    for index, check in enumerate(step.checks):
        if isinstance(check, (m.CompareCheck, m.ExpectCheck)):
            probes[var_id(check.var)] = {"id": var_id(check.var), "kind": "var", "name": check.var}
        elif isinstance(check, m.CallCheck):
            probes[f"c:{index}"] = {
                "id": f"c:{index}", "kind": "call", "name": check.function,
                "args": [a.to_json() for a in check.args],
                "kwargs": [[k, a.to_json()] for k, a in check.kwargs],
                "trials": check.trials,
            }
        elif isinstance(check, m.ModuleCheck):
            probes[f"m:{index}"] = {
                "id": f"m:{index}", "kind": "module", "name": check.target,
                "input": list(check.input_shape) if check.input_shape else None,
                "same_weights": check.same_as_reference,
            }
        elif isinstance(check, m.MetricCheck):
            for name in check.learner:
                probes[f"x:{name}"] = {"id": f"x:{name}", "kind": "export", "name": name}
    return list(probes.values())


def metrics_for(step: m.CodeStep) -> list[dict[str, Any]]:
    """Metric expressions for the judge, with the learner names each one reads."""
    return [
        {"id": f"k:{index}", "expr": check.expr, "learner": list(check.learner)}
        for index, check in enumerate(step.checks)
        if isinstance(check, m.MetricCheck)
    ]


def needs_reference(step: m.CodeStep) -> bool:
    """Whether any check compares with (or is judged by) the reference solution."""
    return any(
        isinstance(c, (m.CompareCheck, m.CallCheck, m.MetricCheck))
        or (isinstance(c, m.ModuleCheck) and (c.same_as_reference or c.like_reference))
        for c in step.checks
    )
