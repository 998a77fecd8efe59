"""The learner's session: one owner of the course, their progress, their files and the
checker. Its methods are the use cases (open a step, attempt it, answer a quiz, hints, reset,
the course summary, the doctor report) and return plain values (``tutor.core.views``); the
CLI, ``watch`` and the TUI only present them. Progress is held in memory by the store and
written through once per change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from tutor.core import devices
from tutor.core import model as m
from tutor.core.checker import Cancel, Checker
from tutor.core.doctor import DoctorReport, Machine, diagnose
from tutor.core.progress import ProgressStore
from tutor.core.runs import OutputCallback
from tutor.core.status import AVAILABLE, LOCKED, PASSED, SKIPPED, Hint, StepStatus
from tutor.core.step_figures import Drawn, FigureCache, draw
from tutor.core.verdict import CheckResult, Verdict
from tutor.core.views import (
    Attempt,
    CourseSummary,
    LessonSummary,
    Position,
    StepView,
    newly_unlocked,
)
from tutor.core.workspace import Workspace


class SessionError(Exception):
    """Something the learner asked for that cannot be done; the message says what to do."""


class NotSaved(SessionError, OSError):
    """A file of the learner's could not be written (a full disk, a read-only home); the
    message names it. An ``OSError`` too, for callers that retry writes."""


def _not_saved(path: Path, what: str, error: OSError) -> NotSaved:
    return NotSaved(f"could not {what} {path}: {error.strerror or error}")


def bundled_course_dir() -> Path:
    """The course that ships with the tutor: ``lessons/`` in a checkout, packaged data otherwise."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "lessons", here / "_lessons"):
        if (candidate / "course.yaml").is_file():
            return candidate
    return here.parent / "lessons"


class Session:
    """Everything a learner can do, keyed by step id."""

    def __init__(
        self,
        course: m.Course,
        store: ProgressStore,
        workspace: Workspace,
        checker: Checker,
        unlock_all: bool = False,
        machine: Machine | None = None,
    ):
        self.course = course
        self.store = store
        self.workspace = workspace
        self.checker = checker
        self.unlock_all = unlock_all
        self.machine = machine  # what ``doctor`` asks about torch and the sandbox
        self.figure_cache = FigureCache.for_course(course.id)

    def close(self) -> None:
        """Stop background workers (the warm parent), if any."""
        self.checker.runner.close()

    # ------------------------------------------------------------------ status
    @property
    def warnings(self) -> list[str]:
        """Problems to show the learner: broken lesson files, a progress file moved aside."""
        return [str(p) for p in self.course.problems] + list(self.store.warnings)

    def statuses(self) -> list[StepStatus]:
        progress = self.store.load()
        out: list[StepStatus] = []
        previous_done = True
        for step in self.course.steps():
            record = progress.step(self.course.id, step.id)
            reason = self._skip_reason(step)
            if record.passed:
                status = PASSED
            elif reason and (previous_done or self.unlock_all):
                status = SKIPPED
            elif previous_done or self.unlock_all:
                status = AVAILABLE
            else:
                status = LOCKED
            out.append(StepStatus(step.id, step.lesson_id, step.title, step.kind, status, reason))
            previous_done = status in (PASSED, SKIPPED)
        return out

    def status_of(self, step_id: str) -> StepStatus:
        for status in self.statuses():
            if status.id == step_id:
                return status
        raise self._unknown(step_id)

    def _skip_reason(self, step: m.Step) -> str:
        if isinstance(step, m.CodeStep) and step.requires == "cuda":
            return devices.no_cuda_reason(self.checker.device)
        return ""

    def current_step_id(self) -> str:
        """The step to open: the one last visited, else the first one not yet done."""
        statuses = self.statuses()
        if not statuses:
            raise SessionError("this course has no steps that loaded; see the problems above")
        remembered = self.store.load().current(self.course.id)
        for status in statuses:
            if status.id == remembered and status.status != LOCKED:
                return status.id
        for status in statuses:
            if status.status == AVAILABLE:
                return status.id
        return statuses[-1].id

    def step(self, step_id: str | None = None) -> m.AnyStep:
        step_id = step_id or self.current_step_id()
        try:
            return self.course.step(step_id)
        except KeyError:
            raise self._unknown(step_id) from None

    def visit(self, step_id: str) -> m.AnyStep:
        """Make ``step_id`` the current step (it must be unlocked) and prepare its file."""
        status = self.status_of(step_id)
        if status.status == LOCKED:
            raise SessionError(f"step {step_id} is locked: pass the steps before it first "
                               "(or start the tutor with --unlock-all)")
        self.store.set_current(self.course.id, step_id)
        step = self.step(step_id)
        if isinstance(step, m.CodeStep):
            self.file_of(step_id)
            if self.checker.prefetch and status.status != SKIPPED:
                self.checker.prepare(step)  # the first check then waits for the learner only
        return step

    def open_step(self, step_id: str | None = None) -> StepView:
        """Visit a step (the current one by default) and gather what a screen shows of it."""
        step = self.visit(step_id or self.current_step_id())
        statuses = self.statuses()
        code = path = None
        if isinstance(step, m.CodeStep):
            path = self.file_of(step.id)
            code = self.read_code(step.id)
        return StepView(
            step=step,
            status=next(s for s in statuses if s.id == step.id),
            position=self.position_of(step.id, statuses),
            device=devices.label(self.checker.device),
            code=code,
            path=path,
            hints=tuple(self.hints_shown(step.id)),
            hint_total=len(step.hints),
            statuses=tuple(statuses),
        )

    def figures(self, step_id: str | None = None) -> list[Drawn]:
        """The pictures of a step's ``figure:`` list, run in the sandbox unless cached:
        slow the first time, so shells call it off their UI thread."""
        step = self.step(step_id)
        return [draw(self.checker, step, figure, self.figure_cache) for figure in step.figure]

    def position_of(self, step_id: str,
                    statuses: Sequence[StepStatus] | None = None) -> Position:
        """Where ``step_id`` sits in the course, and how far the learner is."""
        statuses = self.statuses() if statuses is None else statuses
        lessons = self.course.lessons
        lesson = self.course.lesson_of(step_id)
        ids = [s.id for s in lesson.steps]
        return Position(
            lesson_title=lesson.title,
            lesson_number=[x.id for x in lessons].index(lesson.id) + 1,
            lesson_count=len(lessons),
            step_number=ids.index(step_id) + 1,
            steps_in_lesson=len(ids),
            done=sum(s.done for s in statuses),
            total=len(statuses),
        )

    # ------------------------------------------------------------------ code files
    def file_of(self, step_id: str) -> Path:
        """The learner's file for a code step, written from the starter on first visit."""
        step = self._code_step(step_id)
        try:
            return self.workspace.ensure(step.lesson_id, step.id, step.starter)
        except OSError as exc:
            raise _not_saved(self.workspace.path_for(step.lesson_id, step.id),
                             "write your starter file", exc) from None

    def read_code(self, step_id: str) -> str:
        self.file_of(step_id)
        step = self._code_step(step_id)
        return self.workspace.read(step.lesson_id, step.id)

    def write_code(self, step_id: str, code: str) -> Path:
        step = self._code_step(step_id)
        try:
            return self.workspace.write(step.lesson_id, step.id, code)
        except OSError as exc:
            raise _not_saved(self.workspace.path_for(step.lesson_id, step.id),
                             "save your code to", exc) from None

    def reset(self, step_id: str) -> Path | None:
        """Restore the starter (the old code is kept as a .bak file) and forget progress."""
        step = self.step(step_id)
        self.store.reset_step(self.course.id, step_id)
        if isinstance(step, m.CodeStep):
            try:
                return self.workspace.reset(step.lesson_id, step.id, step.starter)
            except OSError as exc:
                raise _not_saved(self.workspace.path_for(step.lesson_id, step.id),
                                 "put the starter back in", exc) from None
        return None

    def reset_all(self) -> None:
        self.store.reset_course(self.course.id)
        for step in self.course.steps():
            path = self.workspace.path_for(step.lesson_id, step.id)
            if isinstance(step, m.CodeStep) and path.exists():
                try:
                    self.workspace.reset(step.lesson_id, step.id, step.starter)
                except OSError as exc:
                    raise _not_saved(path, "put the starter back in", exc) from None

    # ------------------------------------------------------------------ attempts
    def check(
        self,
        step_id: str | None = None,
        file: Path | None = None,
        on_output: OutputCallback | None = None,
        cancel: Cancel | None = None,
    ) -> Attempt:
        """Check the learner's file (or ``file``); a pass is recorded and unlocks the next step."""
        step = self._code_step(step_id or self.current_step_id())
        self._require_unlocked(step.id)
        path = Path(file) if file else self.file_of(step.id)
        code = _read_source(path)
        before = self.statuses()
        verdict = self.checker.check(step, code, str(path), on_output, cancel)
        if verdict.skipped or (cancel is not None and cancel.cancelled):
            return Attempt(step.id, verdict, tuple(before), self.position_of(step.id, before),
                           next_step=self.next_step_id(step.id), recorded=False)
        return self._record(step, verdict, before, solution=step.solution)

    def run(
        self,
        step_id: str | None = None,
        file: Path | None = None,
        on_output: OutputCallback | None = None,
        cancel: Cancel | None = None,
    ) -> Verdict:
        """Run the learner's code without judging it (to see its output)."""
        step = self._code_step(step_id or self.current_step_id())
        path = Path(file) if file else self.file_of(step.id)
        return self.checker.run(step, _read_source(path), str(path), on_output, cancel)

    def answer(self, step_id: str, picked: list[int]) -> Attempt:
        """Answer a quiz step with 0-based choice indices."""
        step = self.step(step_id)
        if not isinstance(step, m.QuizStep):
            raise SessionError(f"step {step_id} is not a quiz")
        self._require_unlocked(step_id)
        bad = [p for p in picked if not 0 <= p < len(step.choices)]
        if bad or not picked:
            raise SessionError(f"choose between 1 and {len(step.choices)}")
        passed = step.is_correct(picked)
        explanation = "" if passed else step.explain_wrong(picked)
        message = "" if passed else f"Not quite. {explanation}" if explanation else (
            "Not quite. Read the question again" + (", or take a hint." if step.hints else "."))
        verdict = Verdict(step=step_id, passed=passed,
                          checks=[CheckResult(name="your answer", passed=passed, message=message)])
        attempt = self._record(step, verdict, self.statuses(), why=step.why)
        return replace(attempt, explanation=explanation)

    def _record(self, step: m.AnyStep, verdict: Verdict, before: list[StepStatus],
                solution: str | None = None, why: str = "") -> Attempt:
        """Count the attempt (one write); after a pass the next step becomes the current one."""
        following = self.next_step_id(step.id)
        self.store.record_attempt(self.course.id, step.id, verdict.passed,
                                  then_current=following if verdict.passed else None)
        after = self.statuses()
        return Attempt(step.id, verdict, tuple(after), self.position_of(step.id, after),
                       newly_unlocked(before, after), next_step=following,
                       solution=solution if verdict.passed else None,
                       why=why if verdict.passed else "", not_saved=self.store.unsaved)

    def next_step_id(self, step_id: str) -> str | None:
        ids = [s.id for s in self.course.steps()]
        index = ids.index(step_id)
        return ids[index + 1] if index + 1 < len(ids) else None

    # ------------------------------------------------------------------ help
    def hints_shown(self, step_id: str) -> list[str]:
        step = self.step(step_id)
        count = self.store.load().step(self.course.id, step_id).hints
        return list(step.hints[:count])

    def next_hint(self, step_id: str | None = None) -> Hint:
        """Reveal one more hint (the last one again once all are shown)."""
        step = self.step(step_id)
        hints = step.hints
        if not hints:
            raise SessionError(f"step {step.id} has no hints; try `solution --force`")
        count = self.store.record_hint(self.course.id, step.id, limit=len(hints))
        number = max(1, min(count, len(hints)))
        return Hint(number, len(hints), hints[number - 1])

    def solution(self, step_id: str, force: bool = False) -> str:
        """The reference solution: after passing, or with ``force`` (which is recorded)."""
        step = self.step(step_id)
        passed = self.store.load().is_passed(self.course.id, step.id)
        if not passed and not force:
            raise SessionError(f"pass step {step.id} first, or ask with --force (this is "
                               "recorded in your progress)")
        if not passed:
            self.store.record_solution_viewed(self.course.id, step.id)
        if isinstance(step, m.QuizStep):
            return "\n".join(step.choices[i] for i in step.answers)
        assert isinstance(step, m.CodeStep)
        return step.solution

    def summary(self) -> CourseSummary:
        """How far the learner is: per lesson and in all."""
        statuses = self.statuses()
        lessons = []
        for lesson in self.course.lessons:
            mine = [s for s in statuses if s.lesson == lesson.id]
            lessons.append(LessonSummary(lesson.id, lesson.title, sum(s.done for s in mine),
                                         len(mine), lesson.summary))
        return CourseSummary(self.course.id, self.course.title, sum(s.done for s in statuses),
                             len(statuses), self.current_step_id() if statuses else None,
                             tuple(lessons))

    def doctor(self) -> DoctorReport:
        """Python, torch, CUDA, the course, the learner's files, data and the sandbox."""
        if self.machine is None:
            raise SessionError("this session cannot examine the machine")
        return diagnose(self, self.machine)

    # ------------------------------------------------------------------ helpers
    def _code_step(self, step_id: str) -> m.CodeStep:
        step = self.step(step_id)
        if not isinstance(step, m.CodeStep):
            raise SessionError(f"step {step_id} is a quiz: answer it with "
                               f"`pytorch-tutor answer {step_id} N`")
        return step

    def _require_unlocked(self, step_id: str) -> None:
        if self.status_of(step_id).status == LOCKED:
            raise SessionError(f"step {step_id} is locked: pass the steps before it first "
                               "(or use --unlock-all)")

    def _unknown(self, step_id: str) -> SessionError:
        return SessionError(f"no step {step_id!r} in course {self.course.id}; "
                            "`pytorch-tutor list` shows the step ids")


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"cannot read {path}: {exc}") from None
