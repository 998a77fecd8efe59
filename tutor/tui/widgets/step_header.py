"""The top line: where the learner is in the course, the step's status and the device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from tutor.tui.widgets.status_marks import status_badge

if TYPE_CHECKING:
    from tutor.tui.state import TutorState


class StepHeader(Horizontal):
    """Shows the app's ``TutorState``; the app sets it, it never asks for anything."""

    def compose(self) -> ComposeResult:
        yield Label("pytorch-tutor · opening the course…", id="where")
        yield Label("", id="state")

    def show(self, state: TutorState) -> None:
        view, pos, status = state.view, state.position, state.status
        if view is None or pos is None or status is None:
            return
        kind = " (quiz)" if view.is_quiz else ""
        where = Content.from_markup(
            "[b]$lesson[/b] [dim]$n/$of ·[/] $title$kind",
            lesson=pos.lesson_title, n=str(pos.step_number), of=str(pos.steps_in_lesson),
            title=view.step.title, kind=kind,
        )
        self.query_one("#where", Label).update(where)
        self.query_one("#state", Label).update(Content.assemble(
            status_badge(status.status),
            Content.from_markup("  [dim]on[/] $device  [dim]done[/] $done/$total",
                                device=state.device, done=str(pos.done), total=str(pos.total)),
        ))

    def show_problem(self, text: str) -> None:
        self.query_one("#where", Label).update(Content.styled(text, "$error"))
        self.query_one("#state", Label).update("")
