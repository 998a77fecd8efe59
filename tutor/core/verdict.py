"""The outcome of checking a step: one result per check, and the run around them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CheckResult:
    """One check's verdict with a message a beginner can act on: the tutor's diagnosis, then
    the author's advice for that failure."""

    name: str
    passed: bool
    message: str = ""
    mode: str = ""  # how it failed: shape, values, raises... (tutor.core.feedback.Mode)
    diagnosis: str = ""  # the tutor's own words in ``message``, without the author's advice

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    """Everything ``pytorch-tutor check`` reports about one attempt."""

    step: str
    passed: bool
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None  # why the code could not be checked at all (traceback, timeout...)
    stdout: str = ""
    stderr: str = ""  # what the code wrote to stderr: warnings, mostly (torch's included)
    duration_s: float = 0.0
    device: str = ""
    skipped: str | None = None  # a reason when the step cannot run here (e.g. no CUDA)
    line: int | None = None  # the learner's line an error points at, for "jump to line"
    # A verified repair (tutor.core.repairs), also said in the message of the check it fixes
    # (or after the error), so every shell shows it: "Line 5: with `shuffle=True` ..."
    repair: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
            "error": self.error,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "duration_s": round(self.duration_s, 3),
            "device": self.device,
            "skipped": self.skipped,
            "line": self.line,
            "repair": self.repair,
        }
