"""The learner's code: one real ``.py`` file per code step, editable in any editor.

Files live at ``<root>/<course>/<lesson>/<step>.py``. The starter is written on the first
visit only, every save is atomic, and a reset first keeps the learner's code as a backup, so
no keystroke the learner made is ever thrown away by the tutor.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tutor.core.files import atomic_write_bytes, atomic_write_text
from tutor.core.progress import default_data_dir

WORKSPACE_DIR = "workspace"
BACKUP_SUFFIX = ".bak"

_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_UNSAFE_CHARS = re.compile(r"[^a-z0-9_.-]+")
_MAX_NAME = 80
# Names Windows refuses for a file whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{dev}{n}" for dev in ("com", "lpt") for n in range(1, 10)
}


class Workspace:
    """The code files of one course, under ``root``."""

    def __init__(self, root: Path, course_id: str) -> None:
        self.root = Path(root)
        self.course_id = course_id
        self.course_dir = self.root / safe_file_name(course_id)

    @classmethod
    def default(cls, course_id: str) -> Workspace:
        return cls(default_data_dir() / WORKSPACE_DIR, course_id)

    def path_for(self, lesson_id: str, step_id: str) -> Path:
        return self.course_dir / safe_file_name(lesson_id) / f"{safe_file_name(step_id)}.py"

    def backup_path_for(self, lesson_id: str, step_id: str) -> Path:
        """Where ``reset`` keeps the code it replaced most recently."""
        path = self.path_for(lesson_id, step_id)
        return path.with_name(path.name + BACKUP_SUFFIX)

    def ensure(self, lesson_id: str, step_id: str, starter: str) -> Path:
        """Write the starter on the first visit; the learner's file, once there, is theirs."""
        path = self.path_for(lesson_id, step_id)
        if not path.exists():
            atomic_write_text(path, starter)
        return path

    def read(self, lesson_id: str, step_id: str) -> str:
        """The learner's code; bytes that are not UTF-8 show as U+FFFD rather than failing."""
        return self.path_for(lesson_id, step_id).read_text(encoding="utf-8", errors="replace")

    def write(self, lesson_id: str, step_id: str, code: str) -> Path:
        path = self.path_for(lesson_id, step_id)
        atomic_write_text(path, code)
        return path

    def reset(self, lesson_id: str, step_id: str, starter: str) -> Path | None:
        """Put the starter back; returns the backup of the replaced code, if there was any.

        The newest backup is ``<step>.py.bak``; an older, different one moves to
        ``<step>.py.bak.<n>`` so that resetting twice loses nothing either.
        """
        path = self.path_for(lesson_id, step_id)
        backup: Path | None = self.backup_path_for(lesson_id, step_id)
        try:
            code = path.read_bytes()
        except FileNotFoundError:
            code = None
        if code is not None and backup is not None and code != starter.encode("utf-8"):
            _keep_backup(backup, code)
        else:
            backup = None
        atomic_write_text(path, starter)
        return backup


def _keep_backup(backup: Path, code: bytes) -> None:
    if backup.exists() and backup.read_bytes() != code:
        number = 1
        while (older := backup.with_name(f"{backup.name}.{number}")).exists():
            number += 1
        backup.rename(older)
    atomic_write_bytes(backup, code)


def safe_file_name(identifier: str) -> str:
    """A file name for an id: unchanged when already safe, else cleaned plus a short hash.

    The hash keeps distinct ids apart ("a/b" and "a_b"); lower case only, so ids that differ
    in case stay apart on case-insensitive disks too.
    """
    if _is_safe(identifier):
        return identifier
    cleaned = _UNSAFE_CHARS.sub("_", identifier.lower()).strip("._-")[: _MAX_NAME - 10] or "id"
    if cleaned.split(".")[0] in _RESERVED:
        cleaned = f"_{cleaned}"
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned}-{digest}"


def _is_safe(name: str) -> bool:
    return (
        _SAFE_NAME.fullmatch(name) is not None
        and len(name) <= _MAX_NAME
        and not name.endswith(".")
        and name.split(".")[0] not in _RESERVED
    )
