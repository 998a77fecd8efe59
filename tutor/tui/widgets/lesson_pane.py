"""The explanation of a step as Markdown, the hints revealed so far, and course problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Markdown, Static

from tutor.core import model as m
from tutor.tui.markdown_text import label_bare_fences

if TYPE_CHECKING:
    from tutor.core.status import Hint
    from tutor.core.views import StepView


class LessonPane(VerticalScroll):
    """Scrolls with the arrow keys once focused; shows, never fetches."""

    can_focus = True

    def compose(self) -> ComposeResult:
        yield Markdown("", id="explanation")
        yield Static("", id="skip-note", classes="note")
        yield Vertical(id="hints")
        yield Static("", id="next-move", classes="note")

    def show(self, view: StepView, reason: str) -> None:
        """``reason``: why the step is skipped here, if it is."""
        step = view.step
        self.query_one("#explanation", Markdown).update(
            f"# {step.title}\n\n{label_bare_fences(step.explanation)}")
        self.query_one("#skip-note", Static).update(
            Content.from_markup("[$warning]Skipped:[/] $reason. Read it, then move on with "
                                "[b]ctrl+n[/b].", reason=reason) if reason else "")
        self.query_one("#skip-note").display = bool(reason)
        hints = self.query_one("#hints", Vertical)
        hints.remove_children()
        hints.mount_all(_hint_widget(i, view.hint_total, text)
                        for i, text in enumerate(view.hints, 1))
        self.query_one("#next-move", Static).update(_next_move(view))
        self.scroll_home(animate=False)

    def add_hint(self, hint: Hint) -> None:
        hints = self.query_one("#hints", Vertical)
        if len(hints.children) < hint.number:
            hints.mount(_hint_widget(hint.number, hint.total, hint.text))
        self.call_after_refresh(self.scroll_end, animate=False)

    def show_problem(self, title: str, text: str) -> None:
        """A message that replaces the lesson, e.g. a course that could not be opened."""
        body = "\n".join(f"    {line}" for line in text.splitlines())
        self.query_one("#explanation", Markdown).update(f"# {title}\n\n{body}\n")
        for note in ("#skip-note", "#next-move"):
            self.query_one(note, Static).update("")
        self.query_one("#hints", Vertical).remove_children()


def _hint_widget(number: int, total: int, text: str) -> Markdown:
    return Markdown(f"**Hint {number}/{total}** · {text}", classes="hint")


def _next_move(view: StepView) -> Content:
    if isinstance(view.step, m.QuizStep):
        return Content.from_markup("[dim]Pick an answer in the Quiz pane.[/]")
    return Content.from_markup(
        "[dim]Edit the code, then press[/] [b]ctrl+r[/b] [dim]to check it."
        "$hint[/]", hint=" Stuck? ctrl+t shows a hint." if view.hint_total else "")
