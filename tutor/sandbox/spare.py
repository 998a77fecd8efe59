"""A runner that keeps cold workers started ahead: each imports torch while it waits for its
request, so a run starts in milliseconds without forking.

For platforms where forking a process that imported torch is unsafe (macOS) or impossible;
where fork works, ``WarmRunner`` is cheaper (one warm parent instead of an interpreter per
run). ``start`` hands a spare to a ``ProcessRun`` and, once that run has ended, starts its
replacement in a background thread (an import of about a second, off the learner's path);
a run that finds no spare, or asks for another thread count than the spares were started
with, starts cold.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time

from tutor.core.runs import OutputCallback, RunHandle, RunRequest
from tutor.sandbox import gpu, leftovers, reaper
from tutor.sandbox.runner import (
    ChildProcess,
    Launched,
    ProcessRun,
    RetriedOnce,
    Spawner,
    SubprocessRunner,
    launch,
    spawn_interpreter,
)

START_TIMEOUT_S = 120.0


class Spare:
    """A worker started ahead, and the pipe on which it says that it has imported torch.

    A thread of its own listens on that pipe and is the only one to close it: a number
    closed while another thread waits on it could be given to another run's new pipe."""

    def __init__(self, spawn: Spawner, launched: Launched, ready_fd: int):
        self.spawn, self.launched = spawn, launched
        self._ready = False
        self._answered = threading.Event()  # it said ready, or it died first
        threading.Thread(target=self._listen, args=(ready_fd,), daemon=True).start()

    def _listen(self, ready_fd: int) -> None:
        try:
            self._ready = os.read(ready_fd, 1) == b"1"  # b"": it died first
        except OSError:
            pass
        finally:
            os.close(ready_fd)
            self._answered.set()

    @property
    def pid(self) -> int:
        return self.launched.proc.pid

    def alive(self) -> bool:
        return self.launched.proc.poll() is None

    def wait_ready(self, timeout: float) -> bool:
        """True once it has imported torch; False while it has not, or if it died first."""
        self._answered.wait(timeout)
        return self._ready

    def discard(self) -> None:
        """End the worker (it ran nothing yet) and remove its folder."""
        proc = self.launched.proc
        reaper.kill_tree(proc.pid, self.launched.token)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout, proc.stderr, self.launched.results):
            with contextlib.suppress(OSError):
                if stream:
                    stream.close()
        leftovers.release(self.launched.run_dir, self.launched.dir_lock)


class SpareRunner:
    """Keeps ``spares`` workers waiting, started with ``threads`` compute threads."""

    def __init__(self, python: str | None = None, spares: int = 1, threads: int = 1):
        self.python = python or sys.executable
        self.cold = SubprocessRunner(self.python)
        self.spares = spares
        self.threads = threads
        self._idle: list[Spare] = []
        self._changed = threading.Condition()
        self._filling = False
        self._filler: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ life cycle
    def warm_up(self) -> None:
        """Start the missing spares in the background (idempotent), and the CUDA probe
        where there is a driver."""
        gpu.start()
        with self._changed:
            if self._closed or self._filling or len(self._idle) >= self.spares:
                return
            self._filling = True
            self._filler = threading.Thread(target=self._fill, daemon=True)
            self._filler.start()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Start the spares if needed and wait until each has imported torch; False if one
        could not (in time)."""
        deadline = time.monotonic() + timeout
        self.warm_up()
        with self._changed:
            self._changed.wait_for(lambda: not self._filling, timeout)
            idle = list(self._idle)
        return len(idle) >= self.spares and all(
            spare.wait_ready(max(0.0, deadline - time.monotonic())) for spare in idle)

    def close(self) -> None:
        """End the waiting spares; runs already handed out end with their handles."""
        with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            filler = self._filler
        if filler is not None:
            filler.join(timeout=10)
        for spare in idle:
            spare.discard()

    def __enter__(self) -> SpareRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ runner
    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        return RetriedOnce(lambda: self._start_one(request, on_output))

    def _start_one(self, request: RunRequest, on_output: OutputCallback | None) -> ProcessRun:
        spare = self._take() if request.threads == self.threads else None
        handle = ProcessRun(self.cold.spawn if spare is None else spare.spawn, request,
                            on_output, None if spare is None else spare.launched)
        self._refill_after(handle.proc)
        return handle

    def _refill_after(self, proc: ChildProcess) -> None:
        """Start the replacement once ``proc`` has ended: its torch import takes a core for
        about a second, which on a small machine would slow the very run it replaces."""

        def refill() -> None:
            proc.wait()
            self.warm_up()

        threading.Thread(target=refill, daemon=True).start()

    def _take(self) -> Spare | None:
        """The spare that has imported torch, else the one furthest along; dead ones go."""
        with self._changed:
            idle = self._idle
            alive = [spare for spare in idle if spare.alive()]
            chosen = next((s for s in alive if s.wait_ready(0)), alive[0] if alive else None)
            self._idle = [spare for spare in alive if spare is not chosen]
        for spare in idle:
            if spare not in alive:
                spare.discard()
        return chosen

    def _fill(self) -> None:
        while True:
            with self._changed:
                if self._closed or len(self._idle) >= self.spares:
                    self._filling = False
                    self._changed.notify_all()
                    return
            try:
                spare = self._start_spare()
            except OSError:  # no process to be had now: runs start cold, a later start retries
                with self._changed:
                    self._filling = False
                    self._changed.notify_all()
                return
            with self._changed:
                if not self._closed:
                    self._idle.append(spare)
                    continue
            spare.discard()

    def _start_spare(self) -> Spare:
        ready_r, ready_w = os.pipe()
        spawn = spawn_interpreter(self.python, ready_fd=ready_w)
        try:
            launched = launch(spawn, self.threads)
        except BaseException:
            os.close(ready_r)
            raise
        finally:
            os.close(ready_w)
        return Spare(spawn, launched, ready_r)
