"""A check kind is one declaration: subclassing ``Check`` makes a kind that the loader builds,
the JSON Schema describes, the authors' reference documents and judging runs, with nothing
else to touch (the worker only when the kind needs new data from it)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import msgspec
import pytest
from jsonschema import Draft202012Validator

from tutor.core.checks import KINDS, Check, Outcome
from tutor.core.checks.base import value_id, value_probe
from tutor.core.feedback import Finding
from tutor.core.fields import Name
from tutor.core.judging import evaluate
from tutor.core.loader import load_course
from tutor.core.reference import reference_markdown
from tutor.core.runs import AnyProbe
from tutor.core.schema import full_schema
from tutor.core.yamltree import parse


@pytest.fixture
def positive() -> Iterator[type[Check]]:
    """A kind defined here, as a new module of tutor/core/checks would define it."""

    class Positive(Check, frozen=True, kw_only=True):
        """Every value of the learner's tensor is above `above`."""

        key: ClassVar[str] = "positive"
        summary: ClassVar[str] = "every value is above a bound"
        example: ClassVar[str] = "positive: t"

        var: Name = msgspec.field(name="positive")
        above: float = 0.0

        def probes(self, index: int) -> list[AnyProbe]:
            return [value_probe(self.var)]

        def judge(self, index: int, outcome: Outcome) -> Finding | None:
            values = outcome.mine(value_id(self.var)).data
            return None if (values > self.above).all() else Finding(
                f"`{self.var}` has small values.")

    yield Positive
    del KINDS["positive"]


def test_a_new_kind_is_loaded_described_documented_and_judged(positive: type[Check],
                                                              course_copy: Path) -> None:
    assert KINDS["positive"] is positive
    lesson = course_copy / "basics.yaml"
    text = lesson.read_text().replace(
        "    checks:\n", "    checks:\n      - positive: t\n        above: -1\n", 1)
    lesson.write_text(text)
    course = load_course(course_copy)
    assert course.problems == ()
    step = course.steps()[0]
    (check,) = [c for c in step.checks if isinstance(c, positive)]
    assert check.above == -1

    schema = full_schema()
    Draft202012Validator(schema).validate(parse(text))
    broken = text.replace("above: -1", "abov: -1")
    assert list(Draft202012Validator(schema).iter_errors(parse(broken)))

    assert "#### positive" in reference_markdown()
    assert "every value is above a bound" in reference_markdown()


def test_the_new_kind_judges_what_its_probe_brought_back(positive: type[Check]) -> None:
    import numpy as np

    from tutor.core.model import CodeStep
    from tutor.core.values import Tensor

    check = positive(var="t", above=0.5)
    step = CodeStep(id="s", title="S", starter="", solution="", checks=(check,))
    data = np.array([0.6, 0.2], dtype="float32")
    outcome = Outcome({"value:t": Tensor("float32", (2,), data=data)}, None, {}, "", "", "cpu")
    (result,) = evaluate(step, outcome)
    assert not result.passed and result.message == "`t` has small values."


def test_an_unknown_field_of_the_new_kind_is_named(positive: type[Check],
                                                   course_copy: Path) -> None:
    lesson = course_copy / "basics.yaml"
    lesson.write_text(lesson.read_text().replace(
        "    checks:\n", "    checks:\n      - positive: t\n        abov: -1\n", 1))
    problems = [p.message for p in load_course(course_copy).problems]
    assert problems == ["unknown field 'abov' in a positive check: did you mean 'above'?"]


def test_the_example_of_every_kind_loads() -> None:
    for key, kind in KINDS.items():
        raw = parse(textwrap.dedent(kind.example))
        assert key in raw
        assert isinstance(kind.from_raw(raw, ()), kind)
