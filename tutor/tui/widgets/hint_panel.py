"""The hints revealed so far, under the code: rendered as Markdown, and kept in view."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tutor.tui.markdown_text import lesson_markdown


class HintPanel(VerticalScroll):
    """Shown with the code once a hint is revealed (``PaneLayout`` reads ``has_hints``)."""

    has_hints = False

    def compose(self) -> ComposeResult:
        yield Markdown("", id="hint-text")

    async def show_hints(self, hints: Sequence[str], total: int) -> None:
        """The step's revealed hints (none: the panel hides), the newest in view."""
        self.has_hints = bool(hints)
        if not hints:
            return
        shown = len(hints)
        self.border_title = f"hint {shown}/{total}"
        self.border_subtitle = ("last one · F4 shows the solution" if shown >= total
                                else "ctrl+t shows the next")
        text = "\n\n".join(f"**{n}.** {lesson_markdown(hint)}" for n, hint in enumerate(hints, 1))
        await self.query_one("#hint-text", Markdown).update(text)
        self.scroll_end(animate=False)
