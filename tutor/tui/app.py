"""The full-screen tutor. The app owns the session and every change on screen; workers do
everything slow (opening the course, saving, checking) and report back with messages.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import events, on, work
from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, LoadingIndicator
from textual.worker import Worker, WorkerState

from tutor.core import model as m
from tutor.core.verdict import Verdict
from tutor.tui import messages as msg
from tutor.tui.external_editor import editor_command
from tutor.tui.keys import BINDINGS, key_rows
from tutor.tui.options import TutorOptions
from tutor.tui.step_view import (
    LOCKED,
    StepView,
    newly_unlocked,
    position_of,
    read_step_view,
)
from tutor.tui.widgets.pane_bar import PaneBar
from tutor.tui.widgets.step_header import StepHeader

if TYPE_CHECKING:  # the core's session and checker load in the opening worker, after the
    # first frame: they bring the course loader, numpy and jsonschema with them; the step
    # view's widgets (Markdown, TextArea) mount right after the first frame
    from tutor.core.checker import Cancel
    from tutor.core.session import Session
    from tutor.core.status import StepStatus
    from tutor.tui.widgets.code_editor import CodeEditor
    from tutor.tui.widgets.lesson_pane import LessonPane
    from tutor.tui.widgets.output_panel import OutputPanel
    from tutor.tui.widgets.quiz_panel import QuizPanel

SessionFactory = Callable[[], "Session"]
PANES = ("lesson", "code", "output")
STEP_ACTIONS = {"check", "run", "cancel", "hint", "goto_line", "next_step", "next_pane",
                "course_map", "solution", "reset", "edit_externally", "save", "help"}
WIDE_FROM = 110  # columns; narrower terminals show one pane at a time
TICK_S = 0.25  # how often the running state and streamed output are drawn

class TutorApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "pytorch-tutor"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    BINDINGS = BINDINGS

    def __init__(self, session_factory: SessionFactory, options: TutorOptions | None = None):
        super().__init__()
        self.session_factory = session_factory
        self.options = options or TutorOptions()
        self.session: Session | None = None
        self.view: StepView | None = None
        self.statuses: list[StepStatus] = []
        self.verdict: Verdict | None = None  # the last one, for "jump to the error line"
        self.pane = "code"
        self._width = 80
        self.running: str | None = None  # "check" or "run"
        self.cancel: Cancel | None = None
        self._started = 0.0
        self._frame = 0
        self._printed = False
        self._output: deque[str] = deque()  # filled by the runner's thread, drained on ticks
        self._ticker: Timer | None = None
        self._save_timer: Timer | None = None
        self._edits = 0  # a counter over all edits, so an older save never overwrites a newer
        self._written: dict[str, int] = {}
        self._write_lock = threading.Lock()
        self._warned: set[str] = set()

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        """The first frame: the header, the pane bar and the footer around a placeholder."""
        yield StepHeader(id="header")
        yield PaneBar(id="pane-bar")
        with Horizontal(id="panes"):
            yield LoadingIndicator(id="opening")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._width = self.size.width
        self._arrange()
        self.call_after_refresh(self.build_step_view)  # paint the first frame before loading

    async def build_step_view(self) -> None:
        """Replace the placeholder with the lesson, the editor, the quiz and the output, then
        open the course. Imported here: Markdown and TextArea (markdown-it, tree-sitter) would
        add a sixth of a second to the first frame."""
        from tutor.tui.widgets.code_editor import CodeEditor
        from tutor.tui.widgets.lesson_pane import LessonPane
        from tutor.tui.widgets.output_panel import OutputPanel
        from tutor.tui.widgets.quiz_panel import QuizPanel

        editor = CodeEditor.code_editor(language="python", id="editor", theme="css",
                                        read_only=True)
        editor.cursor_blink = self.options.cursor_blink
        editor.border_title = "code"
        work = Vertical(editor, QuizPanel(id="quiz"), OutputPanel(id="output"), id="work")
        panes = self.query_one("#panes")
        await panes.remove_children()
        await panes.mount_all([LessonPane(id="lesson"), work])
        self.lesson_pane.loading = True
        self._arrange()
        self.open_session()

    @property
    def lesson_pane(self) -> LessonPane:
        return cast("LessonPane", self.query_one("#lesson"))

    @property
    def editor(self) -> CodeEditor:
        return cast("CodeEditor", self.query_one("#editor"))

    @property
    def quiz_panel(self) -> QuizPanel:
        return cast("QuizPanel", self.query_one("#quiz"))

    @property
    def output_panel(self) -> OutputPanel:
        return cast("OutputPanel", self.query_one("#output"))

    def show_pane(self, pane: str, focus: bool = True) -> None:
        """At narrow widths the panes are tabs: show one; at any width, focus it."""
        self.pane = pane
        self.query_one(PaneBar).active = pane
        self._arrange()
        if focus:
            self._focus_target(pane).focus()

    def _arrange(self) -> None:
        """Show every pane when wide, the chosen one when narrow. Widgets' ``display`` is set
        directly: a class on a container would restyle the whole lesson on every switch."""
        narrow = self.narrow
        _show(self.query_one(PaneBar), narrow)
        if not self.query("#work"):
            return  # the first frame: the panes are not built yet
        quiz = self.view is not None and self.view.is_quiz
        shown = {pane: not narrow or pane == self.pane for pane in PANES}
        for widget, visible in (
            (self.lesson_pane, shown["lesson"]),
            (self.query_one("#work"), shown["code"] or shown["output"]),
            (self.editor, shown["code"] and not quiz),
            (self.quiz_panel, shown["code"] and quiz),
            (self.output_panel, shown["output"]),
        ):
            _show(widget, visible)

    def on_resize(self, event: events.Resize) -> None:
        self._width = event.size.width
        self._arrange()

    def _focus_target(self, pane: str) -> Widget:
        if pane == "lesson":
            return self.lesson_pane
        if pane == "output":
            return self.output_panel.query_one("#log")
        if self.view is not None and self.view.is_quiz:
            return self.quiz_panel.choices
        return self.editor

    @property
    def narrow(self) -> bool:
        return self._width < WIDE_FROM

    def action_show_pane(self, pane: str) -> None:
        self.show_pane(pane)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Keep the pane bar in step when focus moves by mouse or Tab."""
        if not event.widget.is_attached or event.widget.screen is not self.screen:
            return  # focus moving while the app closes
        ids = {node.id for node in event.widget.ancestors_with_self}
        for pane, container in (("lesson", "lesson"), ("output", "output"), ("code", "work")):
            if container in ids:
                if pane != self.pane:
                    self.show_pane(pane, focus=False)
                return

    # ------------------------------------------------------------------ opening
    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_session(self) -> None:
        session = self.session_factory()
        view = read_step_view(session, session.current_step_id())
        self.post_message(msg.SessionOpened(session))
        self.post_message(msg.StepLoaded(view))

    @on(msg.SessionOpened)
    def _session_opened(self, event: msg.SessionOpened) -> None:
        self.session = event.session
        self._report_warnings()

    def _report_warnings(self) -> None:
        """Broken lesson files, or a progress file that cannot be saved: say so once each."""
        for warning in self._session().warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                self.notify(warning, title="Warning", severity="warning", timeout=12,
                            markup=False)

    def _open_failed(self, error: BaseException) -> None:
        lesson = self.lesson_pane
        lesson.loading = False
        lesson.show_problem("The tutor could not open the course", str(error))
        self.query_one(StepHeader).show_problem("Could not open the course. ctrl+q quits.")
        self.show_pane("lesson")

    # ------------------------------------------------------------------ steps
    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def load_step(self, step_id: str, pending: tuple[str, str, int] | None = None) -> None:
        """Open a step; ``pending`` is unsaved text of the step being left."""
        if pending is not None:
            self._write(*pending)
        self.post_message(msg.StepLoaded(read_step_view(self._session(), step_id)))

    def go_to(self, step_id: str) -> None:
        if self.running:
            self.notify("Your code is still running: esc cancels it.", severity="warning")
            return
        self.load_step(step_id, self._pending())

    @on(msg.StepLoaded)
    def _step_loaded(self, event: msg.StepLoaded) -> None:
        view = event.view
        moved = self.view is None or self.view.step.id != view.step.id
        self.view, self.verdict, self.statuses = view, None, list(view.statuses)
        self.lesson_pane.loading = False
        self.query_one(StepHeader).show(view)
        self.lesson_pane.show(view)
        self.output_panel.clear()
        self.query_one(PaneBar).labels = {"lesson": "Lesson", "code": "Quiz" if view.is_quiz
                                          else "Code", "output": "Output"}
        editor = self.editor
        if isinstance(view.step, m.QuizStep):
            self.quiz_panel.show(view.step, view.passed)
        else:
            editor.read_only = False
            editor.show_code(view.code or "", keep_undo=event.keep_undo)
            editor.border_title = _file_label(view.path, self.options.show_paths)
            editor.border_subtitle = ""
        if moved:  # a new step: at narrow widths, read about it first
            self.show_pane("lesson" if self.narrow else "code")
        else:
            self._arrange()
        self.refresh_bindings()

    # ------------------------------------------------------------------ saving
    def on_code_editor_edited(self, event: CodeEditor.Edited) -> None:
        """Handled by name: the editor's module loads after the first frame."""
        self._edits += 1
        editor = self.editor
        if editor.border_subtitle != "edited":
            editor.border_subtitle = "edited"
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(self.options.autosave_delay_s, self._autosave)

    def _autosave(self) -> None:
        pending = self._pending()
        if pending is not None:
            self.save_code(*pending)

    def _pending(self) -> tuple[str, str, int] | None:
        """(step, text, edit number) when the editor holds text not yet written."""
        if self.view is None or self.view.is_quiz or self.session is None:
            return None
        step_id = self.view.step.id
        if self._written.get(step_id, -1) >= self._edits:
            return None
        editor = self.editor
        if editor.text == editor.baseline:
            return None
        return step_id, editor.text, self._edits

    @work(thread=True, group="save", exit_on_error=False)
    def save_code(self, step_id: str, code: str, version: int) -> None:
        if self._write(step_id, code, version):
            self.post_message(msg.CodeSaved(step_id, version, code))

    def _write(self, step_id: str, code: str, version: int) -> bool:
        """Write unless a newer edit was written already; safe from any thread."""
        with self._write_lock:
            if self._written.get(step_id, -1) >= version:
                return False
            self._session().write_code(step_id, code)
            self._written[step_id] = version
            return True

    @on(msg.CodeSaved)
    def _saved(self, event: msg.CodeSaved) -> None:
        if self.view is not None and self.view.step.id == event.step_id:
            editor = self.editor
            editor.baseline = event.code
            if event.version == self._edits:
                editor.border_subtitle = "saved"

    def action_save(self) -> None:
        self._autosave()

    # ------------------------------------------------------------------ running
    def action_check(self) -> None:
        if self.view is not None and self.view.is_quiz:
            self.quiz_panel.submit()
        else:
            self._begin_run("check")

    def action_run(self) -> None:
        self._begin_run("run")

    def _begin_run(self, mode: str, from_editor: bool = True) -> None:
        if self.view is None or self.running:
            return
        editor = self.editor
        self._edits += 1
        text = (editor.text, self._edits) if from_editor else None
        from tutor.core.checker import Cancel  # loaded by now, with the session

        self.running, self.cancel = mode, Cancel()
        self._started, self._frame, self._printed = time.monotonic(), 0, False
        self._output.clear()
        self.output_panel.start(mode)
        self._ticker = self.set_interval(TICK_S, self._tick)
        if self.narrow:
            self.show_pane("output")
        self.run_code(self.view.step.id, mode, text, self.cancel)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def run_code(self, step_id: str, mode: str, text: tuple[str, int] | None,
                 cancel: Cancel) -> None:
        session = self._session()
        if text is not None and self._write(step_id, *text):
            self.post_message(msg.CodeSaved(step_id, text[1], text[0]))
        before = session.statuses()
        act = session.check if mode == "check" else session.run
        verdict = act(step_id, on_output=self._output.append, cancel=cancel)
        after = session.statuses()
        solution = session.solution(step_id) if mode == "check" and verdict.passed else None
        self.post_message(msg.RunFinished(step_id, mode, verdict, after,
                                          newly_unlocked(before, after), solution))

    def _tick(self) -> None:
        self._drain_output()
        self._frame += 1
        elapsed = time.monotonic() - self._started if self.options.show_timings else None
        if self.running:
            self.output_panel.tick(self.running, self._frame, elapsed)

    def _drain_output(self) -> None:
        chunks = []
        while self._output:
            chunks.append(self._output.popleft())
        if chunks:
            self._printed = True
            self.output_panel.write("".join(chunks))

    def _end_run(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        self._drain_output()
        self.running = None
        self.refresh_bindings()

    @on(msg.RunFinished)
    def _run_finished(self, event: msg.RunFinished) -> None:
        cancelled = self.cancel is not None and self.cancel.cancelled
        mode = self.running or event.mode
        self._end_run()
        self.statuses = event.statuses
        output = self.output_panel
        if cancelled:
            output.stop("Cancelled. Nothing was recorded; ctrl+r checks again.")
            return
        self.verdict = event.verdict
        output.finish(mode, event.verdict, self._printed, self.options.show_timings)
        self._update_state(event.verdict.device)
        self.refresh_bindings()
        if mode == "check" and event.verdict.passed:
            self._celebrate(event.unlocked, event.solution)

    def action_cancel(self) -> None:
        if self.cancel is not None:
            self.cancel.cancel()
            self.output_panel.stop("Cancelling…")

    def action_goto_line(self) -> None:
        if self.verdict is None or not self.verdict.line:
            return
        self.show_pane("code")
        self.editor.goto_line(self.verdict.line)

    def _update_state(self, device: str = "") -> None:
        """Refresh the header's status and counts after an attempt."""
        if self.view is None or self.session is None:
            return
        self._report_warnings()
        status = next((s for s in self.statuses if s.id == self.view.step.id), None)
        if status is None:
            return
        pos = position_of(self.session, self.statuses, self.view.step.id)
        self.view = _with_status(self.view, status)
        self.query_one(StepHeader).show_state(status.status, device or self.view.device,
                                              pos.done, pos.total)

    def _celebrate(self, unlocked: list[StepStatus], solution: str | None,
                   why: str = "") -> None:
        from tutor.tui.screens.passed_screen import PassedScreen  # screens load when shown

        assert self.view is not None and self.session is not None
        next_id = self.session.next_step_id(self.view.step.id)
        next_title = self.session.step(next_id).title if next_id else None

        def then(go_on: bool | None) -> None:
            if go_on and next_id:
                self.go_to(next_id)

        self.push_screen(PassedScreen(self.view.step.title, unlocked, next_title, solution, why),
                         then)

    # ------------------------------------------------------------------ quizzes
    def on_quiz_panel_answered(self, event: QuizPanel.Answered) -> None:
        """Handled by name: the quiz's module loads after the first frame."""
        if self.view is not None:
            self.answer_quiz(self.view.step.id, event.picks)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def answer_quiz(self, step_id: str, picks: list[int]) -> None:
        session = self._session()
        before = session.statuses()
        verdict = session.answer(step_id, picks)
        after = session.statuses()
        self.post_message(msg.QuizAnswered(step_id, verdict, after, newly_unlocked(before, after)))

    @on(msg.QuizAnswered)
    def _quiz_answered(self, event: msg.QuizAnswered) -> None:
        if self.view is None or self.view.step.id != event.step_id:
            return
        step = self.view.step
        why = step.why if isinstance(step, m.QuizStep) else ""
        self.quiz_panel.show_verdict(event.verdict, why)
        self.statuses = event.statuses
        self._update_state()
        if event.verdict.passed:
            self._celebrate(event.unlocked, None, why)

    # ------------------------------------------------------------------ help for the learner
    def action_hint(self) -> None:
        if self.view is not None:
            self.reveal_hint(self.view.step.id)

    @work(thread=True, exclusive=True, group="hint", exit_on_error=False)
    def reveal_hint(self, step_id: str) -> None:
        self.post_message(msg.HintRevealed(step_id, self._session().next_hint(step_id)))

    @on(msg.HintRevealed)
    def _hint_revealed(self, event: msg.HintRevealed) -> None:
        hint = event.hint
        self.lesson_pane.add_hint(hint)
        last = " That is the last hint; F4 shows the solution." if hint.number == hint.total else ""
        self.notify(hint.text + last, title=f"Hint {hint.number}/{hint.total}", timeout=15,
                    markup=False)

    def action_solution(self) -> None:
        if self.view is None:
            return
        step_id = self.view.step.id
        if self.view.passed:
            self.fetch_solution(step_id, False)
            return

        def then(yes: bool | None) -> None:
            if yes:
                self.fetch_solution(step_id, True)

        self._confirm("See the solution before passing?",
                      "Trying first is how this sticks: a hint (ctrl+t) may be enough. If you "
                      "look now, your progress records that you saw the solution for this step.",
                      "Show it", then)

    @work(thread=True, exclusive=True, group="solution", exit_on_error=False)
    def fetch_solution(self, step_id: str, force: bool) -> None:
        session = self._session()
        code = session.solution(step_id, force=force)
        language = "text" if isinstance(session.step(step_id), m.QuizStep) else "python"
        self.post_message(msg.SolutionReady(step_id, code, language))

    @on(msg.SolutionReady)
    def _solution_ready(self, event: msg.SolutionReady) -> None:
        from tutor.tui.screens.solution_screen import SolutionScreen

        title = self.view.step.title if self.view else event.step_id
        self.push_screen(SolutionScreen(f"Solution: {title}", event.code, event.language))

    def action_reset(self) -> None:
        if self.view is None or self.running:
            return
        step_id = self.view.step.id

        def then(yes: bool | None) -> None:
            if yes:
                self.reset_step(step_id)

        detail = ("Your code goes back to the starter and this step's progress is cleared. "
                  "Your current code is kept in a .bak file next to it, and ctrl+z undoes "
                  "the reset in the editor.")
        self._confirm("Reset this step?", detail, "Reset", then)

    def _confirm(self, question: str, detail: str, yes: str,
                 then: Callable[[bool | None], None]) -> None:
        from tutor.tui.screens.confirm_screen import ConfirmScreen

        self.push_screen(ConfirmScreen(question, detail, yes=yes), then)

    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def reset_step(self, step_id: str) -> None:
        session = self._session()
        session.reset(step_id)
        with self._write_lock:
            self._written[step_id] = self._edits
        view = read_step_view(session, step_id)
        self.post_message(msg.StepLoaded(view, keep_undo=True))

    # ------------------------------------------------------------------ moving around
    def action_next_step(self) -> None:
        if self.view is None or self.session is None:
            return
        next_id = self.session.next_step_id(self.view.step.id)
        if next_id is None:
            self.notify("This is the last step of the course.")
            return
        status = next((s for s in self.statuses if s.id == next_id), None)
        if status is not None and status.status == LOCKED:
            self.notify("The next step opens once you pass this one: ctrl+r checks your code.",
                        severity="warning")
            return
        self.go_to(next_id)

    def action_next_pane(self) -> None:
        self.show_pane(PANES[(PANES.index(self.pane) + 1) % len(PANES)])

    def action_course_map(self) -> None:
        self.read_course_map()

    @work(thread=True, exclusive=True, group="map", exit_on_error=False)
    def read_course_map(self) -> None:
        session = self._session()
        self.post_message(msg.CourseMapReady(session.statuses(), session.summary(),
                                             session.warnings))

    @on(msg.CourseMapReady)
    def _show_course_map(self, event: msg.CourseMapReady) -> None:
        from tutor.tui.screens.course_map_screen import CourseMapScreen

        self.statuses = event.statuses
        current = self.view.step.id if self.view else None

        def then(step_id: str | None) -> None:
            if step_id and step_id != current:
                self.go_to(step_id)

        self.push_screen(CourseMapScreen(event.statuses, event.summary, event.warnings, current),
                         then)

    def action_help(self) -> None:
        from tutor.tui.screens.help_screen import HelpScreen

        self.push_screen(HelpScreen(key_rows()))

    # ------------------------------------------------------------------ external editor
    def action_edit_externally(self) -> None:
        if self.view is None or self.view.is_quiz or self.running:
            return
        self.prepare_external_edit(self.view.step.id, self._pending())

    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def prepare_external_edit(self, step_id: str, pending: tuple[str, str, int] | None) -> None:
        if pending is not None:
            self._write(*pending)
        self.post_message(msg.ExternalEditReady(step_id, self._session().file_of(step_id)))

    @on(msg.ExternalEditReady)
    def _external_edit(self, event: msg.ExternalEditReady) -> None:
        command = editor_command()
        if command is None:
            self.notify("No editor found: set $EDITOR (for example: export EDITOR=vim).",
                        severity="warning", markup=False)
            return
        try:
            problem = self.edit_file(command, event.path)
        except SuspendNotSupported:
            problem = "this terminal cannot hand the screen to another program"
        if problem:
            self.notify(problem, title="External editor", severity="error", markup=False)
        self.reload_code(event.step_id, check=not problem)

    def edit_file(self, command: list[str], path: Path) -> str:
        """Hand the terminal to the learner's editor until it exits; returns what went wrong.

        Nothing may raise inside ``suspend()``: the app would stay suspended, a blank screen.
        """
        with self.suspend():
            try:
                done = subprocess.run([*command, str(path)], check=False)
            except OSError as exc:
                return f"Could not start {command[0]} ($EDITOR): {exc}"
        if done.returncode != 0:
            return f"{shlex.join(command)} exited with status {done.returncode}; not checked."
        return ""

    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def reload_code(self, step_id: str, check: bool) -> None:
        self.post_message(msg.CodeReloaded(step_id, self._session().read_code(step_id), check))

    @on(msg.CodeReloaded)
    def _code_reloaded(self, event: msg.CodeReloaded) -> None:
        if self.view is None or self.view.step.id != event.step_id:
            return
        editor = self.editor
        editor.show_code(event.code, keep_undo=True)
        if event.check:
            self._begin_run("check", from_editor=False)

    # ------------------------------------------------------------------ app-wide
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide what cannot be done now, so the footer shows only keys that work."""
        if action in STEP_ACTIONS and len(self.screen_stack) > 1:
            return False  # a dialog is open: its keys only
        return self._can(action)

    def _can(self, action: str) -> bool | None:
        if action == "cancel":
            return self.running is not None
        if action not in STEP_ACTIONS or action == "help":
            return True
        if self.view is None:
            return False
        quiz = self.view.is_quiz
        if action in ("run", "edit_externally", "save", "goto_line") and quiz:
            return False
        if action == "goto_line":
            return bool(self.verdict and self.verdict.line)
        if action in ("check", "run", "reset", "edit_externally") and self.running:
            return None
        return action != "hint" or bool(self.view.hint_total)

    def action_quit(self) -> None:
        """Save what is typed and stop a running check before leaving."""
        if self.cancel is not None and self.running:
            self.cancel.cancel()
        pending = self._pending()
        if pending is not None:
            try:
                self._write(*pending)
            except OSError as exc:
                self.notify(f"Could not save your code: {exc}", severity="error", markup=False)
                return
        self.exit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed becomes a message on screen, never a crash."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        group = event.worker.group
        if group == "open":
            self._open_failed(error)
            return
        if group == "run" and self.running:
            self._end_run()
            self.output_panel.stop("The tutor could not run this (see the message).")
        from tutor.core.session import SessionError

        if isinstance(error, SessionError):
            self.notify(str(error), severity="warning", markup=False)
        else:
            self.notify(f"{type(error).__name__}: {error}", title="Something went wrong",
                        severity="error", timeout=15, markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p): every action, and every step that is open."""
        for binding in BINDINGS:
            if binding.action != "quit" and self._can(binding.action):
                yield SystemCommand(binding.description, binding.tooltip,
                                    partial(self.run_action, binding.action))
        for status in self.statuses:
            if status.status != LOCKED:
                yield SystemCommand(f"Go to: {status.title}", f"{status.id} ({status.status})",
                                    partial(self.go_to, status.id))
        yield from super().get_system_commands(screen)

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("the course is still opening")
        return self.session


# ---------------------------------------------------------------------- helpers


def _show(widget: Widget, visible: bool) -> None:
    if widget.display != visible:
        widget.display = visible


def _with_status(view: StepView, status: StepStatus) -> StepView:
    return replace(view, status=status)


def _file_label(path: Path | None, show_paths: bool) -> str:
    if path is None:
        return "code"
    if not show_paths:
        return path.name
    home = Path.home()
    try:
        return f"~/{path.relative_to(home)}"
    except ValueError:
        return str(path)


def make_app(session_factory: SessionFactory, options: TutorOptions | None = None) -> TutorApp:
    """The app over any session: the real one, or one the tests build on a fixture course."""
    return TutorApp(session_factory, options)


def open_session(args: argparse.Namespace) -> Session:
    """Runs in the opening worker, so the first frame never waits for the course tools.

    ``warm``: a pre-started worker parent makes every check after the first one fast.
    """
    from tutor.core.session import Session

    return Session.open(lessons=args.lessons, device=args.device, workspace=args.workspace,
                        unlock_all=args.unlock_all, warm=True)


def run_app(args: argparse.Namespace) -> int:
    """``pytorch-tutor`` with no command."""
    app = make_app(partial(open_session, args))
    try:
        app.run()
    finally:
        if app.session is not None:
            app.session.close()
    return app.return_code or 0
