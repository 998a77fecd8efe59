"""The tutor's folders in the temporary directory, and what to do with those a dead tutor left.

Every run gets a ``pytorch-tutor-run-*`` folder and every warm parent a
``pytorch-tutor-warm-*`` one. The tutor that made a folder holds a lock on it for as long as
it uses it, and removes it when done; a worker's sentinel removes its run's folder if the
tutor dies first (``tutor.sandbox.sentinel``). Whatever escaped both (a machine that lost
power, a sentinel killed with the tutor) is swept when a tutor next starts: a folder of this
user's, older than a minute, that no process holds a lock on and none works in.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time

try:
    import fcntl
except ImportError:  # Windows: no locks, and nothing is swept
    fcntl = None  # type: ignore[assignment]

RUN_PREFIX = "pytorch-tutor-run-"
WARM_PREFIX = "pytorch-tutor-warm-"
STALE_AFTER_S = 60.0  # a younger folder may be one a tutor made and has not locked yet

_swept: set[str] = set()
_sweep_lock = threading.Lock()


def make(prefix: str) -> tuple[str, int | None]:
    """A fresh folder in the temporary directory and the lock that says it is in use (keep
    the descriptor open as long as the folder is used; ``release`` ends both)."""
    path = tempfile.mkdtemp(prefix=prefix)
    if fcntl is None:
        return path, None
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    with contextlib.suppress(OSError):  # no locks on this file system: age and use still count
        fcntl.flock(fd, fcntl.LOCK_SH)  # shared: a sweeper's exclusive try then fails
    return path, fd


def release(path: str, fd: int | None) -> None:
    """Remove the folder, then let go of its lock."""
    shutil.rmtree(path, ignore_errors=True)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def sweep_once() -> int:
    """Sweep the temporary directory once per process (the first runner does it)."""
    folder = tempfile.gettempdir()
    with _sweep_lock:
        if folder in _swept:
            return 0
        _swept.add(folder)
    return sweep(folder)


def sweep(folder: str | None = None) -> int:
    """Remove the stale tutor folders in ``folder`` (the temporary directory); how many."""
    folder = folder or tempfile.gettempdir()
    if not hasattr(os, "getuid"):
        return 0  # whose folder it is cannot be told here
    try:
        names = [n for n in os.listdir(folder) if n.startswith((RUN_PREFIX, WARM_PREFIX))]
    except OSError:
        return 0
    if not names:
        return 0
    used = _working_dirs()
    removed = 0
    for name in names:
        path = os.path.join(folder, name)
        if _stale(path, used):
            shutil.rmtree(path, ignore_errors=True)
            removed += not os.path.exists(path)
    return removed


def _stale(path: str, used: set[str]) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    if info.st_uid != os.getuid() or time.time() - info.st_mtime < STALE_AFTER_S:
        return False
    real = os.path.realpath(path)
    if any(p == real or p.startswith(real + os.sep) for p in used):
        return False
    return not _locked(path)


def _locked(path: str) -> bool:
    """Whether a tutor holds the folder's lock (no lock to be had: assume one does not)."""
    if fcntl is None:
        return True
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _working_dirs() -> set[str]:
    """The working folder of every process we may look at (Linux; elsewhere none)."""
    found: set[str] = set()
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return found
    for pid in pids:
        with contextlib.suppress(OSError):
            found.add(os.readlink(f"/proc/{pid}/cwd"))
    return found
