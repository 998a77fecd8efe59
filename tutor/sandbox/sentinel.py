"""A worker's sentinel: ends the worker's processes and removes its folder if the tutor dies.

The tutor holds the only write end of a pipe, its lifeline (``lifeline``); each cold or spare
worker gets the read end. Before the worker isolates itself, it forks a sentinel: a process
outside the sandbox (Landlock's signal scoping keeps the learner's code from killing it) that
waits for the lifeline to close, which happens however the tutor ends, SIGKILL included, and
then kills the worker's tree and removes its folder. It leaves quietly when the worker ends
first (a second pipe, held by the worker, closes; should the learner's code close it early,
the sentinel goes on watching whether the worker is still its parent). Unlike PR_SET_PDEATHSIG, this
does not depend on the tutor's thread that started the worker living on. Workers forked by a
warm parent need none: the warm parent watches the tutor the same way.
"""

from __future__ import annotations

import os
import select
import shutil
import threading

from tutor.sandbox import reaper

_lifeline: tuple[int, int, int] | None = None  # (pid, read end, write end)
_lock = threading.Lock()


def lifeline() -> int:
    """The read end of this process's lifeline, to pass to a worker (never the write end)."""
    global _lifeline
    with _lock:
        if _lifeline is None or _lifeline[0] != os.getpid():  # a fork holds its parent's
            read_end, write_end = os.pipe()  # neither is inherited by what we exec
            _lifeline = (os.getpid(), read_end, write_end)
        return _lifeline[1]


def guard(lifeline_fd: int, run_dir: str, token: str) -> int:
    """Fork the sentinel of this worker (call before isolating it); returns its pid."""
    alive_r, alive_w = os.pipe()
    worker = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            _watch(lifeline_fd, alive_r, alive_w, worker, run_dir, token)
        finally:
            os._exit(0)
    os.close(alive_r)
    os.close(lifeline_fd)  # the sentinel watches it; the learner's code need not hold it
    _held.append(alive_w)  # open until this worker ends
    return pid


_held: list[int] = []  # the worker's end of the pipe its sentinel watches


def _watch(lifeline_fd: int, alive_r: int, alive_w: int, worker: int, run_dir: str,
           token: str) -> None:
    os.close(alive_w)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # hold none of the worker's channels: the tutor waits for their end
        os.dup2(null, fd)
    low, high = sorted((lifeline_fd, alive_r))
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, 65536)
    watched = [lifeline_fd, alive_r]
    ours = os.path.basename(run_dir).startswith("pytorch-tutor-run-")
    while True:
        # Once the worker has ended, stay until the tutor has removed its folder: a worker
        # that ends (its CPU limit, say) just before the tutor is killed leaves the folder
        # to us, and the lifeline closes a moment later.
        if alive_r not in watched and os.getppid() != worker and not (
                ours and os.path.isdir(run_dir)):
            return
        ready, _, _ = select.select(watched, [], [], None if alive_r in watched else 0.5)
        if lifeline_fd in ready:  # the tutor is gone
            reaper.kill_tree(worker, token, patience_s=2.0)
            if ours:
                shutil.rmtree(run_dir, ignore_errors=True)
            return
        if alive_r in ready and not os.read(alive_r, 4096):
            # The worker ended, or the code in it closed the pipe: from now on, watch
            # whether the worker is still our parent. Bytes written into it mean nothing.
            watched = [lifeline_fd]
