"""What the learner sees, at 80x24 and at a large size, over the real session and checker.
Review `snapshot_report.html` before `pytest --snapshot-update`. Timings, paths and the
cursor blink are off (``QUIET``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import SOLUTION, paste, settle

SMALL, LARGE = (80, 24), (160, 45)
RAISES = "import torch\n\nt = torch.zeros(2, 3)\nraise ValueError('t is not ready')\n"


@pytest.fixture(autouse=True)
def _isolated(home: Path) -> None:
    """Every test gets conftest's throwaway tutor home."""


def steps(*actions):
    """A ``run_before`` that settles after every action: a key, or code to put in the editor."""

    async def run(pilot):
        await settle(pilot)
        for action in actions:
            if action.startswith("code:"):
                paste(pilot.app, action[5:])
            elif action.startswith("go:"):
                pilot.app.step_screen.go_to(action[3:])
            else:
                await pilot.press(action)
            await settle(pilot)

    return run


def test_first_step_narrow_shows_the_lesson(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps())


def test_code_pane_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps("ctrl+f"))


def test_failed_check_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps("ctrl+r"))


def test_passed_dialog_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL,
                        run_before=steps(f"code:{SOLUTION}", "ctrl+r"))


def test_course_map_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps("ctrl+l"))


def test_help_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps("f1"))


def test_quiz_narrow(snap_compare, build):
    assert snap_compare(build(unlock_all=True), terminal_size=SMALL,
                        run_before=steps("go:basics.quiz", "ctrl+f"))


def test_first_step_large(snap_compare, build):
    assert snap_compare(build(), terminal_size=LARGE, run_before=steps("ctrl+t"))


def test_error_with_line_large(snap_compare, build):
    assert snap_compare(build(), terminal_size=LARGE,
                        run_before=steps(f"code:{RAISES}", "ctrl+r", "f7"))


def test_hint_under_the_code_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps("ctrl+t", "ctrl+t"))


def test_quiz_wrong_answer_narrow(snap_compare, build):
    assert snap_compare(build(unlock_all=True), terminal_size=SMALL,
                        run_before=steps("go:basics.quiz", "ctrl+e", "3"))


def test_quiz_wrong_answer_large(snap_compare, build):
    assert snap_compare(build(unlock_all=True), terminal_size=LARGE,
                        run_before=steps("go:basics.quiz", "ctrl+e", "3"))


def test_help_scrolled_to_its_end_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps("f1", "end"))


def test_course_map_large(snap_compare, build):
    assert snap_compare(build(), terminal_size=LARGE, run_before=steps("ctrl+l", "end"))


def test_left_the_editor_large(snap_compare, build):
    assert snap_compare(build(), terminal_size=LARGE, run_before=steps("ctrl+e", "escape"))


def test_go_to_line_narrow(snap_compare, build):
    assert snap_compare(build(), terminal_size=SMALL, run_before=steps("ctrl+e", "ctrl+g"))
