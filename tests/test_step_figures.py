"""Figures in explanations (``figure:``): the format, the cache, ``pytorch-tutor show`` and
``lessons validate --figures``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli import tutor

from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.loader import load_course, problems_of
from tutor.core.schema import full_schema
from tutor.core.step_figures import Drawn, FigureCache, draw, figure_key
from tutor.core.values import Shown

FIGURE = """\
    figure:
      - code: |
          import torch
          show(torch.arange(6.0).reshape(2, 3), title="a grid")
        caption: Six numbers in two rows.
"""
EXPLANATION = "      Make `t`, a 2x3 float tensor holding 0..5.\n"


def with_figure(course: Path, figure: str = FIGURE) -> Path:
    lesson = course / "basics.yaml"
    lesson.write_text(lesson.read_text().replace(EXPLANATION, EXPLANATION + figure, 1))
    return course


def test_a_figure_loads_with_the_place_of_its_code(course_copy: Path) -> None:
    step = load_course(with_figure(course_copy)).step("basics.compare")
    (figure,) = step.figure
    assert figure.caption == "Six numbers in two rows." and "show(" in figure.code
    assert figure.where is not None and figure.where.line == 10  # the line of `code: |`


def test_a_misspelt_figure_key_is_reported_at_its_line(course_copy: Path) -> None:
    with_figure(course_copy, FIGURE.replace("caption:", "captoin:"))
    (problem,) = problems_of(course_copy)
    assert (problem.where.file.endswith("basics.yaml"), problem.where.line) == (True, 13)
    assert "unknown field 'captoin'" in problem.message and "caption" in problem.message


def test_a_syntax_error_in_a_figure_is_reported_at_its_line(course_copy: Path) -> None:
    with_figure(course_copy, FIGURE.replace("import torch", "import torch("))
    (problem,) = problems_of(course_copy)
    assert problem.where.line == 11 and "syntax error" in problem.message


def test_the_schema_declares_figures_without_internal_fields() -> None:
    schema = full_schema()
    step = schema["$defs"]["CodeStep"]["properties"]
    assert "figure" in step and "figure" in schema["$defs"]["QuizStep"]["properties"]
    figure = schema["$defs"]["Figure"]
    assert set(figure["properties"]) == {"code", "caption", "data"}
    assert figure["required"] == ["code"]


class NoRunner:
    """A runner that must not be asked: the figure is cached."""

    def start(self, request, on_output=None):
        raise AssertionError("ran a cached figure")

    def warm_up(self) -> None:
        """Nothing to warm."""

    def wait_ready(self, timeout: float = 0.0) -> bool:
        return True

    def close(self) -> None:
        """Nothing to stop."""


def shown() -> Shown:
    data = np.array([[0.0, 1.0, np.nan], [3.0, 4.0, 5.0]], dtype=np.float32)
    return Shown(data, (2, 3), "float32", "a grid", (), 1)


def test_a_cached_figure_is_drawn_without_a_run(tmp_path: Path) -> None:
    figure = m.Figure(code="show(1)", caption="one")
    step = m.QuizStep(id="q", title="Q", kind="quiz", question="?", choices=("a", "b"),
                      answer=0, figure=(figure,))
    cache = FigureCache(tmp_path / "figures.json")
    cache.put(figure_key(figure), (shown(),))
    drawn = draw(Checker(NoRunner()), step, figure, cache)
    assert drawn.caption == "one" and not drawn.error
    (picture,) = drawn.pictures
    assert picture.shape == (2, 3) and picture.title == "a grid"
    assert np.isnan(picture.data[0, 2]) and picture.data[1, 2] == 5.0


@pytest.mark.parametrize("text", ["{not json", '{"format": 1, "figures": {"k": [{"x": 1}]}}',
                                  '{"format": 99, "figures": {}}', "[]"])
def test_a_corrupt_cache_is_a_miss_and_is_written_anew(tmp_path: Path, text: str) -> None:
    path = tmp_path / "figures.json"
    path.write_text(text)
    cache = FigureCache(path)
    assert cache.get("k") is None
    cache.put("k", (shown(),))
    assert cache.get("k") is not None
    assert json.loads(path.read_text())["format"] == 1


@pytest.mark.slow
def test_show_prints_the_figure_under_the_explanation(tmp_path: Path, course_copy: Path):
    course = with_figure(course_copy)
    home = tmp_path / "home"
    done = tutor(home, "show", course=course, env={"NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = lines.index("a grid · shape [2, 3] · float32")
    assert lines[at + 1:at + 4] == ["     0      1      2", "     3      4      5",
                                    "Six numbers in two rows."]
    assert lines.index("Make `t`, a 2x3 float tensor holding 0..5.") < at
    assert list((home / "cache").glob("figures-*.json"))  # cached for the next time
    again = tutor(home, "show", course=course, env={"NO_COLOR": "1"})
    assert again.stdout == done.stdout


@pytest.mark.slow
def test_validate_reports_a_failing_figure_at_its_line(tmp_path: Path, course_copy: Path):
    with_figure(course_copy, FIGURE.replace('title="a grid")', 'title="a grid")\n'
                                            '          1 / 0'))
    done = tutor(tmp_path / "home", "lessons", "validate", str(course_copy), "--figures")
    assert done.returncode == 1
    assert ("basics.yaml:13:1: figure 1 of step 'basics.compare' failed: ZeroDivisionError"
            in done.stdout)
    assert "0 figures built, 1 failed" in done.stdout


def test_a_failed_figure_says_why_in_one_line() -> None:
    from rich.console import Console

    from tutor.drawing import FigureView

    console = Console(width=60, no_color=True, record=True)
    console.print(FigureView(Drawn("c", error="ZeroDivisionError: division by zero\nmore")))
    assert console.export_text().strip() == ("(figure not drawn: ZeroDivisionError: "
                                             "division by zero)")
