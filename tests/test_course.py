"""The shipped course keeps its promises: it loads cleanly, has the promised size and
shape, and every solution, starter, accept and reject behaves as its author said."""

from __future__ import annotations

import pytest

from tutor.core import datasets
from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.loader import load_course
from tutor.core.session import bundled_course_dir
from tutor.core.validate import course_score, validate_steps
from tutor.sandbox.warm import WarmRunner

COURSE = load_course(bundled_course_dir())


def code_steps() -> list[m.CodeStep]:
    return [s for s in COURSE.steps() if isinstance(s, m.CodeStep)]


def test_the_course_loads_without_problems() -> None:
    assert COURSE.problems == ()


def test_the_course_has_the_promised_size() -> None:
    assert len(COURSE.lessons) >= 10
    assert len(COURSE.steps()) >= 45
    assert isinstance(COURSE.steps()[0], m.CodeStep), "the course opens with code"
    assert any(isinstance(s, m.QuizStep) for s in COURSE.steps())


@pytest.mark.parametrize("step", code_steps(), ids=lambda s: s.id)
def test_every_code_step_has_variants_mistakes_and_hints(step: m.CodeStep) -> None:
    assert step.accepts, "list the correct variants a learner may write"
    assert len(step.rejects) >= 6, "list at least six real mistakes, one per kind that applies"
    assert step.hints, "give at least one hint"
    assert step.explanation.strip()


def test_every_step_is_checkable_on_a_cpu_only_machine() -> None:
    assert [s.id for s in code_steps() if s.requires == "cuda"] == []


@pytest.fixture(scope="module")
def course_checker(tmp_path_factory: pytest.TempPathFactory):
    """One warm runner per test process for the lessons it validates (xdist spreads the
    lessons over the cores)."""
    data = tmp_path_factory.mktemp("data")
    datasets.build_substitute(data)  # no network here: the offline stand-in
    with WarmRunner() as runner:
        # Validation gives each step its own fixed seed (learners get fresh ones), so a
        # reject that fails only on lucky inputs fails the same way on every run.
        yield Checker(runner, device="cpu", data_dir=str(data))


@pytest.mark.slow
@pytest.mark.parametrize("lesson", [lesson.id for lesson in COURSE.lessons])
def test_every_program_and_mutant_of_a_lesson_behaves_as_its_author_said(
        lesson: str, course_checker: Checker) -> None:
    steps = [s for s in code_steps() if s.lesson_id == lesson]
    reports = validate_steps(steps, course_checker, workers=1, mutate=True)
    failures = {r.step.id: [a.problem for a in r.attempts if not a.ok] for r in reports
                if not r.ok}
    assert failures == {}
    survivors = {r.step.id: [m.mutant.id for m in r.mutation.survivors]
                 for r in reports if r.mutation is not None and r.mutation.survivors}
    assert survivors == {}, "every mutant of a solution must fail its step's checks"
    if reports:
        assert course_score(reports).score == 1.0
    slowest = max(reports, key=lambda r: max((a.duration_s for a in r.attempts), default=0))
    assert max(a.duration_s for a in slowest.attempts) < 30, slowest.step.id
