"""The top line: where the learner is in the course, the step's status and the device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from tutor.core.text import visible
from tutor.tui.widgets.status_marks import status_badge

if TYPE_CHECKING:
    from tutor.tui.state import TutorState


class StepHeader(Horizontal):
    """Shows the step screen's ``TutorState``; the screen sets it, it never asks for anything."""

    def compose(self) -> ComposeResult:
        yield Label("pytorch-tutor · opening the course…", id="where")
        yield Label("", id="state")

    def show(self, state: TutorState) -> None:
        view, pos, status = state.view, state.position, state.status
        if view is None or pos is None or status is None:
            return
        self.show_values(view.step.title, view.is_quiz, pos.lesson_title, pos.step_number,
                         pos.steps_in_lesson, status.status, state.device, pos.done, pos.total)

    def show_values(self, title: str, quiz: bool, lesson: str, number: int, of: int,
                    status: str, device: str, done: int, total: int) -> None:
        """The step's title first, so a narrow screen wraps the lesson's name, never the
        step's; the header takes a second line rather than cutting either."""
        where = Content.from_markup(
            "[b]$title[/b]$kind [dim]· $lesson $n/$of[/]", title=visible(title),
            kind=" (quiz)" if quiz else "", lesson=visible(lesson), n=str(number), of=str(of))
        self.query_one("#where", Label).update(where)
        self.query_one("#state", Label).update(Content.assemble(
            status_badge(status),
            Content.from_markup("  [dim]on[/] $device  [dim]done[/] $done/$total",
                                device=visible(device), done=str(done), total=str(total)),
        ))

    def show_problem(self, text: str) -> None:
        self.query_one("#where", Label).update(Content.styled(text, "$error"))
        self.query_one("#state", Label).update("")
