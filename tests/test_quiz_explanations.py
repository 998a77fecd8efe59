"""A quiz's wrong choices can each say why they are wrong (``explanations`` in the lesson);
``Session.answer`` returns it, and a quiz without hints does not offer one."""

from __future__ import annotations

from pathlib import Path

from conftest import open_session

from tutor.core.loader import CourseError, load_course

EXPLAINED = ('    explanations:\n      - "1 is the rank of a vector."\n      - ""\n'
             '      - "6 is how many numbers it holds."\n')


def with_explanations(course: Path, block: str = EXPLAINED) -> Path:
    lesson = course / "basics.yaml"
    text = lesson.read_text().replace("    why: The rank is the number of axes.\n",
                                      "    why: The rank is the number of axes.\n" + block)
    lesson.write_text(text)
    return course


def test_a_wrong_choice_explains_itself(home, course_copy, tmp_path):
    session = open_session(lessons=with_explanations(course_copy), device="cpu",
                           workspace=tmp_path / "ws", unlock_all=True)
    wrong = session.answer("basics.quiz", [2])
    assert not wrong.passed
    assert wrong.explanation == "6 is how many numbers it holds."
    assert wrong.verdict.checks[0].message == "Not quite. 6 is how many numbers it holds."
    plain = session.answer("basics.quiz", [0, 1])  # a right one and a wrong one
    assert plain.explanation == "1 is the rank of a vector."
    right = session.answer("basics.quiz", [1])
    assert right.passed and right.explanation == "" and right.why


def test_no_explanation_and_no_hints_offer_no_hint(home, course_copy, tmp_path):
    session = open_session(lessons=course_copy, device="cpu", workspace=tmp_path / "ws",
                           unlock_all=True)
    wrong = session.answer("basics.quiz", [0])
    assert wrong.explanation == ""
    assert wrong.verdict.checks[0].message == "Not quite. Read the question again."


def test_explanations_must_match_the_choices(course_copy):
    with_explanations(course_copy, '    explanations: ["only one"]\n')
    assert any("1 explanations for 3 choices" in p for p in course_problems(course_copy))


def course_problems(course: Path) -> list[str]:
    """What loading ``course`` reports (a broken lesson loads as a problem, or fails)."""
    try:
        return [str(p) for p in load_course(course).problems]
    except CourseError as exc:
        return [str(p) for p in exc.problems]
