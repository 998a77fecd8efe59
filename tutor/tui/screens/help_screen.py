"""Every key the app knows, grouped, with what it does; scrolls to its end at any size."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

KeyRows = list[tuple[str, list[tuple[str, str]]]]  # (group, [(keys, what they do)])


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, groups: KeyRows) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        width = max(len(keys) for _, rows in self.groups for keys, _ in rows)
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(id="help-keys"):
                for group, rows in self.groups:
                    yield Static(Content.styled(group, "bold $accent"), classes="help-group")
                    yield Static(_table(rows, width))
            yield Label(Content.styled(
                "↑↓ PgUp PgDn scroll · Esc closes · ctrl+p searches every command", "dim"))
        yield Footer(compact=True)  # this dialog's keys, not the step's
    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()


def _table(rows: list[tuple[str, str]], width: int) -> Table:
    """Keys on the left; what they do wraps under itself, not under the keys."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, min_width=min(width, 26), max_width=26)
    grid.add_column(ratio=1)
    for keys, what in rows:
        grid.add_row(Text(keys, style="bold"), Text(what))
    return grid
