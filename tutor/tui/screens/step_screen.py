"""The step view: the lesson, the learner's code (or a quiz) and the output, under a header
and over the footer's keys. The screen owns what the session last reported (``TutorState``),
whether a run is going and which pane the learner is in, and applies them to its widgets; the
pieces it is built from own the rest: ``SessionCalls`` (workers that call the session and post
its results here), ``RunController`` (one run at a time), ``Autosaver`` (the learner's code on
disk), ``PaneLayout`` (which panes show), ``Dialogs``, ``Notices`` and ``ExternalEditor``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from tutor.core.status import LOCKED
from tutor.core.text import widest_code_line
from tutor.tui import messages as msg
from tutor.tui.autosaver import Autosaver
from tutor.tui.dialogs import EARLY_SOLUTION, RESET, Dialogs, lesson_end
from tutor.tui.external_editor import ExternalEditor
from tutor.tui.keys import BINDINGS, allowed, palette_commands
from tutor.tui.notices import Notices
from tutor.tui.options import TutorOptions
from tutor.tui.pane_layout import PaneLayout
from tutor.tui.run_controller import RunController
from tutor.tui.session_calls import SessionCalls, SessionFactory
from tutor.tui.state import TutorState
from tutor.tui.widgets.pane_bar import PaneBar
from tutor.tui.widgets.step_header import StepHeader
from tutor.tui.widgets.step_panes import StepPanes

if TYPE_CHECKING:  # the session loads in the opening worker, after the first frame: it brings
    # the course loader, numpy and msgspec; the step view's widgets (Markdown, TextArea)
    # mount right after the first frame
    from tutor.core.figures import Figure
    from tutor.core.views import Attempt
    from tutor.tui.first_screen import FirstScreen
    from tutor.tui.widgets.code_editor import CodeEditor
    from tutor.tui.widgets.quiz_panel import QuizPanel


class StepScreen(Screen[None]):
    """Shows ``state`` and routes keys and the workers' messages to the pieces that own them.
    ``running`` and ``pane`` refresh the footer's keys themselves when they change."""

    BINDINGS: ClassVar[list[BindingType]] = [*BINDINGS]
    # What the session last reported: replaced from its results, never edited; setting it
    # redraws the header and the footer's keys.
    state: reactive[TutorState] = reactive(TutorState, always_update=True, bindings=True,
                                           init=False)
    running: reactive[str | None] = reactive(None, bindings=True, init=False)  # "check", "run"
    # The pane the learner is in: its watcher moves the pane bar; no key depends on it, so it
    # does not refresh the footer (the focused widget's own keys follow the focus).
    pane: reactive[str] = reactive("code", init=False)

    def __init__(self, session_factory: SessionFactory, options: TutorOptions,
                 first_screen: FirstScreen | None = None) -> None:
        super().__init__(id="step")
        self.session_factory = session_factory
        self.options = options
        self.first_screen = first_screen  # the step the last run left, shown while opening
        self.header = StepHeader(id="header")
        self.step_panes = StepPanes(first_screen is not None, id="panes")
        self.panes = PaneLayout(self)
        self.autosaver = Autosaver(self, self._shown_code,
                                   lambda step_id, code: self.calls.live.write_code(step_id, code),
                                   self.options.autosave_delay_s)
        self.calls = SessionCalls(self, self.autosaver)
        self.runs = RunController(self, self.options.show_timings, self._show_output)
        self.external_editor = ExternalEditor(self, self.calls)
        self.dialogs = Dialogs(self)
        self.notices = Notices(self)
        self._waiting: msg.StepLoaded | str | None = None  # came before the panes were built
        self._check_when_open = False  # ctrl+r over the first screen, before the course opened

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        """The first frame: the header, the pane bar and the footer around the panes; with a
        first screen its lesson is in it, else a placeholder."""
        yield self.header
        yield PaneBar(id="pane-bar")
        yield self.step_panes
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.panes.resize(self.size.width)
        first = self.first_screen
        if first is None:
            self.call_after_refresh(self._open_course)  # paint the first frame before loading
            return
        await self._show_first_lesson(first)
        self.call_after_refresh(self._build_work)

    async def _open_course(self) -> None:
        """Open the course (a worker) while the step's panes replace the placeholder; a
        step that opened meanwhile is shown once they are there."""
        self.calls.open(self.session_factory)
        await self.step_panes.build_lesson()
        self.step_panes.lesson.loading = True
        await self._build_work()

    async def _build_work(self) -> None:
        """The editor and the output, after the lesson is on screen; with a first screen,
        the course opens after them: all of it shares one CPU."""
        panes, first = self.step_panes, self.first_screen
        await panes.build_work(self.options.cursor_blink)
        self.panes.arrange()
        if first is not None:
            panes.show_first_code(first)
            self.calls.open(self.session_factory)
        self.call_after_refresh(panes.highlight)
        waiting, self._waiting = self._waiting, None
        if isinstance(waiting, msg.StepLoaded):
            await self._step_loaded(waiting)
        elif waiting is not None:
            await self._course_failed(waiting)

    @property
    def editor(self) -> CodeEditor:
        return self.step_panes.editor

    def on_resize(self, event: events.Resize) -> None:
        self.panes.resize(event.size.width)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.is_attached and event.widget.screen is self:  # not closing
            self.panes.follow_focus(event.widget)

    def watch_state(self, state: TutorState) -> None:
        self.header.show(state)

    def watch_pane(self, pane: str) -> None:
        self.query_one(PaneBar).active = pane

    def action_show_pane(self, pane: str) -> None:
        self.panes.show(pane)

    def action_next_pane(self) -> None:
        self.panes.cycle()

    # ------------------------------------------------------------------ opening and moving
    @on(msg.SessionOpened)
    def _session_opened(self, event: msg.SessionOpened) -> None:
        self.calls.session = event.session
        from tutor.tui.widgets.lesson_pane import LessonPane

        for pane in self.query(LessonPane):  # figures are drawn by the session's workers
            pane.draw_figures = event.session.figures
        self.notices.warn(event.warnings)

    @on(msg.StepLoaded)
    async def _step_loaded(self, event: msg.StepLoaded) -> None:
        """The panes first, then the header and the keys: both show the new step together."""
        if not self.step_panes.built:
            self._waiting = event
            return
        shown = self.first_screen.step_id if self.first_screen is not None else None
        first, self.first_screen = self._first_step(), None  # the first screen's code step
        moved = self.state.step_id != event.view.step.id != shown
        state = TutorState.opened(event.view)
        with self.app.batch_update():
            await self.step_panes.show(state, self.options.show_paths, event.keep_undo)
            step = event.view.step
            widest = widest_code_line(step.explanation + "\n" + getattr(step, "question", ""))
            self.panes.step_opened(event.view.is_quiz, moved, widest)
            self.state = state
        if self._check_when_open and not state.is_quiz and state.step_id == first:
            self._start_run("check")
        self._check_when_open = False

    async def _show_first_lesson(self, first: FirstScreen) -> None:
        with self.app.batch_update():
            await self.step_panes.show_first_lesson(first, self.options.show_paths)
            self.header.show_values(first.title, first.is_quiz, first.lesson_title,
                                    first.step_number, first.steps_in_lesson, first.status,
                                    first.device, first.done, first.total)
            self.panes.step_opened(first.is_quiz, True, widest_code_line(first.explanation))

    def go_to(self, step_id: str) -> None:
        if self.running:
            self.notify("Your code is still running: ctrl+c cancels it.", severity="warning")
            return
        self.calls.open_step(step_id, self.autosaver.pending())

    def action_next_step(self) -> None:
        if self.state.view is None:
            return
        following = self.state.next_status()
        if following is None:
            self.notify("This is the last step of the course.")
        elif following.status == LOCKED:
            how = ("answer this quiz (ctrl+e goes to its choices)" if self.state.is_quiz
                   else "pass this one: ctrl+r checks your code")
            self.notify(f"The next step opens once you {how}.", severity="warning")
        else:
            self.go_to(following.id)

    def action_edit_code(self) -> None:
        """Straight back to the code (or the quiz's choices), from anywhere."""
        self.panes.show("code")

    def action_leave_editor(self) -> None:
        self.panes.leave_editor()

    # ------------------------------------------------------------------ saving
    def on_code_editor_edited(self, event: CodeEditor.Edited) -> None:
        """Handled by name: the editor's module loads after the first frame."""
        self.autosaver.edited()

    def _shown_code(self) -> tuple[str, str, str] | None:
        """(step, text, text as loaded or saved) when the editor shows a step's file."""
        if self.state.step_id is None or self.state.is_quiz:
            return None
        return self.state.step_id, self.editor.text, self.editor.baseline

    @on(msg.CodeSaved)
    def _saved(self, event: msg.CodeSaved) -> None:
        if self.state.step_id == event.step_id:
            self.editor.saved(event.code, self.autosaver.is_latest(event.version))

    def action_save(self) -> None:
        self.autosaver.save()

    # ------------------------------------------------------------------ attempts
    def action_check(self) -> None:
        if self.state.view is None:
            self._check_when_open = True  # pressed over the first screen: check once open
        elif self.state.is_quiz:
            self.step_panes.quiz.submit()
        else:
            self._start_run("check")

    def action_run(self) -> None:
        self._start_run("run")

    def _start_run(self, mode: str, from_editor: bool = True) -> None:
        """Check or run; the editor's text is written first, since the check reads the file."""
        step_id = self.state.step_id
        if step_id is None or self.running:
            return
        draft = self.autosaver.take(step_id, self.editor.text) if from_editor else None
        self.runs.start(mode, partial(self.calls.attempt, step_id, mode, draft))

    def _show_output(self) -> None:
        """A run shows (or ended): narrow screens bring the output forward."""
        if self.panes.narrow and self.panes.pane != "output":
            self.panes.show("output")

    @on(msg.WarmingUp)
    def _warming_up(self, event: msg.WarmingUp) -> None:
        self.runs.warm_up_started()

    @on(msg.CheckFinished)
    def _check_finished(self, event: msg.CheckFinished) -> None:
        figures = self._figures(event.attempt)
        if self.runs.finish("check", event.attempt.verdict, figures):
            if self.panes.pane == "output":
                self.panes.show("output")  # the verdict takes the focus: arrows scroll it
            # The verdict is painted first; the header, the keys and the passed dialog follow
            # a frame later (pushing the dialog alone held the verdict back ~100 ms).
            self.call_after_refresh(self._attempted, event.attempt, event, figures)

    @on(msg.RunFinished)
    def _run_finished(self, event: msg.RunFinished) -> None:
        if self.runs.finish("run", event.verdict):
            self.state = self.state.ran(event.verdict)

    def _figures(self, attempt: Attempt) -> list[Figure]:
        """What the learner's passed checks reached (their accuracy...), with the threshold."""
        from tutor.core.figures import figures

        view = self.state.view
        return figures(view.step, attempt.verdict) if view is not None else []

    def on_quiz_panel_answered(self, event: QuizPanel.Answered) -> None:
        """Handled by name: the quiz's module loads after the first frame."""
        if self.state.step_id is not None:
            self.calls.answer(self.state.step_id, event.picks)

    @on(msg.QuizAnswered)
    async def _quiz_answered(self, event: msg.QuizAnswered) -> None:
        if self.state.step_id == event.attempt.step_id:
            await self.step_panes.quiz.show_verdict(event.attempt.verdict, event.picks,
                                                    event.attempt.why)
            self._attempted(event.attempt, event)

    def _attempted(self, attempt: Attempt, event: msg.CheckFinished | msg.QuizAnswered,
                   figures: list[Figure] | None = None) -> None:
        """Take the course's state from the attempt; a pass opens the dialog to go on."""
        if self.state.step_id != attempt.step_id:
            return  # the learner moved on in the frame before (a check's part comes late)
        before = self.state.statuses
        self.state = self.state.attempted(attempt)
        self.notices.warn(event.warnings)
        if attempt.not_saved:  # kept in memory, and tried again with the next change
            self.notices.warn([f"This attempt was not saved: {attempt.not_saved}"])
        if attempt.passed and self.state.view is not None:
            self.dialogs.passed(self.state.view.step.title, attempt,
                                self.state.status_of(attempt.next_step), self.go_to,
                                figures or [], lesson_end(before, attempt, event.summary))

    def action_cancel(self) -> None:
        self.runs.request_cancel()

    def action_goto_error(self) -> None:
        """Straight to the line the error is on, selected."""
        verdict = self.state.verdict
        if verdict is not None and verdict.line:
            self.panes.show("code")
            self.editor.goto_line(verdict.line)

    def action_goto_line(self) -> None:
        """Ask for a line of the code; the error's line (else the cursor's) is filled in."""
        verdict = self.state.verdict
        suggested = verdict.line if verdict is not None and verdict.line else (
            self.editor.cursor_location[0] + 1)

        def go(line: int) -> None:
            self.panes.show("code")
            self.editor.goto_line(line, select=False)

        self.dialogs.goto_line(self.editor.document.line_count, suggested, go)

    # ------------------------------------------------------------------ help for the learner
    def action_hint(self) -> None:
        if self.state.step_id is not None:
            self.calls.hint(self.state.step_id)

    @on(msg.HintRevealed)
    async def _hint_revealed(self, event: msg.HintRevealed) -> None:
        """Hints stay under the code, where the learner uses them."""
        view = self.state.view
        if view is None or view.step.id != event.step_id:
            return
        hints = list(view.step.hints[: event.hint.number])
        await self.step_panes.hints.show_hints(hints, event.hint.total)
        if self.panes.narrow and self.panes.pane != "code":
            self.panes.show("code")
        else:
            self.panes.arrange()

    def action_solution(self) -> None:
        step_id = self.state.step_id
        if step_id is None:
            return
        if self.state.passed:
            self.calls.solution(step_id, False)
        else:
            self.dialogs.confirm(EARLY_SOLUTION, partial(self.calls.solution, step_id, True))

    @on(msg.SolutionReady)
    def _solution_ready(self, event: msg.SolutionReady) -> None:
        title = self.state.view.step.title if self.state.view else event.step_id
        self.dialogs.solution(title, event.code, event.language)

    def action_reset(self) -> None:
        if self.state.step_id is not None and not self.running:
            self.dialogs.confirm(RESET, partial(self.calls.reset, self.state.step_id))

    def action_course_map(self) -> None:
        self.calls.course_map(self.state.step_id)

    @on(msg.CourseMapReady)
    def _show_course_map(self, event: msg.CourseMapReady) -> None:
        self.state = self.state.surveyed(event.statuses, event.position)
        self.dialogs.course_map(event.statuses, event.summary, event.warnings,
                                self.state.step_id, self.go_to)

    def action_help(self) -> None:
        self.dialogs.help()

    # ------------------------------------------------------------------ the external editor
    def action_edit_externally(self) -> None:
        step_id = self.state.step_id
        if step_id is not None and not self.state.is_quiz and not self.running:
            self.calls.prepare_external_edit(step_id, self.autosaver.pending())

    @on(msg.ExternalEditReady)
    def _external_edit(self, event: msg.ExternalEditReady) -> None:
        self.external_editor.edit(event.step_id, event.path)

    @on(msg.CodeReloaded)
    def _code_reloaded(self, event: msg.CodeReloaded) -> None:
        if self.state.step_id == event.step_id:
            self.editor.show_code(event.code, keep_undo=True)
            if event.check:
                self._start_run("check", from_editor=False)

    # ------------------------------------------------------------------ keys and leaving
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what cannot be done now, so the footer shows only keys that work. A dialog
        over this screen hides all of them: its own keys apply."""
        if action == "check" and self.state.view is None and self._first_step():
            return True  # the first screen's code is checked as soon as the course is open
        return allowed(action, self.state, self.running is not None)

    def _first_step(self) -> str | None:
        """The code step the first screen shows, if any."""
        first = self.first_screen
        return first.step_id if first is not None and not first.is_quiz else None

    def leave(self) -> str:
        """Stop a running check and save what is typed, the app is closing; what went wrong."""
        self.runs.abandon()
        return self.autosaver.flush()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed becomes a message on screen, never a crash."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "open":
            self.call_later(self._course_failed, str(error))
            return
        if event.worker.group == "run":
            self.runs.failed()
        self.notices.failed(error)

    async def _course_failed(self, error: str) -> None:
        if not self.step_panes.built:
            self._waiting = error
            return
        await self.step_panes.show_problem("The tutor could not open the course", error)
        self.header.show_problem("Could not open the course. ctrl+q quits.")
        self.panes.show("lesson")

    def left_at(self) -> FirstScreen | None:
        """The step on screen, for the next launch's first screen."""
        from tutor.tui.first_screen import FirstScreen

        view, pos, status = self.state.view, self.state.position, self.state.status
        if view is None or pos is None or status is None:
            return None
        code = None
        if view.path is not None:  # as saved on quitting
            with contextlib.suppress(OSError, UnicodeDecodeError):
                code = view.path.read_text(encoding="utf-8")
        return FirstScreen(view.step.id, view.step.title, view.step.explanation,
                           pos.lesson_title, pos.step_number, pos.steps_in_lesson,
                           status.status, self.state.device, pos.done, pos.total, view.is_quiz,
                           view.hint_total, code, str(view.path) if view.path else None)

    def commands(self) -> Iterator[SystemCommand]:
        """The command palette's entries for this step: every key that works now, and
        every step that is open."""
        return palette_commands(self.state, self.running is not None, self.run_action,
                                self.go_to)
