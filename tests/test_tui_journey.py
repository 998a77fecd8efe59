"""The learner's journey through the app, driven headless over the real session: every
check below runs the learner's code in the module's warm runner (tens of milliseconds)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from test_tui_support import (
    QUIET,
    SLEEPER,
    SOLUTION,
    STARTER,
    BrokenRunner,
    build_app,
    paste,
    settle,
    text_of,
    wait_for,
)

from tutor.core.progress import ProgressStore
from tutor.tui.external_editor import editor_command
from tutor.tui.screens.confirm_screen import ConfirmScreen
from tutor.tui.screens.course_map_screen import CourseMapScreen
from tutor.tui.screens.help_screen import HelpScreen
from tutor.tui.screens.passed_screen import PassedScreen
from tutor.tui.screens.solution_screen import SolutionScreen
from tutor.tui.widgets.code_editor import CodeEditor
from tutor.tui.widgets.lesson_pane import LessonPane
from tutor.tui.widgets.output_panel import OutputPanel


@pytest.fixture(autouse=True)
def _isolated(home: Path) -> None:
    """Every test gets conftest's throwaway tutor home."""


def progress(home, step="basics.compare"):
    return ProgressStore(home / "progress.json").load().step("fixture", step)


def focus_editor(app, at: tuple[int, int]) -> CodeEditor:
    """The editor, focused, its cursor at ``at`` (row, column from 0)."""
    editor = app.query_one(CodeEditor)
    editor.focus()
    editor.move_cursor(at)
    return editor


async def type_solution_line(pilot, app) -> None:
    """Replace `t = ...` by typing, as a learner would."""
    focus_editor(app, (1, 4))
    await pilot.press("ctrl+k")  # delete to the end of the line
    await pilot.press(*"torch.arange(6, dtype=torch.float32).reshape(2, 3)")


async def test_opens_at_the_first_step_with_its_starter(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.compare"
        assert app.query_one(CodeEditor).text == STARTER
        assert "Make a tensor" in text_of(app.query_one("#where"))
        assert "cpu" in text_of(app.query_one("#state"))


async def test_journey_pass_unlock_quit_and_resume(home, build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")  # lesson -> code at 80 columns
        assert app.step_screen.panes.pane == "code"
        await type_solution_line(pilot, app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, PassedScreen)
        assert "Sum the rows" in text_of(app.screen.query_one("#passed-next"))
        await pilot.press("enter")
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.call"
        await pilot.press("ctrl+q")
    assert progress(home).passed

    again = build()
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # resumes where the learner stopped
        assert again.step_screen.state.view.step.id == "basics.call"
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(again.screen, CourseMapScreen)
        steps = again.screen.query_one("#map-steps")
        steps.highlighted = steps.get_option_index("basics.compare")
        await pilot.press("enter")
        await settle(pilot)
        assert again.step_screen.state.view.step.id == "basics.compare"
        assert again.step_screen.state.view.passed
        assert again.query_one(CodeEditor).text == SOLUTION


async def test_staying_after_a_pass_shows_what_it_changed(build):
    """The header, the palette and ctrl+n all read the statuses the attempt returned."""
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        paste(app, SOLUTION)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, PassedScreen)
        await pilot.press("escape")  # stay on the step
        assert "passed" in text_of(app.query_one("#state"))
        assert "done 1/7" in text_of(app.query_one("#state"))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to: Sum the rows" in titles
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.call"


async def test_edits_are_saved_automatically(build):
    app = build()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        paste(app, SOLUTION)
        await wait_for(pilot, lambda: app.query_one(CodeEditor).border_subtitle == "saved")
        assert app.step_screen.state.view.path.read_text() == SOLUTION


async def test_quitting_saves_what_was_typed(build):
    app = build(options=replace(QUIET, autosave_delay_s=60))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        path = app.step_screen.state.view.path
        editor = app.query_one(CodeEditor)
        editor.focus()
        editor.move_cursor(editor.document.end)
        await pilot.press(*"print(t)")
        assert path.read_text() == STARTER
        await pilot.press("ctrl+q")
    assert path.read_text() == STARTER + "print(t)"


async def test_a_failure_explains_itself_and_jumps_to_the_line(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        paste(app, STARTER.replace("t = ...", "print('hello from the learner')\nt = ..."))
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.step_screen.panes.pane == "output"  # narrow: the output pane comes forward
        output = app.query_one(OutputPanel)
        assert "Not yet" in text_of(output.query_one("#run-status"))
        assert "the starter's placeholder" in text_of(output.query_one("#verdict"))
        assert "hello from the learner" in "\n".join(output.query_one("#log").lines)

        editor = app.query_one(CodeEditor)
        paste(app, "import torch\n\nraise RuntimeError('boom')\n")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "Error at line 3" in text_of(output.query_one("#verdict"))
        await pilot.press("f7")
        assert app.step_screen.panes.pane == "code"
        assert app.focused is editor
        assert editor.selection.start == (2, 0)
        assert editor.selected_text == "raise RuntimeError('boom')"

        editor.move_cursor((0, 0))
        await pilot.press("f7")  # from inside the editor, which has its own use for F7
        assert editor.selected_text == "raise RuntimeError('boom')"


async def test_a_burst_of_keys_is_applied_in_the_order_typed(build):
    """Over SSH keys arrive in bursts: "down" then "x" must move before inserting, and a
    backspace in the middle of typing deletes where it was pressed (textual#6605)."""
    from textual import events

    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = focus_editor(app, (0, 0))
        burst = ["down", "end", *"  # A", "backspace", "B", "home", "ctrl+k", *"t = 1"]
        for key in burst:  # all queued before any is handled
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await settle(pilot)
        assert editor.text == STARTER.replace("t = ...", "t = 1")


async def test_warnings_on_stderr_show_under_the_output(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        paste(app, "import warnings\nprint('hello from the learner')\n"
                   "warnings.warn('sizes differ')\nt = ...\n")
        await pilot.press("ctrl+r")
        await settle(pilot)
        lines = app.query_one(OutputPanel).query_one("#log").lines
        at = lines.index("── stderr ──")
        assert "hello from the learner" in lines[:at]
        assert lines[at + 1] == "basics.compare.py:3: UserWarning: sizes differ"


async def test_f_keys_of_the_app_work_inside_the_editor(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = focus_editor(app, (1, 0))
        await pilot.press("f6")  # TextArea would select the line
        await settle(pilot)
        assert editor.selected_text == ""
        assert "Ran" in text_of(app.query_one(OutputPanel).query_one("#run-status"))


async def test_cancel_a_long_run(home, build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        paste(app, SLEEPER)
        await pilot.press("ctrl+r")
        output = app.query_one(OutputPanel)
        await wait_for(pilot, lambda: "started" in "".join(output.query_one("#log").lines))
        assert app.step_screen.runs.running == "check"
        assert "Checking" in text_of(output.query_one("#run-status"))
        await pilot.press("ctrl+r")  # a second check waits for the first
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert app.step_screen.runs.running is None
        assert "Cancelled" in text_of(output.query_one("#run-status"))
        assert any("cancelled" in n.message for n in app._notifications)
    assert progress(home).attempts == 0


async def test_a_worker_error_shows_a_message(tmp_path):
    """The core raised (its runner could not start): a message, not a crash."""
    app = build_app(BrokenRunner(), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        paste(app, SOLUTION)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.step_screen.runs.running is None
        assert any("the checker broke" in n.message for n in app._notifications)
        assert "could not run" in text_of(app.query_one(OutputPanel).query_one("#run-status"))
        assert app.is_running


async def test_a_broken_lesson_file_is_reported_and_the_rest_works(course_copy, build):
    course = course_copy
    (course / "modules.yaml").write_text("id: modules\nsteps: [\n")
    app = build(lessons=course)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.compare"
        assert any("modules.yaml" in n.message for n in app._notifications)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert "modules.yaml" in text_of(app.screen.query_one("#map-problems"))


async def test_a_course_that_cannot_open_shows_why(tmp_path, build):
    app = build(lessons=tmp_path / "nowhere")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.step_screen.state.view is None
        assert "could not open" in text_of(app.query_one("#where")).lower()
        assert app.query_one(LessonPane).display
        await pilot.press("ctrl+r", "ctrl+t", "ctrl+l")  # nothing to do, nothing breaks
        await settle(pilot)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_hints_one_at_a_time(home, build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hints = app.query_one("#hints")
        assert not hints.display
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert hints.display and hints.border_title == "hint 1/2"
        await pilot.press("f3", "ctrl+t")
        await settle(pilot)
        assert hints.border_title == "hint 2/2"  # the fixture step has two
    assert progress(home).hints == 2


async def test_the_solution_asks_first_and_is_recorded(home, build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the focused button is No
        await settle(pilot)
        assert not isinstance(app.screen, SolutionScreen)
        assert not progress(home).solution_viewed
        await pilot.press("f4", "y")
        await settle(pilot)
        assert isinstance(app.screen, SolutionScreen)
        assert "arange" in app.screen.query_one("#solution-code").text
    assert progress(home).solution_viewed


async def test_reset_asks_then_restores_the_starter_undoably(build):
    app = build()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        paste(app, SOLUTION)
        await pilot.press("f9", "y")
        await settle(pilot)
        editor = app.query_one(CodeEditor)
        assert editor.text == STARTER
        assert app.step_screen.state.view.path.read_text() == STARTER
        kept = app.step_screen.state.view.path.with_name("basics.compare.py.bak")
        assert kept.read_text() == SOLUTION
        editor.focus()
        await pilot.press("ctrl+z")
        assert editor.text == SOLUTION


async def test_the_next_step_stays_locked_until_this_one_passes(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.compare"
        assert any("opens once you pass" in n.message for n in app._notifications)


async def test_a_quiz_is_answered_with_the_keyboard(home, build):
    app = build(unlock_all=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.step_screen.go_to("basics.quiz")
        await settle(pilot)
        assert app.step_screen.state.view.is_quiz
        await pilot.press("ctrl+f")
        await pilot.press("1")  # wrong: rank 1
        await settle(pilot)
        assert "✗" in text_of(app.query_one("#quiz-feedback"))
        await pilot.press("down", "enter")  # "2"
        await settle(pilot)
        assert isinstance(app.screen, PassedScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.stdout"
    assert progress(home, "basics.quiz").passed


async def test_narrow_panes_cycle_and_wide_panes_sit_side_by_side(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.step_screen.panes.pane == "lesson"
        shown = lambda: [w for w in ("#lesson", "#editor", "#output")  # noqa: E731
                         if app.query_one(w).region.area]
        assert shown() == ["#lesson"]
        await pilot.press("ctrl+f")
        assert shown() == ["#editor"] and app.focused is app.query_one(CodeEditor)
        await pilot.press("ctrl+f")
        assert shown() == ["#output"]
        await pilot.resize_terminal(140, 40)
        await pilot.pause()
        assert shown() == ["#lesson", "#editor", "#output"]


async def test_help_lists_every_binding(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(text_of(s) for s in app.screen.query("Static"))
        for needle in ("ctrl+r / F5", "Esc", "ctrl+g", "F9", "ctrl+o / F8", "ctrl+z"):
            assert needle in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_command_palette_offers_actions_and_open_steps(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Check" in titles and "Hint" in titles
        assert "Go to: Make a tensor" in titles
        assert "Go to: Sum the rows" not in titles  # locked


async def test_the_external_editor_edits_then_checks(home, monkeypatch, build):
    app = build()
    monkeypatch.setenv("EDITOR", f"{sys.executable} --wait")
    seen = []

    def fake_editor(command, path):
        seen.append(command)
        path.write_text(SOLUTION)
        return ""

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(app.step_screen.external_editor, "edit_file", fake_editor)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert seen == [[sys.executable, "--wait"]]
        assert isinstance(app.screen, PassedScreen)
        assert app.query_one(CodeEditor).text == SOLUTION
    assert progress(home).passed


async def test_an_editor_that_cannot_run_is_reported(home, monkeypatch, build):
    monkeypatch.setenv("EDITOR", sys.executable)
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")  # a headless app cannot hand over the terminal
        await settle(pilot)
        assert any("cannot hand the screen" in n.message for n in app._notifications)
        assert app.step_screen.state.verdict is None  # nothing was checked
        assert app.is_running
    assert progress(home).attempts == 0


def test_the_editor_is_visual_or_editor_when_installed(monkeypatch):
    monkeypatch.setenv("VISUAL", "")
    monkeypatch.setenv("EDITOR", f"{sys.executable} -X dev")
    assert editor_command() == [sys.executable, "-X", "dev"]
    monkeypatch.setenv("EDITOR", "no-such-editor-here")
    monkeypatch.setenv("PATH", "")
    assert editor_command() is None


async def test_a_step_that_needs_cuda_is_skipped_with_its_reason(course_copy, build):
    lesson = course_copy / "basics.yaml"
    lesson.write_text(lesson.read_text().replace(
        "    title: Make a tensor\n", "    title: Make a tensor\n    requires: cuda\n", 1))
    app = build(lessons=course_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.call"  # the course starts past it
        app.step_screen.go_to("basics.compare")  # it can still be read
        await settle(pilot)
        assert app.step_screen.state.status.status == "skipped"
        assert "needs a CUDA GPU" in text_of(app.query_one("#skip-note"))
        assert "skipped" in text_of(app.query_one("#state"))
        await pilot.press("ctrl+n")  # and does not block the course
        await settle(pilot)
        assert app.step_screen.state.view.step.id == "basics.call"
