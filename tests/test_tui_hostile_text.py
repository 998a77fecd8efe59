"""Lesson text and program output never reach the terminal as control sequences: a course
whose titles, explanations, hints, check names, quiz and starter hold escape sequences (OSC 52
writes the clipboard, OSC 8 hides a link, CSI clears the screen) and Textual markup, and code
that prints them, are shown as visible text on every screen of the app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_tui_support import build_app, settle, terminal_output
from textual.app import App, ComposeResult
from textual.widgets import Static

from tutor.core.runs import Runner
from tutor.tui.screens.course_map_screen import CourseMapScreen
from tutor.tui.screens.passed_screen import PassedScreen
from tutor.tui.screens.solution_screen import SolutionScreen
from tutor.tui.widgets.code_editor import CodeEditor

OSC52 = r"\e]52;c;SGVsbG8=\a"  # YAML double-quoted escapes
MARKUP = "[@click=app.quit]Make[/] a [b]tensor[/b]"
# What the app itself writes: colours and cursor moves. Anything else is from the course.
OWN = re.compile(r"\x1b\[[0-9;]*[mH]")
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def hostile_course(course: Path) -> Path:
    lesson = course / "basics.yaml"
    text = lesson.read_text()
    text = text.replace("title: Basics", f'title: "Basics {OSC52}"', 1)
    text = text.replace("    title: Make a tensor\n", f'    title: "{MARKUP} {OSC52}"\n', 1)
    text = text.replace("      Make `t`, a 2x3 float tensor holding 0..5.\n",
                        "      Make `t` \x1b]8;;http://evil.example\x1b\\\\here\x1b]8;;\x1b\\\\.\n"
                        .replace("\x1b", "\\e"), 1)
    text = text.replace("      - Use `torch.arange`.", r'      - "Use \e[2J`torch.arange`."', 1)
    text = text.replace("      - compare: t\n", f'      - compare: t\n        name: "t {OSC52}"\n', 1)
    text = text.replace('choices: ["1", "2", "6"]', f'choices: ["1 {OSC52}", "[b]2[/b]", "6"]')
    text = text.replace("    starter: |\n      import torch\n      t = ...\n",
                        f'    starter: "import torch\\nt = ...  # {OSC52}\\n"\n', 1)
    lesson.write_text(text)
    return course


def assert_safe(app) -> str:
    written, shown = terminal_output(app)
    raw = RAW.findall(OWN.sub("", written))
    assert raw == [], f"raw control characters reached the terminal: {raw!r}"
    return shown


@pytest.fixture(autouse=True)
def _isolated(home: Path) -> None:
    """Every test gets conftest's throwaway tutor home."""


async def test_hostile_course_text_is_shown_never_obeyed(tmp_path, course_copy,
                                                         warm_runner: Runner):
    app = build_app(warm_runner, tmp_path, lessons=hostile_course(course_copy),
                    unlock_all=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.step_screen.state.view is not None
        shown = assert_safe(app)
        assert MARKUP in shown and "␛]52;c;SGVsbG8=␇" in shown  # literally, as text
        await pilot.press("ctrl+t", "ctrl+e")
        await settle(pilot)
        assert "␛[2J" in assert_safe(app)
        assert "␛]52" in app.query_one(CodeEditor).text  # the starter, shown not sent

        editor = app.query_one(CodeEditor)
        editor.replace("import torch\nprint('\\x1b]52;c;SGVsbG8=\\x07 \\x1b[2J printed')\n"
                       "t = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n",
                       (0, 0), editor.document.end)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, PassedScreen)
        assert_safe(app)
        await pilot.press("escape")  # the output is on screen: what the code printed, as text
        assert app.step_screen.panes.pane == "output"
        assert "␛[2J printed" in assert_safe(app)

        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, SolutionScreen)
        assert MARKUP in assert_safe(app)  # markup in a dialog's title is text, no crash
        await pilot.press("escape")

        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, CourseMapScreen)
        assert MARKUP in assert_safe(app)
        await pilot.press("escape")

        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any("\x1b" in t for t in titles)

        app.step_screen.go_to("basics.quiz")
        await settle(pilot)
        await pilot.press("ctrl+e")
        shown = assert_safe(app)
        assert "[b]2[/b]" in shown and "1 ␛]52" in shown
        assert app.is_running


async def test_the_check_would_see_a_raw_sequence():
    """The test above is only as good as ``terminal_output``: Textual on its own does send
    an escape sequence in a widget's text to the terminal, and the check sees it."""

    class Raw(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("\x1b]52;c;x\x07", markup=False)

    app = Raw()
    async with app.run_test(size=(20, 2)):
        written, _ = terminal_output(app)
        assert RAW.findall(OWN.sub("", written))
