"""Shapes at a glance, as the shells show them after a run: one row per name the code
assigned (its line, its shape and dtype, or a module's parameter count) and, per module a
check runs, one row per layer (what went in, what came out, its parameters), like torchinfo.

Plain text cells only; the shells draw them (``tutor.drawing.ShapesView``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.core.values import LayerShape, LayerTable, NamedShape, Shapes


def dims(shape: tuple[int, ...] | None) -> str:
    """``[3, 1, 28, 28]``; ``[]`` for a scalar; ``?`` when unknown."""
    return "?" if shape is None else f"[{', '.join(map(str, shape))}]"


def count(n: int) -> str:
    return f"{n:,}"


@dataclass(frozen=True)
class NameRow:
    line: str  # "12"
    name: str
    what: str  # "[3, 10] float32", or "Network, 32,998 parameters"


@dataclass(frozen=True)
class LayerRow:
    name: str
    type: str
    input: str
    output: str
    params: str


@dataclass(frozen=True)
class LayerView:
    """One module's table: its title, a row per layer, and what its rows leave out."""

    title: str
    rows: tuple[LayerRow, ...]
    total: LayerRow
    note: str = ""  # "12 more layers not shown", or why the pass stopped


def name_row(item: NamedShape) -> NameRow:
    if item.params is not None:
        what = f"{item.type}, {count(item.params)} parameters"
    else:
        what = f"{dims(item.shape)} {item.dtype}".rstrip()
    return NameRow(str(item.line), item.name, what)


def name_rows(shapes: Shapes) -> tuple[NameRow, ...]:
    return tuple(name_row(item) for item in shapes.names)


def names_note(shapes: Shapes) -> str:
    return f"{shapes.more} more names not shown" if shapes.more else ""


def layer_row(layer: LayerShape) -> LayerRow:
    if not layer.calls:
        return LayerRow(layer.name, layer.type, "not called", "", count(layer.params))
    output = dims(layer.output)
    if layer.calls > 1:
        output += f" (called {layer.calls}x)"
    return LayerRow(layer.name, layer.type, dims(layer.input), output, count(layer.params))


def layer_view(table: LayerTable) -> LayerView:
    """``Network`` on a random input [3, 1, 28, 28] -> [3, 10]: a row per direct child, in
    the order ``__init__`` made them (``forward`` may call them in another)."""
    title = f"{table.name} on a random input {dims(table.input)}"
    if table.output is not None:
        title += f" -> {dims(table.output)}"
    notes = []
    if table.error:
        notes.append(f"The forward pass stopped: {table.error}")
    if table.more:
        notes.append(f"{table.more} more layers not shown")
    total = LayerRow("total", table.type, dims(table.input), dims(table.output),
                     count(table.params))
    return LayerView(title, tuple(layer_row(layer) for layer in table.layers), total,
                     " · ".join(notes))
