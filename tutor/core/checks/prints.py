"""``prints``: the output has lines with labelled numbers, whatever the learner's format.

Real learners print the same figures in many ways (`epoch 1 total_correct: 5586 loss: 123.4`,
`epoch = 1 , total_correct = 5586`, `loss: tensor(0.52)`): a line counts when each label is
followed by a number, in any order, with any separator. With `like_reference` the numbers
must also be those the reference solution printed.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, LessonError, Outcome
from tutor.core.checks.stdout import tail
from tutor.core.declare import FieldError
from tutor.core.feedback import Finding, format_number, join_words
from tutor.core.fields import Atol, Rtol

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


class Prints(Check, frozen=True, kw_only=True):
    """At least `lines` lines of the output each show every label followed by a number (in
    any order, with `:`, `=`, `,` or spaces between, a tensor's `tensor(...)` too); with
    `like_reference`, their numbers are those of the reference's lines, in order."""

    key: ClassVar[str] = "prints"
    summary: ClassVar[str] = "the output has lines with these labelled numbers, in any format"
    example: ClassVar[str] = "prints: [epoch, total_correct, loss]\nlines: 2"

    labels: Annotated[tuple[str, ...], Meta(
        min_length=1, description="the words each line must have, each followed by a "
                                  "number")] = msgspec.field(name="prints")
    lines: Annotated[int, Meta(ge=1, description="how many such lines at least")] = 1
    like_reference: Annotated[bool, Meta(
        description="the numbers must be those the reference printed")] = False
    rtol: Rtol = 1e-4
    atol: Atol = 1e-6

    def __post_init__(self) -> None:
        for label in self.labels:
            if not label.strip() or "\n" in label:
                raise FieldError("prints", "each label is a word or two on one line")

    def default_title(self) -> str:
        return f"the output shows {join_words([f'`{label}`' for label in self.labels])}"

    def needs_reference(self) -> bool:
        return self.like_reference

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        mine = labelled_lines(outcome.stdout, self.labels)
        theirs = labelled_lines(outcome.reference_stdout, self.labels) if (
            self.like_reference) else []
        if self.like_reference and len(theirs) < self.lines:
            raise LessonError(f"the reference solution printed {len(theirs)} line(s) with "
                              f"{self._labels()}, and this check compares with at least "
                              f"{self.lines}: does the solution print them?")
        wanted = max(self.lines, len(theirs))
        if len(mine) < wanted:
            return Finding(self._too_few(mine, theirs, wanted, outcome.stdout), "printed")
        for number, (got, expected) in enumerate(zip(mine, theirs, strict=False), 1):
            problem = self._numbers_differ(got, expected)
            if problem:
                why = _running_total(mine, theirs, number, self.labels) or self._too_many(
                    mine, theirs)
                return Finding(f"Line {number} of yours with {self._labels()} shows {problem}."
                               + (f" {why}" if why else ""), "printed")
        return None

    def _too_many(self, mine: list[dict[str, float]], theirs: list[dict[str, float]]) -> str:
        """Many more lines than the reference's: printed in an inner loop."""
        if theirs and len(mine) >= 2 * len(theirs):
            return (f"Your output has {len(mine)} such lines where the reference's has "
                    f"{len(theirs)}: is the print inside an inner loop (once per batch) "
                    "rather than after it (once per epoch)?")
        return ""

    def _labels(self) -> str:
        return join_words([f"`{label}`" for label in self.labels])

    def _too_few(self, mine: list[dict[str, float]], theirs: list[dict[str, float]],
                 wanted: int, printed: str) -> str:
        example = _example(theirs[0] if theirs else {}, self.labels)
        found = (f"{len(mine)} line{'s' if len(mine) != 1 else ''} of your output show"
                 f"{'s' if len(mine) == 1 else ''} them" if mine
                 else "no line of your output shows them")
        text = (f"Expected {wanted} line{'s' if wanted != 1 else ''} with {self._labels()}, "
                f"each followed by a number ({found}): a line like `{example}` (order and "
                "separators are free).")
        return f"{text} The last lines you printed:\n{tail(printed)}" if printed.strip() else (
            f"{text} Your code printed nothing.")

    def _numbers_differ(self, got: dict[str, float], expected: dict[str, float]) -> str:
        for label in self.labels:
            a, b = got[label], expected[label]
            if not math.isclose(a, b, rel_tol=self.rtol, abs_tol=self.atol):
                return f"{label} {_shown(a)} where the reference shows {_shown(b)}"
        return ""


def labelled_lines(printed: str, labels: tuple[str, ...]) -> list[dict[str, float]]:
    """The numbers of each line that shows every label followed by a number."""
    patterns = {label: _pattern(label) for label in labels}
    found = []
    for line in printed.splitlines():
        numbers: dict[str, float] = {}
        for label, pattern in patterns.items():
            match = pattern.search(line)
            if match is None:
                break
            numbers[label] = float(match["number"])
        else:
            found.append(numbers)
    return found


def _pattern(label: str) -> re.Pattern[str]:
    words = r"[\s_]+".join(re.escape(word) for word in re.split(r"[\s_]+", label.strip()))
    return re.compile(rf"(?<![\w]){words}(?![\w])\s*[:=,]?\s*(?:tensor\()?\s*(?P<number>{NUMBER})",
                      re.IGNORECASE)


def _example(numbers: dict[str, Any], labels: tuple[str, ...]) -> str:
    return " ".join(f"{label}: {_shown(numbers[label]) if label in numbers else 'N'}"
                    for label in labels)


def _shown(number: float) -> str:
    """A number as it was likely printed: a count without ".0"."""
    return str(int(number)) if number.is_integer() else format_number(number)


def _running_total(mine: list[dict[str, float]], theirs: list[dict[str, float]], number: int,
                   labels: tuple[str, ...]) -> str:
    """Line ``number`` of yours is the sum of the reference's lines up to it: a total that
    is not reset (to 0 at the start of each epoch)."""
    if number < 2:
        return ""
    for label in labels:
        total = sum(line[label] for line in theirs[:number])
        if math.isclose(mine[number - 1][label], total, rel_tol=1e-6, abs_tol=1e-9) and not (
                math.isclose(theirs[number - 1][label], total, rel_tol=1e-6)):
            return (f"Its {label} is the sum of the reference's lines 1 to {number}: is the "
                    "total reset (to 0) at the start of each epoch?")
    return ""
