"""Events that workers post to the app, which owns every change to the screen.

Work flows as a pipeline: ``SessionOpened -> StepLoaded -> (CodeSaved | RunFinished ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from tutor.core.verdict import Verdict
from tutor.tui.step_view import StepView

if TYPE_CHECKING:  # the session module loads the course tools: workers import it
    from tutor.core.session import Session
    from tutor.core.status import Hint, StepStatus


@dataclass
class SessionOpened(Message):
    session: Session


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
class RunFinished(Message):
    step_id: str
    mode: str  # "check" or "run"
    verdict: Verdict
    statuses: list[StepStatus]
    unlocked: list[StepStatus] = field(default_factory=list)
    solution: str | None = None  # the reference, to compare with, once passed


@dataclass
class QuizAnswered(Message):
    step_id: str
    verdict: Verdict
    statuses: list[StepStatus]
    unlocked: list[StepStatus] = field(default_factory=list)


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
    summary: dict
    warnings: list[str]


@dataclass
class ExternalEditReady(Message):
    step_id: str
    path: Path
