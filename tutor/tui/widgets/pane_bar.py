"""One line naming the panes at narrow widths, the shown one highlighted; click to switch."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class PaneBar(Widget):
    """Renders ``labels``; the step screen sets ``active`` and handles the clicks
    (``screen.show_pane``)."""

    active: reactive[str] = reactive("code")
    labels: reactive[dict[str, str]] = reactive(dict, always_update=True)

    def render(self) -> Content:
        parts = []
        for pane, label in self.labels.items():
            text = f" {label} "
            style = "reverse bold" if pane == self.active else "dim"
            parts.append(Content.from_markup(f"[{style} @click=screen.show_pane('{pane}')]$t[/]",
                                             t=text))
        parts.append(Content.styled("  ctrl+f switches", "dim"))
        return Content("").join(parts)
