"""Events that workers post to the step screen, which owns every change to what it shows.

Work flows as a pipeline: ``SessionOpened -> StepLoaded -> (CodeSaved | WarmingUp ->
CheckFinished ...)``. Each carries what the session returned, as it returned it: the screen
replaces its state from these values and never patches it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the session module loads the course tools: workers import it
    from tutor.core.session import Session
    from tutor.core.status import Hint, StepStatus
    from tutor.core.verdict import Verdict
    from tutor.core.views import Attempt, CourseSummary, Position, StepView


@dataclass
class SessionOpened(Message):
    session: Session
    warnings: list[str]  # broken lesson files, a progress file moved aside


@dataclass
class StepLoaded(Message):
    view: StepView
    keep_undo: bool = False  # a reset replaces the text as an edit, so ctrl+z brings it back


@dataclass
class CodeSaved(Message):
    step_id: str
    version: int
    code: str


@dataclass
class CodeReloaded(Message):
    """The file changed outside the app (the external editor); the editor takes it in."""

    step_id: str
    code: str
    check: bool  # check it at once (the editor exited normally)


@dataclass
class WarmingUp(Message):
    """The first check waits for the worker parent to import PyTorch (seconds, once)."""


@dataclass
class CheckFinished(Message):
    attempt: Attempt
    warnings: list[str]
    summary: CourseSummary | None = None  # after a pass: for the end of a lesson


@dataclass
class RunFinished(Message):
    """The code ran without being judged (F6): nothing was recorded."""

    step_id: str
    verdict: Verdict


@dataclass
class QuizAnswered(Message):
    attempt: Attempt
    warnings: list[str]
    picks: list[int]  # 0-based, as the learner chose them
    summary: CourseSummary | None = None  # after a pass: for the end of a lesson


@dataclass
class HintRevealed(Message):
    step_id: str
    hint: Hint


@dataclass
class SolutionReady(Message):
    step_id: str
    code: str
    language: str  # "python", or "text" for a quiz's answer


@dataclass
class CourseMapReady(Message):
    statuses: list[StepStatus]
    summary: CourseSummary
    position: Position | None  # of the step on screen, if any
    warnings: list[str]


@dataclass
class ExternalEditReady(Message):
    step_id: str
    path: Path
