"""Turn what the learner's and the reference's runs brought back into one result per check.

Runs in the tutor's process on decoded values with numpy only, so nothing the learner's
code did to torch in its own process can change a verdict. Each check kind judges itself
(``tutor.core.checks``); this module orders the results, says an untouched placeholder once,
and turns a mistake in the lesson itself (a reference that is missing or fails) into a failed
check whose message starts with "lesson error:", never a crash and never a pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.core.checks import Check, LessonError, Outcome
from tutor.core.feedback import join_words
from tutor.core.values import is_placeholder
from tutor.core.verdict import CheckResult

if TYPE_CHECKING:
    from tutor.core.model import CodeStep


def evaluate(step: CodeStep, outcome: Outcome) -> list[CheckResult]:
    """One result per check of ``step``, in order; failures carry the author's advice."""
    results = []
    told: set[str] = set()  # placeholders already pointed out
    for index, check in enumerate(step.checks):
        result = _judge(check, index, outcome)
        waiting = [name for name in check.reads() if is_placeholder(outcome.value(name))]
        if not result.passed and waiting:
            if set(waiting) <= told:  # said once is enough: the rest waits for the code
                names = join_words([f"`{name}`" for name in waiting])
                verb = "is" if len(waiting) == 1 else "are"
                result = CheckResult(result.name, False,
                                     f"Not checked yet: {names} {verb} still `...`.")
            told.update(waiting)
        results.append(result)
    return results


def _judge(check: Check, index: int, outcome: Outcome) -> CheckResult:
    try:
        problem = check.judge(index, outcome)
    except LessonError as exc:
        problem = f"lesson error: {exc}"
    if problem is None:
        return CheckResult(check.title(), True, check.achieved(index, outcome))
    if check.message:
        problem = f"{problem}\n{check.message}"
    return CheckResult(check.title(), False, problem)
