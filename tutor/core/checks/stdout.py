"""``stdout_contains`` and ``stdout_matches``: what the learner's code printed.

A course's pattern is untrusted: Python's ``re`` can backtrack for ever (``^(a+)+$`` against
26 a's takes ~14 s) and holds the GIL while it does, so a thread cannot bound it. The match
runs in a small process of its own with a CPU-time limit (``bounded_search``); past it, the
check reports a lesson error instead of a verdict.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, LessonError, Outcome
from tutor.core.declare import FieldError
from tutor.core.feedback import Finding, clip

TAIL_LINES = 5
MATCH_CPU_S = 2  # CPU seconds a pattern may take on the output
_MATCHER = """
import json, re, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_CPU, ({cpu}, {cpu} + 1))
except (ImportError, ValueError, OSError):
    pass
job = json.loads(sys.stdin.buffer.read())
found = re.compile(job["pattern"], re.MULTILINE).search(job["text"])
sys.stdout.write("1" if found else "0")
"""


def bounded_search(pattern: str, text: str, cpu_s: int = MATCH_CPU_S) -> bool | None:
    """Whether ``pattern`` (multi-line) matches in ``text``; None when it used ``cpu_s``
    of CPU without an answer (or the wall clock, a backstop on a busy machine, ran out)."""
    job = json.dumps({"pattern": pattern, "text": text}).encode()
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _MATCHER.format(cpu=cpu_s)],
                              input=job, capture_output=True, timeout=cpu_s * 10 + 10)
    except subprocess.TimeoutExpired:
        return None
    return {b"1": True, b"0": False}.get(done.stdout)


class _Printed(Check, frozen=True, kw_only=True):
    """What both output checks share: an empty output never passes, and a failure shows the
    last lines printed."""

    def found(self, printed: str) -> bool:
        raise NotImplementedError

    def wanted(self) -> str:
        raise NotImplementedError

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        printed = outcome.stdout
        if not printed.strip():  # an empty output never passes, even an empty expectation
            return Finding(f"Your code printed nothing; expected {self.wanted()}. Show it with "
                           "print(...).", "printed")
        if self.found(printed):
            return None
        head = (f"Not yet: {self.name}." if self.name
                else f"Your output does not contain {self.wanted()}.")
        return Finding(f"{head} The last lines you printed:\n{tail(printed)}", "printed")


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
        found = bounded_search(self.pattern, printed)
        if found is None:
            raise LessonError(
                f"the pattern /{self.pattern}/ of `stdout_matches` took more than "
                f"{MATCH_CPU_S} s of CPU on the output and was stopped: nested repeats such "
                "as (a+)+ can backtrack for ever; simplify it")
        return found

    def wanted(self) -> str:
        return self.name or f"a line matching /{self.pattern}/"


def tail(printed: str) -> str:
    """The last lines the learner's code printed, indented and clipped."""
    lines = printed.rstrip("\n").splitlines()[-TAIL_LINES:]
    return "\n".join(f"  {clip(line, 100)}" for line in lines)
