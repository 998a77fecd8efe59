"""Everything readable at 80x24 (and laid out for the lesson at 160x45): code blocks, the
verdict's indents, the editor's and the header's titles, hints, figures, the end of a lesson.
Driven headless over the real session, checks in the module's warm runner."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_tui_support import (
    QUIET,
    SOLUTION,
    paste,
    screen_text,
    settle,
    text_of,
)

from tutor.core.text import LESSON_CODE_COLUMNS
from tutor.tui.app import TutorApp
from tutor.tui.screens.course_map_screen import CourseMapScreen
from tutor.tui.screens.passed_screen import PassedScreen
from tutor.tui.widgets.code_editor import CodeEditor
from tutor.tui.widgets.output_panel import OutputPanel

SMALL, WIDE = (80, 24), (160, 45)
FIRST_EXPLANATION = "      Make `t`, a 2x3 float tensor holding 0..5.\n"


@pytest.fixture(autouse=True)
def _isolated(home: Path) -> None:
    """Every test gets conftest's throwaway tutor home."""


def explain_with(course: Path, text: str) -> None:
    """Give the course's first step ``text`` (YAML-indented already) as its explanation."""
    lesson = course / "basics.yaml"
    lesson.write_text(lesson.read_text().replace(FIRST_EXPLANATION, text, 1))


def fence(*lines: str) -> str:
    body = "".join(f"      {line}\n" for line in lines)
    return f"      Make `t`.\n\n      ```python\n{body}      ```\n\n      After the code.\n"


def rows(app: TutorApp) -> list[str]:
    return screen_text(app).splitlines()


async def test_a_code_line_wider_than_the_pane_wraps_instead_of_being_cut(course_copy, build):
    long_line = "x = torch.as_tensor(data)  # " + "y" * 50 + " SHARES memory with data"
    explain_with(course_copy, fence(long_line))
    async with build(lessons=course_copy).run_test(size=SMALL) as pilot:
        await settle(pilot)
        text = screen_text(pilot.app)
        assert "SHARES memory with data" in text  # the end of the line, on screen
        assert all(len(row.rstrip()) <= 80 for row in text.splitlines())


async def test_code_lines_up_to_the_validated_width_show_unwrapped(course_copy, build):
    widest = "w" * (LESSON_CODE_COLUMNS - 1) + "!"
    filler = "".join(f"      Paragraph {n} of a long lesson.\n\n" for n in range(30))
    explain_with(course_copy, fence(widest) + "\n" + filler)  # long: a scrollbar takes a column
    async with build(lessons=course_copy).run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert any(row.strip() == widest for row in rows(pilot.app))


async def test_wide_screens_give_the_lesson_the_width_of_its_code(course_copy, build):
    long_line = "print(t)  # " + "z" * 78 + " END"  # 94 columns
    explain_with(course_copy, fence(long_line))
    async with build(lessons=course_copy).run_test(size=WIDE) as pilot:
        await settle(pilot)
        lesson = pilot.app.query_one("#lesson")
        assert lesson.outer_size.width >= len(long_line) + 7
        assert pilot.app.query_one("#editor").outer_size.width >= 56
        assert any(long_line in row for row in rows(pilot.app))  # on one row, uncut


async def test_wrapped_feedback_keeps_its_indent(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        paste(app, "import torch\nt = torch.arange(6).reshape(2, 3)\n")  # int64
        await pilot.press("ctrl+r")
        await settle(pilot)
        verdict = text_of(app.query_one(OutputPanel).query_one("#verdict")).splitlines()
        message = [row for row in verdict if row.startswith(" ")]
        assert len(message) >= 2, verdict  # the message wraps over rows
        assert all(row.startswith("    ") for row in message)  # each under the name, not at 1


async def test_the_editor_is_titled_with_the_file_name(build):
    app = build(options=replace(QUIET, show_paths=True))  # the path is long; the name fits
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert app.query_one(CodeEditor).border_title == "basics.compare.py"
        assert "basics.compare.py" in text_of(app.query_one("#next-move"))


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_long_titles_wrap_in_the_header_rather_than_being_cut(course_copy, build, size):
    title = "Predicting a batch and counting correct answers, the long way round"
    lesson = course_copy / "basics.yaml"
    lesson.write_text(lesson.read_text().replace("title: Make a tensor", f"title: {title}")
                      .replace("title: Basics", "title: Predictions and autograd"))
    async with build(lessons=course_copy).run_test(size=size) as pilot:
        await settle(pilot)
        where = pilot.app.query_one("#where")
        left = where.region.x + where.region.width
        shown = " ".join(" ".join(row[:left] for row in rows(pilot.app)[:2]).split())
        assert title in shown and "Predictions and autograd 1/4" in shown
        assert "done 0/7" in rows(pilot.app)[0]
        assert where.region.height == (2 if size == SMALL else 1)  # a second row only if needed


async def test_one_blank_row_around_a_code_block(course_copy, build):
    explain_with(course_copy, fence("t = torch.zeros(2)"))
    async with build(lessons=course_copy).run_test(size=SMALL) as pilot:
        await settle(pilot)
        lines = [row.strip() for row in rows(pilot.app)]
        start, code, after = (lines.index("Make t."), lines.index("t = torch.zeros(2)"),
                              lines.index("After the code."))
        assert code - start == 2 and after - code == 2


async def test_a_single_failed_check_is_not_counted(build):
    app = build(unlock_all=True)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.step_screen.go_to("modules.grad")  # one check
        await settle(pilot)
        paste(app, "import torch\nw = torch.ones(3)\nw.sum()\n")
        await pilot.press("ctrl+r")
        await settle(pilot)
        status = text_of(app.query_one(OutputPanel).query_one("#run-status"))
        assert status.startswith("✗ Not yet") and "1 of 1" not in status


async def test_the_map_legend_says_what_each_mark_means(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, CourseMapScreen)
        legend = text_of(app.screen.query_one("#map-legend"))
        assert "✓ passed" in legend and "● to do" in legend and "· locked" in legend
        assert "· · locked" not in screen_text(app)


@pytest.mark.parametrize("size", [SMALL, WIDE])
async def test_the_learners_figure_shows_with_its_threshold(build, size):
    app = build(unlock_all=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.step_screen.go_to("modules.train")
        await settle(pilot)
        paste(app, app.step_screen.calls.live.step("modules.train").solution)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, PassedScreen), app.step_screen.state.verdict
        figure = text_of(app.screen.query_one(".passed-figure"))
        assert "needed ≤ 0.05" in figure and "the trained model fits the data" in figure
        await pilot.press("escape")
        verdict = text_of(app.query_one(OutputPanel).query_one("#verdict"))
        assert "yours: " in verdict and "(needed ≤ 0.05)" in verdict


async def test_hints_have_a_panel_under_the_code_rendered_and_kept(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        # narrow: the hint shows beside the code it is for
        assert app.step_screen.panes.pane == "code"
        text = screen_text(app)
        assert "Use torch.arange." in text and "`" not in text.split("hint 1/2")[1]
        assert not app._notifications  # no toast over the output
        paste(app, "import torch\nt = torch.zeros(2, 3)\n")
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("ctrl+e")
        assert "Use torch.arange." in screen_text(app)  # still there after a check


async def test_the_end_of_a_lesson_says_what_it_taught_and_what_comes_next(build, tmp_path):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        session = app.step_screen.calls.live
        for step_id, picks in (("basics.compare", None), ("basics.call", None),
                               ("basics.quiz", [1])):
            if picks is None:
                session.write_code(step_id, session.step(step_id).solution)
                assert session.check(step_id).passed
            else:
                assert session.answer(step_id, picks).passed
        app.step_screen.go_to("basics.stdout")
        await settle(pilot)
        paste(app, 'print("hello tensor")\n')
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, PassedScreen)
        end = text_of(app.screen.query_one("#lesson-end"))
        assert "Lesson complete: Basics" in end
        assert "Variables, functions, output and source rules." in end  # what it taught
        assert "✓ Make a tensor" in end and "Next lesson: Modules" in end
        await pilot.press("end")  # the dialog scrolls to its end at 24 rows
        await pilot.pause()
        assert "Enter next step" in screen_text(app)


async def test_a_step_that_does_not_end_its_lesson_has_no_lesson_end(build):
    app = build()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        paste(app, SOLUTION)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, PassedScreen)
        assert not app.screen.query("#lesson-end")


async def test_the_lesson_and_the_header_change_in_the_same_frame(build):
    app = build(unlock_all=True)
    seen = []
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        show_values = app.step_screen.header.show_values

        def record(*args: object) -> None:
            lesson = app.query_one("#explanation")
            paragraphs = " ".join(str(block._content) for block in lesson.query("MarkdownBlock")
                                  if hasattr(block, "_content"))
            seen.append((args[0], text_of(app.query_one("#lesson-title")), paragraphs))
            show_values(*args)

        app.step_screen.header.show_values = record  # type: ignore[method-assign]
        app.step_screen.go_to("basics.call")
        await settle(pilot)
    title, lesson_title, paragraphs = seen[-1]
    assert title == lesson_title == "Sum the rows"
    assert "row_sums(x)" in paragraphs  # the new text is mounted when the header changes
