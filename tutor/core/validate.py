"""Prove a course's checks are neither too weak nor too strict by running its own code.

For every code step: the reference solution must pass, the untouched starter must fail,
every ``accepts`` variant must pass, and every ``rejects`` mistake must fail with
feedback containing the text its author promised. With mutants, every wrong variant of the
solution (``tutor.core.mutants``) must fail too, unless the step lists it as equivalent.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.mutants import MAX_MUTANTS, Mutant, mutants, select
from tutor.core.runs import OutputCallback, RunHandle, Runner, RunRequest, RunResult
from tutor.core.verdict import Verdict

OUTPUT_CHECKS = ("stdout_contains", "stdout_matches")
VALIDATE_REPAIR_S = 60.0  # a program's repairs: their few runs, however busy the machine


@dataclass
class Attempt:
    """One program the validator ran and what it expected of it."""

    label: str  # "solution", "starter", "accepts[0]", "rejects[1]"
    ok: bool
    problem: str = ""
    duration_s: float = 0.0
    passed: bool = False  # the verdict (``ok`` says whether that was the expected one)
    feedback: str = ""  # what the tutor said about it, as ``rejects`` are matched against


MutantStatus = Literal["killed", "survived", "equivalent"]


@dataclass
class MutantResult:
    mutant: Mutant
    status: MutantStatus
    reason: str = ""  # an equivalent's, from the step
    feedback: str = ""  # what rejected a killed mutant
    duration_s: float = 0.0


@dataclass
class MutationReport:
    """What the step's checks made of the solution's mutants."""

    results: list[MutantResult] = field(default_factory=list)
    generated: int = 0  # every mutant of the solution
    left_out: int = 0  # not run, over the cap
    stale: list[str] = field(default_factory=list)  # listed equivalents that match no mutant
    note: str = ""  # why none ran

    def count(self, status: MutantStatus) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.status == "survived"]

    @property
    def score(self) -> float | None:
        """killed / (run - equivalent): None when no mutant counted."""
        return _score(self.count("killed"), self.count("survived"))

    @property
    def ok(self) -> bool:
        return not self.survivors and not self.stale


@dataclass
class StepReport:
    step: m.CodeStep
    attempts: list[Attempt] = field(default_factory=list)
    skipped: str | None = None
    mutation: MutationReport | None = None

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.attempts) and (self.mutation is None or self.mutation.ok)

    @property
    def duration_s(self) -> float:
        mutants_s = sum(r.duration_s for r in self.mutation.results) if self.mutation else 0.0
        return sum(a.duration_s for a in self.attempts) + mutants_s


@dataclass(frozen=True)
class CourseScore:
    killed: int
    survived: int
    equivalent: int
    steps: int  # steps whose mutants ran

    @property
    def score(self) -> float | None:
        return _score(self.killed, self.survived)


def course_score(reports: Iterable[StepReport]) -> CourseScore:
    """The mutation score over every step whose mutants ran."""
    done = [r.mutation for r in reports if r.mutation is not None and r.mutation.results]
    return CourseScore(sum(x.count("killed") for x in done), sum(x.count("survived") for x in done),
                       sum(x.count("equivalent") for x in done), len(done))


def _score(killed: int, survived: int) -> float | None:
    return killed / (killed + survived) if killed + survived else None


def feedback_text(verdict: Verdict, step: m.CodeStep) -> str:
    """The feedback the tutor generated for a verdict, for matching ``rejects``.

    Check titles and the author's own advice are left out: a reject must be recognised by
    the diagnosis, not by text the author wrote into the lesson.
    """
    parts = [verdict.error or ""]
    parts += [result.diagnosis or result.message for result in verdict.checks
              if not result.passed]
    return "\n".join(p for p in parts if p)


def validate_steps(
    steps: Iterable[m.CodeStep],
    checker: Checker,
    workers: int = 1,
    on_report: Callable[[StepReport], None] | None = None,
    mutate: bool = False,
    limit: int = MAX_MUTANTS,
) -> list[StepReport]:
    """Validate steps, ``workers`` checks at a time (a step's mutants share the workers with
    the other steps), reporting each step as it finishes."""
    steps = list(steps)
    workers = max(1, workers)
    slots = threading.Semaphore(workers)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mutant") as mutant_pool:
        def one(step: m.CodeStep) -> StepReport:
            # One reference run for the step's programs and its mutants: they share a seed.
            replaying = _ReplayingRunner(checker.runner)
            shared = replace(checker, runner=replaying)
            try:
                report = validate_step(step, shared, slots)
                if mutate:
                    report.mutation = mutate_step(step, shared, report, mutant_pool, slots,
                                                  limit)
            finally:
                replaying.close()
            if on_report:
                on_report(report)
            return report

        if workers == 1:
            return [one(step) for step in steps]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="step") as pool:
            return list(pool.map(one, steps))


def validate_step(step: m.CodeStep, checker: Checker,
                  slots: threading.Semaphore | None = None) -> StepReport:
    report = StepReport(step)
    programs: list[tuple[str, str, str | None]] = [("solution", step.solution, None)]
    programs.append(("starter", step.starter, "!fail"))
    programs += [(f"accepts[{i}]", code, None) for i, code in enumerate(step.accepts)]
    programs += [(f"rejects[{i}]", r.code, r.feedback) for i, r in enumerate(step.rejects)]
    # The step's own seed, so every program meets the same inputs on every run (feedback
    # that only some inputs bring out is the same each time), and the reference runs once.
    # Repairs get the time to run every candidate, so a busy machine does not change them.
    replaying = _replaying(checker.runner)
    fixed = replace(checker, runner=replaying, seed_source=lambda: step_seed(step),
                    prefetch=False, repair_budget_s=max(checker.repair_budget_s, VALIDATE_REPAIR_S))
    try:
        return _run_programs(step, fixed, programs, report, slots)
    finally:
        if replaying is not checker.runner:
            replaying.close()


def _run_programs(step: m.CodeStep, checker: Checker,
                  programs: list[tuple[str, str, str | None]], report: StepReport,
                  slots: threading.Semaphore | None) -> StepReport:
    for index, (label, code, expect_fail) in enumerate(programs):
        started = time.monotonic()
        with slots or _NO_LIMIT:
            verdict = checker.check(step, code, f"<{step.id} {label}>", prefetch_next=False)
        took = time.monotonic() - started
        if verdict.skipped:
            report.skipped = verdict.skipped
            return report
        report.attempts.append(_judge_attempt(label, verdict, step, expect_fail, took))
        broken = checker.broken_reference(step)
        if broken:  # said once: every other program would wait for the same failure
            left = len(programs) - index - 1
            report.attempts[-1] = Attempt(label, False, broken.removeprefix("lesson error: ") + (
                f"\n({left} other program(s) of this step were not run)" if left else ""),
                took, verdict.passed, broken)
            return report
    return report


def mutate_step(step: m.CodeStep, checker: Checker, report: StepReport | None = None,
                pool: Executor | None = None, slots: threading.Semaphore | None = None,
                limit: int = MAX_MUTANTS) -> MutationReport:
    """Run the solution's mutants through the step's checks, as a learner's code is run.

    All of a step's mutants get the same inputs, so the reference runs once and every
    mutant is judged against that run; the seed is the step's own, so a mutant that only
    some inputs reveal is reported the same way on every run.
    """
    found = mutants(step.solution, prints=any(c.key in OUTPUT_CHECKS for c in step.checks))
    listed = {e.mutant: e.reason for e in step.equivalent_mutants}
    ids = {x.id for x in found}
    result = MutationReport(generated=len(found),
                            stale=[e.mutant for e in step.equivalent_mutants if e.mutant not in ids])
    if report is not None and report.skipped:
        result.note = f"not run: {report.skipped}"
        return result
    if report is not None and not any(a.label == "solution" and a.ok for a in report.attempts):
        result.note = "not run: the solution itself does not pass"
        return result
    chosen = select([x for x in found if x.id not in listed], limit)
    result.left_out = len(found) - len(listed.keys() & ids) - len(chosen)
    replaying = _replaying(checker.runner)
    # No repairs: a mutant is one edit from the solution by construction, so finding that
    # edit again tells the author nothing and would double the mutants' runs.
    fixed = replace(checker, runner=replaying, seed_source=lambda: step_seed(step),
                    prefetch=False, repairs=False)

    def judge(mutant: Mutant) -> MutantResult:
        started = time.monotonic()
        with slots or _NO_LIMIT:
            verdict = fixed.check(step, mutant.source, f"<{step.id} mutant>", prefetch_next=False)
        took = time.monotonic() - started
        if verdict.passed:
            return MutantResult(mutant, "survived", duration_s=took)
        return MutantResult(mutant, "killed", feedback=feedback_text(verdict, step),
                            duration_s=took)

    try:
        runs = list(pool.map(judge, chosen) if pool is not None else map(judge, chosen))
    finally:
        if replaying is not checker.runner:
            replaying.close()
    by_id = {r.mutant.id: r for r in runs}
    for mutant in found:
        if mutant.id in listed:
            result.results.append(MutantResult(mutant, "equivalent", reason=listed[mutant.id]))
        elif mutant.id in by_id:
            result.results.append(by_id[mutant.id])
    return result


def _judge_attempt(label: str, verdict: Verdict, step: m.CodeStep, expect_fail: str | None,
                   took: float) -> Attempt:
    text = feedback_text(verdict, step)
    problem = _attempt_problem(label, verdict, text, expect_fail)
    return Attempt(label, not problem, problem, took, verdict.passed, text)


def _attempt_problem(label: str, verdict: Verdict, text: str, expect_fail: str | None) -> str:
    """What is wrong with how a program fared, or "" when it did as its author said."""
    if expect_fail is None:
        return "" if verdict.passed else f"{label} should pass but failed:\n{_indent(text)}"
    if verdict.passed:
        return f"{label} should fail but passed"
    if verdict.error and verdict.error.startswith("lesson error"):
        return f"{label}: {verdict.error}"
    if expect_fail != "!fail" and expect_fail not in text:
        return (f"{label} failed, but its feedback does not contain {expect_fail!r}:\n"
                f"{_indent(text)}")
    return ""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


class _NoLimit:
    """A context manager that limits nothing (no semaphore given)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LIMIT = _NoLimit()


def _replaying(runner: Runner) -> _ReplayingRunner:
    """The runner that replays reference runs: the caller's, when it already is one."""
    return runner if isinstance(runner, _ReplayingRunner) else _ReplayingRunner(runner)


def step_seed(step: m.CodeStep) -> int:
    """The seed a step is validated with: its own, the same on every run."""
    return zlib.crc32(step.id.encode()) & 0x7FFFFFFF


class _ReplayingRunner:
    """A ``Runner`` that runs each distinct reference once and replays its result.

    A step's mutants share one seed, so their reference runs are the same request: the first
    starts it (beside the first mutant) and the rest are judged against its result. Judge
    runs (metrics) stay live, one per check, since they evaluate the learner's values.
    """

    def __init__(self, runner: Runner):
        self._runner = runner
        self._lock = threading.Lock()
        self._shared: dict[str, _SharedRun] = {}

    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        if request.role != "reference" or request.judge:
            return self._runner.start(request, on_output)
        key = repr(request)
        with self._lock:
            shared = self._shared.get(key)
            if shared is None:
                shared = self._shared[key] = _SharedRun(self._runner.start(request, on_output))
        return shared

    def warm_up(self) -> None:
        self._runner.warm_up()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        return self._runner.wait_ready(timeout)

    def close(self) -> None:
        """Release the shared runs (the runner itself belongs to the caller)."""
        with self._lock:
            shared, self._shared = list(self._shared.values()), {}
        for run in shared:
            run.release()


class _SharedRun:
    """A reference run that several checks wait on; cancelling one check leaves it running."""

    def __init__(self, handle: RunHandle):
        self._handle = handle
        self._lock = threading.Lock()
        self._result: RunResult | None = None

    def wait(self) -> RunResult:
        with self._lock:
            if self._result is None:
                self._result = self._handle.wait()
            return self._result

    def judge(self, learner: RunResult) -> dict[str, Any]:
        return {}

    def cancel(self) -> None:
        """Nothing to stop: other checks share this run."""

    def close(self) -> None:
        """Nothing to release yet: ``release`` does, when the step's mutants are done."""

    def release(self) -> None:
        self._handle.close()
