"""The learner's progress: steps passed, attempts, hints, and where they left off.

One JSON file in the user data dir, shared by the TUI and the CLI. The store holds what it
read in memory and reads the file again only when another process changed it (its size,
time or inode differ), so asking for statuses costs no file read. Every change is a
read-modify-write under an exclusive lock, written atomically, so two tutor windows lose no
update and a crash never leaves half a file. Each successful write also refreshes the
last-good copies (``progress.json.good-1``, the one before as ``good-2``). A broken file
never stops the tutor: it is moved aside and the newest good copy takes its place (or, when a
newer tutor wrote it, it is left alone), and ``ProgressStore.warnings`` says so. A write that
fails (a full disk, a read-only home) keeps the change in memory, says so in ``unsaved`` and
is tried again with the next change.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import platformdirs

from tutor.core.files import atomic_write_text

try:
    import fcntl
except ImportError:  # Windows: writes stay atomic, only the lock is missing
    fcntl = None  # type: ignore[assignment]

APP_NAME = "pytorch-tutor"
HOME_ENV = "PYTORCH_TUTOR_HOME"
FILE_NAME = "progress.json"
FORMAT_VERSION = 1
GOOD_COPIES = 2  # last-good copies kept beside the file, newest first

T = TypeVar("T")
Doc = dict[str, Any]


def default_data_dir() -> Path:
    """The tutor's data folder; ``$PYTORCH_TUTOR_HOME`` overrides it for tests and portable use."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


# --------------------------------------------------------------------------- snapshot


@dataclass(frozen=True)
class StepProgress:
    """One step's record; the defaults describe a step never tried."""

    passed_at: str | None = None  # ISO 8601, UTC, of the first passing attempt
    attempts: int = 0
    hints: int = 0  # hints revealed so far
    solution_viewed: bool = False
    skipped_reason: str | None = None  # e.g. "needs a GPU"

    @property
    def passed(self) -> bool:
        return self.passed_at is not None

    @property
    def skipped(self) -> bool:
        return self.skipped_reason is not None


@dataclass(frozen=True)
class CourseProgress:
    """One course: the step to reopen and the steps touched so far."""

    current: str | None = None
    steps: Mapping[str, StepProgress] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Progress:
    """A read-only snapshot; asking about an unknown course or step gives the defaults."""

    courses: Mapping[str, CourseProgress] = field(default_factory=lambda: MappingProxyType({}))

    def course(self, course_id: str) -> CourseProgress:
        return self.courses.get(course_id, CourseProgress())

    def current(self, course_id: str) -> str | None:
        return self.course(course_id).current

    def step(self, course_id: str, step_id: str) -> StepProgress:
        return self.course(course_id).steps.get(step_id, StepProgress())

    def is_passed(self, course_id: str, step_id: str) -> bool:
        return self.step(course_id, step_id).passed

    def passed_steps(self, course_id: str) -> frozenset[str]:
        steps = self.course(course_id).steps
        return frozenset(step_id for step_id, step in steps.items() if step.passed)


@dataclass(frozen=True)
class SavedCopy:
    """A copy of the progress file beside it: a last-good copy, or a broken file moved aside."""

    path: Path
    saved_at: str  # when it was written, local time
    passed: int  # steps passed in it, in every course
    problem: str = ""  # why it cannot be restored; "" when it can

    @property
    def restorable(self) -> bool:
        return not self.problem


# --------------------------------------------------------------------------- store


class ProgressStore:
    """The one owner of ``progress.json``.

    When the file cannot or must not be written (a newer tutor's format, a read-only disk),
    the store keeps this session's progress in memory, sets ``read_only`` and explains why
    in ``warnings``, so the caller can show the message and carry on.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.warnings: list[str] = []
        self.unsaved = ""  # why the last change could not be written; "" when it was
        self._memory: Doc | None = None  # set when the file is not (or could not be) written
        self._retry = False  # the memory holds changes a failed write should try again
        self._held: tuple[Signature, Doc, Progress] | None = None  # the file as last seen

    @classmethod
    def default(cls) -> ProgressStore:
        return cls(default_data_dir() / FILE_NAME)

    @property
    def read_only(self) -> bool:
        return self._memory is not None

    def load(self) -> Progress:
        """The progress now: from memory while the file is as this store last saw it."""
        if self._memory is not None:
            return _snapshot(self._memory)
        signature = _signature(self.path)
        if signature is None:
            return Progress()  # nothing to read, so nothing to create yet
        if self._held is not None and self._held[0] == signature:
            return self._held[2]
        with self._lock():
            doc = self._read()
            return self._hold(doc)

    def record_attempt(self, course_id: str, step_id: str, passed: bool,
                       then_current: str | None = None) -> StepProgress:
        """Count an attempt; a step stays passed once passed, so experiments cost nothing.
        ``then_current`` becomes the step to resume at (the next one, after a pass), in the
        same write."""

        def change(doc: Doc) -> StepProgress:
            course = _course(doc, course_id)
            step = course["steps"].setdefault(step_id, _new_step())
            step["attempts"] += 1
            if passed and step["passed_at"] is None:
                step["passed_at"] = _now()
                step["skipped_reason"] = None
            if then_current is not None:
                course["current"] = then_current
            return _step_from(step)

        return self._update(change)

    def record_hint(self, course_id: str, step_id: str, *, limit: int | None = None) -> int:
        """Reveal one more hint (at most ``limit``) and return how many are revealed now."""

        def change(step: Doc) -> None:
            if limit is None or step["hints"] < limit:
                step["hints"] += 1

        return self._update_step(course_id, step_id, change).hints

    def record_solution_viewed(self, course_id: str, step_id: str) -> StepProgress:
        return self._update_step(course_id, step_id, lambda step: step.update(solution_viewed=True))

    def record_skip(self, course_id: str, step_id: str, reason: str) -> StepProgress:
        """Mark a step skipped (say, it needs a GPU); passing it later clears the mark."""
        return self._update_step(
            course_id, step_id, lambda step: step.update(skipped_reason=reason)
        )

    def set_current(self, course_id: str, step_id: str | None) -> None:
        if self.load().current(course_id) == step_id:
            return  # already so: no write
        self._update(lambda doc: _course(doc, course_id).update(current=step_id))

    def reset_step(self, course_id: str, step_id: str) -> None:
        self._update(lambda doc: _course(doc, course_id)["steps"].pop(step_id, None))

    def reset_course(self, course_id: str) -> None:
        self._update(lambda doc: doc["courses"].pop(course_id, None))

    # ----------------------------------------------------------------------- internals

    def _update_step(
        self, course_id: str, step_id: str, change: Callable[[Doc], Any]
    ) -> StepProgress:
        def on_doc(doc: Doc) -> StepProgress:
            step = _course(doc, course_id)["steps"].setdefault(step_id, _new_step())
            change(step)
            return _step_from(step)

        return self._update(on_doc)

    def _update(self, change: Callable[[Doc], T]) -> T:
        """Change and write back under the lock, so concurrent tutors lose no update: the
        document is read again first only if another process wrote it meanwhile."""
        with self._lock():
            held = self._held
            if held is not None and self._memory is None and held[0] == _signature(self.path):
                doc = copy.deepcopy(held[1])
            else:
                doc = self._read()
            result = change(doc)
            if self._memory is None or self._retry:
                self._save(doc)
        return result

    def _save(self, doc: Doc) -> bool:
        """Write ``doc``, then refresh the last-good copies; on failure keep it in memory."""
        text = _dump(doc)
        try:
            atomic_write_text(self.path, text)
        except OSError as error:
            self.unsaved = (f"Could not save progress to {self.path} "
                            f"({error.strerror or error}).")
            self._retry = True
            self._keep_in_memory(doc, self.unsaved)
            return False
        if self._retry:
            self._memory, self._retry = None, False
            self._warn(f"Progress is saved to {self.path} again.")
        self.unsaved = ""
        self._hold(doc)
        self._keep_good_copy(text)
        return True

    def _keep_good_copy(self, text: str) -> None:
        """Rotate the last-good copies (best effort: the file itself is saved already, so
        a copy is replaced in one step but not synced to the disk)."""
        names = self.good_copy_paths()
        temporary = names[0].with_name(f".{names[0].name}.{os.getpid()}.tmp")
        try:
            for newer, older in reversed(list(zip(names, names[1:], strict=False))):
                if newer.exists():
                    os.replace(newer, older)
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, names[0])
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()

    def good_copy_paths(self) -> list[Path]:
        return [self.path.with_name(f"{self.path.name}.good-{n}")
                for n in range(1, GOOD_COPIES + 1)]

    # ----------------------------------------------------------------------- restoring

    def saved_copies(self) -> list[SavedCopy]:
        """Every copy beside the file, newest first: the last-good ones (restorable) and the
        broken files moved aside (listed with why they cannot be restored)."""
        paths = [p for p in self.good_copy_paths() if p.exists()]
        paths += sorted(self.path.parent.glob(f"{self.path.name}.corrupt-*"), reverse=True)
        return [self._describe(p) for p in paths]

    def restore(self, copy_path: Path) -> str:
        """Make ``copy_path`` the progress file again (the current one is moved aside);
        returns what was done, in words. Raises ``ValueError`` when it cannot be used."""
        described = self._describe(copy_path)
        if described.problem:
            raise ValueError(f"{copy_path} cannot be restored: {described.problem}")
        text = copy_path.read_bytes().decode("utf-8-sig")
        with self._lock():
            moved = ""
            if self.path.exists():
                target = self._aside_path("replaced")
                os.replace(self.path, target)
                moved = f" The file it replaced was moved to {target}."
            atomic_write_text(self.path, text)
            self._memory, self._retry, self._held = None, False, None
        return (f"Progress restored from {copy_path} (saved {described.saved_at}, "
                f"{described.passed} steps passed).{moved}")

    def _describe(self, path: Path) -> SavedCopy:
        try:
            when = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
            data, problem = _parsed(read_file(path))
        except OSError as error:
            return SavedCopy(path, "?", 0, f"cannot be read ({error.strerror or error})")
        if data is None:
            return SavedCopy(path, when, 0, problem)
        passed = sum(1 for course in data["courses"].values() if isinstance(course, dict)
                     for step in (course.get("steps") or {}).values()
                     if isinstance(step, dict) and step.get("passed_at"))
        return SavedCopy(path, when, passed)

    def _hold(self, doc: Doc) -> Progress:
        """Remember ``doc`` as the content of the file as it is now."""
        snapshot = _snapshot(doc)
        signature = _signature(self.path)
        self._held = (signature, copy.deepcopy(doc), snapshot) if signature else None
        return snapshot

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the sidecar file; best effort where locking is impossible."""
        fd = self._open_lock_file()
        if fd is None:
            yield
            return
        try:
            with contextlib.suppress(OSError):  # e.g. a file system without locks
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _open_lock_file(self) -> int | None:
        if self._memory is not None or fcntl is None:
            return None
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None  # the write that follows reports the real problem

    def _read(self) -> Doc:
        """The stored document, repaired; a file that cannot be used is handled, never raised."""
        if self._memory is not None:
            return self._memory
        try:
            raw = read_file(self.path)
        except FileNotFoundError:
            return _new_doc()
        except OSError as error:
            return self._keep_in_memory(_new_doc(), f"Could not read {self.path} ({error}).")
        data, problem = _parsed(raw)
        if data is None and problem.startswith("newer:"):
            version = problem.removeprefix("newer:")
            return self._keep_in_memory(
                _new_doc(),
                f"{self.path} was written by a newer pytorch-tutor (format {version}; this one "
                f"reads format {FORMAT_VERSION}), so it was left untouched. Update pytorch-tutor "
                "to continue where you left off.",
            )
        if data is None:
            return self._move_aside(problem)
        fixes = _repair_courses(data["courses"])
        if fixes:
            self._warn(
                f"{self.path} had {fixes} invalid value(s); they were reset to their defaults "
                "and the rest of your progress was kept."
            )
        return data

    def _move_aside(self, reason: str) -> Doc:
        target = self._aside_path()
        try:
            os.rename(self.path, target)
        except OSError as error:
            return self._keep_in_memory(
                _new_doc(), f"{self.path} {reason} and could not be moved aside ({error})."
            )
        for good in self.saved_copies():
            if not good.restorable:
                continue
            with contextlib.suppress(OSError, ValueError):
                data, _ = _parsed(read_file(good.path))
                if data is not None:
                    _repair_courses(data["courses"])
                    atomic_write_text(self.path, _dump(data))
                    self._warn(f"{self.path} {reason}. It was moved to {target}, and your "
                               f"progress was restored from the copy saved {good.saved_at} "
                               f"({good.passed} steps passed).")
                    return data
        self._warn(f"{self.path} {reason}. It was moved to {target} and progress starts afresh.")
        return _new_doc()

    def _aside_path(self, why: str = "corrupt") -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        candidate = self.path.with_name(f"{self.path.name}.{why}-{stamp}")
        number = 1
        while candidate.exists():
            candidate = self.path.with_name(f"{self.path.name}.{why}-{stamp}-{number}")
            number += 1
        return candidate

    def _keep_in_memory(self, doc: Doc, problem: str) -> Doc:
        self._memory = doc
        self._warn(f"{problem} Progress from this session is kept in memory only.")
        return doc

    def _warn(self, message: str) -> None:
        if message not in self.warnings:  # the same file problem is found on every read
            self.warnings.append(message)


# --------------------------------------------------------------------------- document

Signature = tuple[int, int, int]


def _signature(path: Path) -> Signature | None:
    """What changes when any process replaces the file (atomic writes change the inode)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def read_file(path: Path) -> bytes:
    """The one place the progress file is read (tests count the reads here)."""
    return path.read_bytes()


def _parsed(raw: bytes) -> tuple[Doc | None, str]:
    """The document in ``raw``, or None and why it cannot be used ("newer:N" for a format
    this tutor does not read)."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None, "is not valid JSON"
    if not isinstance(data, dict):
        return None, f"holds {_json_kind(data)} instead of a JSON object"
    version = data.get("version")
    if type(version) is not int or version < 1:
        return None, "has no valid format version"
    if version > FORMAT_VERSION:
        return None, f"newer:{version}"
    courses = data.setdefault("courses", {})
    if not isinstance(courses, dict):
        return None, f"has {_json_kind(courses)} where the courses should be"
    return data, ""



def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _is_timestamp(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# Each known step field: a test of its stored value and the default that replaces a bad one.
_STEP_FIELDS: dict[str, tuple[Callable[[Any], bool], Any]] = {
    "passed_at": (_is_timestamp, None),
    "attempts": (_is_count, 0),
    "hints": (_is_count, 0),
    "solution_viewed": (lambda value: isinstance(value, bool), False),
    "skipped_reason": (lambda value: value is None or isinstance(value, str), None),
}


def _new_doc() -> Doc:
    return {"version": FORMAT_VERSION, "courses": {}}


def _new_step() -> Doc:
    return {key: default for key, (_, default) in _STEP_FIELDS.items()}


def _course(doc: Doc, course_id: str) -> Doc:
    return doc["courses"].setdefault(course_id, {"current": None, "steps": {}})


def _repair_courses(courses: Doc) -> int:
    """Fix bad values in place, keeping unknown keys; returns how many were fixed."""
    fixes = 0
    for course_id, course in list(courses.items()):
        if isinstance(course, dict):
            fixes += _repair_course(course)
        else:
            del courses[course_id]
            fixes += 1
    return fixes


def _repair_course(course: Doc) -> int:
    fixes = 0
    current = course.setdefault("current", None)
    if current is not None and not isinstance(current, str):
        course["current"] = None
        fixes += 1
    steps = course.setdefault("steps", {})
    if not isinstance(steps, dict):
        steps = course["steps"] = {}
        fixes += 1
    for step_id, step in list(steps.items()):
        if isinstance(step, dict):
            fixes += _repair_step(step)
        else:
            del steps[step_id]
            fixes += 1
    return fixes


def _repair_step(step: Doc) -> int:
    fixes = 0
    for key, (is_valid, default) in _STEP_FIELDS.items():
        if key not in step:
            step[key] = default
        elif not is_valid(step[key]):
            step[key] = default
            fixes += 1
    return fixes


def _step_from(step: Doc) -> StepProgress:
    return StepProgress(**{key: step[key] for key in _STEP_FIELDS})


def _snapshot(doc: Doc) -> Progress:
    courses = {
        course_id: CourseProgress(
            current=course["current"],
            steps=MappingProxyType({sid: _step_from(s) for sid, s in course["steps"].items()}),
        )
        for course_id, course in doc["courses"].items()
    }
    return Progress(MappingProxyType(courses))


def _dump(doc: Doc) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return f"`{json.dumps(value)}`"
    kinds = {list: "a list", str: "a string", int: "a number", float: "a number", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
