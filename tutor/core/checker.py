"""Check one attempt at a step: run the learner's code and the reference side by side,
then decide the verdict here, in a process that neither of them ran in.
"""

from __future__ import annotations

import ast
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.core import datasets, devices, judging, plan
from tutor.core import model as m
from tutor.core.progress import default_data_dir
from tutor.core.verdict import CheckResult, Verdict
from tutor.sandbox.frames import FrameError
from tutor.sandbox.runner import Limits, RunHandle, Runner, RunRequest, RunResult

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
            return ahead.seed, ahead
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
        return _failed_run(step.id, result)

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

    def _start(self, step: m.CodeStep, role: str, code: str, filename: str, seed: int,
               on_output: Callable[[str], None] | None, judge: bool = False,
               probes: bool = True) -> RunHandle:
        timeout = step.timeout_s if role == "learner" else step.timeout_s * 2 + 10
        limits = Limits(timeout_s=timeout, memory_bytes=self.limits.memory_bytes,
                        fsize_bytes=self.limits.fsize_bytes, nofile=self.limits.nofile,
                        output_bytes=self.limits.output_bytes)
        request = RunRequest(
            role=role, code=code, filename=filename, setup=step.setup,
            probes=plan.probes_for(step) if probes else [],
            metrics=plan.metrics_for(step) if judge else [], judge=judge, seed=seed,
            device=devices.resolve(self.device), data_dir=self._data_root(step), limits=limits,
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
            return _failed_run(step.id, mine)
        try:
            exports = mine.exports()
        except FrameError as exc:
            if reference is not None:
                reference.cancel()
            return _verdict(step.id, mine, error=(
                f"The result channel held bytes the tutor did not send itself ({exc}); "
                "this attempt cannot count."))
        expected: dict[str, Any] | None = None
        metrics: dict[str, Any] = {}
        if reference is not None:
            theirs = reference.wait()
            if not theirs.ok:
                return _verdict(step.id, mine, error=_lesson_error(theirs))
            expected = theirs.exports()
            if plan.metrics_for(step):
                metrics = reference.judge(mine)
        results = judging.evaluate(step, exports, expected, metrics, mine.stdout, code,
                                   mine.device)
        verdict = _verdict(step.id, mine, checks=results)
        verdict.passed = bool(results) and all(r.passed for r in results)
        return verdict


def _cacheable(step: m.CodeStep) -> bool:
    """A reference can run ahead unless a judge must wait for the learner's values."""
    return plan.needs_reference(step) and not plan.metrics_for(step)


class _Prefetched:
    """A reference run started ahead of its check; looks like a RunHandle to ``_judge``."""

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

    def judge(self, learner: RunResult) -> dict[str, Any]:
        return {}

    def cancel(self) -> None:
        """The reference is shared work: it finishes even if this check is cancelled."""

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
                   stdout=result.stdout, stderr=_stderr_text(result.stderr),
                   duration_s=result.duration_s, device=result.device)


WARNING_PATH = re.compile(r"(?m)^/\S*/([^/\s]+\.py:\d+: )")


def _stderr_text(text: str, limit: int = 4000) -> str:
    """Warnings as a learner reads them: ``loss.py:608: UserWarning: ...`` without the long
    folder in front (it pushes the message off an 80-column screen); the end of a long
    stderr (a warning repeated in a loop, say), marked as cut."""
    text = WARNING_PATH.sub(r"\1", text)
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def _failed_run(step_id: str, result: RunResult) -> Verdict:
    """A run that produced no values to check: say why, in the learner's terms."""
    line = None
    if result.error is not None:
        text = result.error.format()
        if result.error.frames:
            line = result.error.frames[-1].get("line")
        if "ellipsis" in result.error.message:
            text += "\n\n`...` is the starter's placeholder: replace it with your code."
        if result.status == "memory":
            text += ("\n\nYour code ran out of memory (the limit is there to protect your "
                     "machine). Use smaller tensors or fewer at a time.")
        elif result.status == "setup_error":
            text = "lesson error: the step's own setup code failed:\n" + text
    else:
        text = result.detail or f"the run ended with status {result.status}"
    verdict = _verdict(step_id, result, error=text)
    verdict.line = line
    return verdict


def _lesson_error(result: RunResult) -> str:
    why = result.error.format("Traceback (the reference solution):") if result.error else (
        result.detail)
    return ("lesson error: the step's reference solution did not run "
            f"({result.status}). Please report this to the lesson's author.\n{why}")
