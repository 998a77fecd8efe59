"""Run code in a separate, limited process and collect what it reports.

Implements the core's ``Runner`` protocol (``tutor.core.runs``): the cold
``SubprocessRunner`` starts a fresh interpreter per run, and the warm runners
(``tutor.sandbox.warm``, ``tutor.sandbox.spare``) take its place without changing any
caller. Results are decoded into core values here; a run that produced none gets a
structured status (timeout, memory, a signal...) and the core words it. Nothing here
imports torch.

The device is decided here, before the worker starts (``tutor.sandbox.gpu``), so a worker
isolates itself for the device it will really use. The clock that stops a runaway program is
the CPU time of the step's code, counted from the worker's ``Started`` message (RLIMIT_CPU,
set by the worker as the code starts); the wall clock is a backstop: ``Limits.start_s`` until
the code starts, ``Limits.wall_limit_s`` after. What the code used (CPU, time spent waiting
for a CPU) is measured for every run, so the core can say when the machine was busy.
"""

from __future__ import annotations

import codecs
import contextlib
import math
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from tutor.core.run_feedback import not_started
from tutor.core.runs import Limits, OutputCallback, RunHandle, RunRequest, RunResult, Status
from tutor.sandbox import gpu, isolation, leftovers, reaper, sentinel
from tutor.sandbox import wire as w
from tutor.sandbox.usage import process_usage

# Variables a worker may see; everything else in the tutor's environment stays behind.
ENV_ALLOWLIST = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES",
    "CUDA_HOME", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "HIP_VISIBLE_DEVICES",
    "PYTORCH_NVML_BASED_CUDA_CHECK", "SYSTEMROOT",
)
_SIGNAL_STATUS: dict[int, Status] = {
    signal.SIGXCPU: "cpu_time", signal.SIGKILL: "killed", signal.SIGXFSZ: "file_too_large",
}


def is_cuda(device: str) -> bool:
    """Whether a run on ``device`` (as ``gpu.decide`` made it: never ``auto``) uses CUDA."""
    return device.startswith("cuda")


def child_limits(limits: Limits, device: str) -> w.ChildLimits:
    """The limits as the worker applies them: rlimits (no RLIMIT_DATA for CUDA, which
    reserves address space of the GPU's size; CPU time from the code's start) and the
    result cap."""
    memory = 0 if (is_cuda(device) or not limits.memory_bytes) else int(limits.memory_bytes)
    return w.ChildLimits(
        cpu_s=math.ceil(limits.timeout_s), start_cpu_s=math.ceil(limits.start_s),
        data_bytes=memory, fsize_bytes=limits.fsize_bytes, nofile=limits.nofile,
        processes=limits.processes, result_bytes=limits.result_bytes,
    )


def encode_request(request: RunRequest, device: str, cuda_off: dict[str, str]) -> bytes:
    """The request as the worker reads it from its stdin, for the device decided for it."""
    slots = None
    if is_cuda(device):
        slots = w.GpuSlots(dir=isolation.gpu_lock_dir(), slots=isolation.gpu_runs())
    return w.pack(w.Request(
        role=request.role, code=request.code, filename=request.filename, setup=request.setup,
        probes=list(request.probes), metrics=list(request.metrics), judge=request.judge,
        seed=request.seed, device=device, data_dir=request.data_dir,
        threads=request.threads, limits=child_limits(request.limits, device),
        protect=list(request.protect), cuda_off=dict(cuda_off), gpu=slots,
        shapes=request.shapes,
        layer_inputs=[(name, list(shape)) for name, shape in request.layer_inputs],
    ))


# --------------------------------------------------------------------------- cold runner


class SubprocessRunner:
    """A fresh ``python -I`` per run: slow to start (torch import), simple and isolated."""

    def __init__(self, python: str | None = None):
        self.spawn = spawn_interpreter(python or sys.executable)
        leftovers.sweep_once()  # folders of tutors that died before they could remove them

    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        return RetriedOnce(lambda: ProcessRun(self.spawn, request, on_output))

    def warm_up(self) -> None:
        """Nothing to start ahead: every run starts its own interpreter."""

    def wait_ready(self, timeout: float = 0.0) -> bool:
        return False  # runs start cold

    def close(self) -> None:
        """Nothing outlives a run."""


def child_env(token: str, run_dir: str, threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ENV_ALLOWLIST}
    env.update(
        HOME=run_dir, TMPDIR=run_dir, PYTHONIOENCODING="utf-8",
        OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
        MPLBACKEND="Agg", NO_COLOR="1",
    )
    env[reaper.TOKEN_VAR] = token
    return env


class ChildProcess(Protocol):
    """The part of ``subprocess.Popen`` a run needs; the warm pool provides the same."""

    pid: int
    returncode: int | None
    stdin: Any
    stdout: Any
    stderr: Any

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


# Starts a worker in ``run_dir`` with ``env``, its result channel on ``result_fd``.
Spawner = Callable[[str, dict[str, str], int], ChildProcess]


def spawn_interpreter(python: str, ready_fd: int | None = None) -> Spawner:
    """With ``ready_fd``, the worker imports torch before it reads its request and writes
    one byte to ``ready_fd`` once it has (a spare, see ``tutor.sandbox.spare``). Each worker
    gets the tutor's lifeline, for its sentinel (``tutor.sandbox.sentinel``)."""
    preload = [] if ready_fd is None else ["--preload", str(ready_fd)]
    keep = (ready_fd,) if ready_fd is not None else ()

    def spawn(run_dir: str, env: dict[str, str], result_fd: int) -> ChildProcess:
        lifeline = sentinel.lifeline()
        return subprocess.Popen(
            [python, "-I", "-u", "-B", "-m", "tutor.sandbox.child", str(result_fd), *preload,
             "--lifeline", str(lifeline)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=run_dir, env=env, pass_fds=(result_fd, lifeline, *keep),
            start_new_session=True,
        )

    return spawn


@dataclass
class Launched:
    """A started worker and what was decided for it: its folder, its run token (in the
    environment of every process it starts) and the read end of its result channel."""

    proc: ChildProcess
    run_dir: str
    token: str
    results: BinaryIO
    dir_lock: int | None = None  # held while the folder is in use (``tutor.sandbox.leftovers``)


def launch(spawn: Spawner, threads: int) -> Launched:
    """Start a worker with a fresh folder, run token and result channel."""
    token = secrets.token_hex(8)
    run_dir, dir_lock = leftovers.make(leftovers.RUN_PREFIX)
    read_fd, write_fd = os.pipe()
    try:
        proc = spawn(run_dir, child_env(token, run_dir, threads), write_fd)
    except BaseException:
        os.close(read_fd)
        leftovers.release(run_dir, dir_lock)
        raise
    finally:
        os.close(write_fd)
    return Launched(proc, run_dir, token, os.fdopen(read_fd, "rb"), dir_lock)


class ProcessRun:
    """One worker process, its three channels and its deadline."""

    def __init__(self, spawn: Spawner, request: RunRequest, on_output: OutputCallback | None,
                 launched: Launched | None = None,
                 decided: tuple[str, dict[str, str]] | None = None):
        """Runs ``request`` in ``launched``, a worker ``spawn`` started ahead (a spare), or
        else in one ``spawn`` starts now; ``decided`` (the CUDA probe's trials) gives the
        device and the layers off instead of ``tutor.sandbox.gpu``."""
        self.request = request
        self.on_output = on_output
        self.started = time.monotonic()
        self.deadline = self.started + request.limits.start_s
        if decided is None:
            device = gpu.decide(request.device)
            decided = device, gpu.layers_off(device)
        self.device, self.cuda_off = decided
        self.code_started: float | None = None  # when the worker said its code started
        self.opening: w.Started | None = None
        self.sampled: tuple[float, float | None] | None = None  # (CPU, waited) lately
        self.flags: set[str] = set()
        self.messages: queue.Queue[tuple[str, Any, list[bytes]]] = queue.Queue()
        self.stdout_parts: list[str] = []
        self.stderr_parts: list[bytes] = []
        self._lock = threading.Lock()
        self._closed = False
        self._released = False  # the run folder is gone (see _release)
        self.result: RunResult | None = None

        self.spawned_by = spawn
        worker = launched or launch(spawn, request.threads)
        self.proc, self.run_dir, self.token = worker.proc, worker.run_dir, worker.token
        self.results, self.dir_lock = worker.results, worker.dir_lock
        # Each reader closes its own channel when it ends, never another thread: a number
        # closed under a reader could be given to another run's new pipe (its request, say)
        # before the reader's next read, which would then take that run's bytes.
        self.readers = [
            threading.Thread(target=self._owning, args=(self._read_stdout, self.proc.stdout),
                             daemon=True),
            threading.Thread(target=self._owning, args=(self._read_stderr, self.proc.stderr),
                             daemon=True),
            threading.Thread(target=self._owning, args=(self._read_results, self.results),
                             daemon=True),
        ]
        for reader in self.readers:
            reader.start()
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(encode_request(request, self.device, self.cuda_off))
            self.proc.stdin.flush()
            if not request.judge:
                self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # the worker died at once; wait() reports how

    # ------------------------------------------------------------------ readers
    @staticmethod
    def _owning(read: Callable[[], None], channel: BinaryIO | None) -> None:
        """Run a reader, then close the channel it read (it is the only one to)."""
        try:
            read()
        finally:
            if channel is not None:
                with contextlib.suppress(OSError):
                    channel.close()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        size, cap = 0, self.request.limits.output_bytes
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            if size + len(chunk) > cap:
                chunk = chunk[: max(0, cap - size)]
                self._flag("output_limit")
            size += len(chunk)
            text = decoder.decode(chunk)
            if text:
                self.stdout_parts.append(text)
                if self.on_output:
                    with contextlib.suppress(Exception):
                        self.on_output(text)
            if "output_limit" in self.flags:
                self._kill()
                break

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        size, cap = 0, self.request.limits.stderr_bytes
        fd = self.proc.stderr.fileno()
        while chunk := os.read(fd, 65536):
            if size < cap:
                self.stderr_parts.append(chunk[: cap - size])
            size += len(chunk)

    def _read_results(self) -> None:
        """``Started``, the worker's result, then a judge's metrics; anything else is a
        protocol error."""
        limit = self.request.limits.result_bytes
        try:
            opening, blobs = w.read_opening(self.results, limit)
            if isinstance(opening, w.Started):
                self.messages.put(("started", opening, []))
                result, blobs = self._read_streamed(limit)
            else:
                result = opening
            self.messages.put(("message", result, blobs))
            if self.request.judge and result.status == "ok":
                self.messages.put(("message", *w.read_message(self.results, w.Measured, limit)))
            if self.results.read(1):
                self.messages.put(("error", "unexpected bytes after the results", []))
            else:
                self.messages.put(("eof", None, []))
        except w.FrameError as exc:
            if "closed" in str(exc) and not self._got_any():
                self.messages.put(("eof", None, []))
            else:
                if str(exc) == "result too large":
                    self._flag("too_large")  # before the event: wait() reads the flag then
                self.messages.put(("error", str(exc), []))
                self._kill()
        except (OSError, ValueError) as exc:
            self.messages.put(("error", str(exc), []))

    def _read_streamed(self, limit: int) -> tuple[w.Result, list[bytes]]:
        """Pictures and progress as the code sends them (to ``on_output``), then the result."""
        sent = {"shown": 0, "reported": 0, "shapes": 0}
        caps = {"shown": w.SHOWN_PER_RUN, "reported": w.REPORTED_PER_RUN, "shapes": 1}
        while True:
            header, blobs = w.read_streamed(self.results, limit)
            if isinstance(header, w.Result):
                return header, blobs
            event = w.event_value(header, blobs)  # forged content: a FrameError, as any
            kind = ("shown" if isinstance(header, w.Shown) else
                    "shapes" if isinstance(header, w.Shapes) else "reported")
            sent[kind] += 1
            if self.on_output and sent[kind] <= caps[kind]:
                with contextlib.suppress(Exception):
                    self.on_output(event)

    def _got_any(self) -> bool:
        return "got_message" in self.flags

    def _flag(self, name: str) -> None:
        with self._lock:
            self.flags.add(name)

    # ------------------------------------------------------------------ control
    def _next_message(self) -> tuple[str, Any, list[bytes]]:
        """The next event from the result channel, or ('timeout'|'cancelled', ...)."""
        while True:
            if "cancelled" in self.flags:
                return ("cancelled", None, [])
            left = self.deadline - time.monotonic()
            if left <= 0:
                self._sample()
                return ("timeout", None, [])
            try:
                event = self.messages.get(timeout=min(left, 0.05))
            except queue.Empty:
                self._sample()
                if self.proc.poll() is not None and self.messages.empty():
                    # Exited; give the reader a moment to deliver what it has.
                    try:
                        return self.messages.get(timeout=0.5)
                    except queue.Empty:
                        return ("eof", None, [])
                continue
            if event[0] == "started":
                self._started(event[1])
                continue
            if event[0] == "message":
                self._flag("got_message")
            else:
                self._sample()  # the end of the channel: the worker's last figures
            return event

    def _started(self, opening: w.Started) -> None:
        """The step's code started: from now on the backstop is the wall limit."""
        self.opening = opening
        self.code_started = time.monotonic()
        self.deadline = self.code_started + self.request.limits.wall_limit_s

    def _sample(self) -> None:
        """What the worker has used so far (Linux), for when it is stopped without a word;
        read before the worker is reaped, its final figures (a zombie keeps them)."""
        if self.code_started is None:
            return
        final = getattr(self.proc, "cpu_s", None)  # a forked worker's, from its parent
        if final is not None:
            self.sampled = (final, self.sampled[1] if self.sampled else None)
        elif self.proc.returncode is None:
            sample = process_usage(self.proc.pid)
            if sample is not None:
                self.sampled = sample

    def wait(self) -> RunResult:
        """Wait for the first result (or the end). A judge stays alive for ``judge()``."""
        if self.result is not None:
            return self.result
        event = self._next_message()
        result = self._result_from(event)
        if not (self.request.judge and result.ok):
            self._finish(result)
            if event[0] == "message":
                self._refuse_late_bytes(result)
        self.result = result
        return result

    def _refuse_late_bytes(self, result: RunResult) -> None:
        """Bytes after the first result (the learner's code wrote a frame of its own ahead
        of the worker's) mean that the first one may be forged: a protocol error. Called
        once the readers are done, so they have seen the channel's end."""
        while True:
            try:
                kind, detail, _ = self.messages.get_nowait()
            except queue.Empty:
                return
            if kind in ("error", "message"):
                result.status, result.detail = "protocol", (
                    str(detail) if kind == "error" else "more than one result")
                result.values, result.error, result.failed_in, result.wire = {}, None, "", None
                return

    def judge(self, learner: RunResult) -> dict[str, Any]:
        """Send the learner's result; return the decoded metric values by id."""
        first = self.wait()
        if not first.ok or not isinstance(learner.wire, tuple):
            return {}
        header, blobs = learner.wire
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(w.pack(header, blobs))
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self.deadline = max(self.deadline, time.monotonic() + self.request.limits.wall_limit_s)
        kind, measured, measured_blobs = self._next_message()
        try:
            if kind != "message" or not isinstance(measured, w.Measured):
                return {}
            return w.values_of(measured, measured_blobs)
        except w.FrameError:
            return {}
        finally:
            self._finish(first)

    def cancel(self) -> None:
        self._flag("cancelled")
        self._kill()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        with contextlib.suppress(Exception):
            if self.proc.stdin:
                self.proc.stdin.close()  # the other three are their readers' to close
        self._release()

    def _release(self) -> None:
        """Remove the run's folder, once: as soon as its processes are gone, so that a tutor
        killed between a run's end and its handle's close leaves nothing (its sentinel was
        killed with the run)."""
        with self._lock:  # close() and wait() may both get here, in two threads
            if self._released:
                return
            self._released = True
        leftovers.release(self.run_dir, self.dir_lock)  # closes the lock's fd: once only

    def _kill(self) -> None:
        adopts_orphans = getattr(self.spawned_by, "adopts_orphans", False)
        if adopts_orphans and self.proc.poll() is not None:
            return  # a forked worker's orphans went to the warm parent, which kills them
        reaper.kill_tree(self.proc.pid, None if adopts_orphans else self.token)

    def _finish(self, result: RunResult) -> None:
        """End the process tree, collect the output and fill in the timings."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1.0)
        self._kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for reader in self.readers:
            reader.join(timeout=2)
        if self.proc.poll() is not None:
            self._release()
        result.stdout = "".join(self.stdout_parts)
        result.stderr = b"".join(self.stderr_parts).decode(errors="replace")
        result.duration_s = time.monotonic() - self.started
        if result.status == "ok" and "output_limit" in self.flags:
            result.status = "output_limit"

    # ------------------------------------------------------------------ statuses
    def _result_from(self, event: tuple[str, Any, list[bytes]]) -> RunResult:
        kind, header, blobs = event
        if kind == "message" and isinstance(header, w.Result):
            return self._measured(_decoded(header, blobs), header)
        if kind == "cancelled":
            self._kill()
            return self._measured(RunResult("cancelled"))
        if kind == "timeout":
            self._kill()
            return self._measured(RunResult(
                "timeout", failed_in="start" if self.code_started is None else ""))
        for flag, status in _FLAG_STATUS.items():
            if flag in self.flags:
                return self._measured(RunResult(status))
        if kind == "error":
            return RunResult("protocol", detail=str(header))
        return self._measured(self._ended_without_result())

    def _ended_without_result(self) -> RunResult:
        """The worker ended without a word. Before it said the code started (``Started``),
        nothing of the code ran: the worker failed ("start"), and the code is not to blame."""
        self._sample()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        self._sample()
        code = self.proc.returncode
        where = "start" if self.code_started is None else ""
        if code is not None and code < 0:
            sig = -code
            known = sig in signal.Signals._value2member_map_
            name = signal.Signals(sig).name if known else str(sig)
            status = _SIGNAL_STATUS.get(sig, "crashed")
            if status == "killed" and self._past_cpu_limit():
                status = "cpu_time"  # SIGXCPU ignored: the hard limit's SIGKILL
            return RunResult(status, signal=name, failed_in=where)
        return RunResult("exited", exit_code=code, failed_in=where)

    def _past_cpu_limit(self) -> bool:
        used = self._cpu_used()
        return used is not None and used >= self.request.limits.timeout_s - 0.5

    def _cpu_used(self, end: float | None = None) -> float | None:
        if self.opening is None:
            return None
        if end is None:
            end = self.sampled[0] if self.sampled is not None else None
        return None if end is None else max(0.0, end - self.opening.cpu_s)

    def _measured(self, result: RunResult, header: w.Result | None = None) -> RunResult:
        """What the code used, from its start: the worker's own figures when it reported,
        else the last sample taken here."""
        if self.code_started is None or self.opening is None:
            return result
        result.code_s = time.monotonic() - self.code_started
        if header is not None and header.cpu_s is not None:
            result.cpu_s = self._cpu_used(header.cpu_s)
            waited = header.wait_s
        else:
            result.cpu_s = self._cpu_used()
            waited = self.sampled[1] if self.sampled is not None else None
        if result.status == "cpu_time":  # it used at least its limit: a sample may lag
            result.cpu_s = max(result.cpu_s or 0.0, self.request.limits.timeout_s)
        if waited is not None and self.opening.wait_s is not None:
            result.waited_s = max(0.0, waited - self.opening.wait_s)
        with contextlib.suppress(OSError, AttributeError):
            result.load = os.getloadavg()[0] / (os.cpu_count() or 1)
        return result


class RetriedOnce:
    """A run whose worker ended before the code started is started again, once. No line of
    the code ran, so nothing is repeated, and a worker's hiccup costs a second try instead
    of a verdict that blames someone. (Fixed at the root since: a spare handed out while
    it still imported torch ended itself, and a reader could read a closed channel's number
    after another run's pipe got it.)"""

    def __init__(self, start: Callable[[], ProcessRun]):
        self._start = start
        self.run = start()
        self._again = False
        self._cancelled = False

    def __getattr__(self, name: str) -> Any:  # proc, flags...: the current run's
        if name == "run":  # not started: no run to ask
            raise AttributeError(name)
        return getattr(self.run, name)

    def wait(self) -> RunResult:
        result = self.run.wait()
        if self._again or self._cancelled or not not_started(result):
            return result
        self._again = True
        self.run.close()
        self.run = self._start()
        if self._cancelled:  # cancelled while the new one started
            self.run.cancel()
        return self.run.wait()

    def judge(self, learner: RunResult) -> dict[str, Any]:
        self.wait()
        return self.run.judge(learner)

    def cancel(self) -> None:
        self._cancelled = True
        self.run.cancel()

    def close(self) -> None:
        self.run.close()


def _decoded(header: w.Result, blobs: list[bytes]) -> RunResult:
    """A worker's result as core values; forged content makes it a protocol error."""
    isolation = {name: {"active": layer.active, "detail": layer.detail}
                 for name, layer in header.isolation.items()}
    status = _WORKER_STATUSES.get(header.status)
    if status is None:  # a forged frame: "timeout" is ours to say
        return RunResult("protocol", detail=f"a worker cannot report {header.status[:40]!r}",
                         device=header.device, isolation=isolation)
    error = w.error_info(header.error) if header.error is not None else None
    result = RunResult(status, error=error, device=header.device, failed_in=header.failed_in,
                       isolation=isolation)
    if result.ok or (result.status == "error" and header.values):
        try:  # an error's values are what the code defined before it (a partial verdict)
            result.values = w.values_of(header, blobs)
        except w.FrameError as exc:
            return RunResult("protocol", detail=str(exc), device=header.device,
                             isolation=isolation)
        if result.ok:
            result.wire = (header, blobs)
    return result


# What a worker may say of itself; the other statuses are the runner's to decide.
_WORKER_STATUSES: dict[str, Status] = {
    "ok": "ok", "error": "error", "setup_error": "setup_error", "exited": "exited",
    "memory": "memory", "too_large": "too_large",
}
# What the readers flag as they go, in the order that decides a run without a result.
_FLAG_STATUS: dict[str, Status] = {
    "output_limit": "output_limit", "too_large": "too_large", "cancelled": "cancelled",
}
