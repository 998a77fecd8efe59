"""Pictures in Sixel in the full-screen tutor: Textual cannot draw a Sixel image inside text,
so each image (``graphics.Pixels``) becomes a textual-image widget of its own, in the cells
its half blocks would take, between Statics that hold the text around it (captions, labels,
curves). Used only where ``tutor.graphics`` chose Sixel; elsewhere one Static draws it all."""

from __future__ import annotations

import os
from collections.abc import Iterable

from rich.console import Group, RenderableType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from tutor import graphics


def in_sixel() -> bool:
    return graphics.active().mode == "sixel"


class PixelStack(Vertical):
    """The parts of what is shown, in order: text in Statics, each image as a widget. Laid
    out again when its width changes, as a Static would be (a hidden pane has none yet)."""

    DEFAULT_CSS = """
    PixelStack { height: auto; }
    PixelStack > Static { height: auto; }
    """

    def on_mount(self) -> None:
        self._items: list[RenderableType] = []
        self._width = 0

    def show(self, items: Iterable[RenderableType]) -> None:
        """``items``: renderables; those with ``parts`` (pictures, figures) are split."""
        self._items = list(items)
        self._width = 0
        self._build(self.content_size.width)

    def on_resize(self) -> None:
        self._build(self.content_size.width)

    def _build(self, width: int) -> None:
        if width <= 0 or width == self._width:
            return
        self._width = width
        colour = "NO_COLOR" not in os.environ
        widgets: list[Widget] = []
        text: list[RenderableType] = []
        for item in self._items:
            parts = getattr(item, "parts", None)
            for part in parts(width, colour) if parts is not None else [item]:
                if isinstance(part, graphics.Pixels):
                    if text:
                        widgets.append(Static(Group(*text)))
                        text = []
                    widgets.append(_image(part))
                else:
                    text.append(part)
        if text:
            widgets.append(Static(Group(*text)))
        self.remove_children()
        self.mount_all(widgets)


def _image(pixels: graphics.Pixels) -> Widget:
    from textual_image.widget import SixelImage

    image = SixelImage(pixels.canvas.convert("RGBA"))
    image.styles.width, image.styles.height = pixels.cells
    return image
