"""The lesson loader: valid files load; every broken file is reported at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE

from tutor.core import model as m
from tutor.core.checks.call import Call
from tutor.core.checks.module import ModuleCheck
from tutor.core.loader import CourseError, load_course, problems_of
from tutor.core.runs import TensorArg


def write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_fixture_course_loads_every_kind_of_step_and_check() -> None:
    course = load_course(FIXTURE_COURSE)
    assert course.problems == ()
    assert [lesson.id for lesson in course.lessons] == ["basics", "modules"]
    kinds = {check.key for step in course.steps() for check in getattr(step, "checks", ())}
    assert kinds == {"compare", "expect", "call", "module", "metric", "stdout_contains",
                     "stdout_matches", "source"}
    quiz = course.step("basics.quiz")
    assert isinstance(quiz, m.QuizStep) and quiz.answers == (1,) and quiz.is_correct([1])
    assert not quiz.is_correct([1, 2]) and quiz.lesson_id == "basics"
    first = course.step("basics.compare")
    assert isinstance(first, m.CodeStep)
    assert first.hints[0].startswith("Use") and first.rejects[0].feedback == "int64"
    assert first.where is not None and first.where.line > 1
    assert first.lesson_id == "basics" and first.where.file == str(FIXTURE_COURSE / "basics.yaml")
    call = course.step("basics.call").checks[0]
    assert isinstance(call, Call) and call.function == "row_sums" and call.trials == 3
    assert call.args == (TensorArg(shape=(3, 4)),)
    net = course.step("modules.net").checks[0]
    assert isinstance(net, ModuleCheck)
    assert (net.input_shape, net.output_shape, net.same_as_reference) == ((5, 4), (5, 2), True)


def test_yaml_syntax_error_is_reported_with_line_and_the_rest_still_loads(
        course_copy: Path) -> None:
    write(course_copy / "modules.yaml", """\
        id: modules
        title: Broken
        steps:
          - id: x
            title: [unclosed
        """)
    course = load_course(course_copy)
    assert [lesson.id for lesson in course.lessons] == ["basics"]
    (problem,) = course.problems
    assert Path(problem.where.file).name == "modules.yaml"
    assert problem.where.line in (5, 6)
    assert "YAML syntax error" in problem.message


def test_made_from_rules_load_and_bad_ones_are_reported(course_copy: Path) -> None:
    path = course_copy / "basics.yaml"
    text = path.read_text()
    assert "          no_loops: true\n" in text
    path.write_text(text.replace("          no_loops: true\n",
                                 "          no_loops: true\n          made_from: {t: [device]}\n"))
    course = load_course(course_copy)
    (rule,) = [c for s in course.steps() for c in getattr(s, "checks", ()) if c.key == "source"]
    assert rule.rules.made_from == {"t": ("device",)}
    assert "makes `t` from `device`" in rule.title()

    path.write_text(text.replace("          no_loops: true\n",
                                 "          no_loops: true\n          made_from: {t: device}\n"))
    (problem,) = problems_of(course_copy)
    assert problem.message == "checks[1].source.made_from.t must be a list, not a text"
    assert "made_from" in path.read_text().splitlines()[problem.where.line - 1]


def test_schema_errors_point_at_the_offending_key(course_copy: Path) -> None:
    text = (course_copy / "basics.yaml").read_text()
    text = text.replace("    hints:\n      - Use `torch.arange`.",
                        "    hintz:\n      - Use `torch.arange`.")
    (course_copy / "basics.yaml").write_text(text)
    problems = problems_of(course_copy)
    assert len(problems) == 1
    problem = problems[0]
    line = text.splitlines()[problem.where.line - 1]
    assert "hintz" in line
    assert problem.message == ("unknown field 'hintz' in step 'basics.compare': did you mean "
                               "'hints'?")
    assert str(problem).startswith(f"{course_copy / 'basics.yaml'}:{problem.where.line}:")


def test_wrong_type_and_missing_field(course_copy: Path) -> None:
    write(course_copy / "modules.yaml", """\
        id: modules
        title: Modules
        steps:
          - id: m.one
            title: One
            starter: "x = 1"
            solution: "x = 2"
            timeout: fast
            checks:
              - compare: x
          - id: m.two
            title: Two
            starter: "x = 1"
            checks:
              - compare: x
        """)
    problems = problems_of(course_copy)
    messages = [(p.where.line, p.message) for p in problems]
    assert (8, "timeout must be a number, not a text") in messages
    assert any(line == 11 and msg == "missing required field 'solution'"
               for line, msg in messages), messages
    assert len(problems) == 2


def test_python_syntax_error_in_a_solution_is_located(course_copy: Path) -> None:
    write(course_copy / "modules.yaml", """\
        id: modules
        title: Modules
        steps:
          - id: m.one
            title: One
            starter: |
              x = 1
            solution: |
              x = 1
              y = (
            checks:
              - compare: x
        """)
    (problem,) = problems_of(course_copy)
    assert "Python syntax error" in problem.message
    assert problem.where.line in (9, 10)


def test_check_kinds_are_validated(course_copy: Path) -> None:
    write(course_copy / "modules.yaml", """\
        id: modules
        title: Modules
        steps:
          - id: m.one
            title: One
            starter: "x = 1"
            solution: "x = 2"
            checks:
              - compare: x
                expect: x
              - expect: x
                shape: [2, 3]
                axes: [B]
              - metric: "x >"
              - call: f
                trials: 0
        """)
    problems = problems_of(course_copy)
    text = "\n".join(str(p) for p in problems)
    assert "a check has one kind, this one has 2: compare, expect" in text
    assert "checks[1].axes: axes names ['B'] do not match the shape's 2 axes" in text
    assert "checks[2].metric: expression 'x >' does not parse" in text
    assert "checks[3].trials must be a whole number >= 1" in text
    assert len(problems) == 4


def test_duplicate_step_ids_across_lessons(course_copy: Path) -> None:
    text = (course_copy / "modules.yaml").read_text().replace("id: modules.grad", "id: basics.call")
    (course_copy / "modules.yaml").write_text(text)
    problems = problems_of(course_copy)
    assert any("duplicate step id 'basics.call'" in p.message for p in problems)


def test_quiz_answer_out_of_range(course_copy: Path) -> None:
    text = (course_copy / "basics.yaml").read_text().replace("answer: 1", "answer: 3")
    (course_copy / "basics.yaml").write_text(text)
    (problem,) = problems_of(course_copy)
    assert "out of range" in problem.message and "3 choices" in problem.message


def test_missing_lesson_file_and_missing_course(course_copy: Path, tmp_path: Path) -> None:
    text = (course_copy / "course.yaml").read_text().replace("  - modules",
                                                             "  - modules\n  - ghost")
    (course_copy / "course.yaml").write_text(text)
    course = load_course(course_copy)
    assert len(course.lessons) == 2
    assert "ghost.yaml not found" in course.problems[0].message
    with pytest.raises(CourseError, match="no course.yaml"):
        load_course(tmp_path / "nowhere")


def test_foreign_file_as_lesson_never_crashes(course_copy: Path) -> None:
    (course_copy / "modules.yaml").write_bytes(b"\x00\xff\xfe binary \x80")
    course = load_course(course_copy)
    assert len(course.lessons) == 1 and course.problems


def test_duplicate_keys_are_reported_not_silently_dropped(course_copy: Path) -> None:
    text = (course_copy / "basics.yaml").read_text()
    text = text.replace("    title: Make a tensor\n",
                        "    title: Make a tensor\n    title: Again\n")
    (course_copy / "basics.yaml").write_text(text)
    (problem,) = problems_of(course_copy)
    assert "duplicate key 'title'" in problem.message
    assert text.splitlines()[problem.where.line - 1].strip() == "title: Again"


def test_lessons_new_keeps_the_authors_comments(course_copy: Path) -> None:
    from tutor.core.scaffold import write_lesson

    course_file = course_copy / "course.yaml"
    course_file.write_text(course_file.read_text().replace("lessons:",
                                                           "# the order matters\nlessons:"))
    write_lesson(course_copy, "extra")
    text = course_file.read_text()
    assert "# the order matters" in text and text.rstrip().endswith("- extra")
    assert [lesson.id for lesson in load_course(course_copy).lessons][-1] == "extra"
