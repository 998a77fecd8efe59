"""The pictures and curves of ``show(x)`` and ``report(...)``: the core's models, and Rich
drawing them at 80 columns, in colour (half blocks) and without (a greyscale ramp)."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
from rich.console import Console, RenderableType

from tutor.core.checks.compare import Compare
from tutor.core.checks.expect import Expect
from tutor.core.seeing import Curves, declared_axes, naming_axes, picture, sparkline
from tutor.core.values import Reported, Shown
from tutor.drawing import HALF, RAMP, CurvesView, PictureView


def drawn(renderable: RenderableType, colour: bool) -> list[str]:
    console = Console(file=io.StringIO(), width=80, record=True, no_color=not colour,
                      color_system="truecolor" if colour else None)
    console.print(renderable)
    return [line.rstrip() for line in console.export_text().splitlines()]


def disc() -> np.ndarray:
    y, x = np.mgrid[0:28, 0:28]
    return (((y - 14) ** 2 + (x - 14) ** 2) < 60).astype(np.float32)


def test_image_like_tensors_are_pictures_and_small_ones_heat_maps() -> None:
    assert picture(Shown(disc(), (28, 28), "float32")).kind == "image"
    assert picture(Shown(disc()[None], (1, 28, 28), "float32")).kind == "image"
    batch = picture(Shown(np.stack([disc()] * 16), (64, 1, 28, 28), "float32", "images",
                          tuple(f"[{i}]" for i in range(16))))
    assert batch.kind == "grid" and len(batch.slices) == 16
    assert batch.caption == "images · shape [64, 1, 28, 28] · float32 · 16 of 64 shown"
    heat = picture(Shown(np.arange(6, dtype=np.float32).reshape(2, 3), (2, 3), "int64"))
    assert heat.kind == "heat" and (heat.low, heat.high) == (0.0, 5.0)
    assert picture(Shown(np.zeros(3, np.float32), (3,), "float32")).kind == "row"
    cut = picture(Shown(np.zeros((125, 125), np.float32), (1000, 1000), "float32", every=8))
    assert cut.caption == "shape [1000, 1000] · float32 · every 8th value"


def test_a_shown_variable_gets_the_axis_names_its_checks_give_it() -> None:
    checks = (Expect(var="batch", shape=(4, 1, 28, 28), axes=("B", "C", "H", "W")),
              Compare(var="image", axes=("C", "H", "W")), Compare(var="batch", axes=("x",)),
              Compare(var="plain"))
    declared = declared_axes(checks)
    assert declared == {"batch": ("B", "C", "H", "W"), "image": ("C", "H", "W")}
    seen: list[Shown] = []
    send = naming_axes(seen.append, declared)
    panels = ("[0]", "[1]", "[2]", "[3]")
    batch = Shown(np.stack([disc()] * 4), (4, 1, 28, 28), "float32", "", panels,
                  held_by=("batch",))
    send(batch)
    send(Shown(disc()[None], (1, 28, 28), "float32", held_by=("first", "image")))
    send(replace(batch, held_by=()))  # show(batch[:4]): no variable holds it
    send(replace(batch, held_by=("weights",)))  # a 4-D tensor the checks say nothing about
    send(Shown(disc(), (28, 28), "float32", held_by=("image",)))  # image's names do not fit
    assert [s.axes for s in seen] == [("B", "C", "H", "W"), ("C", "H", "W"), (), (), ()]
    grid = picture(seen[0])
    assert grid.caption == "shape [B=4, C=1, H=28, W=28] · float32"
    assert [s.label for s in grid.slices] == ["B=0", "B=1", "B=2", "B=3"]
    both = Shown(np.zeros((4, 5, 5), np.float32), (2, 2, 5, 5), "float32", "",
                 ("[0,0]", "[0,1]", "[1,0]", "[1,1]"), axes=("B", "C", "H", "W"))
    assert [s.label for s in picture(both).slices][1:3] == ["B=0 C=1", "B=1 C=0"]
    unnamed = picture(seen[2])
    assert unnamed.caption == "shape [4, 1, 28, 28] · float32" and unnamed.slices[3].label == "[3]"
    assert "B=3" in "\n".join(drawn(PictureView(grid), colour=False))


def test_a_picture_without_colour_is_a_greyscale_ramp() -> None:
    lines = drawn(PictureView(picture(Shown(disc(), (28, 28), "float32", "a digit"))), False)
    assert lines[0] == "a digit · shape [28, 28] · float32"
    assert len(lines) == 1 + 14  # two rows of pixels per line
    assert lines[7].strip() == RAMP[-1] * 15  # the disc's middle, at full brightness
    assert lines[1] == "" and HALF not in "".join(lines)
    assert max(len(line) for line in lines) <= 80


def test_a_picture_in_colour_is_half_blocks() -> None:
    assert drawn(PictureView(picture(Shown(disc(), (28, 28), "float32"))), True)[1] == HALF * 28


def test_a_small_tensor_prints_its_values_and_a_batch_is_a_grid_within_80_columns() -> None:
    heat = Shown(np.array([[0, 0.5], [1, 2]], np.float32), (2, 2), "float32")
    assert drawn(PictureView(picture(heat)), False)[1:] == [
        "     0    0.5", "     1      2"]
    batch = Shown(np.stack([disc()] * 16), (64, 1, 28, 28), "float32", "images",
                  tuple(f"[{i}]" for i in range(16)))
    lines = drawn(PictureView(picture(batch)), False)
    assert lines[1].split() == ["[0]", "[1]", "[2]", "[3]", "[4]"]
    assert max(len(line) for line in lines) <= 80
    assert len(lines) == 1 + 4 * (1 + 7)  # 5, 5, 5 and 1 panels of 14 x 14, 7 lines each


def test_reported_series_draw_as_bars_with_their_last_value() -> None:
    curves = Curves()
    for epoch in range(1, 5):
        curves.add(Reported((("epoch", float(epoch)), ("loss", 4.0 / epoch),
                             ("accuracy", epoch / 4))))
    assert drawn(CurvesView(curves), False) == [
        "loss     █    1 at epoch 4 (from 4)",
        "         █▅▂▁",
        "accuracy   ▃█ 1 at epoch 4 (from 0.25)",
        "         ▁▅██",
    ]
    assert sparkline([4.0, 2.0, 1.0, 0.5]) == "█▄▂▁"
    assert sparkline(list(range(100)), width=10) == "▁▂▃▃▄▅▆▆▇█"
