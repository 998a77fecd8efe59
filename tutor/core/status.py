"""The words the session uses for a step's state: light enough for the UI to import first."""

from __future__ import annotations

from dataclasses import dataclass

LOCKED, AVAILABLE, PASSED, SKIPPED = "locked", "available", "passed", "skipped"


@dataclass(frozen=True)
class StepStatus:
    id: str
    lesson: str
    title: str
    kind: str  # "code" or "quiz"
    status: str  # LOCKED, AVAILABLE, PASSED or SKIPPED
    reason: str = ""  # why it is skipped

    @property
    def done(self) -> bool:
        return self.status in (PASSED, SKIPPED)

    def to_json(self) -> dict[str, str]:
        data = {"id": self.id, "lesson": self.lesson, "title": self.title, "kind": self.kind,
                "status": self.status}
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass(frozen=True)
class Hint:
    number: int  # 1-based
    total: int
    text: str
