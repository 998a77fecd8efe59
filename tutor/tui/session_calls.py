"""The session's use cases as the TUI calls them: each in a thread worker, since each may read
or write files or run code, and each posts what the session returned as a message. None of
them touches a widget or the screen's state; the step screen's handlers do that on the UI
thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message

from tutor.tui import messages as msg

if TYPE_CHECKING:  # the session loads in the opening worker, after the first frame
    from textual.widget import Widget

    from tutor.core.checker import Cancel
    from tutor.core.runs import OutputCallback
    from tutor.core.session import Session
    from tutor.tui.autosaver import Autosaver, Draft

SessionFactory = Callable[[], "Session"]


class SessionCalls:
    """Holds the session once it is open; the autosaver writes drafts before files are read."""

    def __init__(self, host: Widget, autosaver: Autosaver) -> None:
        self.host = host  # runs the workers and receives their messages
        self.autosaver = autosaver
        self.session: Session | None = None  # set by the screen when ``SessionOpened`` arrives
        self._started = False  # the opening worker was started
        self.warmed = False  # the first run asked whether the workers were ready
        self.opened: Session | None = None  # as soon as the worker has it, for closing
        self._opening = threading.Event()

    def close(self, timeout: float) -> None:
        """Close the session, waiting up to ``timeout`` for one still opening (the learner
        may quit first): its workers would outlive the app."""
        if self.opened is None and not self._opening.wait(timeout if self._started else 0):
            return
        if self.opened is not None:
            self.opened.close()

    @property
    def live(self) -> Session:
        if self.session is None:
            raise RuntimeError("the course is still opening")
        return self.session

    def _start(self, group: str, work: Callable[[], None]) -> None:
        self.host.run_worker(work, thread=True, group=group, exclusive=True, exit_on_error=False)

    def _post(self, message: Message) -> None:
        self.host.post_message(message)

    # ------------------------------------------------------------------ opening and moving
    def open(self, factory: SessionFactory) -> None:
        self._started = True
        self._start("open", partial(self._open, factory))

    def _open(self, factory: SessionFactory) -> None:
        try:
            session = self.opened = factory()
        finally:
            self._opening.set()
        view = session.open_step()
        self._post(msg.SessionOpened(session, session.warnings))
        self._post(msg.StepLoaded(view))

    def open_step(self, step_id: str, leaving: Draft | None) -> None:
        """Open a step; ``leaving`` is unsaved text of the step on screen."""
        self._start("step", partial(self._open_step, step_id, leaving))

    def _open_step(self, step_id: str, leaving: Draft | None) -> None:
        self.autosaver.write_and_report(leaving)
        self._post(msg.StepLoaded(self.live.open_step(step_id)))

    def reset(self, step_id: str) -> None:
        self._start("step", partial(self._reset, step_id))

    def _reset(self, step_id: str) -> None:
        session = self.live
        session.reset(step_id)
        self.autosaver.replaced(step_id)
        self._post(msg.StepLoaded(session.open_step(step_id), keep_undo=True))

    # ------------------------------------------------------------------ attempts
    def attempt(self, step_id: str, mode: str, draft: Draft | None, cancel: Cancel,
                on_output: OutputCallback) -> None:
        """A check or a plain run (``mode``), after writing ``draft``; for ``RunController``."""
        session = self.live
        self.autosaver.write_and_report(draft)
        if not self.warmed:
            self.warmed = True
            if not session.checker.runner.wait_ready(timeout=0):
                self._post(msg.WarmingUp())
        if mode == "run":
            verdict = session.run(step_id, on_output=on_output, cancel=cancel)
            self._post(msg.RunFinished(step_id, verdict))
            return
        attempt = session.check(step_id, on_output=on_output, cancel=cancel)
        summary = session.summary() if attempt.passed else None
        self._post(msg.CheckFinished(attempt, session.warnings, summary))

    def answer(self, step_id: str, picks: list[int]) -> None:
        self._start("run", partial(self._answer, step_id, picks))

    def _answer(self, step_id: str, picks: list[int]) -> None:
        session = self.live
        attempt = session.answer(step_id, picks)
        summary = session.summary() if attempt.passed else None
        self._post(msg.QuizAnswered(attempt, session.warnings, picks, summary))

    # ------------------------------------------------------------------ help and the map
    def hint(self, step_id: str) -> None:
        self._start("hint", lambda: self._post(
            msg.HintRevealed(step_id, self.live.next_hint(step_id))))

    def solution(self, step_id: str, force: bool) -> None:
        self._start("solution", partial(self._solution, step_id, force))

    def _solution(self, step_id: str, force: bool) -> None:
        session = self.live
        code = session.solution(step_id, force=force)
        language = "text" if session.step(step_id).kind == "quiz" else "python"
        self._post(msg.SolutionReady(step_id, code, language))

    def course_map(self, current: str | None) -> None:
        self._start("map", partial(self._course_map, current))

    def _course_map(self, current: str | None) -> None:
        session = self.live
        statuses = session.statuses()
        position = session.position_of(current, statuses) if current else None
        self._post(msg.CourseMapReady(statuses, session.summary(), position, session.warnings))

    # ------------------------------------------------------------------ the external editor
    def prepare_external_edit(self, step_id: str, draft: Draft | None) -> None:
        """Write what is typed, so the editor opens the learner's latest text."""
        self._start("step", partial(self._prepare_external_edit, step_id, draft))

    def _prepare_external_edit(self, step_id: str, draft: Draft | None) -> None:
        self.autosaver.write_and_report(draft)
        self._post(msg.ExternalEditReady(step_id, self.live.file_of(step_id)))

    def reload(self, step_id: str, check: bool) -> None:
        self._start("step", lambda: self._post(
            msg.CodeReloaded(step_id, self.live.read_code(step_id), check)))
