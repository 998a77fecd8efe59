"""Ask which line of the learner's code to go to (the error's line is filled in)."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label


class GotoLineScreen(ModalScreen[int | None]):
    """Calls ``go`` with a 1-based line number before it closes: keys typed right after
    Enter then land on that line, not where the cursor was."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, lines: int, suggested: int, go: Callable[[int], None]) -> None:
        super().__init__()
        self.lines = lines
        self.suggested = suggested
        self.go = go

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="goto-dialog"):
            yield Label(f"Go to line (1-{self.lines})", classes="dialog-title")
            yield Input(str(self.suggested), type="integer", id="goto-line", select_on_focus=True)
            yield Label(Content.styled("Enter goes there · Esc cancels", "dim"))
        yield Footer(compact=True)  # this dialog's keys, not the step's
    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        line = int(value) if value.lstrip("-").isdigit() else None
        if line is not None:
            self.go(line)
        self.dismiss(line)
