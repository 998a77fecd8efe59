"""Prove a course's checks are neither too weak nor too strict by running its own code.

For every code step: the reference solution must pass, the untouched starter must fail,
every ``accepts`` variant must pass, and every ``rejects`` mistake must fail with
feedback containing the text its author promised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.verdict import Verdict


@dataclass
class Attempt:
    """One program the validator ran and what it expected of it."""

    label: str  # "solution", "starter", "accepts[0]", "rejects[1]"
    ok: bool
    problem: str = ""
    duration_s: float = 0.0


@dataclass
class StepReport:
    step: m.CodeStep
    attempts: list[Attempt] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.attempts)

    @property
    def duration_s(self) -> float:
        return sum(a.duration_s for a in self.attempts)


def feedback_text(verdict: Verdict, step: m.CodeStep) -> str:
    """The feedback the tutor generated for a verdict, for matching ``rejects``.

    Check titles and the author's own advice are left out: a reject must be recognised by
    the diagnosis, not by text the author wrote into the lesson.
    """
    parts = [verdict.error or ""]
    for check, result in zip(step.checks, verdict.checks, strict=False):
        if not result.passed:
            parts.append(result.message.removesuffix(check.message).rstrip()
                         if check.message else result.message)
    return "\n".join(p for p in parts if p)


def validate_steps(
    steps: Iterable[m.CodeStep],
    checker: Checker,
    workers: int = 1,
    on_report: Callable[[StepReport], None] | None = None,
) -> list[StepReport]:
    """Validate steps, ``workers`` at a time, reporting each as it finishes."""
    steps = list(steps)

    def one(step: m.CodeStep) -> StepReport:
        report = validate_step(step, checker)
        if on_report:
            on_report(report)
        return report

    if workers <= 1:
        return [one(step) for step in steps]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, steps))


def validate_step(step: m.CodeStep, checker: Checker) -> StepReport:
    report = StepReport(step)
    programs: list[tuple[str, str, str | None]] = [("solution", step.solution, None)]
    programs.append(("starter", step.starter, "!fail"))
    programs += [(f"accepts[{i}]", code, None) for i, code in enumerate(step.accepts)]
    programs += [(f"rejects[{i}]", r.code, r.feedback) for i, r in enumerate(step.rejects)]
    checker.prepare(step)
    for index, (label, code, expect_fail) in enumerate(programs):
        started = time.monotonic()
        more = index + 1 < len(programs)
        verdict = checker.check(step, code, f"<{step.id} {label}>", prefetch_next=more)
        took = time.monotonic() - started
        if verdict.skipped:
            report.skipped = verdict.skipped
            return report
        report.attempts.append(_judge_attempt(label, verdict, step, expect_fail, took))
    return report


def _judge_attempt(label: str, verdict: Verdict, step: m.CodeStep, expect_fail: str | None,
                   took: float) -> Attempt:
    text = feedback_text(verdict, step)
    if expect_fail is None:
        if verdict.passed:
            return Attempt(label, True, duration_s=took)
        return Attempt(label, False, f"{label} should pass but failed:\n{_indent(text)}", took)
    if verdict.passed:
        return Attempt(label, False, f"{label} should fail but passed", took)
    if verdict.error and verdict.error.startswith("lesson error"):
        return Attempt(label, False, f"{label}: {verdict.error}", took)
    if expect_fail != "!fail" and expect_fail not in text:
        return Attempt(label, False, (
            f"{label} failed, but its feedback does not contain {expect_fail!r}:\n"
            f"{_indent(text)}"), took)
    return Attempt(label, True, duration_s=took)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
