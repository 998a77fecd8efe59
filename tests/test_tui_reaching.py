"""Everything reachable with the keyboard at 80x24: quiz feedback, help, the whole course map,
a way out of the editor and back, cancelling with ctrl+c, the editor's keys, the first check
while PyTorch loads. Driven headless over the real session."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from test_tui_support import (
    QUIET,
    SLEEPER,
    SOLUTION,
    STARTER,
    build_app,
    paste,
    screen_text,
    settle,
    text_of,
    wait_for,
)
from textual.widgets import OptionList
from textual.widgets._footer import FooterKey

from tutor.core.runs import OutputCallback, RunHandle, Runner, RunRequest
from tutor.tui.app import TutorApp
from tutor.tui.screens.course_map_screen import CourseMapScreen
from tutor.tui.screens.goto_line_screen import GotoLineScreen
from tutor.tui.screens.help_screen import HelpScreen
from tutor.tui.widgets.code_editor import CodeEditor
from tutor.tui.widgets.lesson_pane import LessonPane
from tutor.tui.widgets.output_panel import OutputPanel

SMALL, WIDE = (80, 24), (160, 45)
QUESTION = "What is the rank of a tensor of shape `[2, 3]`?"


@pytest.fixture(autouse=True)
def _isolated(home: Path) -> None:
    """Every test gets conftest's throwaway tutor home."""


def focus_editor(app: TutorApp, at: tuple[int, int]) -> CodeEditor:
    editor = app.query_one(CodeEditor)
    editor.focus()
    editor.move_cursor(at)
    return editor


def quiz_course(course: Path, question: str = QUESTION, extra: str = "") -> Path:
    lesson = course / "basics.yaml"
    text = lesson.read_text().replace(f"question: {QUESTION}", f"question: |\n      {question}")
    lesson.write_text(text.replace("    why: The rank is the number of axes.\n",
                                   f"    why: The rank is the number of axes.\n{extra}"))
    return course


async def open_quiz(app: TutorApp, pilot) -> None:
    await settle(pilot)
    app.step_screen.go_to("basics.quiz")
    await settle(pilot)
    await pilot.press("ctrl+e")


# --------------------------------------------------------------------------- quizzes


async def test_a_wrong_answer_to_a_long_question_scrolls_into_view(course_copy, build):
    long = "\n\n      ".join(f"Line {n} of a long question about sharing memory." for n in range(14))
    app = build(lessons=quiz_course(course_copy, long + "\n\n      " + QUESTION),
                unlock_all=True)
    async with app.run_test(size=SMALL) as pilot:
        await open_quiz(app, pilot)
        await pilot.press("1")
        await settle(pilot)
        assert "✗ Not quite." in screen_text(app)


async def test_the_picked_choice_stays_marked_and_a_wrong_one_explains_itself(course_copy,
                                                                             build):
    extra = ('    explanations:\n      - "1 is the rank of a vector, one axis."\n'
             '      - ""\n      - "6 is how many numbers it holds: `t.numel()`."\n')
    app = build(lessons=quiz_course(course_copy, QUESTION, extra), unlock_all=True)
    async with app.run_test(size=SMALL) as pilot:
        await open_quiz(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        text = screen_text(app)
        assert "6 is how many numbers it holds: t.numel()." in text  # Markdown, rendered
        choices = app.query_one("#single", OptionList)
        marked = [str(choices.get_option_at_index(i).prompt.columns[0]._cells[0])
                  for i in range(3)]
        assert marked == ["", "", "✗"]


async def test_a_quiz_without_hints_does_not_offer_one(build):
    app = build(unlock_all=True)
    async with app.run_test(size=SMALL) as pilot:
        await open_quiz(app, pilot)
        await pilot.press("1")
        await settle(pilot)
        assert "hint" not in screen_text(app).lower().split("not quite")[1]


async def test_ctrl_n_on_an_unanswered_quiz_says_to_answer_it(course_copy, build):
    async with build().run_test(size=SMALL) as pilot:
        app = pilot.app
        await settle(pilot)
        session = app.step_screen.calls.live
        for step_id in ("basics.compare", "basics.call"):
            session.write_code(step_id, session.step(step_id).solution)
            assert session.check(step_id).passed
        app.step_screen.go_to("basics.quiz")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("answer this quiz" in m for m in said) and not any("ctrl+r" in m for m in said)


# --------------------------------------------------------------------------- dialogs


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_help_scrolls_to_its_last_key(build, size):
    app = build()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
        assert "ctrl+p" in text and "command palette" in text
        assert "Esc closes" in text


async def test_the_map_browses_locked_steps_and_says_they_are_locked(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, CourseMapScreen)
        steps = app.screen.query_one("#map-steps", OptionList)
        await pilot.press("end")
        assert steps.get_option_at_index(steps.highlighted).id == "modules.train"
        assert "Loss goes down" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CourseMapScreen)  # a locked step does not open
        assert any("Locked" in n.message for n in app._notifications)


# --------------------------------------------------------------------------- focus


async def test_esc_leaves_the_editor_and_tab_then_does_not_indent(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        editor = focus_editor(app, (1, 0))
        await pilot.press("escape")
        assert isinstance(app.focused, LessonPane) and app.step_screen.panes.pane == "lesson"
        await pilot.press("tab", "tab")
        assert editor.text == STARTER
        await pilot.press("ctrl+e")  # straight back
        assert app.focused is editor and app.step_screen.panes.pane == "code"


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_the_focused_pane_has_a_ring_and_ctrl_e_jumps_back_to_the_code(build, size):
    app = build()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+e")
        editor = app.query_one(CodeEditor)
        assert editor.styles.border_top[0] == "heavy"
        paste = "import torch\nt = torch.zeros(2, 3)\n"
        editor.replace(paste, (0, 0), editor.document.end)
        await pilot.press("ctrl+r")
        await settle(pilot)
        if app.step_screen.panes.pane != "output":  # wide: the output is beside the code
            await pilot.press("ctrl+f")  # code -> output: its verdict takes the focus
        output = app.query_one(OutputPanel)
        assert app.focused is output.query_one("#verdict-scroll")
        assert output.styles.border_top[0] == "heavy" and editor.styles.border_top[0] == "round"
        await pilot.press("ctrl+e")
        assert app.focused is editor


async def test_after_a_check_on_a_narrow_screen_the_verdict_scrolls_at_once(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+e")
        await pilot.press("ctrl+r")  # the starter: a failure with a message
        await settle(pilot)
        assert app.step_screen.panes.pane == "output"
        assert app.focused is app.query_one("#verdict-scroll")


async def test_ctrl_c_cancels_a_running_check_and_says_so(home, build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        focus_editor(app, (0, 0)).replace(SLEEPER, (0, 0), app.step_screen.editor.document.end)
        await pilot.press("ctrl+r")
        output = app.query_one(OutputPanel)
        await wait_for(pilot, lambda: "started" in "".join(output.query_one("#log").lines))
        await pilot.press("ctrl+e", "ctrl+c")  # from inside the editor, where it copies
        await settle(pilot)
        assert app.step_screen.runs.running is None
        assert "Cancelled" in text_of(output.query_one("#run-status"))
        assert any(n.title == "ctrl+c" and "cancelled" in n.message for n in app._notifications)
        assert not any("quit" in n.message for n in app._notifications)


def footer_keys(app: TutorApp) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


async def test_the_footer_follows_the_running_state_and_the_pane_by_itself(home, build):
    """``running`` and ``pane`` are the step screen's reactives: the keys change with them."""
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert "Cancel" not in footer_keys(app)
        focus_editor(app, (0, 0)).replace(SLEEPER, (0, 0), app.step_screen.editor.document.end)
        await pilot.press("ctrl+r")
        output = app.query_one(OutputPanel)
        await wait_for(pilot, lambda: "started" in "".join(output.query_one("#log").lines))
        assert app.step_screen.running == "check"
        await wait_for(pilot, lambda: "Cancel" in footer_keys(app))
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.step_screen.running is None)
        await wait_for(pilot, lambda: "Cancel" not in footer_keys(app))
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert app.step_screen.pane == "code" and "Leave editor" in footer_keys(app)
        await pilot.press("escape")  # out of the editor: the pane and the keys follow
        await settle(pilot)
        assert app.step_screen.pane == "lesson" and app.focused is app.query_one("#lesson")
        assert "Leave editor" not in footer_keys(app)


async def test_ctrl_c_with_nothing_running_copies_in_the_editor(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        focus_editor(app, (0, 0))
        await pilot.press("ctrl+a", "ctrl+c")
        assert app.clipboard == STARTER
        assert not app._notifications


# --------------------------------------------------------------------------- the editor's keys


async def test_enter_indents_after_a_colon_and_dedents_after_return(course_copy, build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        editor = focus_editor(app, (0, 0))
        editor.replace("", (0, 0), editor.document.end)
        await pilot.press(*"def f(xs):", "enter", *"for x in xs:", "enter", *"print(x)",
                          "enter", *"return", "enter", *"y")
        assert editor.text == "def f(xs):\n    for x in xs:\n        print(x)\n        return\n    y"


async def test_whole_file_keys_go_to_line_and_select_all(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        editor = focus_editor(app, (1, 2))
        editor.replace("a = 1\nb = 2\nc = 3\nd = 4\n", (0, 0), editor.document.end)
        editor.move_cursor((1, 2))
        await pilot.press("ctrl+end")
        assert editor.cursor_location == editor.document.end
        await pilot.press("ctrl+home")
        assert editor.cursor_location == (0, 0)
        await pilot.press("ctrl+g")
        assert isinstance(app.screen, GotoLineScreen)
        await pilot.press("backspace", "3", "enter")
        await pilot.pause()
        assert app.focused is editor and editor.cursor_location == (2, 0)
        await pilot.press("ctrl+a")
        assert editor.selected_text == editor.text


async def test_tab_and_shift_tab_indent_and_dedent_the_selected_lines(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        editor = focus_editor(app, (0, 0))
        editor.replace("a\nb\n", (0, 0), editor.document.end)
        editor.select_all()
        await pilot.press("tab")
        assert editor.text == "    a\n    b\n"
        await pilot.press("shift+tab")
        assert editor.text == "a\nb\n"


# --------------------------------------------------------------------------- the first check


class SlowStart:
    """The warm runner, as it is right after launch: not ready, its first run slow."""

    def __init__(self, runner: Runner, delay_s: float) -> None:
        self.runner = runner
        self.delay_s = delay_s
        self.ready = threading.Event()

    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        if not self.ready.is_set():
            time.sleep(self.delay_s)  # importing PyTorch
            self.ready.set()
        return self.runner.start(request, on_output)

    def warm_up(self) -> None:
        """Already warming."""

    def wait_ready(self, timeout: float = 0.0) -> bool:
        return self.ready.wait(timeout)

    def close(self) -> None:
        """The module's runner outlives the test."""


async def test_the_first_check_says_it_is_warming_up_and_times_the_real_wait(tmp_path,
                                                                              warm_runner):
    slow = SlowStart(warm_runner, delay_s=1.0)
    app = build_app(slow, tmp_path, options=replace(QUIET, show_timings=True))
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.step_screen.editor.replace(SOLUTION, (0, 0), app.step_screen.editor.document.end)
        slow.ready.clear()  # the session's prefetch ran; the learner's first check waits
        await pilot.press("ctrl+r")
        status = app.query_one(OutputPanel).query_one("#run-status")
        await wait_for(pilot, lambda: "Warming up PyTorch (first check only)" in text_of(status))
        await wait_for(pilot, lambda: app.step_screen.runs.running is None, timeout=30)
        await settle(pilot)
        took = float(text_of(status).split(" in ")[1].split(" s")[0])
        assert took >= 1.0  # the learner's whole wait, not the run's own time


async def test_warming_up_gives_way_to_checking_once_the_code_runs(tmp_path, warm_runner):
    slow = SlowStart(warm_runner, delay_s=1.0)
    app = build_app(slow, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.step_screen.editor.replace(SLEEPER, (0, 0), app.step_screen.editor.document.end)
        slow.ready.clear()
        await pilot.press("ctrl+r")
        output = app.query_one(OutputPanel)
        status = output.query_one("#run-status")
        await wait_for(pilot, lambda: "Warming up PyTorch" in text_of(status))
        await wait_for(pilot, lambda: "started" in "".join(output.query_one("#log").lines))
        await wait_for(pilot, lambda: "Checking…" in text_of(status))
        assert "Warming up" not in text_of(status)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.step_screen.running is None)


async def test_the_outputs_border_says_how_each_run_went(build):
    """Failed, passed, running and nothing printed are classes of the output panel, set
    together when a run ends and cleared when another step opens."""
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        output = app.query_one(OutputPanel)
        await pilot.press("ctrl+r")  # the untouched starter
        await wait_for(pilot, lambda: output.has_class("-failed"))
        assert not output.has_class("-passed") and not output.has_class("-running")
        paste(app, SOLUTION)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: output.has_class("-passed"))
        assert not output.has_class("-failed") and output.has_class("-quiet")
        await pilot.press("escape")  # the passed dialog: stay on the step
        paste(app, SLEEPER)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: output.has_class("-running"))
        assert not output.has_class("-passed")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not output.has_class("-running"))
        app.step_screen.go_to("basics.call")
        await wait_for(pilot, lambda: app.step_screen.state.step_id == "basics.call")
        await settle(pilot)
        assert not {"-running", "-passed", "-failed", "-quiet"} & set(output.classes)
