"""What a run streams to the command line: its printed text and pictures as they come, its
reported progress kept for one sparkline per series after the verdict, and its shapes at a
glance kept for after the run."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from tutor.cli import render
from tutor.core.seeing import Curves, picture, sparkline
from tutor.core.text import visible_output
from tutor.core.values import Reported, Shapes

if TYPE_CHECKING:
    from tutor.core.runs import Output

SPARK_WIDTH = 40


class Stream:
    """An ``on_output`` for the session: call it with what the run sent. Without ``out``
    (``--json``) it prints nothing and only keeps the progress and the shapes."""

    def __init__(self, out: TextIO | None) -> None:
        self.out = out
        self.curves = Curves()
        self.shapes = Shapes()

    def __call__(self, item: Output) -> None:
        if isinstance(item, Reported):
            self.curves.add(item)
        elif isinstance(item, Shapes):
            self.shapes = item
        elif self.out is None:
            return
        elif isinstance(item, str):
            self.out.write(visible_output(item))  # shown, never obeyed by the terminal
        else:
            from tutor.drawing import PictureView

            render.decide_pictures(self.out)
            render.out(PictureView(picture(item)), stream=self.out)
        if self.out is not None:
            self.out.flush()

    def reported(self) -> dict[str, dict[str, list[float]]]:
        """Each reported series for ``--json``: ``{"loss": {"at": [1, 2], "values": [...]}}``."""
        return {s.name: {"at": list(s.at), "values": list(s.values)}
                for s in self.curves.series.values()}

    def sparklines(self) -> list[str]:
        """``loss      █▅▃▂▁  0.31 at epoch 5 (from 2.3)``, one line per reported series."""
        series = list(self.curves.series.values())
        if not series:
            return []
        width = max(len(s.name) for s in series)
        return [f"{s.name:<{width}}  {sparkline(s.values, SPARK_WIDTH)}  "
                f"{self.curves.summary(s)}" for s in series]
