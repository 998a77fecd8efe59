"""The step view's panes: the lesson beside the editor (or the quiz) over the output.

The first frame shows a loading indicator here; the panes are built right after it, since
Markdown and TextArea (markdown-it, tree-sitter) would add a sixth of a second to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import LoadingIndicator

if TYPE_CHECKING:
    from tutor.core import model as m
    from tutor.tui.state import TutorState
    from tutor.tui.widgets.code_editor import CodeEditor
    from tutor.tui.widgets.lesson_pane import LessonPane
    from tutor.tui.widgets.output_panel import OutputPanel
    from tutor.tui.widgets.quiz_panel import QuizPanel


class StepPanes(Horizontal):
    """Shows the step the app hands it; the app also reaches the panes through it."""

    def compose(self) -> ComposeResult:
        yield LoadingIndicator(id="opening")

    async def build(self, cursor_blink: bool) -> None:
        from tutor.tui.widgets.code_editor import CodeEditor
        from tutor.tui.widgets.lesson_pane import LessonPane
        from tutor.tui.widgets.output_panel import OutputPanel
        from tutor.tui.widgets.quiz_panel import QuizPanel

        editor = CodeEditor.code_editor(language="python", id="editor", theme="css",
                                        read_only=True)
        editor.cursor_blink = cursor_blink
        editor.border_title = "code"
        work = Vertical(editor, QuizPanel(id="quiz"), OutputPanel(id="output"), id="work")
        await self.remove_children()
        await self.mount_all([LessonPane(id="lesson"), work])
        self.lesson.loading = True

    @property
    def built(self) -> bool:
        return bool(self.query("#work"))

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
    def output(self) -> OutputPanel:
        return cast("OutputPanel", self.query_one("#output"))

    def show(self, state: TutorState, show_paths: bool, keep_undo: bool) -> None:
        """A step just opened: its lesson, its code or quiz, and an empty output."""
        view, status = state.view, state.status
        if view is None:
            return
        self.lesson.loading = False
        self.lesson.show(view, status.reason if status else "")
        self.output.clear()
        if view.is_quiz:
            self.quiz.show(cast("m.QuizStep", view.step), state.passed)
        else:
            self.editor.open_file(view.code or "", view.path, show_paths, keep_undo=keep_undo)

    def show_problem(self, title: str, text: str) -> None:
        """Instead of a lesson: why there is none (a course that could not be opened)."""
        self.lesson.loading = False
        self.lesson.show_problem(title, text)
