"""Every key the app knows, grouped, with what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

KeyRows = list[tuple[str, list[tuple[str, str]]]]  # (group, [(keys, what they do)])


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, groups: KeyRows) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(id="help-keys"):
                for group, rows in self.groups:
                    yield Static(Content.styled(group, "bold $accent"), classes="help-group")
                    width = max(len(keys) for keys, _ in rows)
                    lines = [Content.assemble(Content.styled(keys.ljust(width), "bold"), "  ", what)
                             for keys, what in rows]
                    yield Static(Content("\n").join(lines))
            yield Label(Content.styled(
                "↑↓ scroll · Esc closes · ctrl+p searches every command", "dim"))

    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()
