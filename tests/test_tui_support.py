"""Shared pieces for the TUI tests: a session with canned checks, app builders, waits.

``FakeSession`` keeps the real course, progress store and workspace and replaces only the
judging, so the journeys stay fast; the tests marked ``slow`` use the real checker.
"""

from __future__ import annotations

import contextlib
import time
from functools import partial
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerFailed

from tutor.core import model as m
from tutor.core.checker import Cancel
from tutor.core.session import Session
from tutor.core.verdict import CheckResult, Verdict
from tutor.tui.app import TutorApp, make_app
from tutor.tui.options import TutorOptions

FIXTURE = Path(__file__).parent / "fixtures" / "course"
SOLUTION = "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
QUIET = TutorOptions(show_timings=False, show_paths=False, cursor_blink=False,
                     autosave_delay_s=0.05)


def _normal(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


class FakeSession(Session):
    """Passes code equal to the step's solution; ``raise`` fails at that line.

    ``hold`` makes every check wait until it is cancelled (a long training run).
    """

    hold = False
    boom: Exception | None = None  # raised by check, as a broken core would
    checks = 0

    def check(self, step_id=None, file=None, on_output=None, cancel=None) -> Verdict:
        return self._judge(step_id, on_output, cancel or Cancel(), record=True)

    def run(self, step_id=None, file=None, on_output=None, cancel=None) -> Verdict:
        return self._judge(step_id, on_output, cancel or Cancel(), record=False)

    def _judge(self, step_id, on_output, cancel: Cancel, record: bool) -> Verdict:
        type(self).checks += 1
        if self.boom is not None:
            raise self.boom
        step = self._code_step(step_id or self.current_step_id())
        self._require_unlocked(step.id)
        code = self.read_code(step.id)
        if on_output:
            on_output("hello from the fake runner\n")
        if self.hold:
            deadline = time.monotonic() + 10
            while not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.01)
            return Verdict(step=step.id, passed=False, error="cancelled", device="cpu")
        verdict = self._verdict(step, code)
        if record:
            self.store.record_attempt(self.course.id, step.id, verdict.passed)
        return verdict

    @staticmethod
    def _verdict(step: m.CodeStep, code: str) -> Verdict:
        lines = code.splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip().startswith("raise"):
                return Verdict(step=step.id, passed=False, line=number, device="cpu",
                               error=f"Traceback (most recent call last):\n  line {number}\n"
                                     "RuntimeError: boom")
        passed = _normal(code) == _normal(step.solution)
        message = "" if passed else "`t` is Ellipsis; expected a tensor of shape [2, 3]"
        return Verdict(step=step.id, passed=passed, device="cpu", stdout="hello\n",
                       checks=[CheckResult("`t` matches the expected value", passed, message),
                               CheckResult("the code runs", True)])


class HeldSession(FakeSession):
    hold = True


class BrokenSession(FakeSession):
    boom = RuntimeError("the checker broke")


def factory(tmp_path: Path, cls: type[Session] = FakeSession, lessons: Path = FIXTURE,
            unlock_all: bool = False):
    return partial(cls.open, lessons=lessons, device="cpu", workspace=tmp_path / "ws",
                   unlock_all=unlock_all)


def build_app(tmp_path: Path, cls: type[Session] = FakeSession, lessons: Path = FIXTURE,
              options: TutorOptions = QUIET, unlock_all: bool = False) -> TutorApp:
    return make_app(factory(tmp_path, cls, lessons, unlock_all), options)


async def settle(pilot: Pilot) -> None:
    """Wait for every worker and the messages they posted (never sleep)."""
    for _ in range(3):
        with contextlib.suppress(WorkerFailed):  # the app reports those itself
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_for(pilot: Pilot, condition, timeout: float = 10.0) -> None:
    """For states a thread reaches on its own schedule, e.g. a check that is running."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


def text_of(widget) -> str:
    """The plain text a Static/Label shows."""
    return str(widget.render())
