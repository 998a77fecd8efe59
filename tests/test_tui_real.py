"""End-to-end journeys with the real checker: torch runs in child processes (seconds each)."""

from __future__ import annotations

import pytest
from test_tui_support import SOLUTION, settle, wait_for

from tutor.core.session import Session
from tutor.tui.app import make_app
from tutor.tui.options import TutorOptions
from tutor.tui.screens.passed_screen import PassedScreen
from tutor.tui.widgets.code_editor import CodeEditor
from tutor.tui.widgets.output_panel import OutputPanel

pytestmark = pytest.mark.slow
OPTIONS = TutorOptions(show_timings=False, show_paths=False, cursor_blink=False)


@pytest.fixture
def app_factory(tmp_path, home):
    def build():
        return make_app(lambda: Session.open(lessons="tests/fixtures/course", device="cpu",
                                             workspace=tmp_path / "ws"), OPTIONS)

    return build


async def finished(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.running is None and pilot.app.verdict is not None,
                   timeout=120)
    await settle(pilot)


async def test_a_real_failure_points_at_the_editor_line(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = app.query_one(CodeEditor)
        editor.replace("import torch\nprint('before')\nt = torch.arange(6)\nt.foo()\n",
                       (0, 0), editor.document.end)
        await pilot.press("ctrl+r")
        await finished(pilot)
        assert app.verdict.line == 4
        output = app.query_one(OutputPanel)
        assert "Error at line 4" in str(output.query_one("#verdict").render())
        assert "before" in "\n".join(output.query_one("#log").lines)  # streamed stdout
        await pilot.press("ctrl+g")
        assert editor.selected_text == "t.foo()"


async def test_a_real_journey_passes_and_resumes(app_factory):
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = app.query_one(CodeEditor)
        editor.replace(SOLUTION, (0, 0), editor.document.end)
        await pilot.press("ctrl+r")
        await finished(pilot)
        assert isinstance(app.screen, PassedScreen), app.verdict
        await pilot.press("enter")
        await settle(pilot)
        assert app.view.step.id == "basics.call"
        await pilot.press("ctrl+q")

    again = app_factory()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.view.step.id == "basics.call"
        assert [s.status for s in again.statuses][:2] == ["passed", "available"]
