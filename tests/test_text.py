"""Text made safe and measured for a terminal (``tutor.core.text``), and the figures a passed
check reached (``tutor.core.figures``)."""

from __future__ import annotations

from conftest import FIXTURE_COURSE

from tutor.core.figures import Figure, figures, needed
from tutor.core.loader import load_course
from tutor.core.text import (
    code_lines,
    inline_spans,
    visible,
    visible_output,
    wide_code_lines,
    wide_lines,
)
from tutor.core.verdict import CheckResult, Verdict


def test_control_characters_become_visible_signs():
    assert visible("plain\ttext\n") == "plain\ttext\n"
    assert visible("\x1b]52;c;SGVsbG8=\x07") == "␛]52;c;SGVsbG8=␇"
    assert visible("\x1b]8;;http://x\x1b\\link") == "␛]8;;http://x␛\\link"
    assert visible("a\x9bb\x7f") == "a<U+009B>b␡"
    assert visible("abc\u202edef") == "abc<U+202E>def"  # reverses the text after it
    assert visible("line\r\nnext\roverwritten") == "line\nnext␍overwritten"


def test_program_output_keeps_its_lines():
    assert visible_output("10%\r20%\r\ndone\x1b[2J\n") == "10%\n20%\ndone␛[2J\n"


def test_code_lines_are_found_inside_fences_only():
    text = "Intro `x`\n\n```python\nshort\n" + "w" * 90 + "\n```\n\n~~~\nalso\n~~~\nafter\n"
    assert [line for _, line in code_lines(text)] == ["short", "w" * 90, "also"]
    assert wide_code_lines(text, 80) == [(4, "w" * 90)]
    assert wide_lines("ok\n" + "v" * 73 + "\n", 72) == [(1, "v" * 73)]


def test_inline_markdown_pieces():
    assert inline_spans("`t` is **still** ``a`b``.") == [
        ("t", "code"), (" is ", ""), ("still", "strong"), (" ", ""), ("a`b", "code"), (".", "")]
    assert inline_spans("no markup") == [("no markup", "")]


def test_a_passed_threshold_check_reports_its_figure_and_threshold():
    step = load_course(FIXTURE_COURSE).step("modules.train")
    verdict = Verdict("modules.train", True, [
        CheckResult("the trained model fits the data", True, "yours: 0.0012"),
        CheckResult("the loss went down", True, "")])
    assert figures(step, verdict) == [
        Figure("the trained model fits the data", "0.0012", "≤ 0.05")]
    assert str(figures(step, verdict)[0]) == "0.0012 (needed ≤ 0.05)"
    assert needed(0.6, None) == "≥ 0.6" and needed(0.1, 0.9) == "between 0.1 and 0.9"
    failed = Verdict("modules.train", False, [
        CheckResult("the trained model fits the data", False, "too high")])
    assert figures(step, failed) == []
