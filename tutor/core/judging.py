"""Turn what the learner's and the reference's runs brought back into one result per check.

Runs in the tutor's process on decoded values with numpy only, so nothing the learner's
code did to torch in its own process can change a verdict. Each check kind judges itself
(``tutor.core.checks``); this module says one root cause once: an untouched placeholder, a
name that already failed the same way, a name computed from one that is already wrong ("fix
`t` first"). It adds the author's advice for the failure that happened, and turns a mistake
in the lesson itself (a reference that is missing or fails) into a failed check whose message
starts with "lesson error:", never a crash and never a pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tutor.core.checks import Check, LessonError, Outcome
from tutor.core.checks.base import value_id
from tutor.core.feedback import Finding, difference, join_words, source_hints
from tutor.core.values import MISSING, is_placeholder
from tutor.core.verdict import CheckResult

if TYPE_CHECKING:
    from tutor.core.model import CodeStep

HINTED_MODES = ("values", "shape", "length", "type", "measure", "dtype", "device", "output",
                "printed", "raises", "params", "layers")


def evaluate(step: CodeStep, outcome: Outcome, stopped: str = "",
             stop_line: int | None = None) -> list[CheckResult]:
    """One result per check of ``step``, in order; failures carry the author's advice.

    ``stopped`` says why the learner's code stopped early (at ``stop_line``, its module-level
    line): then only the checks on names that had got their last value before that line are
    judged, and the others say they wait for the error to be fixed.
    """
    results = []
    told: set[str] = set()  # placeholders already pointed out
    wrong: dict[str, Finding] = {}  # the first failure of each learner name
    hinted: set[str] = set()  # what the source showed, said once
    errors: set[str] = set()  # the tracebacks already shown
    for index, check in enumerate(step.checks):
        if stopped and not _judgeable_after_error(check, index, outcome, stop_line):
            text = "Not checked (see above)." if hinted & {stopped} else f"Not checked: {stopped}."
            hinted.add(stopped)
            results.append(CheckResult(check.title(), False, text, "raises", text))
            continue
        finding = _finding(check, index, outcome)
        if finding is None:
            results.append(CheckResult(check.title(), True, check.achieved(index, outcome)))
            continue
        reads = check.reads()
        waiting = [name for name in reads if is_placeholder(outcome.value(name))]
        said = _said_already(reads, waiting, told, wrong, finding, outcome)
        told.update(waiting)
        for name in reads:
            wrong.setdefault(name, finding)
        said = said or _same_error_again(finding, errors)
        if said:
            results.append(CheckResult(check.title(), False, said, finding.mode, said))
            continue
        shown = [h for h in [*_holds_another(check, finding, outcome),
                             *_source_hints(check, finding, outcome)] if h not in hinted]
        hinted.update(shown)
        diagnosis = "\n".join([finding.text, *shown])
        message = "\n".join([diagnosis, *check.advice_for(finding)])
        results.append(CheckResult(check.title(), False, message, finding.mode, diagnosis))
    return results


def _holds_another(check: Check, finding: Finding, outcome: Outcome) -> list[str]:
    """"`g2` holds the value expected for `g1`": a wrong value that is right for another
    name the step checks (a copy that was meant to be taken earlier, names swapped)."""
    reads = check.reads()
    if finding.mode not in ("values", "shape", "dtype") or len(reads) != 1 or (
            outcome.reference is None):
        return []
    name = reads[0]
    mine, theirs = outcome.mine(value_id(name)), outcome.reference.get(value_id(name), MISSING)
    if mine is MISSING or theirs is MISSING:
        return []
    rtol, atol = getattr(check, "rtol", 1e-5), getattr(check, "atol", 1e-8)
    for probe_id, other in outcome.reference.items():
        if not probe_id.startswith("value:") or probe_id == value_id(name):
            continue
        if difference(mine, other, rtol=rtol, atol=atol) is None and difference(
                theirs, other, rtol=rtol, atol=atol) is not None:
            return [f"`{name}` holds the value expected for `{probe_id.removeprefix('value:')}`."]
    return []


def _source_hints(check: Check, finding: Finding, outcome: Outcome) -> list[str]:
    """What the learner's code shows that commonly causes a failure like this one."""
    if finding.mode not in HINTED_MODES or finding.text.startswith("lesson error"):
        return []
    function = ""
    if check.key == "call" and not getattr(check, "shown_as", ""):
        function = getattr(check, "function", "")
    return source_hints.hints(outcome.clues.facts, check.reads(), function,
                              missing_end=finding.short, one_number=finding.one_number,
                              got_none=finding.none, mode=finding.mode,
                              per_axis=finding.per_axis)


def _judgeable_after_error(check: Check, index: int, outcome: Outcome,
                           stop_line: int | None) -> bool:
    """Whether the code had made everything ``check`` reads, for good, before it raised."""
    if check.metrics(index):
        return False  # a judge needs the whole run
    probes = check.probes(index)
    if not probes:
        return check.key == "source"  # the source is all there; the output is not
    facts = outcome.clues.facts
    if stop_line is not None and (getattr(check, "grad", None) is not None or getattr(
            check, "grad_shape", None) is not None) and not facts.calls_before(
            "backward", stop_line):
        return False  # gradients come from a backward() that never ran
    return all(outcome.mine(p.id) is not MISSING and (
        stop_line is None or facts.complete_before(p.name, stop_line)) for p in probes)


def _finding(check: Check, index: int, outcome: Outcome) -> Finding | None:
    try:
        return check.judge(index, outcome)
    except LessonError as exc:
        return Finding(f"lesson error: {exc}", "values")


RAISED = "raised an error:\n"


def _same_error_again(finding: Finding, errors: set[str]) -> str:
    """A short line for an error whose traceback a check above already showed, or ""."""
    if finding.mode != "raises" or RAISED not in finding.text:
        return ""
    head, _, traceback = finding.text.partition(RAISED)
    if traceback not in errors:
        errors.add(traceback)
        return ""
    return f"{head}raised the same {finding.error or 'error'} as above: fix that first."


def _said_already(reads: tuple[str, ...], waiting: list[str], told: set[str],
                  wrong: dict[str, Finding], finding: Finding, outcome: Outcome) -> str:
    """A short line instead of a second message for a cause already reported, or ""."""
    if waiting and set(waiting) <= told:  # said once is enough: the rest waits for the code
        names = join_words([f"`{name}`" for name in waiting])
        return f"Not checked yet: {names} {'is' if len(waiting) == 1 else 'are'} still `...`."
    for name in reads:
        earlier = wrong.get(name)
        if earlier is not None and earlier.mode == finding.mode and earlier.mode not in (
                "values", "measure"):
            return f"`{name}` has the problem reported above ({earlier.mode}): fix that first."
    for name in reads:
        upstream = sorted(n for n in outcome.clues.facts.computed_from(name) if n in wrong)
        if upstream:
            names = join_words([f"`{n}`" for n in upstream])
            verb = "is" if len(upstream) == 1 else "are"
            return (f"`{name}` is computed from {names}, which {verb} not right yet (see "
                    "above): fix that first, then check again.")
    return ""
