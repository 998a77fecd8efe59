"""Find and kill every process a run started, including ones that escaped with ``setsid()``.

Three nets, because each alone has a hole: the worker's descendants by parent links
(the worker makes itself a child subreaper, so orphans stay in its tree while it lives),
every process carrying the run's token in its environment (orphans that escaped after
the worker died), and the worker itself. Linux only; elsewhere the process group is
all we have.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

TOKEN_VAR = "PYTORCH_TUTOR_RUN"
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make orphaned descendants reparent to this process instead of init."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) for every process we can see."""
    table: dict[int, tuple[int, str]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 2:
            table[int(name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int, table: dict[int, tuple[int, str]] | None = None) -> set[int]:
    table = table if table is not None else processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def tagged(token: str, table: dict[int, tuple[int, str]] | None = None) -> set[int]:
    """Processes whose environment carries this run's token."""
    needle = f"{TOKEN_VAR}={token}".encode()
    table = table if table is not None else processes()
    found = set()
    for pid in table:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.add(pid)
        except OSError:
            continue
    return found


def kill_tree(root: int, token: str | None, patience_s: float = 5.0) -> int:
    """SIGKILL ``root``, its descendants and every process tagged with ``token`` (if any).

    Repeats until nothing is left alive (a fork bomb keeps forking while we kill; a killed
    process that holds torch's memory takes a while to finish dying on a busy machine),
    for at most ``patience_s``, and reaps the zombies that are ours. Returns how many
    processes were signalled.
    """
    if not sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.killpg(root, signal.SIGKILL)
        return 1
    signalled: set[int] = set()
    deadline = time.monotonic() + patience_s
    pause = 0.002
    while time.monotonic() < deadline:
        table = processes()
        targets = descendants(root, table)
        if token is not None:
            targets |= tagged(token, table)
        if root in table:
            targets.add(root)
        alive = {pid for pid in targets if table.get(pid, (0, "Z"))[1] not in ("Z", "X")}
        alive.discard(os.getpid())
        # A killed child of a killed root is reparented (away from our tree) while it
        # dies: wait for what we signalled too, without signalling it again (its pid could
        # be reused by then, and SIGKILL is already pending on it).
        dying = {pid for pid in signalled if table.get(pid, (0, "Z"))[1] not in ("Z", "X")}
        if not alive and not dying:
            break
        for pid in alive:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        signalled |= alive
        time.sleep(pause)
        pause = min(pause * 2, 0.02)
    for pid in signalled:
        if pid != root:  # the root is reaped by its Popen object
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
    return len(signalled)


def kill_descendants(pid: int, rounds: int = 50, keep: set[int] | frozenset[int] = frozenset(),
                     ) -> None:
    """SIGKILL every descendant of ``pid`` (not ``pid`` itself, nor those in ``keep``) and
    reap the ones that are ours."""
    for _ in range(rounds):
        table = processes()
        alive = {p for p in descendants(pid, table) - keep if table[p][1] not in ("Z", "X")}
        if not alive:
            break
        for p in alive:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        time.sleep(0.005)
    while True:
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if reaped == 0:
            return
