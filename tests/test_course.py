"""The shipped course keeps its promises: it loads cleanly, has the promised size and
shape, and every solution, starter, accept and reject behaves as its author said."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tutor.core import datasets
from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.loader import load_course
from tutor.core.session import bundled_course_dir
from tutor.core.validate import validate_steps
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
    assert len(step.rejects) >= 2, "list at least two common mistakes"
    assert step.hints, "give at least one hint"
    assert step.explanation.strip()


def test_every_step_is_checkable_on_a_cpu_only_machine() -> None:
    assert [s.id for s in code_steps() if s.requires == "cuda"] == []


@pytest.mark.slow
def test_validate_solutions_over_the_whole_course(tmp_path: Path) -> None:
    datasets.build_substitute(tmp_path)  # no network here: the offline stand-in
    with WarmRunner() as runner:
        # A fixed seed sequence: a reject that fails only on lucky inputs shows up the same
        # way on every run instead of flaking (learners still get fresh seeds).
        seeds = random.Random(20261123)
        checker = Checker(runner, device="cpu", data_dir=str(tmp_path),
                          seed_source=lambda: seeds.randrange(2**31))
        reports = validate_steps(code_steps(), checker, workers=2)
    failures = {r.step.id: [a.problem for a in r.attempts if not a.ok] for r in reports
                if not r.ok}
    assert failures == {}
    slowest = max(reports, key=lambda r: max((a.duration_s for a in r.attempts), default=0))
    assert max(a.duration_s for a in slowest.attempts) < 30, slowest.step.id
