"""A step's figures in the lesson pane at 80x24: a placeholder line first, the picture once
the runner has drawn it (over the real session and the module's warm runner)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from test_step_figures import FIGURE, with_figure
from test_tui_support import build_app, settle, text_of, wait_for
from textual.widgets import Static

from tutor.core.runs import Runner


async def test_the_lesson_pane_shows_a_figure_once_it_is_drawn(
        home: Path, tmp_path: Path, course_copy: Path, warm_runner: Runner) -> None:
    app = build_app(warm_runner, tmp_path, lessons=with_figure(course_copy))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        figures = app.query_one("#lesson").query_one("#figures")
        assert figures.display, text_of(figures)
        await wait_for(pilot, lambda: "Six numbers in two rows." in text_of(figures),
                       timeout=60)
        shown = text_of(figures)
        assert "a grid · shape [2, 3] · float32" in shown
        assert "Drawing" not in shown


async def test_in_a_sixel_terminal_a_figure_is_an_image_widget_under_the_text(
        home: Path, tmp_path: Path, course_copy: Path, warm_runner: Runner,
        monkeypatch) -> None:
    from textual_image.widget import SixelImage

    from tutor import graphics
    from tutor.tui.widgets.pixel_stack import PixelStack

    image = FIGURE.replace("torch.arange(6.0).reshape(2, 3)",
                           "torch.linspace(0, 1, 784).reshape(28, 28)")
    monkeypatch.setattr(sys, "__stdout__", io.StringIO())  # what "the terminal" is sent
    graphics.activate(graphics.Choice("sixel", "test"))
    try:
        app = build_app(warm_runner, tmp_path, lessons=with_figure(course_copy, image))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            stack = app.query_one("#lesson").query_one(PixelStack)
            await wait_for(pilot, lambda: bool(stack.query(SixelImage)), timeout=60)
            await settle(pilot)
            assert not app.query_one("#lesson").query_one("#figures").display
            [picture] = stack.query(SixelImage)
            assert (picture.size.width, picture.size.height) == (28, 14)
            texts = [text_of(s) for s in stack.query(Static)]
            assert "a grid · shape [28, 28]" in texts[0]
            assert "Six numbers in two rows." in texts[-1]  # the caption, under the image
    finally:
        graphics.reset()
