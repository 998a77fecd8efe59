"""Rich renderables for what the learner's code showed and reported, for both shells.

The core decides what is seen (``tutor.core.seeing``); this draws it: pixels as Unicode
half blocks ("▀", the upper pixel in the foreground colour, the lower one in the background),
small tensors as cells with their values printed, reported series as small bar charts. A
console without colour (``NO_COLOR``, a pipe) gets a greyscale ramp of characters instead,
so a picture still reads. Imports Rich and the core only: the TUI and the CLI share it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.box import SIMPLE_HEAD
from rich.color import Color
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text

from tutor import graphics
from tutor.core.seeing import Curves, Picture, Slice, number, picture, resample
from tutor.core.shapes_view import layer_view, name_rows, names_note

if TYPE_CHECKING:
    from tutor.core.seeing import Series
    from tutor.core.step_figures import Drawn
    from tutor.core.values import Shapes

RAMP = " .:-=+*#%@"  # dark to light, for consoles without colour
HALF = "▀"
BARS = " ▁▂▃▄▅▆▇█"
CELL = 7  # a printed value: six characters and a space
GAP = 2  # between panels of a grid
GRID_COLUMNS = 5  # panels a grid narrows its panels to fit side by side, at most
SERIES_STYLES = ("cyan", "magenta", "yellow", "green", "blue", "red")


def has_colour(console: Console) -> bool:
    """Whether colours carry the picture. ``NO_COLOR`` is read from the environment too:
    Textual renders through a colour console and only greys its output at the end, where
    half blocks in greys would show nothing on a terminal that drops colour."""
    return (not console.no_color and console.color_system is not None
            and "NO_COLOR" not in os.environ)


def grey(shade: float | None) -> Color:
    level = 0 if shade is None else round(shade * 255)
    return Color.from_rgb(level, level, level)


def ramp(shade: float | None) -> str:
    return " " if shade is None else RAMP[min(len(RAMP) - 1, int(shade * len(RAMP)))]


class PictureView:
    """A ``seeing.Picture``, as wide as the console allows: its caption, then its panels."""

    def __init__(self, picture: Picture) -> None:
        self.picture = picture

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.parts(options.max_width, has_colour(console))

    def parts(self, width: int, colour: bool) -> Iterator[RenderableType]:
        """What is drawn, in order: text, tables and images (``graphics.Pixels``)."""
        width = max(8, width)
        yield Text(self.picture.caption, style="dim", overflow="ellipsis", no_wrap=True)
        if self.picture.rows or self.picture.columns:
            yield from self._named(self.picture.slices[0], colour)
            if self.picture.note:
                yield Text(self.picture.note, style="bold")
            return
        if self.picture.kind != "grid":
            panel = self.picture.slices[0]
            if _fits_numbers(panel, width) and self.picture.kind != "image":
                yield from self._numbers(panel, colour)
            else:
                yield from self._pixels(panel, width, colour)
            return
        yield from self._grid(width, colour)

    def _numbers(self, panel: Slice, colour: bool) -> Iterator[Text]:
        for row in panel.rows:
            line = Text(no_wrap=True)
            for value in row:
                self._cell(line, f"{number(value):>{CELL - 1}.{CELL - 1}} ", value, colour)
            yield line

    def _named(self, panel: Slice, colour: bool) -> Iterator[Text]:
        """A heat map with its rows named on the left and its columns (shortened) on top."""
        rows, columns = self.picture.rows, self.picture.columns
        cell = max(4, *(len(number(v)) + 1 for row in panel.rows for v in row))
        left = max((len(name) for name in rows), default=0) + 1 if rows else 0
        if columns:
            yield Text(" " * left + "".join(f"{name[:cell - 1]:>{cell - 1}} "
                                            for name in columns), style="dim", no_wrap=True)
        for index, row in enumerate(panel.rows):
            line = Text(f"{rows[index]:<{left}}" if rows else "", style="dim", no_wrap=True)
            for value in row:
                self._cell(line, f"{number(value):>{cell - 1}} ", value, colour)
            yield line

    def _cell(self, line: Text, text: str, value: float, colour: bool) -> None:
        """One value of a heat map: on its shade of grey, in ink that reads on it."""
        if not colour:
            line.append(text)
            return
        shade = self.picture.shade(value)
        ink = "black" if shade is not None and shade > 0.5 else "white"
        line.append(text, Style(color=ink, bgcolor=grey(shade)))

    def _pixels(self, panel: Slice, width: int, colour: bool) -> Iterator[RenderableType]:
        narrowed = _narrowed(panel, width)
        if colour and graphics.active().pixels:
            yield graphics.row_image(self.picture, 0, 1, _cells(narrowed), 0)
            return
        yield from _pixel_lines(self.picture, narrowed, colour)

    def _grid(self, width: int, colour: bool) -> Iterator[RenderableType]:
        slices = self.picture.slices
        fit = (width + GAP) // min(len(slices), GRID_COLUMNS) - GAP  # a few side by side
        slices = tuple(_narrowed(s, max(4, fit)) for s in slices)
        panel_width = max(s.width for s in slices)
        per_line = max(1, (width + GAP) // (panel_width + GAP))
        for start in range(0, len(slices), per_line):
            row = slices[start:start + per_line]
            grid = Table.grid(padding=(0, GAP, 0, 0))
            for _ in row:
                grid.add_column(width=panel_width, no_wrap=True)
            labels = [Text(s.label, style="dim", no_wrap=True, overflow="crop") for s in row]
            grid.add_row(*labels)
            if colour and graphics.active().pixels:  # the row's panels as one image
                yield grid
                yield graphics.row_image(self.picture, start, len(row), _cells(row[0]), GAP)
                continue
            grid.add_row(*(Text("\n").join(_pixel_lines(self.picture, s, colour)) for s in row))
            yield grid


def _fits_numbers(panel: Slice, width: int) -> bool:
    return panel.width * CELL <= width and panel.height <= 16


def _cells(panel: Slice) -> tuple[int, int]:
    """The cells a panel's half blocks take, (width, height): pixels keep the same layout."""
    return panel.width, math.ceil(panel.height / 2)


def _narrowed(panel: Slice, width: int) -> Slice:
    """Every n-th column and row, so the panel fits ``width`` with its shape kept."""
    if panel.width <= width:
        return panel
    step = math.ceil(panel.width / width)
    return Slice(tuple(row[::step] for row in panel.rows[::step]), panel.label)


def _pixel_lines(picture: Picture, panel: Slice, colour: bool) -> Iterator[Text]:
    """Two rows of pixels per line: half blocks in colour, the ramp (their mean) without."""
    rows = panel.rows
    for top in range(0, len(rows), 2):
        upper = rows[top]
        lower = rows[top + 1] if top + 1 < len(rows) else None
        line = Text(no_wrap=True)
        for i, value in enumerate(upper):
            shade_up = picture.shade(value)
            shade_down = picture.shade(lower[i]) if lower is not None else None
            if colour:
                below = grey(shade_down) if lower is not None else None
                line.append(HALF, Style(color=grey(shade_up), bgcolor=below))
            else:
                known = [s for s in (shade_up, shade_down) if s is not None]
                line.append(ramp(sum(known) / len(known) if known else None))
        yield line


class FigureView:
    """A figure of a step's explanation: its pictures, then its caption; or why it failed."""

    def __init__(self, drawn: Drawn) -> None:
        self.drawn = drawn

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.parts(options.max_width, has_colour(console))

    def parts(self, width: int, colour: bool) -> Iterator[RenderableType]:
        if self.drawn.error:
            yield Text(f"(figure not drawn: {self.drawn.error.splitlines()[0]})", style="dim")
            return
        for shown in self.drawn.pictures:
            yield from PictureView(picture(shown)).parts(width, colour)
        if self.drawn.caption:
            yield Text(self.drawn.caption, style="italic")


class CurvesView:
    """Each reported series as a small bar chart, ``rows`` lines high, with its last value."""

    def __init__(self, curves: Curves, rows: int = 2) -> None:
        self.curves = curves
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        series = list(self.curves.series.values())
        if not series:
            return
        names = max(len(s.name) for s in series)
        summaries = [self.curves.summary(s) for s in series]
        room = options.max_width - names - max(len(t) for t in summaries) - 2
        width = max(8, min(room, 60))
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        for i, (one, summary) in enumerate(zip(series, summaries, strict=True)):
            style = SERIES_STYLES[i % len(SERIES_STYLES)] if has_colour(console) else ""
            grid.add_row(Text(one.name, style="bold"), bars(one, width, self.rows, style),
                         Text(summary, style="dim"))
        yield Group(grid)


def bars(series: Series, width: int, rows: int, style: str = "") -> Text:
    """The series as columns of block characters, lowest value at the bottom."""
    values = resample(series.values, width)
    finite = [x for x in values if math.isfinite(x)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    span = high - low
    steps = rows * (len(BARS) - 1)
    levels = [0 if not math.isfinite(x) else
              (steps if span == 0 else max(1, round((x - low) / span * steps))) for x in values]
    lines = []
    for row in range(rows - 1, -1, -1):
        base = row * (len(BARS) - 1)
        lines.append("".join(BARS[min(len(BARS) - 1, max(0, level - base))]
                             for level in levels))
    return Text("\n".join(lines), style=style, no_wrap=True)


class ShapesView:
    """Shapes at a glance: the names the code assigned, by line, then a table per module of
    its layers' input and output shapes and parameters (``tutor.core.shapes_view``)."""

    def __init__(self, shapes: Shapes) -> None:
        self.shapes = shapes

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = name_rows(self.shapes)
        if rows:
            grid = Table.grid(padding=(0, 1, 0, 0))
            grid.add_column(justify="right", style="dim", no_wrap=True)
            grid.add_column(style="bold", no_wrap=True, overflow="ellipsis", max_width=24)
            grid.add_column(overflow="fold")
            for row in rows:
                grid.add_row(f"line {row.line}", row.name, row.what)
            yield Text("Shapes after the run", style="bold")
            yield grid
            note = names_note(self.shapes)
            if note:
                yield Text(note, style="dim")
        for table in self.shapes.tables:
            view = layer_view(table)
            grid = Table(title=view.title, title_justify="left", title_style="bold",
                         box=SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False)
            for header, justify in (("layer", "left"), ("type", "left"), ("input", "left"),
                                    ("output", "left"), ("params", "right")):
                grid.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
            for layer in view.rows:
                grid.add_row(layer.name, layer.type, layer.input, layer.output, layer.params)
            total = view.total
            grid.add_row(Text(total.name, style="bold"), total.type, total.input,
                         total.output, Text(total.params, style="bold"), end_section=True)
            yield grid
            if view.note:
                yield Text(view.note, style="yellow" if table.error else "dim")
