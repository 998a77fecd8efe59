"""The learner's session: one owner of the course, their progress, their files and the
checker. The CLI and the TUI are thin layers over this class and hold no logic of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tutor.core import datasets, devices
from tutor.core import model as m
from tutor.core.checker import Cancel, Checker
from tutor.core.loader import load_course
from tutor.core.progress import ProgressStore, default_data_dir
from tutor.core.status import AVAILABLE, LOCKED, PASSED, SKIPPED, Hint, StepStatus
from tutor.core.verdict import CheckResult, Verdict
from tutor.core.workspace import Workspace
from tutor.sandbox.runner import Runner, SubprocessRunner
from tutor.sandbox.warm import default_runner


class SessionError(Exception):
    """Something the learner asked for that cannot be done; the message says what to do."""


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
    ):
        self.course = course
        self.store = store
        self.workspace = workspace
        self.checker = checker
        self.unlock_all = unlock_all

    @classmethod
    def open(
        cls,
        lessons: Path | str | None = None,
        device: str = "auto",
        workspace: Path | str | None = None,
        data_dir: Path | str | None = None,
        unlock_all: bool = False,
        runner: Runner | None = None,
        warm: bool = False,
    ) -> Session:
        """Load a course and the learner's state with the usual defaults.

        ``warm`` keeps a pre-started worker parent so checks answer in milliseconds; it
        pays off in long-lived shells (the TUI, ``watch``), not in one-shot commands.
        """
        devices.validate(device)
        course = load_course(Path(lessons) if lessons else bundled_course_dir())
        home = default_data_dir()
        store = ProgressStore(home / "progress.json")
        root = Path(workspace) if workspace else home / "workspace"
        data = Path(data_dir) if data_dir else datasets.default_data_dir()
        if runner is None:
            runner = default_runner() if warm else SubprocessRunner()
            if warm:
                runner.warm_up()
        checker = Checker(runner, device=device, data_dir=str(data), prefetch=warm)
        return cls(course, store, Workspace(root, course.id), checker, unlock_all)

    def close(self) -> None:
        """Stop background workers (the warm parent), if any."""
        close = getattr(self.checker.runner, "close", None)
        if close:
            close()

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

    def step(self, step_id: str | None = None) -> m.Step:
        step_id = step_id or self.current_step_id()
        try:
            return self.course.step(step_id)
        except KeyError:
            raise self._unknown(step_id) from None

    def visit(self, step_id: str) -> m.Step:
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

    # ------------------------------------------------------------------ code files
    def file_of(self, step_id: str) -> Path:
        """The learner's file for a code step, written from the starter on first visit."""
        step = self._code_step(step_id)
        return self.workspace.ensure(step.lesson_id, step.id, step.starter)

    def read_code(self, step_id: str) -> str:
        self.file_of(step_id)
        step = self._code_step(step_id)
        return self.workspace.read(step.lesson_id, step.id)

    def write_code(self, step_id: str, code: str) -> Path:
        step = self._code_step(step_id)
        return self.workspace.write(step.lesson_id, step.id, code)

    def reset(self, step_id: str) -> Path | None:
        """Restore the starter (the old code is kept as a .bak file) and forget progress."""
        step = self.step(step_id)
        self.store.reset_step(self.course.id, step_id)
        if isinstance(step, m.CodeStep):
            return self.workspace.reset(step.lesson_id, step.id, step.starter)
        return None

    def reset_all(self) -> None:
        self.store.reset_course(self.course.id)
        for step in self.course.steps():
            if isinstance(step, m.CodeStep) and self.workspace.path_for(step.lesson_id, step.id).exists():
                self.workspace.reset(step.lesson_id, step.id, step.starter)

    # ------------------------------------------------------------------ checking
    def check(
        self,
        step_id: str | None = None,
        file: Path | None = None,
        on_output: Callable[[str], None] | None = None,
        cancel: Cancel | None = None,
    ) -> Verdict:
        """Check the learner's file (or ``file``); a pass is recorded and unlocks the next step."""
        step = self._code_step(step_id or self.current_step_id())
        self._require_unlocked(step.id)
        path = Path(file) if file else self.file_of(step.id)
        code = _read_source(path)
        verdict = self.checker.check(step, code, str(path), on_output, cancel)
        if verdict.skipped:
            return verdict
        if not (cancel and cancel.cancelled):
            self.store.record_attempt(self.course.id, step.id, verdict.passed)
            if verdict.passed:
                self._move_on(step.id)
        return verdict

    def run(
        self,
        step_id: str | None = None,
        file: Path | None = None,
        on_output: Callable[[str], None] | None = None,
        cancel: Cancel | None = None,
    ) -> Verdict:
        """Run the learner's code without judging it (to see its output)."""
        step = self._code_step(step_id or self.current_step_id())
        path = Path(file) if file else self.file_of(step.id)
        return self.checker.run(step, _read_source(path), str(path), on_output, cancel)

    def answer(self, step_id: str, picked: list[int]) -> Verdict:
        """Answer a quiz step with 0-based choice indices."""
        step = self.step(step_id)
        if not isinstance(step, m.QuizStep):
            raise SessionError(f"step {step_id} is not a quiz")
        self._require_unlocked(step_id)
        bad = [p for p in picked if not 0 <= p < len(step.choices)]
        if bad or not picked:
            raise SessionError(f"choose between 1 and {len(step.choices)}")
        passed = step.is_correct(picked)
        self.store.record_attempt(self.course.id, step_id, passed)
        if passed:
            self._move_on(step_id)
        message = "" if passed else "Not quite. Read the question again, or take a hint."
        result = CheckResult(name="your answer", passed=passed, message=message)
        return Verdict(step=step_id, passed=passed, checks=[result])

    def next_step_id(self, step_id: str) -> str | None:
        ids = [s.id for s in self.course.steps()]
        index = ids.index(step_id)
        return ids[index + 1] if index + 1 < len(ids) else None

    # ------------------------------------------------------------------ help
    def hints_shown(self, step_id: str) -> list[str]:
        step = self.step(step_id)
        count = self.store.load().step(self.course.id, step_id).hints
        return list(_hints(step)[:count])

    def next_hint(self, step_id: str | None = None) -> Hint:
        """Reveal one more hint (the last one again once all are shown)."""
        step = self.step(step_id)
        hints = _hints(step)
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
            return "\n".join(step.choices[i] for i in step.answer)
        assert isinstance(step, m.CodeStep)
        return step.solution

    def summary(self) -> dict:
        """Counts for ``progress``: per lesson and in all."""
        statuses = self.statuses()
        lessons = []
        for lesson in self.course.lessons:
            mine = [s for s in statuses if s.lesson == lesson.id]
            done = sum(s.status in (PASSED, SKIPPED) for s in mine)
            lessons.append({"id": lesson.id, "title": lesson.title, "done": done,
                            "total": len(mine)})
        done = sum(s.status in (PASSED, SKIPPED) for s in statuses)
        return {"course": self.course.id, "title": self.course.title, "done": done,
                "total": len(statuses), "current": self.current_step_id() if statuses else None,
                "lessons": lessons}

    # ------------------------------------------------------------------ helpers
    def _move_on(self, step_id: str) -> None:
        """After a pass, the next step becomes the current one (as in rustlings)."""
        following = self.next_step_id(step_id)
        if following is not None:
            self.store.set_current(self.course.id, following)

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


def _hints(step: m.Step) -> tuple[str, ...]:
    return getattr(step, "hints", ())


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"cannot read {path}: {exc}") from None
