"""A step passed: the learner's figure, what it unlocked, the reference to compare with, and
one key to go on; at the end of a lesson, what the lesson taught and what comes next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Markdown, Static, TextArea

from tutor.core.text import visible
from tutor.tui.markdown_text import lesson_markdown

if TYPE_CHECKING:
    from tutor.core.figures import Figure
    from tutor.core.status import StepStatus


@dataclass(frozen=True)
class LessonEnd:
    """A lesson the pass completed, and the one that follows."""

    title: str
    summary: str  # what the lesson taught
    steps: tuple[str, ...]  # the titles of its steps
    next_title: str | None = None
    next_summary: str = ""


class PassedScreen(ModalScreen[bool]):
    """Dismisses with True to move on to the next step, False to stay."""

    BINDINGS = [
        Binding("enter,ctrl+n", "dismiss(True)", "Next step", priority=True),
        Binding("escape", "dismiss(False)", "Stay here"),
    ]

    def __init__(self, title: str, unlocked: list[StepStatus], next_title: str | None,
                 solution: str | None = None, why: str = "",
                 figures: Sequence[Figure] = (), lesson_end: LessonEnd | None = None) -> None:
        super().__init__()
        self.step_title = visible(title)
        self.unlocked = unlocked
        self.next_title = visible(next_title) if next_title is not None else None
        self.solution = solution
        self.why = why
        self.figures = figures
        self.lesson_end = lesson_end

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="passed-dialog"):
            yield Label(Content.from_markup("[b $success]✓ Passed:[/] $t", t=self.step_title),
                        classes="dialog-title")
            with VerticalScroll(id="passed-body"):
                for figure in self.figures:
                    yield Static(_figure_text(figure), classes="passed-figure")
                if self.why.strip():
                    yield Markdown(lesson_markdown(self.why), id="passed-why")
                if self.lesson_end is not None:
                    yield Static(_lesson_end_text(self.lesson_end), id="lesson-end")
                yield Static(self._unlocked_text(), id="passed-next")
                if self.solution:
                    yield Label(Content.styled("The reference solution, to compare with yours:",
                                               "dim"))
                    yield TextArea.code_editor(visible(self.solution.rstrip()),
                                               language="python", read_only=True, theme="css",
                                               id="passed-solution", show_cursor=False)
            yield Label(self._keys_text(), id="passed-keys")
        yield Footer(compact=True)  # this dialog's keys, not the step's
    def on_mount(self) -> None:
        self.query_one("#passed-body").focus()  # arrows scroll what does not fit

    def _unlocked_text(self) -> Content:
        if self.next_title is None:
            return Content.styled("That was the last step of the course. Well done!", "bold")
        names = ", ".join(visible(s.title) for s in self.unlocked)
        if names:
            return Content.from_markup("[dim]Unlocked:[/] [b]$names[/]", names=names)
        return Content.from_markup("[dim]Next:[/] [b]$t[/]", t=self.next_title)

    def _keys_text(self) -> Content:
        if self.next_title is None:
            return Content.from_markup("[b]Enter[/] or [b]Esc[/] closes")
        return Content.from_markup("[b]Enter[/] next step · [b]Esc[/] stay here")


def _figure_text(figure: Figure) -> Content:
    """The number the learner worked for, first and large enough to see at a glance."""
    return Content.from_markup(
        "[b $success]$value[/] [dim]$name[/]$needed", value=visible(figure.value),
        name=visible(figure.name), needed=f"  (needed {figure.needed})" if figure.needed else "")


def _lesson_end_text(end: LessonEnd) -> Content:
    lines = [Content.from_markup("[b $accent]Lesson complete: $t[/]", t=visible(end.title))]
    if end.summary.strip():
        lines.append(Content.from_markup("[dim]You learned:[/] $s", s=visible(end.summary)))
    lines += [Content.from_markup("  [$success]✓[/] $s", s=visible(title)) for title in end.steps]
    if end.next_title:
        lines.append(Content.from_markup("[dim]Next lesson:[/] [b]$t[/]", t=visible(end.next_title)))
        if end.next_summary.strip():
            lines.append(Content(visible(end.next_summary)))
    return Content("\n").join(lines)
