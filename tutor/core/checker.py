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
from typing import Any

from tutor.core import datasets, devices, judging, plan
from tutor.core import model as m
from tutor.core.checks import Outcome
from tutor.core.progress import default_data_dir
from tutor.core.run_feedback import failure_text, reference_failure, stderr_text
from tutor.core.runs import Limits, Role, RunHandle, Runner, RunRequest, RunResult
from tutor.core.verdict import CheckResult, Verdict

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
    _ahead: dict[str, _Prefetched] = field(default_factory=dict, init=False, repr=False)
    _ahead_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def prepare(self, step: m.CodeStep) -> None:
        """Start the reference run of ``step``'s next check now, while the learner types.

        Each check still gets fresh inputs (a new seed): only the reference's run for that
        seed is done ahead, so the check waits for the learner's code alone.
        """
        if not _cacheable(step):
            return
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
        on_output: Callable[[str], None] | None = None,
        cancel: Cancel | None = None,
        prefetch_next: bool | None = None,
    ) -> Verdict:
        """Run ``code`` for ``step`` and judge it against the step's checks.

        ``prefetch_next`` (default: the checker's ``prefetch``) starts the next check's
        reference run as soon as this one ends.
        """
        early = self._before_running(step, code)
        if early is not None:
            return early
        cancel = cancel or Cancel()
        seed, reference = self._reference(step, None)
        if reference is not None:
            cancel.bind(reference)
        learner = self._start(step, "learner", code, filename, seed, on_output)
        cancel.bind(learner)
        try:
            return self._judge(step, code, learner, reference)
        finally:
            learner.close()
            if reference is not None:
                reference.close()
            ahead = self.prefetch if prefetch_next is None else prefetch_next
            if ahead and not cancel.cancelled:
                self.prepare(step)

    def run(
        self,
        step: m.CodeStep,
        code: str,
        filename: str,
        on_output: Callable[[str], None] | None = None,
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
        return _failed_run(step.id, result, handle_limits(step, self.limits, "learner"))

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
            pointer = ""
            if exc.text:
                pointer = f"\n    {exc.text.rstrip()}\n    {' ' * max(0, (exc.offset or 1) - 1)}^"
            return Verdict(step=step.id, passed=False, line=exc.lineno,
                           error=f"Python cannot read line {exc.lineno}: {exc.msg}{pointer}")
        return None

    def _start(self, step: m.CodeStep, role: Role, code: str, filename: str, seed: int,
               on_output: Callable[[str], None] | None, judge: bool = False,
               probes: bool = True) -> RunHandle:
        request = RunRequest(
            role=role, code=code, filename=filename, setup=step.setup,
            probes=plan.probes_for(step) if probes else (),
            metrics=plan.metrics_for(step) if judge else (), judge=judge, seed=seed,
            device=devices.resolve(self.device), data_dir=self._data_root(step),
            limits=handle_limits(step, self.limits, role),
            protect=protected_paths(step, filename),
        )
        return self.runner.start(request, on_output)

    def _data_root(self, step: m.CodeStep) -> str:
        """What lesson code gets as DATA_DIR: the real data set, else the offline substitute."""
        if not step.data:
            return self.data_dir
        root, _kind = datasets.resolve(Path(self.data_dir))
        return str(root)

    def _judge(self, step: m.CodeStep, code: str, learner: RunHandle,
               reference: RunHandle | None) -> Verdict:
        mine = learner.wait()
        if not mine.ok:
            if reference is not None:
                reference.cancel()
            return _failed_run(step.id, mine, handle_limits(step, self.limits, "learner"))
        expected: dict[str, Any] | None = None
        metrics: dict[str, Any] = {}
        if reference is not None:
            theirs = reference.wait()
            if not theirs.ok:
                limits = handle_limits(step, self.limits, "reference")
                return _verdict(step.id, mine, error=reference_failure(theirs, limits))
            expected = theirs.values
            if plan.metrics_for(step):
                metrics = reference.judge(mine)
        outcome = Outcome(mine.values, expected, metrics, mine.stdout, code, mine.device)
        results = judging.evaluate(step, outcome)
        verdict = _verdict(step.id, mine, checks=results)
        verdict.passed = bool(results) and all(r.passed for r in results)
        return verdict


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
        self._thread = threading.Thread(target=self._run, args=(start,), daemon=True)
        self._thread.start()

    def _run(self, start: Callable[[], RunHandle]) -> None:
        try:
            handle = start()
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
    return Verdict(step=step_id, passed=False, checks=checks or [], error=error,
                   stdout=result.stdout, stderr=stderr_text(result.stderr),
                   duration_s=result.duration_s, device=result.device)


def _failed_run(step_id: str, result: RunResult, limits: Limits) -> Verdict:
    """A run that produced no values to check: say why, in the learner's terms."""
    verdict = _verdict(step_id, result, error=failure_text(result, limits))
    verdict.line = result.error.line if result.error is not None else None
    return verdict
