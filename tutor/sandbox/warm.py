"""A runner whose workers are forked from a warm parent that already imported torch.

A cold worker pays the torch import (2-7 s) on every run; a forked one starts in tens of
milliseconds. Same ``Runner`` interface as the cold runner, which it falls back to where
the warm parent cannot start. Where fork is unsafe or unavailable, ``default_runner`` gives
a ``SpareRunner`` (interpreters started ahead) instead.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
from typing import Any

from tutor.core.runs import OutputCallback, RunHandle, RunRequest
from tutor.sandbox import gpu, leftovers, reaper
from tutor.sandbox.runner import (
    ChildProcess,
    ProcessRun,
    RetriedOnce,
    SubprocessRunner,
    child_env,
)
from tutor.sandbox.spare import SpareRunner

START_TIMEOUT_S = 120.0


def fork_is_safe() -> bool:
    """Whether workers may be forked from a parent that imported torch: not without fork
    and descriptor passing, and not on macOS, where libraries torch loads are not fork-safe."""
    return hasattr(os, "fork") and hasattr(socket, "send_fds") and sys.platform != "darwin"


def default_runner(spares: int = 1) -> WarmRunner | SpareRunner:
    """The fastest runner this platform allows: workers forked from a warm parent, else
    ``spares`` interpreters started ahead (two serve a learner and a reference at once)."""
    return WarmRunner() if fork_is_safe() else SpareRunner(spares=spares)


class WarmStartError(RuntimeError):
    """The warm parent could not be started; the cold runner takes over."""


class _Forked:
    """A worker forked by the warm parent; looks like ``Popen`` to ``ProcessRun``."""

    def __init__(self, pid: int, stdin: Any, stdout: Any, stderr: Any):
        self.pid = pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode: int | None = None
        self.cpu_s: float | None = None  # its CPU time in all, once it ended
        self._ended = threading.Event()

    def ended(self, code: int, cpu_s: float | None = None) -> None:
        self.returncode, self.cpu_s = code, cpu_s
        self._ended.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired("worker", timeout or 0)
        assert self.returncode is not None
        return self.returncode


class _OrphanAdopting:
    """A spawner whose workers' orphans are adopted and killed by the warm parent."""

    adopts_orphans = True

    def __init__(self, spawn: Any):
        self._spawn = spawn

    def __call__(self, run_dir: str, env: dict[str, str], result_fd: int) -> ChildProcess:
        return self._spawn(run_dir, env, result_fd)


class WarmRunner:
    """Owns one warm parent; ``start`` forks a worker from it for each run."""

    def __init__(self, python: str | None = None):
        self.python = python or sys.executable
        self.cold = SubprocessRunner(self.python)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._failed: str | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, list] = {}
        self._workers: dict[int, _Forked] = {}
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._token = "warm-" + secrets.token_hex(8)  # tags this warm parent alone
        self._home: tuple[str, int | None] | None = None  # its folder, and the folder's lock
        self.spawn = _OrphanAdopting(self._spawn)  # what ProcessRun starts workers with

    # ------------------------------------------------------------------ life cycle
    def warm_up(self) -> None:
        """Start the warm parent in the background (idempotent), and the CUDA probe where
        there is a driver."""
        gpu.start()
        why = "fork is unsafe or unavailable on this platform" if not fork_is_safe() else None
        if why is None:
            with self._lock:
                if self._proc is not None or self._failed:
                    return
                why = self._start_parent()
        if why is not None and not self._failed:
            self._fail(why)  # outside the lock: _fail takes it

    def _start_parent(self) -> str | None:
        """Starts the warm parent and its listener (the lock held); why it could not, or None."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        home, lock = self._home = leftovers.make(leftovers.WARM_PREFIX)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the parent)
        try:
            self._proc = subprocess.Popen(
                [self.python, "-I", "-u", "-B", "-m", "tutor.sandbox.zygote",
                 str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                cwd=home, env=child_env(self._token, home, 1),
                pass_fds=(theirs.fileno(),), start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            leftovers.release(home, lock)
            self._home = None
            return f"cannot start the warm parent: {exc}"
        finally:
            theirs.close()
        self._control = ours
        threading.Thread(target=self._listen, daemon=True).start()
        return None

    def close(self) -> None:
        """Stop the warm parent and every worker it still has, and remove its folder
        (torch's caches in it included)."""
        with self._lock:
            proc, control, home = self._proc, self._control, self._home
            self._proc = self._control = self._home = None
        if control is not None:
            with contextlib.suppress(OSError):
                control.close()
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
            reaper.kill_tree(proc.pid, self._token)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
        if home is not None:
            leftovers.release(*home)

    def __enter__(self) -> WarmRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Start the warm parent if needed and wait until it can fork; False if it cannot."""
        self.warm_up()
        self._ready.wait(timeout)
        return self.is_warm

    @property
    def is_warm(self) -> bool:
        return self._ready.is_set() and not self._failed

    # ------------------------------------------------------------------ runner
    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        return RetriedOnce(lambda: self._start_one(request, on_output))

    def _start_one(self, request: RunRequest, on_output: OutputCallback | None) -> ProcessRun:
        self.warm_up()
        self._ready.wait(START_TIMEOUT_S)
        if self._failed or self._control is None:
            return ProcessRun(self.cold.spawn, request, on_output)
        try:
            return ProcessRun(self.spawn, request, on_output)
        except WarmStartError:
            return ProcessRun(self.cold.spawn, request, on_output)

    def _spawn(self, run_dir: str, env: dict[str, str], result_fd: int) -> ChildProcess:
        """Fork a worker from the warm parent (which adopts and kills its orphans)."""
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        ident = next(self._ids)
        slot: list = [threading.Event(), None]
        self._pending[ident] = slot
        try:
            message = json.dumps({"id": ident, "run_dir": run_dir, "env": env}).encode()
            assert self._control is not None
            socket.send_fds(self._control, [message], [stdin_r, stdout_w, stderr_w, result_fd])
        except (OSError, AssertionError) as exc:
            for fd in (stdin_w, stdout_r, stderr_r):  # the other three: below
                os.close(fd)
            raise WarmStartError(str(exc)) from exc
        finally:
            # Each fd is closed once: a second close could hit another run's new fd, which
            # another thread may have been given the same number meanwhile.
            for fd in (stdin_r, stdout_w, stderr_w):
                os.close(fd)
        if not slot[0].wait(10) or slot[1] is None:
            for fd in (stdin_w, stdout_r, stderr_r):
                os.close(fd)
            raise WarmStartError("the warm parent did not answer")
        pid = slot[1]
        child = _Forked(pid, os.fdopen(stdin_w, "wb"), os.fdopen(stdout_r, "rb"),
                        os.fdopen(stderr_r, "rb"))
        with self._lock:
            early = self._workers.pop(-pid, None)  # its exit overtook the reply
            self._workers[pid] = child
        if early is not None:
            child.ended(early.returncode or 0, early.cpu_s)
        return child

    def _listen(self) -> None:
        control = self._control
        assert control is not None
        while True:
            try:
                data = control.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            message = json.loads(data)
            if message.get("ready"):
                self._ready.set()
            elif "exit" in message:
                self._worker_ended(int(message["exit"]), int(message["code"]),
                                   message.get("cpu"))
            elif "id" in message:
                slot = self._pending.pop(int(message["id"]), None)
                if slot is not None:
                    slot[1] = int(message["pid"])
                    slot[0].set()
        self._fail(self._why_dead())

    def _worker_ended(self, pid: int, code: int, cpu_s: float | None) -> None:
        with self._lock:
            child = self._workers.pop(pid, None)
            if child is None:  # reply not processed yet: remember the exit
                placeholder = _Forked(pid, None, None, None)
                placeholder.returncode, placeholder.cpu_s = code, cpu_s
                self._workers[-pid] = placeholder
                return
        child.ended(code, cpu_s)

    def _why_dead(self) -> str:
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            text = ""
        return "the warm parent stopped" + (f": {text[-500:]}" if text else "")

    def _fail(self, why: str) -> None:
        self._failed = why
        self._ready.set()
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for child in workers:
            if child.stdin is not None:
                child.ended(-9)
        for slot in list(self._pending.values()):
            slot[0].set()
