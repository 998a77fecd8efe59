"""Shapes at a glance, under what the run showed: the names the code assigned with their
shapes, and its model's layer table (``tutor.drawing.ShapesView``)."""

from __future__ import annotations

from textual.widgets import Static

from tutor.core.values import Shapes
from tutor.drawing import ShapesView


class ShapesPanel(Static):
    """Set by the output panel: ``show`` after a run that sent shapes, ``clear`` before the
    next; hidden while it has nothing."""

    DEFAULT_CSS = """
    ShapesPanel {
        display: none;
        height: auto;
        max-height: 60%;
        padding: 0 1;
        overflow: hidden auto;
        scrollbar-size-vertical: 1;
    }
    ShapesPanel.-shown { display: block; }
    """

    def show(self, shapes: Shapes) -> None:
        self.update(ShapesView(shapes))
        self.set_class(bool(shapes), "-shown")

    def clear(self) -> None:
        self.update("")
        self.remove_class("-shown")
