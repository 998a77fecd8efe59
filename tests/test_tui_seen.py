"""What ``report(...)`` and ``show(x)`` draw in the output panel while a step runs, at 80x24,
over the real session and the module's warm runner."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from test_tui_support import (
    SOLUTION,
    paste,
    screen_text,
    settle,
    terminal_output,
    text_of,
    wait_for,
)
from textual.widgets import Static

from tutor import graphics
from tutor.drawing import HALF
from tutor.tui.widgets.output_panel import OutputPanel

PLACEHOLDER = "\U0010eeee"  # Kitty's cell that shows part of a placed image
TRAINING = """\
import time
import torch
for epoch in range(1, 3):
    report(epoch=epoch, loss=2.0 / epoch)
    print('epoch', epoch, flush=True)
    time.sleep(0.5 if epoch == 1 else 30)
"""


@pytest.fixture(autouse=True)
def _isolated(home: Path) -> None:
    """Every test gets conftest's throwaway tutor home."""


async def test_a_running_steps_curve_grows_as_it_reports(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        paste(app, TRAINING)
        await pilot.press("ctrl+r")
        seen = app.query_one(OutputPanel).query_one("#seen")
        await wait_for(pilot, lambda: "at epoch 1" in text_of(seen), timeout=60)
        assert app.step_screen.runs.running == "check" and seen.display
        await wait_for(pilot, lambda: "at epoch 2" in text_of(seen), timeout=60)
        # still running: the curve grew while it ran
        assert app.step_screen.runs.running == "check"
        assert "loss" in text_of(seen) and "(from 2)" in text_of(seen)
        assert "1 at epoch 2 (from 2)" in screen_text(app)
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert app.step_screen.runs.running is None


async def test_a_shown_tensor_stays_with_the_verdict_and_goes_with_the_next_run(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        paste(app, SOLUTION + "show(t, title='t')\n")
        await pilot.press("f6")
        await settle(pilot)
        seen = app.query_one(OutputPanel).query_one("#seen")
        await wait_for(pilot, lambda: "t · shape [rows=2, cols=3] · float32" in text_of(seen))
        assert "Ran" in text_of(app.query_one("#run-status"))
        paste(app, SOLUTION)
        await pilot.press("f6")
        await settle(pilot)
        await wait_for(pilot, lambda: not seen.display)


async def test_with_no_color_a_picture_is_a_ramp_of_characters(build, monkeypatch):
    """Textual greys its output itself; the picture must not hang on colours that a
    terminal without colour drops."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        seen = await show_a_picture(app, pilot)
        assert HALF not in text_of(seen) and "@" in text_of(seen) and "." in text_of(seen)


async def show_a_picture(app, pilot):
    """Run ``show(t)`` of a 28 x 28 tensor; the output panel's picture area once it shows."""
    await settle(pilot)
    paste(app, "import torch\nt = torch.linspace(0, 1, 784).reshape(28, 28)\nshow(t)\n")
    await pilot.press("f6")
    seen = app.query_one(OutputPanel).query_one("#seen")
    await wait_for(pilot, lambda: "28] · float32" in text_of(seen))
    return seen


async def test_in_a_kitty_terminal_a_picture_is_pixels_placed_in_the_panel(build, monkeypatch):
    """With Kitty's protocol the image goes to the terminal once, and the panel's cells are
    placeholders in the colour that names it: scrolling and layout stay Textual's."""
    sent = io.StringIO()  # what textual-image writes to the terminal
    monkeypatch.setattr(sys, "__stdout__", sent)
    graphics.activate(graphics.Choice("kitty", "test"))
    try:
        app = build()
        async with app.run_test(size=(80, 24)) as pilot:
            await show_a_picture(app, pilot)
            await settle(pilot)
            written, text = terminal_output(app)
            assert "28] · float32" in text and HALF not in text
            [image_id] = {int(i) for i in re.findall(r"\x1b_G[^;]*\bi=(\d+)", sent.getvalue())}
            ink = f"38;2;{image_id >> 16 & 255};{image_id >> 8 & 255};{image_id & 255}"
            cells = f"(?:{PLACEHOLDER}[^\x1b{PLACEHOLDER}]*)+"  # each with its diacritics
            placed = re.findall(f"{re.escape(ink)}[;0-9]*m({cells})", written)
            # every line of the panel that shows the picture holds its 28 columns
            assert len(placed) >= 10 and all(run.count(PLACEHOLDER) == 28 for run in placed)
            assert written.count(PLACEHOLDER) == 28 * len(placed)
    finally:
        graphics.reset()


async def test_in_a_sixel_terminal_a_picture_is_an_image_widget_in_its_cells(build,
                                                                           monkeypatch):
    """Textual cannot draw Sixel inside text: the picture is a textual-image widget of its
    own, as large as its half blocks, and the frame carries the Sixel image."""
    from textual_image.widget import SixelImage

    from tutor.tui.widgets.pixel_stack import PixelStack

    monkeypatch.setattr(sys, "__stdout__", io.StringIO())
    graphics.activate(graphics.Choice("sixel", "test"))
    try:
        app = build()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            paste(app, "import torch\nt = torch.linspace(0, 1, 784).reshape(28, 28)\nshow(t)\n")
            await pilot.press("f6")
            stack = app.query_one(OutputPanel).query_one(PixelStack)
            await wait_for(pilot, lambda: bool(stack.query(SixelImage)))
            await settle(pilot)
            [image] = stack.query(SixelImage)
            assert (image.size.width, image.size.height) == (28, 14)
            assert "28] · float32" in text_of(stack.query(Static).first())
            written, text = terminal_output(app)
            assert '\x1bP0;0;0q"1;1;' in written and HALF not in text
    finally:
        graphics.reset()
