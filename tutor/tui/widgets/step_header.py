"""The top line: where the learner is in the course, the step's status and the device."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from tutor.tui.step_view import StepView
from tutor.tui.widgets.status_marks import status_badge


class StepHeader(Horizontal):
    """Shows one ``StepView``; the app sets it, it never asks for anything."""

    def compose(self) -> ComposeResult:
        yield Label("pytorch-tutor · opening the course…", id="where")
        yield Label("", id="state")

    def show(self, view: StepView) -> None:
        pos = view.position
        kind = " (quiz)" if view.is_quiz else ""
        where = Content.from_markup(
            "[b]$lesson[/b] [dim]$n/$of ·[/] $title$kind",
            lesson=pos.lesson_title, n=str(pos.step_number), of=str(pos.steps_in_lesson),
            title=view.step.title, kind=kind,
        )
        self.query_one("#where", Label).update(where)
        self.show_state(view.status.status, view.device, pos.done, pos.total)

    def show_state(self, status: str, device: str, done: int, total: int) -> None:
        state = Content.assemble(
            status_badge(status),
            Content.from_markup("  [dim]on[/] $device  [dim]done[/] $done/$total",
                                device=device, done=str(done), total=str(total)),
        )
        self.query_one("#state", Label).update(state)

    def show_problem(self, text: str) -> None:
        self.query_one("#where", Label).update(Content.styled(text, "$error"))
        self.query_one("#state", Label).update("")
