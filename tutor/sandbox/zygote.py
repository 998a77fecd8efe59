"""The warm parent: an interpreter that has imported torch and forks one fresh worker per run.

It only *imports*: running any parallel op before forking deadlocks OpenMP in the children,
and touching CUDA here breaks CUDA in every child. It holds no lesson, no reference
value and no learner data, because a forked child can read all of its parent's memory.

Protocol, over a SOCK_SEQPACKET socket inherited as ``argv[1]`` (one JSON object a packet):
the tutor sends ``{"id", "run_dir", "env"}`` with four file descriptors (stdin, stdout,
stderr, results); we answer ``{"id", "pid"}``, and ``{"exit": pid, "code": returncode, "cpu": seconds}``
when that worker ends. When the tutor goes away (however it ends: the socket closes), we kill
every worker, remove the run folders they had and our own folder, and leave.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import time

from tutor.sandbox import reaper

SWEEP_FOR_S = 5.0  # after a worker ends, keep killing adopted orphans for this long
WARM_RUNS_SHARING = 2  # the warm cgroup holds this many runs' worth of processes


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    reaper.become_subreaper()  # orphans of a worker come to us, and we kill them
    _enter_cgroup()
    from tutor.sandbox import child

    child.preload()  # once here rather than in every worker

    # A worker's end wakes the loop at once (SIGCHLD through a wake-up pipe).
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    _send(control, {"ready": True, "pid": os.getpid()})
    workers: set[int] = set()
    folders: dict[int, str] = {}  # each worker's run folder
    sweep_until = 0.0
    while True:
        readable, _, _ = select.select([control.fileno(), wake_r], [], [], 0.5)
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        if control.fileno() in readable:
            try:
                data, fds, _, _ = socket.recv_fds(control, 1 << 20, 8)
            except OSError:
                data, fds = b"", []
            if not data:
                break
            try:
                pid = _fork_worker(control, json.loads(data), fds, (wake_r, wake_w))
            except OSError:  # no process left (a fork bomb fills our cgroup): no answer, and
                for fd in fds:  # the tutor runs this one cold once it stops waiting
                    os.close(fd)
                continue
            workers.add(pid)
            folders[pid] = str(json.loads(data).get("run_dir", ""))
            _send(control, {"id": json.loads(data)["id"], "pid": pid})
        ended = _reap(control, workers)
        for pid in set(folders) - workers:
            del folders[pid]
        if ended:
            sweep_until = time.monotonic() + SWEEP_FOR_S
        if time.monotonic() < sweep_until:
            _kill_orphans(workers)
    for pid in workers:
        reaper.kill_tree(pid, "-")
    reaper.kill_descendants(os.getpid())
    for folder in [*folders.values(), os.getcwd()]:  # the tutor may not be there to do it
        if os.path.basename(folder).startswith(("pytorch-tutor-run-", "pytorch-tutor-warm-")):
            shutil.rmtree(folder, ignore_errors=True)
    os._exit(0)


def _enter_cgroup() -> None:
    """Bound the processes of all our workers together, where cgroups can be created (root,
    delegation): moving each worker into its own cgroup would cost tens of ms per run."""
    from tutor.core.runs import Limits
    from tutor.sandbox import isolation

    token = os.environ.get(reaper.TOKEN_VAR, "")
    with contextlib.suppress(Exception):
        isolation.join_cgroup(token, Limits().processes * WARM_RUNS_SHARING)


def _send(control: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):
        control.send(json.dumps(message).encode())


def _fork_worker(control: socket.socket, request: dict, fds: list[int],
                 wake: tuple[int, int]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            control.close()
            signal.set_wakeup_fd(-1)
            for fd in wake:
                os.close(fd)
            _become_worker(request, fds)
        finally:
            os._exit(70)
    for fd in fds:
        os.close(fd)
    return pid


def _become_worker(request: dict, fds: list[int]) -> None:
    """In the fresh child: own session, own channels, own directory and environment."""
    stdin, stdout, stderr, results = fds
    os.setsid()
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["run_dir"])
    os.environ.clear()
    os.environ.update(request["env"])
    import tempfile

    tempfile.tempdir = None  # recompute from the worker's TMPDIR
    from tutor.sandbox import child

    sys.argv = ["tutor.sandbox.child", str(results)]
    child.main()


def _reap(control: socket.socket, workers: set[int]) -> bool:
    ended = False
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        if pid in workers:
            workers.discard(pid)
            _send(control, {"exit": pid, "code": os.waitstatus_to_exitcode(status),
                            "cpu": usage.ru_utime + usage.ru_stime})
            ended = True


def _kill_orphans(workers: set[int]) -> None:
    """Anything that is our child but not a worker was orphaned by a worker: kill it."""
    me = os.getpid()
    for pid, (parent, state) in reaper.processes().items():
        if parent == me and pid not in workers and state not in ("Z", "X"):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
