"""The reference solution, read-only and highlighted like the learner's code."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, TextArea

from tutor.core.text import visible


class SolutionScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f4,q", "dismiss", "Close")]

    def __init__(self, title: str, code: str, language: str) -> None:
        super().__init__()
        self.title_text = visible(title)
        self.code = visible(code)
        self.language = language if language == "python" else None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="solution-dialog"):
            yield Label(Content(self.title_text), classes="dialog-title")
            yield TextArea.code_editor(self.code, language=self.language, read_only=True,
                                       id="solution-code", theme="css")
            yield Label("Esc closes. Type it yourself rather than copying: that is how it sticks.",
                        classes="dim-note")
        yield Footer(compact=True)  # this dialog's keys, not the step's
    def on_mount(self) -> None:
        self.query_one("#solution-code").focus()
