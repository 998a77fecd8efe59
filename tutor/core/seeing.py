"""What the learner's ``show(x)`` and ``report(...)`` look like, as plain models the shells draw.

A worker sends a cut-down tensor (``values.Shown``) or one row of progress
(``values.Reported``); this module decides how each is seen (a row of cells, a heat map with
its values, a picture, a grid of labelled slices; one curve per reported series) and what
the caption says. The shells draw the models with Rich (``tutor.drawing``); nothing here
knows about colours or terminals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from tutor.core.values import Reported, Shown

Kind = Literal["row", "heat", "image", "grid"]
Item = TypeVar("Item")  # what a run streams: text, pictures, progress
IMAGE_SIDE = 8  # both sides at least this long: a picture rather than a table of numbers
X_NAMES = ("epoch", "step", "batch", "iteration")  # a reported name that counts, not measures
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Slice:
    """One 2-D panel: its rows of values (NaN where there is none) and its label."""

    rows: tuple[tuple[float, ...], ...]
    label: str = ""

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0


@dataclass(frozen=True)
class Picture:
    """How one ``show(x)`` is seen: its panels, one shared scale and a caption."""

    kind: Kind
    slices: tuple[Slice, ...]
    low: float
    high: float
    caption: str
    rows: tuple[str, ...] = ()  # the names of a heat map's rows, e.g. true classes
    columns: tuple[str, ...] = ()  # and of its columns, e.g. predicted classes
    note: str = ""  # what the reader should see first, e.g. the pair confused most

    def shade(self, value: float) -> float | None:
        """Where ``value`` lies on the scale, 0 to 1; None for NaN."""
        if math.isnan(value):
            return None
        if math.isinf(value):
            return 1.0 if value > 0 else 0.0
        return min(1.0, max(0.0, (value - self.low) / (self.high - self.low)))


def picture(shown: Shown) -> Picture:
    """The picture of what the worker sent: image-like tensors ([28, 28], [1, 28, 28],
    [B, 1, 28, 28]) as pictures, other 2-D ones as heat maps, 3-D and 4-D as a grid."""
    data = shown.data
    if data.size == 0 or data.ndim <= 1:
        slices: tuple[Slice, ...] = (Slice((_floats(data.reshape(-1)),)),)
        kind: Kind = "row"
    elif data.ndim == 2:
        slices = (Slice(tuple(_floats(row) for row in data)),)
        kind = "image" if _image_like(data.shape) and not shown.names else "heat"
    else:
        labels = shown.labels or tuple(f"[{i}]" for i in range(data.shape[0]))
        labels = _panel_names(labels, shown) or tuple(_named_label(label, shown)
                                                      for label in labels)
        slices = tuple(Slice(tuple(_floats(row) for row in panel), label)
                       for panel, label in zip(data, labels, strict=False))
        kind = "grid" if len(slices) > 1 else "image" if _image_like(data.shape) else "heat"
    finite = [x for s in slices for row in s.rows for x in row if math.isfinite(x)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    rows, columns = _axis_names(shown)
    return Picture(kind, slices, low, high, caption(shown, len(slices)), rows, columns,
                   confused_most(slices[0], rows, columns, shown.dtype))


def _axis_names(shown: Shown) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``show(x, labels=...)``'s names for the rows and the columns they fit."""
    if shown.data.ndim != 2 or shown.every != 1 or not shown.names:
        return (), ()
    height, width = shown.data.shape
    names = shown.names
    return (names if len(names) == height else ()), (names if len(names) == width else ())


def confused_most(panel: Slice, rows: Sequence[str], columns: Sequence[str],
                  dtype: str) -> str:
    """For a confusion matrix (square, counts, classes named): the pair mixed up most."""
    if not rows or tuple(rows) != tuple(columns) or not dtype.startswith(("int", "uint")):
        return ""
    count, true, said = max(((value, t, p) for t, row in enumerate(panel.rows)
                             for p, value in enumerate(row) if t != p and math.isfinite(value)),
                            default=(0.0, 0, 0))
    if count <= 0:
        return "No class is confused with another."
    return (f"Confused most: {rows[true]} taken for {columns[said]} "
            f"({count:g} time{'s' if count != 1 else ''}).")


def caption(shown: Shown, panels: int) -> str:
    """``images · shape [64, 1, 28, 28] · float32 · 16 of 64 shown · every 2nd value``."""
    parts = [shown.title] if shown.title else []
    sizes = (f"{name}={n}" for name, n in zip(shown.axes, shown.shape, strict=True)) \
        if len(shown.axes) == len(shown.shape) else map(str, shown.shape)
    parts += [f"shape [{', '.join(sizes)}]", shown.dtype]
    total = math.prod(shown.shape[:-2]) if len(shown.shape) > 2 else 1
    if panels < total:
        parts.append(f"{panels} of {total} shown")
    if shown.every > 1:
        parts.append(f"every {_ordinal(shown.every)} value")
    return " · ".join(parts)


def declared_axes(checks: Iterable[object]) -> dict[str, tuple[str, ...]]:
    """The axis names a step's checks give their variables (``compare: images`` with
    ``axes: [B, C, H, W]``)."""
    found: dict[str, tuple[str, ...]] = {}
    for check in checks:
        var, axes = getattr(check, "var", ""), tuple(getattr(check, "axes", ()) or ())
        if var and axes:
            found.setdefault(var, axes)
    return found


def naming_axes(on_output: Callable[[Item], None],
                declared: Mapping[str, tuple[str, ...]]) -> Callable[[Item], None]:
    """``on_output`` with the step's axis names put on each ``show(x)`` of a variable the
    checks name axes for (``show(images)``), when they fit its rank; ``show(images[0])``
    or another tensor keeps plain indices: a name is never a guess."""
    if not declared:
        return on_output

    def named(item: Item) -> None:
        if isinstance(item, Shown) and not item.axes:
            fitting = {declared[name] for name in item.held_by
                       if len(declared.get(name, ())) == len(item.shape)}
            if len(fitting) == 1:
                item = replace(item, axes=fitting.pop())
        on_output(item)

    return named


def _panel_at(label: str, shown: Shown) -> tuple[int, ...] | None:
    """Where a panel labelled ``[3]`` or ``[1,2]`` by the worker lies: one index per leading
    axis longer than 1 (the worker leaves the others out); None if they do not match."""
    indices = tuple(int(i) for i in re.findall(r"\d+", label))
    counted = sum(1 for n in shown.shape[:-2] if n > 1)
    return indices if indices and len(indices) == counted else None


def _panel_names(labels: Sequence[str], shown: Shown) -> tuple[str, ...]:
    """``show(images, labels=...)``: each image under its own name (its class), when the
    panels run along one axis and there is a name for each one shown."""
    if not shown.names:
        return ()
    places = [_panel_at(label, shown) for label in labels]
    if any(at is None or len(at) != 1 or at[0] >= len(shown.names) for at in places):
        return ()
    return tuple(shown.names[at[0]] for at in places if at is not None)


def _named_label(label: str, shown: Shown) -> str:
    """A panel's ``[3]`` as ``B=3`` when the axes are named."""
    at = _panel_at(label, shown)
    if len(shown.axes) != len(shown.shape) or len(shown.shape) < 3 or at is None:
        return label
    counted = [name for name, n in zip(shown.axes[:-2], shown.shape[:-2], strict=True) if n > 1]
    return " ".join(f"{name}={i}" for name, i in zip(counted, at, strict=True))


def _image_like(shape: Sequence[int]) -> bool:
    return len(shape) >= 2 and min(shape[-2:]) >= IMAGE_SIDE


def _floats(values: Iterable[object]) -> tuple[float, ...]:
    return tuple(float(x) for x in values)  # type: ignore[arg-type]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --------------------------------------------------------------------------- progress


@dataclass
class Series:
    """One reported quantity over the run: its values and the count they were reported at."""

    name: str
    values: list[float] = field(default_factory=list)
    at: list[float] = field(default_factory=list)  # the epoch (or step) of each value

    @property
    def last(self) -> float:
        return self.values[-1]


class Curves:
    """What ``report(...)`` calls said so far: one series per name, in order of first use;
    ``epoch`` (or ``step``, ``batch``) is the x axis, not a curve."""

    def __init__(self) -> None:
        self.x_name = ""
        self.series: dict[str, Series] = {}
        self.count = 0

    def add(self, reported: Reported) -> None:
        self.count += 1
        values = dict(reported.values)
        x_name = self.x_name or next((n for n in X_NAMES if n in values), "")
        self.x_name = x_name
        x = values.get(x_name, float(self.count)) if x_name else float(self.count)
        for name, value in reported.values:
            if name == x_name:
                continue
            series = self.series.setdefault(name, Series(name))
            series.values.append(value)
            series.at.append(x)

    def __bool__(self) -> bool:
        return bool(self.series)

    def summary(self, series: Series) -> str:
        """``0.312 at epoch 5 (from 2.301)``: the last value, where, and the first."""
        where = f" at {self.x_name} {series.at[-1]:g}" if self.x_name else ""
        first = f" (from {number(series.values[0])})" if len(series.values) > 1 else ""
        return f"{number(series.last)}{where}{first}"


def number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def sparkline(values: Sequence[float], width: int = 40) -> str:
    """The values as one line of block characters, at most ``width`` long (evenly picked
    when there are more); a NaN or an infinity is a space."""
    picked = resample(values, width)
    finite = [x for x in picked if math.isfinite(x)]
    if not finite:
        return " " * len(picked)
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for x in picked:
        if not math.isfinite(x):
            out.append(" ")
        else:
            level = 0 if span == 0 else round((x - low) / span * (len(SPARKS) - 1))
            out.append(SPARKS[level])
    return "".join(out)


def resample(values: Sequence[float], width: int) -> list[float]:
    """At most ``width`` of ``values``, evenly spaced, keeping the first and the last."""
    if len(values) <= width or width < 2:
        return list(values[-width:]) if width > 0 else []
    step = (len(values) - 1) / (width - 1)
    return [values[round(i * step)] for i in range(width)]
