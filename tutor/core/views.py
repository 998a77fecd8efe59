"""What the session's use cases return: plain values for the shells to present."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.core import model as m
from tutor.core.status import LOCKED, PASSED, StepStatus
from tutor.core.verdict import Verdict


@dataclass(frozen=True)
class Position:
    """Where a step sits in the course, for a header."""

    lesson_title: str
    lesson_number: int
    lesson_count: int
    step_number: int  # within the lesson
    steps_in_lesson: int
    done: int  # steps passed or skipped, course-wide
    total: int


@dataclass(frozen=True)
class StepView:
    """A step opened for the learner: everything a screen shows about it."""

    step: m.AnyStep
    status: StepStatus
    position: Position
    device: str  # where the code will run, as far as the tutor can tell without torch
    code: str | None = None  # None for a quiz
    path: Path | None = None
    hints: tuple[str, ...] = ()  # revealed so far
    hint_total: int = 0
    statuses: tuple[StepStatus, ...] = ()  # the whole course, for the map and the palette

    @property
    def is_quiz(self) -> bool:
        return isinstance(self.step, m.QuizStep)

    @property
    def passed(self) -> bool:
        return self.status.status == PASSED


@dataclass(frozen=True)
class Attempt:
    """What one attempt at a step did: the verdict and what changed because of it."""

    step_id: str
    verdict: Verdict
    statuses: tuple[StepStatus, ...]  # the whole course, after the attempt
    position: Position  # where the step sits, with the counts after the attempt
    unlocked: tuple[StepStatus, ...] = ()  # steps it opened
    next_step: str | None = None  # the step that follows, if any
    solution: str | None = None  # the reference, once a code step passed
    why: str = ""  # a quiz's explanation, once answered right
    explanation: str = ""  # why the picked quiz choice is wrong, when the lesson says
    recorded: bool = True  # False when cancelled or skipped: progress is unchanged
    not_saved: str = ""  # why the record could not be written (a full disk): kept in memory

    @property
    def saved(self) -> bool:
        """Whether what this attempt changed in the progress is on disk."""
        return not self.not_saved

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def status(self) -> StepStatus:
        return next(s for s in self.statuses if s.id == self.step_id)


@dataclass(frozen=True)
class LessonSummary:
    id: str
    title: str
    done: int
    total: int
    summary: str = ""  # what the lesson teaches, from its file


@dataclass(frozen=True)
class CourseSummary:
    """How far the learner is, per lesson and in all."""

    course: str
    title: str
    done: int
    total: int
    current: str | None
    lessons: tuple[LessonSummary, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"course": self.course, "title": self.title, "done": self.done,
                "total": self.total, "current": self.current,
                "lessons": [{"id": lesson.id, "title": lesson.title, "done": lesson.done,
                             "total": lesson.total} for lesson in self.lessons]}


def newly_unlocked(before: list[StepStatus] | tuple[StepStatus, ...],
                   after: list[StepStatus] | tuple[StepStatus, ...]) -> tuple[StepStatus, ...]:
    """Steps that were locked before an attempt and are open after it."""
    was_locked = {s.id for s in before if s.status == LOCKED}
    return tuple(s for s in after if s.id in was_locked and s.status != LOCKED)
