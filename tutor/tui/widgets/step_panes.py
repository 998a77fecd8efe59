"""The step view's panes: the lesson beside the editor (or the quiz), its hints and the output.

The first frame shows the lesson the last run left (the first screen), or a loading
indicator; the editor and the output are built right after it, since TextArea (tree-sitter)
would add a tenth of a second to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import LoadingIndicator

if TYPE_CHECKING:
    from tutor.core import model as m
    from tutor.tui.first_screen import FirstScreen
    from tutor.tui.state import TutorState
    from tutor.tui.widgets.code_editor import CodeEditor
    from tutor.tui.widgets.hint_panel import HintPanel
    from tutor.tui.widgets.lesson_pane import LessonPane
    from tutor.tui.widgets.output_panel import OutputPanel
    from tutor.tui.widgets.quiz_panel import QuizPanel


class StepPanes(Horizontal):
    """Shows the step the screen hands it; the screen also reaches the panes through it."""

    built = False  # the editor and the output are mounted (not in the first frame)

    def __init__(self, with_lesson: bool, *, id: str) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.with_lesson = with_lesson  # a lesson to show at once: the first screen's

    def compose(self) -> ComposeResult:
        if self.with_lesson:
            yield _lesson_pane()
        else:
            yield LoadingIndicator(id="opening")

    async def build_lesson(self) -> None:
        """The lesson pane, in place of the placeholder: enough to show a lesson's text."""
        await self.remove_children()
        await self.mount(_lesson_pane())

    async def build_work(self, cursor_blink: bool) -> None:
        """The editor, the quiz, the hints and the output, beside the lesson. The editor
        highlights Python from ``highlight`` on: loading the grammar takes a tenth of a
        second, better spent after the lesson is on screen."""
        from tutor.tui.widgets.code_editor import CodeEditor
        from tutor.tui.widgets.hint_panel import HintPanel
        from tutor.tui.widgets.output_panel import OutputPanel
        from tutor.tui.widgets.quiz_panel import QuizPanel

        editor = CodeEditor.code_editor(language=None, id="editor", theme="css",
                                        read_only=True)
        editor.cursor_blink = cursor_blink
        editor.border_title = "code"
        work = Vertical(editor, QuizPanel(id="quiz"), HintPanel(id="hints"),
                        OutputPanel(id="output"), id="work")
        await self.mount(work)
        self.built = True

    def highlight(self) -> None:
        self.editor.language = "python"

    @property
    def lesson(self) -> LessonPane:
        return cast("LessonPane", self.query_one("#lesson"))

    @property
    def editor(self) -> CodeEditor:
        return cast("CodeEditor", self.query_one("#editor"))

    @property
    def quiz(self) -> QuizPanel:
        return cast("QuizPanel", self.query_one("#quiz"))

    @property
    def hints(self) -> HintPanel:
        return cast("HintPanel", self.query_one("#hints"))

    @property
    def output(self) -> OutputPanel:
        return cast("OutputPanel", self.query_one("#output"))

    async def show(self, state: TutorState, show_paths: bool, keep_undo: bool) -> None:
        """A step just opened: its lesson, its code or quiz, its hints and an empty output.
        Returns once all of it is in place."""
        from tutor.tui.widgets.code_editor import file_label

        view, status = state.view, state.status
        if view is None:
            return
        await self.lesson.show(view, status.reason if status else "",
                               file_label(view.path, show_paths))
        self.output.clear()
        await self.hints.show_hints(view.hints, view.hint_total)
        if view.is_quiz:
            await self.quiz.show(cast("m.QuizStep", view.step), state.passed)
        else:
            self.editor.open_file(view.code or "", view.path, keep_undo=keep_undo)

    async def show_first_lesson(self, first: FirstScreen, show_paths: bool) -> None:
        """The lesson of the step the last run left, while the course opens."""
        from tutor.tui.widgets.code_editor import file_label
        from tutor.tui.widgets.lesson_pane import next_move

        path = Path(first.file) if first.file else None
        await self.lesson.show_text(first.title, first.explanation, "",
                                    next_move(first.is_quiz, first.hint_total,
                                              file_label(path, show_paths)))

    def show_first_code(self, first: FirstScreen) -> None:
        """Its code, read-only until the course is open."""
        if first.code is not None and not first.is_quiz:
            self.editor.open_file(first.code, Path(first.file) if first.file else None)
            self.editor.read_only = True

    async def show_problem(self, title: str, text: str) -> None:
        """Instead of a lesson: why there is none (a course that could not be opened)."""
        await self.lesson.show_problem(title, text)


def _lesson_pane() -> LessonPane:
    from tutor.tui.widgets.lesson_pane import LessonPane

    lesson = LessonPane(id="lesson")
    lesson.border_title = "lesson"
    return lesson
