"""``stdout_contains`` and ``stdout_matches``: what the learner's code printed."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, Outcome
from tutor.core.declare import FieldError
from tutor.core.feedback import clip

TAIL_LINES = 5


class _Printed(Check, frozen=True, kw_only=True):
    """What both output checks share: an empty output never passes, and a failure shows the
    last lines printed."""

    def found(self, printed: str) -> bool:
        raise NotImplementedError

    def wanted(self) -> str:
        raise NotImplementedError

    def judge(self, index: int, outcome: Outcome) -> str | None:
        printed = outcome.stdout
        if not printed.strip():  # an empty output never passes, even an empty expectation
            return f"Your code printed nothing; expected {self.wanted()}. Show it with print(...)."
        if self.found(printed):
            return None
        lines = printed.rstrip("\n").splitlines()[-TAIL_LINES:]
        tail = "\n".join(f"  {clip(line, 100)}" for line in lines)
        head = (f"Not yet: {self.name}." if self.name
                else f"Your output does not contain {self.wanted()}.")
        return f"{head} The last lines you printed:\n{tail}"


class StdoutContains(_Printed, frozen=True, kw_only=True):
    """What the code printed contains the text."""

    key: ClassVar[str] = "stdout_contains"
    summary: ClassVar[str] = "the output contains the text"
    example: ClassVar[str] = 'stdout_contains: "epoch 1"'

    text: Annotated[str, Meta(description="the text to find")] = msgspec.field(
        name="stdout_contains")

    def default_title(self) -> str:
        return f"the output contains {self.text!r}"

    def found(self, printed: str) -> bool:
        return self.text in printed

    def wanted(self) -> str:
        return f"the text {self.text!r}"


class StdoutMatches(_Printed, frozen=True, kw_only=True):
    """What the code printed matches the regular expression (Python syntax; `^` and `$` match
    at each line). Name the check: its name reads better than a pattern."""

    key: ClassVar[str] = "stdout_matches"
    summary: ClassVar[str] = "the output matches the regular expression"
    example: ClassVar[str] = 'stdout_matches: "loss \\\\d+\\\\.\\\\d+"\nname: prints the loss'

    pattern: Annotated[str, Meta(description="a Python regular expression")] = msgspec.field(
        name="stdout_matches")

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern, re.MULTILINE)
        except re.error as exc:
            raise FieldError("stdout_matches",
                             f"/{self.pattern}/ is not a valid regular expression: {exc}") from None

    def default_title(self) -> str:
        return f"the output matches /{self.pattern}/"

    def found(self, printed: str) -> bool:
        return re.compile(self.pattern, re.MULTILINE).search(printed) is not None

    def wanted(self) -> str:
        return self.name or f"a line matching /{self.pattern}/"
