"""What the step view shows, read from the session in one go (in a worker, off the UI thread)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.core import devices
from tutor.core import model as m

if TYPE_CHECKING:  # imported by the workers that call these functions, off the first frame
    from tutor.core.session import Session
    from tutor.core.status import StepStatus

from tutor.core.status import LOCKED, PASSED, SKIPPED  # noqa: F401  (re-exported for widgets)


@dataclass(frozen=True)
class Position:
    """Where a step sits in the course, for the header."""

    lesson_title: str
    lesson_number: int
    lesson_count: int
    step_number: int  # within the lesson
    steps_in_lesson: int
    done: int  # steps passed or skipped, course-wide
    total: int


@dataclass(frozen=True)
class StepView:
    step: m.Step
    status: StepStatus
    position: Position
    device: str  # where the code will run, as far as the tutor can tell without torch
    code: str | None = None  # None for a quiz
    path: Path | None = None
    hints: tuple[str, ...] = ()
    hint_total: int = 0
    statuses: tuple[StepStatus, ...] = ()  # the whole course, for the map and the palette

    @property
    def is_quiz(self) -> bool:
        return isinstance(self.step, m.QuizStep)

    @property
    def passed(self) -> bool:
        return self.status.status == PASSED


def read_step_view(session: Session, step_id: str, visit: bool = True) -> StepView:
    """Visit ``step_id`` (making it the step to resume at) and gather what the view needs."""
    step = session.visit(step_id) if visit else session.step(step_id)
    statuses = session.statuses()
    code = path = None
    if isinstance(step, m.CodeStep):
        path = session.file_of(step.id)
        code = session.read_code(step.id)
    return StepView(
        step=step,
        status=next(s for s in statuses if s.id == step.id),
        position=position_of(session, statuses, step.id),
        device=device_label(session.checker.device),
        code=code,
        path=path,
        hints=tuple(session.hints_shown(step.id)),
        hint_total=len(getattr(step, "hints", ())),
        statuses=tuple(statuses),
    )


def position_of(session: Session, statuses: list[StepStatus], step_id: str) -> Position:
    lessons = session.course.lessons
    lesson = session.course.lesson_of(step_id)
    ids = [s.id for s in lesson.steps]
    return Position(
        lesson_title=lesson.title,
        lesson_number=[x.id for x in lessons].index(lesson.id) + 1,
        lesson_count=len(lessons),
        step_number=ids.index(step_id) + 1,
        steps_in_lesson=len(ids),
        done=sum(s.status in (PASSED, SKIPPED) for s in statuses),
        total=len(statuses),
    )


def device_label(device: str) -> str:
    """``auto`` resolves to a device only in the learner's process; say what it will try."""
    resolved = devices.resolve(device)
    return "cuda or cpu" if resolved == "auto" else resolved


def newly_unlocked(before: list[StepStatus], after: list[StepStatus]) -> list[StepStatus]:
    """Steps that were locked before an attempt and are open after it."""
    was_locked = {s.id for s in before if s.status == LOCKED}
    return [s for s in after if s.id in was_locked and s.status != LOCKED]
