"""Every lesson and step with its status and progress; Enter opens an unlocked step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from tutor.core.status import LOCKED
from tutor.core.text import visible
from tutor.tui.widgets.status_marks import MARKS, status_mark

if TYPE_CHECKING:
    from tutor.core.status import StepStatus
    from tutor.core.views import CourseSummary, LessonSummary

BAR_WIDTH = 12


class CourseMapScreen(ModalScreen[str | None]):
    """Dismisses with the chosen step id, or None."""

    BINDINGS = [Binding("escape,f2,ctrl+l", "dismiss(None)", "Close")]

    def __init__(self, statuses: list[StepStatus], summary: CourseSummary, warnings: list[str],
                 current: str | None) -> None:
        super().__init__()
        self.statuses = statuses
        self.summary = summary
        self.warnings = warnings
        self.current = current

    def compose(self) -> ComposeResult:
        summary = self.summary
        with Vertical(classes="dialog", id="map-dialog"):
            yield Label(Content.from_markup("[b]$t[/]  [dim]$d of $n steps done[/]",
                                            t=visible(summary.title), d=str(summary.done),
                                            n=str(summary.total)), classes="dialog-title")
            yield ProgressBar(total=max(1, summary.total), show_eta=False, id="map-progress")
            if self.warnings:
                yield Static(_warnings_text(self.warnings), id="map-problems")
            yield OptionList(*self._options(), id="map-steps")
            yield Label(_legend(), id="map-legend")
        yield Footer(compact=True)  # this dialog's keys, not the step's
    def on_mount(self) -> None:
        self.query_one(ProgressBar).update(progress=self.summary.done)
        steps = self.query_one("#map-steps", OptionList)
        if self.current:
            steps.highlighted = steps.get_option_index(self.current)
        steps.focus()

    def _options(self) -> list[Option]:
        """Every step can be highlighted, the locked ones too, so the whole course can be
        looked over; only the lessons' own lines are skipped."""
        options: list[Option] = []
        for lesson in self.summary.lessons:
            options.append(Option(_lesson_line(lesson), id=f"lesson:{lesson.id}",
                                  disabled=True))
            for status in (s for s in self.statuses if s.lesson == lesson.id):
                options.append(Option(_step_line(status), id=status.id))
        return options

    @on(OptionList.OptionSelected, "#map-steps")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        status = next((s for s in self.statuses if s.id == event.option.id), None)
        if status is not None and status.status == LOCKED:
            self.notify("Locked: it opens once the steps before it are done.",
                        severity="warning")
            return
        self.dismiss(event.option.id)


def _lesson_line(lesson: LessonSummary) -> Content:
    done, total = lesson.done, lesson.total
    filled = round(BAR_WIDTH * done / total) if total else 0
    return Content.assemble(
        Content.styled("━" * filled, "$success"), Content.styled("━" * (BAR_WIDTH - filled), "dim"),
        Content.from_markup(" [b]$title[/] [dim]$d/$n[/]", title=visible(lesson.title), d=str(done),
                            n=str(total)),
    )


def _step_line(status: StepStatus) -> Content:
    quiz = " (quiz)" if status.kind == "quiz" else ""
    reason = f" · {visible(status.reason)}" if status.reason else ""
    title = Content(visible(status.title))
    if status.status == LOCKED:
        title = title.stylize("$text-muted")
    return Content.assemble("   ", status_mark(status.status), " ", title,
                            Content.styled(f"{quiz}{reason}", "dim"))


def _legend() -> Content:
    """What the marks mean, then the keys."""
    marks = [Content.assemble(Content.styled(mark, colour), f" {word}")
             for mark, word, colour in MARKS.values()]
    return Content.assemble(Content("  ").join(marks), "\n", Content.styled(
        "↑↓ move · Enter opens an open step · Esc closes", "dim"))


def _warnings_text(warnings: list[str]) -> Content:
    lines = [Content.styled(f"⚠ {len(warnings)} problem(s) in the course files; the rest works:",
                            "$warning")]
    lines += [Content(f"  {visible(w)}") for w in warnings]
    return Content("\n").join(lines)
