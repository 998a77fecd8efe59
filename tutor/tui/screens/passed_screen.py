"""A step passed: what it unlocked, the reference to compare with, and one key to go on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown, Static, TextArea

from tutor.tui.markdown_text import label_bare_fences

if TYPE_CHECKING:
    from tutor.core.status import StepStatus


class PassedScreen(ModalScreen[bool]):
    """Dismisses with True to move on to the next step, False to stay."""

    BINDINGS = [
        Binding("enter,ctrl+n", "dismiss(True)", "Next step", priority=True),
        Binding("escape", "dismiss(False)", "Stay here"),
    ]

    def __init__(self, title: str, unlocked: list[StepStatus], next_title: str | None,
                 solution: str | None = None, why: str = "") -> None:
        super().__init__()
        self.step_title = title
        self.unlocked = unlocked
        self.next_title = next_title
        self.solution = solution
        self.why = why

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="passed-dialog"):
            yield Label(Content.from_markup("[b $success]✓ Passed:[/] $t", t=self.step_title),
                        classes="dialog-title")
            if self.why.strip():
                yield Markdown(label_bare_fences(self.why.strip()), id="passed-why")
            yield Static(self._unlocked_text(), id="passed-next")
            if self.solution:
                yield Label(Content.styled("The reference solution, to compare with yours:",
                                           "dim"))
                yield TextArea.code_editor(self.solution.rstrip(), language="python",
                                           read_only=True, theme="css", id="passed-solution",
                                           show_cursor=False)
            yield Label(self._keys_text(), id="passed-keys")

    def _unlocked_text(self) -> Content:
        if self.next_title is None:
            return Content.styled("That was the last step of the course. Well done!", "bold")
        names = ", ".join(s.title for s in self.unlocked)
        if names:
            return Content.from_markup("[dim]Unlocked:[/] [b]$names[/]", names=names)
        return Content.from_markup("[dim]Next:[/] [b]$t[/]", t=self.next_title)

    def _keys_text(self) -> Content:
        if self.next_title is None:
            return Content.from_markup("[b]Enter[/] or [b]Esc[/] closes")
        return Content.from_markup("[b]Enter[/] next step · [b]Esc[/] stay here")
