"""A step's figures in the lesson pane at 80x24: a placeholder line first, the picture once
the runner has drawn it (over the real session and the module's warm runner)."""

from __future__ import annotations

from pathlib import Path

from test_step_figures import with_figure
from test_tui_support import build_app, settle, text_of, wait_for

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
