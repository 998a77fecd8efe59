"""Check one attempt at a step: run the learner's code and the reference side by side,
then decide the verdict here, in a process that neither of them ran in.
"""

from __future__ import annotations

import ast
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.core import datasets, devices, judging, plan, repairs, seeing
from tutor.core import model as m
from tutor.core.checks import Outcome
from tutor.core.progress import default_data_dir
from tutor.core.run_feedback import (
    error_line,
    failure_text,
    machine_busy,
    reference_failure,
    stderr_text,
    syntax_error_text,
)
from tutor.core.runs import (
    Limits,
    ModuleProbe,
    OutputCallback,
    Role,
    RunHandle,
    Runner,
    RunRequest,
    RunResult,
)
from tutor.core.verdict import CheckResult, Verdict

if TYPE_CHECKING:
    from tutor.core.repairs import Candidate

REFERENCE_FILENAME = "<reference solution>"


class Cancel:
    """Cancels the runs of one check from another thread (the UI's cancel key)."""

    def __init__(self) -> None:
        self._handles: list[RunHandle] = []
        self._lock = threading.Lock()
        self.cancelled = False

    def bind(self, handle: RunHandle) -> None:
        with self._lock:
            self._handles.append(handle)
            if self.cancelled:
                handle.cancel()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            handles = list(self._handles)
        for handle in handles:
            handle.cancel()


@dataclass
class Checker:
    """Runs and judges code for steps of one course on one device."""

    runner: Runner
    device: str = "cpu"
    data_dir: str = ""
    limits: Limits = field(default_factory=Limits)
    seed_source: Callable[[], int] = field(default=lambda: secrets.randbelow(2**31))
    prefetch: bool = False  # compute the next check's reference ahead (long-lived sessions)
    # On a failing check, run edits taken from the reference (tutor.core.repairs) and tell
    # one that makes a check pass: at most ``repair_budget_s`` more to wait, and none where
    # the learner's run alone took longer (a cold interpreter, a long training).
    repairs: bool = True
    repair_budget_s: float = 1.5
    repair_jobs: int = 2  # candidate runs at once
    _ahead: dict[str, _Prefetched] = field(default_factory=dict, init=False, repr=False)
    _ahead_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    # Steps whose reference solution failed, and how (said once, not re-run for every check)
    _broken: dict[tuple[str, int], str] = field(default_factory=dict, init=False, repr=False)

    def prepare(self, step: m.CodeStep) -> None:
        """Start the reference run of ``step``'s next check now, while the learner types.

        Each check still gets fresh inputs (a new seed): only the reference's run for that
        seed is done ahead, so the check waits for the learner's code alone.
        """
        if not _cacheable(step) or self.broken_reference(step) or not self._has_data(step):
            return  # (no data yet: the check says so, and once it is there, runs afresh)
        with self._ahead_lock:
            if step.id in self._ahead:
                return
            seed = self.seed_source()
            self._ahead[step.id] = _Prefetched(
                seed, lambda: self._start(step, "reference", step.solution, REFERENCE_FILENAME,
                                          seed, None))

    def wait_prepared(self, step: m.CodeStep) -> None:
        """Block until the reference prepared for ``step`` is ready (benchmarks, tests)."""
        with self._ahead_lock:
            ahead = self._ahead.get(step.id)
        if ahead is not None:
            ahead.wait()

    def _reference(self, step: m.CodeStep, seed: int | None) -> tuple[int, RunHandle | None]:
        """The seed for this check and its reference run: prefetched if one is ready."""
        with self._ahead_lock:
            ahead = self._ahead.pop(step.id, None)
        if ahead is not None:
            return ahead.seed, ahead.handle()
        seed = self.seed_source() if seed is None else seed
        if not plan.needs_reference(step):
            return seed, None
        handle = self._start(step, "reference", step.solution, REFERENCE_FILENAME, seed, None,
                             judge=bool(plan.metrics_for(step)))
        return seed, handle

    def check(
        self,
        step: m.CodeStep,
        code: str,
        filename: str,
        on_output: OutputCallback | None = None,
        cancel: Cancel | None = None,
        prefetch_next: bool | None = None,
    ) -> Verdict:
        """Run ``code`` for ``step`` and judge it against the step's checks.

        ``prefetch_next`` (default: the checker's ``prefetch``) starts the next check's
        reference run as soon as this one ends.
        """
        early = self._before_running(step, code) or _untouched(step, code)
        if early is not None:
            return early
        broken = self.broken_reference(step)
        if broken:
            return Verdict(step=step.id, passed=False, error=broken)
        cancel = cancel or Cancel()
        seed, reference = self._reference(step, None)
        if reference is not None:
            cancel.bind(reference)
        learner = self._start(step, "learner", code, filename, seed, on_output)
        cancel.bind(learner)
        try:
            return self._judge(step, _Attempt(code, filename, seed, cancel), learner, reference)
        finally:
            learner.close()
            if reference is not None:
                reference.close()
            ahead = self.prefetch if prefetch_next is None else prefetch_next
            if ahead and not cancel.cancelled:
                self.prepare(step)

    def broken_reference(self, step: m.CodeStep) -> str:
        """Why ``step``'s reference solution failed when it last ran, in its author's
        words; "" unless it did (then checks say so at once instead of running it again)."""
        return self._broken.get(_solution_key(step), "")

    def _remember_broken(self, step: m.CodeStep, result: RunResult, text: str) -> None:
        """Keep a failure that would happen again; not one the machine or the learner caused
        (cancelled, a forged channel, memory, a busy machine, a worker that never started
        the code)."""
        if result.status in ("cancelled", "protocol", "memory", "killed") or (
                result.failed_in == "start") or (
                result.status == "timeout" and machine_busy(result)):
            return
        self._broken[_solution_key(step)] = text
        with self._ahead_lock:
            ahead = self._ahead.pop(step.id, None)
        if ahead is not None:
            ahead.cancel()

    def run(
        self,
        step: m.CodeStep,
        code: str,
        filename: str,
        on_output: OutputCallback | None = None,
        cancel: Cancel | None = None,
    ) -> Verdict:
        """Run the code and report its output and errors, without judging it."""
        early = self._before_running(step, code, with_checks=False)
        if early is not None:
            return early
        handle = self._start(step, "learner", code, filename, self.seed_source(), on_output,
                             probes=False)
        if cancel:
            cancel.bind(handle)
        try:
            result = handle.wait()
        finally:
            handle.close()
        if result.ok:
            return _verdict(step.id, result)
        return _failed_run(step.id, result, handle_limits(step, self.limits, "learner"), code)

    # ------------------------------------------------------------------ internals
    def _before_running(self, step: m.CodeStep, code: str, with_checks: bool = True) -> Verdict | None:
        if step.requires == "cuda" and not devices.may_use_cuda(self.device):
            return Verdict(step=step.id, passed=False, skipped=devices.no_cuda_reason(self.device))
        if step.data:
            try:
                datasets.resolve(Path(self.data_dir))
            except datasets.DatasetMissing as exc:
                return Verdict(step=step.id, passed=False, error=str(exc))
        try:
            ast.parse(code)
        except SyntaxError as exc:
            return Verdict(step=step.id, passed=False, line=exc.lineno,
                           error=syntax_error_text(exc, code))
        return None

    def _start(self, step: m.CodeStep, role: Role, code: str, filename: str, seed: int,
               on_output: OutputCallback | None, judge: bool = False,
               probes: bool = True) -> RunHandle:
        seen = role == "learner" and on_output is not None
        if seen and on_output is not None:  # the learner's pictures carry the step's axes
            on_output = seeing.naming_axes(on_output, seeing.declared_axes(step.checks))
        request = RunRequest(
            role=role, code=code, filename=filename, setup=step.setup,
            probes=plan.probes_for(step) if probes else (),
            metrics=plan.metrics_for(step) if judge else (), judge=judge, seed=seed,
            device=devices.resolve(self.device), data_dir=self._data_root(step),
            limits=handle_limits(step, self.limits, role),
            protect=protected_paths(step, filename),
            # the shapes view is for a learner watching: not for repairs nor validation
            shapes=seen, layer_inputs=_layer_inputs(step) if seen else (),
        )
        return self.runner.start(request, on_output)

    def _has_data(self, step: m.CodeStep) -> bool:
        try:
            self._data_root(step)
        except datasets.DatasetMissing:
            return False
        return True

    def _data_root(self, step: m.CodeStep) -> str:
        """What lesson code gets as DATA_DIR: the real data set, else the offline substitute."""
        if not step.data:
            return self.data_dir
        root, _kind = datasets.resolve(Path(self.data_dir))
        return str(root)

    def _judge(self, step: m.CodeStep, attempt: _Attempt, learner: RunHandle,
               reference: RunHandle | None) -> Verdict:
        code = attempt.code
        mine = learner.wait()
        if not mine.ok and code == step.solution:  # the step's own solution (lessons validate)
            if reference is not None:
                _abandon(reference)
            limits = handle_limits(step, self.limits, "learner")
            verdict = _verdict(step.id, mine, error=reference_failure(mine, limits))
            self._remember_broken(step, mine, verdict.error or "")
            return verdict
        if mine.status == "error" and mine.values:
            return self._partial(step, attempt, mine, reference)
        if not mine.ok:
            verdict = _failed_run(step.id, mine, handle_limits(step, self.limits, "learner"), code)
            found = self._candidates(step, attempt, mine) if mine.status == "error" else []
            if found:  # the reference's values judge the edits, so it runs on
                self._repair(step, attempt, verdict, found, _finished(reference))
            elif reference is not None:
                reference.cancel()
            return verdict
        expected: dict[str, Any] | None = None
        metrics: dict[str, Any] = {}
        printed = ""
        theirs: RunResult | None = None
        if reference is not None:
            theirs = reference.wait()
            if not theirs.ok:
                limits = handle_limits(step, self.limits, "reference")
                verdict = _verdict(step.id, mine, error=reference_failure(theirs, limits))
                self._remember_broken(step, theirs, verdict.error or "")
                return verdict
            expected = theirs.values
            if plan.metrics_for(step):
                metrics = reference.judge(mine)
            printed = theirs.stdout  # a judge run's output is complete once it has judged
        outcome = Outcome(mine.values, expected, metrics, mine.stdout, code, mine.device,
                          reference_stdout=printed)
        results = judging.evaluate(step, outcome)
        verdict = _verdict(step.id, mine, checks=results)
        verdict.passed = bool(results) and all(r.passed for r in results)
        if not verdict.passed:
            self._repair(step, attempt, verdict, self._candidates(step, attempt, mine), theirs)
        return verdict


    def _partial(self, step: m.CodeStep, attempt: _Attempt, mine: RunResult,
                 reference: RunHandle | None) -> Verdict:
        """The code raised: the error first, then the checks on what it had already made."""
        code = attempt.code
        verdict = _failed_run(step.id, mine, handle_limits(step, self.limits, "learner"), code)
        expected: dict[str, Any] | None = None
        theirs = _finished(reference)
        if theirs is not None:
            if not theirs.ok:
                return verdict  # the learner's error is the news; the lesson's can wait
            expected = theirs.values
        frames = mine.error.frames if mine.error is not None else []
        stop = frames[0].line if frames and not frames[0].name else None  # module level
        where = f" at line {stop}" if stop else ""
        outcome = Outcome(mine.values, expected, {}, mine.stdout, code, mine.device)
        verdict.checks = judging.evaluate(
            step, outcome, stopped=f"your code stopped with an error{where} (above) before "
                                   "this could be checked: fix that first", stop_line=stop)
        self._repair(step, attempt, verdict, self._candidates(step, attempt, mine), theirs)
        return verdict

    # ------------------------------------------------------------------ repairs
    def _candidates(self, step: m.CodeStep, attempt: _Attempt,
                    mine: RunResult) -> list[Candidate]:
        """Edits worth running: none when repairs are off, or when the learner's run alone
        took the whole budget (each candidate would take as long: a step that trains)."""
        if not self.repairs or attempt.cancel.cancelled \
                or mine.duration_s > self.repair_budget_s:
            return []
        return repairs.candidates(attempt.code, step.solution, step.setup)

    def _repair(self, step: m.CodeStep, attempt: _Attempt, verdict: Verdict,
                found: list[Candidate], theirs: RunResult | None) -> None:
        """Run the candidate edits as learner runs with this check's seed, judged against
        the reference run already made for it; say the first that helps (it was run)."""
        if not found or (theirs is not None and not theirs.ok):
            return
        expected = theirs.values if theirs is not None else None
        printed = theirs.stdout if theirs is not None else ""
        group = Cancel()  # the budget's timer stops these runs; the learner's cancel too

        # A metric needs a judge run per program: each candidate gets its own, a reference
        # run started beside it that evaluates the metrics once given the candidate's values.
        metered = bool(plan.metrics_for(step))
        judges: dict[int, RunHandle] = {}

        def bound(handle: RunHandle) -> RunHandle:
            attempt.cancel.bind(handle)
            group.bind(handle)
            return handle

        def start(candidate: Candidate) -> RunHandle:
            if metered:
                judges[id(candidate)] = bound(self._start(
                    step, "reference", step.solution, attempt.filename, attempt.seed, None,
                    judge=True))
            return bound(self._start(step, "learner", candidate.source, attempt.filename,
                                     attempt.seed, None))

        def metrics_of(candidate: Candidate, result: RunResult) -> dict[str, Any] | None:
            judge_run = judges.pop(id(candidate), None)
            if judge_run is None:
                return {}
            try:
                return judge_run.judge(result) if result.ok and judge_run.wait().ok else None
            finally:
                judge_run.close()

        def judge(candidate: Candidate, result: RunResult) -> list[CheckResult] | None:
            metrics = metrics_of(candidate, result)
            if not result.ok or metrics is None:
                return None
            outcome = Outcome(result.values, expected, metrics, result.stdout,
                              candidate.source, result.device, reference_stdout=printed)
            return judging.evaluate(step, outcome)

        try:
            verified = repairs.verify(found, start, judge, verdict.checks, bool(verdict.error),
                                      self.repair_budget_s, self.repair_jobs, group.cancel)
        finally:
            for judge_run in judges.values():  # candidates never judged: cut short
                judge_run.cancel()
                judge_run.close()
        if verified is not None:
            repairs.attach(verdict, verified)


@dataclass(frozen=True)
class _Attempt:
    """What a check's repairs need to run edits of the learner's code like the code itself."""

    code: str
    filename: str
    seed: int
    cancel: Cancel


def _finished(reference: RunHandle | None) -> RunResult | None:
    return reference.wait() if reference is not None else None


UNTOUCHED = ("You have not changed the starter yet: replace each `...` with your code (the "
             "explanation says what goes there), then check again.")


def _untouched(step: m.CodeStep, code: str) -> Verdict | None:
    """The starter as it was written, placeholders and all: one line, not one per check."""
    if "..." not in step.starter or _normalised(code) != _normalised(step.starter):
        return None
    line = next((n for n, text in enumerate(code.splitlines(), 1) if "..." in text), None)
    return Verdict(step=step.id, passed=False, error=UNTOUCHED, line=line)


def _normalised(code: str) -> list[str]:
    return [line.rstrip() for line in code.strip().splitlines()]


def _solution_key(step: m.CodeStep) -> tuple[str, int]:
    """A step's reference as it runs: an edited solution or setup runs again."""
    return step.id, hash((step.solution, step.setup))


def _abandon(reference: RunHandle) -> None:
    """Stop a reference nobody will read, prefetched ones included."""
    if isinstance(reference, _Finished):
        reference.abandon()
    else:
        reference.cancel()


def handle_limits(step: m.CodeStep, base: Limits, role: Role) -> Limits:
    """A run's limits: the step's timeout for the learner, more for the reference (which
    also serves as the judge)."""
    timeout = step.timeout_s if role == "learner" else step.timeout_s * 2 + 10
    return replace(base, timeout_s=timeout)


def _cacheable(step: m.CodeStep) -> bool:
    """A reference can run ahead unless a judge must wait for the learner's values."""
    return plan.needs_reference(step) and not plan.metrics_for(step)


class _Prefetched:
    """A reference run started ahead of its check, in a thread of its own."""

    def __init__(self, seed: int, start: Callable[[], RunHandle]):
        self.seed = seed
        self._result: RunResult | None = None
        self._error: BaseException | None = None
        self._handle: RunHandle | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, args=(start,), daemon=True)
        self._thread.start()

    def _run(self, start: Callable[[], RunHandle]) -> None:
        try:
            handle = self._handle = start()
            if self._cancelled:
                handle.cancel()
            try:
                self._result = handle.wait()
            finally:
                handle.close()
        except BaseException as exc:  # reported by wait(), in the checking thread
            self._error = exc

    def wait(self) -> RunResult:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def handle(self) -> RunHandle:
        return _Finished(self)

    def cancel(self) -> None:
        """Stop it: the step's reference is known to fail."""
        self._cancelled = True
        if self._handle is not None:
            self._handle.cancel()


class _Finished:
    """A prefetched reference as a ``RunHandle``: it runs no metric (steps with metrics are
    never prefetched) and, being shared work, finishes even if the check is cancelled."""

    def __init__(self, prefetched: _Prefetched):
        self._prefetched = prefetched

    def wait(self) -> RunResult:
        return self._prefetched.wait()

    def judge(self, learner: RunResult) -> dict[str, Any]:
        return {}

    def cancel(self) -> None:
        """Nothing to stop: the reference is shared work."""

    def abandon(self) -> None:
        """Stop it after all: the step's own solution failed, so nobody will read it."""
        self._prefetched.cancel()

    def close(self) -> None:
        """Nothing to release: the run closed itself when it finished."""


def protected_paths(step: m.CodeStep, filename: str) -> tuple[str, ...]:
    """What the code may not read or write (where the sandbox can deny it): the course and
    its solutions, the tutor's home (progress, workspace), the learner's home and the
    folder of their file. The data folder stays readable."""
    paths = [str(default_data_dir()), os.path.expanduser("~")]
    if step.where is not None:
        paths.append(str(Path(step.where.file).resolve().parent))
    if os.path.isabs(filename):
        paths.append(os.path.dirname(filename))
    return tuple(p for p in paths if os.path.isabs(p))


def _verdict(step_id: str, result: RunResult, error: str | None = None,
             checks: list[CheckResult] | None = None) -> Verdict:
    failed = any(not check.passed for check in checks or [])
    return Verdict(step=step_id, passed=False, checks=checks or [], error=error,
                   stdout=result.stdout, stderr=stderr_text(result.stderr),
                   duration_s=result.duration_s, device=result.device,
                   line=error_line(result.values) if failed else None)


def _failed_run(step_id: str, result: RunResult, limits: Limits, code: str = "") -> Verdict:
    """A run that produced no values to check: say why, in the learner's terms."""
    verdict = _verdict(step_id, result, error=failure_text(result, limits, code))
    verdict.line = result.error.line if result.error is not None else None
    return verdict


def _layer_inputs(step: m.CodeStep) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The modules the step's checks run, each with the first input a check gives it: the
    worker runs each once more, layer by layer, for the learner to see."""
    inputs: dict[str, tuple[int, ...]] = {}
    for probe in plan.probes_for(step):
        if isinstance(probe, ModuleProbe) and probe.input_shape:
            inputs.setdefault(probe.name, tuple(probe.input_shape))
    return tuple(inputs.items())
