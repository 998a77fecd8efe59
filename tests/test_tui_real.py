"""End-to-end journeys the way ``pytorch-tutor`` opens them: the app's own session factory,
with its warm runner started in the opening worker (seconds: the worker parent imports torch).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
from test_tui_support import FIXTURE, QUIET, SOLUTION, settle, text_of, wait_for
from textual.pilot import Pilot

from tutor.tui.app import TutorApp, make_app, open_session
from tutor.tui.screens.passed_screen import PassedScreen
from tutor.tui.widgets.code_editor import CodeEditor
from tutor.tui.widgets.output_panel import OutputPanel

pytestmark = pytest.mark.slow
Driven = Callable[[], AbstractAsyncContextManager[tuple[TutorApp, Pilot]]]


@pytest.fixture
def driven(tmp_path: Path, home: Path) -> Driven:
    """Runs one app headless, then closes its session (and so its warm runner), as
    ``run_app`` does."""
    args = argparse.Namespace(lessons=str(FIXTURE), device="cpu", workspace=tmp_path / "ws",
                              unlock_all=False)

    @asynccontextmanager
    async def drive() -> AsyncIterator[tuple[TutorApp, Pilot]]:
        app = make_app(partial(open_session, args), QUIET)
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot)
                yield app, pilot
        finally:
            app.step_screen.calls.close(timeout=60)

    return drive


async def finished(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, TutorApp)
    step = app.step_screen
    await wait_for(pilot, lambda: step.running is None and step.state.verdict is not None,
                   timeout=120)
    await settle(pilot)


async def test_a_real_failure_points_at_the_editor_line(driven: Driven) -> None:
    async with driven() as (app, pilot):
        editor = app.query_one(CodeEditor)
        editor.replace("import torch\nprint('before')\nt = torch.arange(6)\nt.foo()\n",
                       (0, 0), editor.document.end)
        await pilot.press("ctrl+r")
        await finished(pilot)
        assert app.step_screen.state.verdict.line == 4
        output = app.query_one(OutputPanel)
        assert "Error at line 4" in text_of(output.query_one("#verdict"))
        assert "before" in "\n".join(output.query_one("#log").lines)  # streamed stdout
        await pilot.press("f7")
        assert editor.selected_text == "t.foo()"


async def test_a_real_journey_passes_and_resumes(driven: Driven) -> None:
    async with driven() as (app, pilot):
        editor = app.query_one(CodeEditor)
        editor.replace(SOLUTION, (0, 0), editor.document.end)
        await pilot.press("ctrl+r")
        await finished(pilot)
        assert isinstance(app.screen, PassedScreen), app.step_screen.state.verdict
        await pilot.press("enter")
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.call"
        await pilot.press("ctrl+q")

    async with driven() as (again, pilot):
        assert again.step_screen.state.view.step.id == "basics.call"
        assert [s.status for s in again.step_screen.state.statuses][:2] == ["passed", "available"]
