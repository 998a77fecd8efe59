"""The course as data: courses, lessons, steps, and the checks a step declares.

Steps are declarations (``tutor.core.declare``): their fields, types and defaults are the
lesson format, from which the loader builds them and the JSON Schema and the authors'
reference are generated. Check kinds live in ``tutor.core.checks``. No torch, no textual:
the UI, the CLI and the checker all share these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check
from tutor.core.declare import Declared, FieldError
from tutor.core.fields import Code, Id, Markdown, Size
from tutor.core.runs import DEFAULT_TIMEOUT_S


class Where(msgspec.Struct, frozen=True):
    """A place in a lesson file, for messages of the form ``file:line:column``."""

    file: str
    line: int = 1  # 1-based
    column: int = 1  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# --------------------------------------------------------------------------- steps


class Reject(Declared, frozen=True, kw_only=True):
    """A known mistake: running ``code`` must fail with feedback containing ``feedback``."""

    code: Code
    feedback: Annotated[str, Meta(description="text the generated feedback must contain")]


class EquivalentMutant(Declared, frozen=True, kw_only=True):
    """A mutant of the solution that is truly correct, so no check can reject it."""

    mutant: Annotated[str, Meta(description="its id as `lessons validate --mutants` prints it, "
                                            "e.g. 'line 4: dim=1 -> dim=0'")]
    reason: Annotated[str, Meta(min_length=1, description="why it is correct too")]


class Figure(Declared, frozen=True, kw_only=True):
    """A picture placed with the explanation: hidden code, run in the sandbox once and cached,
    whose ``show(x)`` calls are drawn under the step's text."""

    code: Annotated[Code, Meta(description="Python that builds tensors and calls "
                                           "`show(x, title=...)`; runs on its own (no setup)")]
    caption: Annotated[str, Meta(description="a line under the figure")] = ""
    data: Annotated[tuple[Literal["fashion-mnist"], ...], Meta(
        description="data sets the code loads from DATA_DIR (the offline substitute "
                    "stands in)")] = ()
    where: Where | None = None  # of its code, filled in by the loader

    INTERNAL: ClassVar[tuple[str, ...]] = ("where",)


class Step(Declared, frozen=True, kw_only=True):
    """What every step has; ``lesson_id`` and ``where`` are filled in by the loader."""

    INTERNAL: ClassVar[tuple[str, ...]] = ("lesson_id", "where")

    id: Annotated[Id, Meta(description="unique in the course and stable: progress is keyed "
                                       "by it")]
    title: str
    explanation: Markdown = ""
    hints: Annotated[tuple[str, ...], Meta(description="revealed one at a time")] = ()
    figure: Annotated[tuple[Figure, ...], Meta(
        description="pictures shown with the explanation: {code: ..., caption: ...}")] = ()
    lesson_id: str = ""
    where: Where | None = None


class CodeStep(Step, frozen=True, kw_only=True):
    """A step where the learner writes code that the checks judge against the solution."""

    kind: Literal["code"] = "code"
    starter: Annotated[Code, Meta(description="written to the learner's file on the first "
                                              "visit")]
    solution: Annotated[Code, Meta(description="the reference; must pass")]
    setup: Annotated[Code, Meta(description="hidden code run before the learner's, in the "
                                            "same namespace")] = ""
    checks: Annotated[tuple[Check, ...], Meta(description="at least one")] = ()
    accepts: Annotated[tuple[Code, ...], Meta(
        description="other correct answers: each must pass")] = ()
    rejects: Annotated[tuple[Reject, ...], Meta(
        description="known mistakes: each must fail with its feedback")] = ()
    timeout_s: Annotated[float, Meta(gt=0, le=600, description="seconds")] = msgspec.field(
        name="timeout", default=DEFAULT_TIMEOUT_S)
    requires: Annotated[Literal["any", "cuda"], Meta(
        description="cuda: skipped (not failed) on machines without CUDA")] = "any"
    data: Annotated[tuple[Literal["fashion-mnist"], ...], Meta(
        description="data sets the step loads (the offline substitute stands in)")] = ()
    equivalent_mutants: Annotated[tuple[EquivalentMutant, ...], Meta(
        description="mutants of the solution that are correct too (`lessons validate "
                    "--mutants`): {mutant: id, reason: text}")] = ()


class QuizStep(Step, frozen=True, kw_only=True):
    """A question with choices; one or several are correct."""

    kind: Literal["quiz"]
    question: Markdown
    choices: Annotated[tuple[str, ...], Meta(min_length=2)]
    answer: Annotated[Size | Annotated[tuple[Size, ...], Meta(min_length=1)], Meta(
        description="0-based index of the correct choice, or a list of them")]
    why: Annotated[Markdown, Meta(description="shown after answering")] = ""
    explanations: Annotated[tuple[Markdown, ...], Meta(
        description="one per choice, in order: why that choice is wrong, shown when the "
                    "learner picks it (\"\" for none)")] = ()

    def __post_init__(self) -> None:
        bad = [a for a in self.answers if a >= len(self.choices)]
        if bad:
            raise FieldError("answer", f"answer {bad[0]} is out of range: there are "
                                       f"{len(self.choices)} choices (numbered from 0)")
        if self.explanations and len(self.explanations) != len(self.choices):
            raise FieldError("explanations", f"{len(self.explanations)} explanations for "
                                             f"{len(self.choices)} choices: give one per "
                                             "choice, \"\" where there is nothing to say")

    @property
    def answers(self) -> tuple[int, ...]:
        """The 0-based indices of the correct choices."""
        return (self.answer,) if isinstance(self.answer, int) else self.answer

    def is_correct(self, picked: set[int] | list[int] | tuple[int, ...]) -> bool:
        return set(picked) == set(self.answers)

    def explain_wrong(self, picked: list[int] | tuple[int, ...]) -> str:
        """Why the picked choices that are wrong are wrong, as far as the lesson says."""
        notes = [self.explanations[p].strip() for p in sorted(set(picked))
                 if p not in self.answers and p < len(self.explanations)]
        return "\n\n".join(note for note in notes if note)


AnyStep = CodeStep | QuizStep


# --------------------------------------------------------------------------- files


class CourseFile(Declared, frozen=True, kw_only=True):
    """``course.yaml``: the course's name and the order of its lessons."""

    format: Annotated[Literal[1], Meta(description="the lesson format's version")]
    id: Annotated[Id, Meta(description="progress is keyed by this id: do not change it once "
                                       "published")]
    title: str
    description: str = ""
    lessons: Annotated[tuple[Id, ...], Meta(
        min_length=1, description="lesson file names without .yaml, in order (ids: no "
                                  "folders, so no file outside the course is read)")]


class LessonFile(Declared, frozen=True, kw_only=True):
    """One lesson file: its steps in order."""

    id: Id
    title: str
    summary: str = ""
    steps: Annotated[tuple[dict[str, Any], ...], Meta(
        min_length=1, description="code steps and quiz steps, in order")] = ()


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    steps: tuple[AnyStep, ...]
    path: Path


@dataclass(frozen=True)
class Problem:
    """Something wrong in a course's files, reported as ``file:line:column: message``."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    description: str
    root: Path
    lessons: tuple[Lesson, ...]
    problems: tuple[Problem, ...] = ()  # files that could not be loaded; the rest still works

    def steps(self) -> list[AnyStep]:
        return [step for lesson in self.lessons for step in lesson.steps]

    def step(self, step_id: str) -> AnyStep:
        for step in self.steps():
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def lesson_of(self, step_id: str) -> Lesson:
        for lesson in self.lessons:
            if any(step.id == step_id for step in lesson.steps):
                return lesson
        raise KeyError(step_id)
