"""The step the learner left shows at once on the next launch, while the course opens."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from test_tui_support import QUIET, factory, screen_text, settle, wait_for

from tutor.tui import first_screen
from tutor.tui.app import make_app
from tutor.tui.first_screen import FirstScreen
from tutor.tui.widgets.code_editor import CodeEditor

OPTIONS = {"lessons": "course", "device": "cpu", "workspace": "ws", "unlock_all": "False"}


def screen(file: Path | None = None) -> FirstScreen:
    return FirstScreen("basics.compare", "Make a tensor", "Make `t`, a 2x3 float tensor.",
                       "Basics", 1, 4, "available", "cpu", 0, 7, False, 2,
                       "import torch\nt = ...\n", str(file) if file else None)


def test_a_saved_first_screen_loads_until_something_it_shows_changes(tmp_path, course_copy):
    home, mine = tmp_path / "home", tmp_path / "mine.py"
    mine.write_text("import torch\nt = ...\n")
    (home).mkdir()
    (home / "progress.json").write_text("{}")
    first_screen.save(home, OPTIONS, course_copy, screen(mine))
    assert first_screen.load(home, OPTIONS) == screen(mine)
    assert first_screen.load(home, {**OPTIONS, "device": "cuda"}) is None

    for changed in (course_copy / "basics.yaml", home / "progress.json", mine):
        first_screen.save(home, OPTIONS, course_copy, screen(mine))
        stat = changed.stat()
        os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        assert first_screen.load(home, OPTIONS) is None, changed
    (home / first_screen.FILE).write_text("{not json")
    assert first_screen.load(home, OPTIONS) is None


def opening_late(real):
    """A session factory that waits for the returned event: the course is still opening."""
    opened = threading.Event()

    def slow_factory():
        opened.wait(30)
        return real()

    return opened, slow_factory


async def test_the_first_screen_shows_before_the_course_opens(home, tmp_path, warm_runner):
    opened, slow_factory = opening_late(factory(warm_runner, tmp_path))
    app = make_app(slow_factory, QUIET, first_screen=screen())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Make t, a 2x3 float tensor." in screen_text(app))
        await wait_for(pilot, lambda: bool(app.query(CodeEditor)))  # drawn after the lesson
        assert app.step_screen.state.view is None  # the course is still opening
        editor = app.query_one(CodeEditor)
        assert editor.read_only and editor.text == "import torch\nt = ...\n"
        assert "Make a tensor · Basics 1/4" in screen_text(app)
        opened.set()
        await settle(pilot)
        await wait_for(pilot, lambda: app.step_screen.state.view is not None)
        await settle(pilot)
        assert not editor.read_only and app.step_screen.panes.pane == "lesson"
        assert "Make t, a 2x3 float tensor holding 0..5." in screen_text(app)


async def test_the_app_says_where_the_learner_left(home, tmp_path, warm_runner):
    app = make_app(factory(warm_runner, tmp_path), QUIET)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        left = app.step_screen.left_at()
    assert left is not None and left.step_id == "basics.compare" and left.total == 7
    assert left.code == "import torch\nt = ...\n" and left.file.endswith("basics.compare.py")
    assert Path(left.file).is_relative_to(tmp_path)


async def test_ctrl_r_over_the_first_screen_checks_once_the_course_is_open(home, tmp_path,
                                                                          warm_runner):
    opened, slow_factory = opening_late(factory(warm_runner, tmp_path))
    app = make_app(slow_factory, QUIET, first_screen=screen())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Make t, a 2x3 float tensor." in screen_text(app))
        await pilot.press("ctrl+r")  # the learner does not wait for the course to open
        opened.set()
        await wait_for(pilot, lambda: app.step_screen.state.verdict is not None, timeout=30)
        assert app.step_screen.state.verdict.step == "basics.compare"
