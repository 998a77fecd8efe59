"""The step the learner left, kept in a small file so the next launch shows it at once.

Opening the course (the lesson files, the checker's tools, numpy) takes longer than drawing
the screen. When nothing it depends on changed since the tutor last closed (the lesson
files, the progress file, the learner's file and the options), the app shows this copy while
the course opens in the background, read-only; the session's own view then replaces it.
Only the standard library here: this module runs before the first frame.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FILE = "tui-first-screen.json"
VERSION = 1


@dataclass(frozen=True)
class FirstScreen:
    """What the first screen shows of a step: its header, its lesson and its code."""

    step_id: str
    title: str
    explanation: str
    lesson_title: str
    step_number: int
    steps_in_lesson: int
    status: str
    device: str
    done: int
    total: int
    is_quiz: bool
    hint_total: int
    code: str | None = None
    file: str | None = None  # the learner's file for the step


def _stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_mtime_ns, stat.st_size]


def _key(options: dict[str, Any], course_root: Path, progress: Path,
         file: str | None) -> dict[str, Any]:
    """What the copy depends on, as it is on disk now."""
    lessons = sorted(course_root.glob("*.yaml")) if course_root.is_dir() else []
    return {"options": options, "course_root": str(course_root),
            "lessons": {p.name: _stamp(p) for p in lessons}, "progress": _stamp(progress),
            "file": _stamp(Path(file)) if file else None}


def load(home: Path, options: dict[str, Any]) -> FirstScreen | None:
    """The copy saved by the last run with the same ``options``, if still true."""
    try:
        saved = json.loads((home / FILE).read_text(encoding="utf-8"))
        screen = FirstScreen(**saved["screen"])
        key = saved["key"]
        if saved.get("version") != VERSION or key.get("options") != options:
            return None
        if key != _key(options, Path(key["course_root"]), home / "progress.json", screen.file):
            return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # none yet, or from another version: the course opens as usual
    return screen


def save(home: Path, options: dict[str, Any], course_root: Path, screen: FirstScreen) -> None:
    """Keep ``screen`` for the next launch; a failure only costs that launch some speed."""
    record = {"version": VERSION, "screen": asdict(screen),
              "key": _key(options, course_root, home / "progress.json", screen.file)}
    target = home / FILE
    with contextlib.suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{FILE}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(record), encoding="utf-8")
        os.replace(temporary, target)
