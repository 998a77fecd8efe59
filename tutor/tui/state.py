"""The one copy of what the step view shows about the learner's progress.

It is never edited in place: each value the session returns (a ``StepView`` opened, an
``Attempt``, the course map's statuses) replaces it whole, so the header, the footer's keys
and the command palette cannot disagree about a step's status.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tutor.core.status import LOCKED, PASSED

if TYPE_CHECKING:  # the views module loads the lesson model: only its types are needed here
    from collections.abc import Iterable

    from tutor.core.status import StepStatus
    from tutor.core.verdict import Verdict
    from tutor.core.views import Attempt, Position, StepView


@dataclass(frozen=True)
class TutorState:
    """The step on screen and the course around it, as the session last reported them."""

    view: StepView | None = None  # the step as opened: its text, code and hints
    statuses: tuple[StepStatus, ...] = ()  # the whole course; supersedes the view's copy
    position: Position | None = None  # supersedes the view's copy
    verdict: Verdict | None = None  # the last run's, for "jump to the error line"

    @classmethod
    def opened(cls, view: StepView) -> TutorState:
        return cls(view, view.statuses, view.position)

    def attempted(self, attempt: Attempt) -> TutorState:
        return replace(self, statuses=attempt.statuses, position=attempt.position,
                       verdict=attempt.verdict)

    def ran(self, verdict: Verdict) -> TutorState:
        return replace(self, verdict=verdict)

    def surveyed(self, statuses: Iterable[StepStatus], position: Position | None) -> TutorState:
        """The course map read the statuses afresh."""
        return replace(self, statuses=tuple(statuses), position=position or self.position)

    @property
    def step_id(self) -> str | None:
        return self.view.step.id if self.view else None

    @property
    def is_quiz(self) -> bool:
        return self.view is not None and self.view.is_quiz

    @property
    def status(self) -> StepStatus | None:
        return self.status_of(self.step_id)

    @property
    def passed(self) -> bool:
        status = self.status
        return status is not None and status.status == PASSED

    @property
    def device(self) -> str:
        """Where the code ran last, else where it will run as far as the tutor can tell."""
        if self.verdict is not None and self.verdict.device:
            return self.verdict.device
        return self.view.device if self.view else ""

    def status_of(self, step_id: str | None) -> StepStatus | None:
        return next((s for s in self.statuses if s.id == step_id), None)

    def next_status(self) -> StepStatus | None:
        """The step after this one, in course order (the order of ``statuses``)."""
        ids = [s.id for s in self.statuses]
        if self.step_id not in ids:
            return None
        index = ids.index(self.step_id) + 1
        return self.statuses[index] if index < len(ids) else None

    def open_steps(self) -> list[StepStatus]:
        return [s for s in self.statuses if s.status != LOCKED]
