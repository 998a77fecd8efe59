"""Run code in a separate, limited process and collect what it reports.

The interface (``Runner.start(request) -> RunHandle``) is what the checker uses; the
cold ``SubprocessRunner`` starts a fresh interpreter per run, and a warm pool can take
its place without changing any caller. Nothing here imports torch.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from tutor.sandbox import frames, isolation, reaper

MiB = 1024 * 1024

# Variables a worker may see; everything else in the tutor's environment stays behind.
ENV_ALLOWLIST = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES",
    "CUDA_HOME", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "HIP_VISIBLE_DEVICES",
    "PYTORCH_NVML_BASED_CUDA_CHECK", "SYSTEMROOT",
)

OutputCallback = Callable[[str], None]


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 20.0
    memory_bytes: int | None = 4096 * MiB  # RLIMIT_DATA; not applied to CUDA runs
    fsize_bytes: int = 64 * MiB
    nofile: int = 1024
    output_bytes: int = 1 * MiB  # stdout beyond this stops the run
    stderr_bytes: int = 256 * 1024  # stderr beyond this is dropped
    processes: int = 256  # processes and threads of one run, where a layer can bound them

    def for_child(self, device: str) -> dict[str, int]:
        cuda = device.startswith("cuda") or device == "auto"
        return {
            "cpu_s": int(self.timeout_s * 2) + 10,
            "data_bytes": 0 if (cuda or not self.memory_bytes) else int(self.memory_bytes),
            "fsize_bytes": self.fsize_bytes,
            "nofile": self.nofile,
            "processes": self.processes,
        }


@dataclass
class RunRequest:
    """One program to run: a step's hidden setup, then ``code``, then the probes."""

    role: str  # "learner" or "reference"
    code: str
    filename: str = "<your code>"
    setup: str = ""
    probes: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    judge: bool = False  # a reference that then evaluates metrics on learner values
    seed: int = 0
    device: str = "cpu"
    data_dir: str = ""
    threads: int = 1
    limits: Limits = field(default_factory=Limits)
    # Paths the code may neither read nor write: the course (its solutions), the tutor's
    # home (progress), the learner's home and folder. Enforced where Landlock is available.
    protect: tuple[str, ...] = ()
    isolate_cuda: bool = False  # namespaces and Landlock on CUDA runs too (unverified)

    def message(self) -> bytes:
        cuda = self.device.startswith("cuda") or self.device == "auto"
        gpu = {"dir": isolation.gpu_lock_dir(), "slots": isolation.gpu_runs()} if cuda else None
        return frames.pack({
            "role": self.role, "code": self.code, "filename": self.filename,
            "setup": self.setup, "probes": self.probes, "metrics": self.metrics,
            "judge": self.judge, "seed": self.seed, "device": self.device,
            "data_dir": self.data_dir, "threads": self.threads,
            "limits": self.limits.for_child(self.device), "protect": list(self.protect),
            "isolate_cuda": self.isolate_cuda, "gpu": gpu,
        })


@dataclass
class RunResult:
    """What a run produced. ``status`` is one of:

    ok, error (the code raised), setup_error (the lesson's own setup raised), exited
    (the code exited before its results), timeout, memory, crashed (killed by a signal),
    output_limit, too_large, protocol (the result channel held something else), cancelled.
    """

    status: str
    header: dict[str, Any] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)
    error: frames.ErrorInfo | None = None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    returncode: int | None = None
    detail: str = ""  # a sentence for statuses that have no ErrorInfo

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def device(self) -> str:
        return str(self.header.get("device", ""))

    def exports(self) -> dict[str, Any]:
        """Decoded probe values keyed by probe id; raises FrameError on forged content."""
        raw = self.header.get("exports", {})
        if not isinstance(raw, dict):
            raise frames.FrameError("exports must be an object")
        return {str(k): frames.decode_value(v, self.blobs) for k, v in raw.items()}


class RunHandle(Protocol):
    def wait(self) -> RunResult: ...

    def judge(self, learner: RunResult) -> dict[str, Any]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class Runner(Protocol):
    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle: ...


# --------------------------------------------------------------------------- cold runner


class SubprocessRunner:
    """A fresh ``python -I`` per run: slow to start (torch import), simple and isolated."""

    def __init__(self, python: str | None = None):
        self.spawn = spawn_interpreter(python or sys.executable)

    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        return ProcessRun(self.spawn, request, on_output)


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
    one byte to ``ready_fd`` once it has (a spare, see ``tutor.sandbox.spare``)."""
    preload = [] if ready_fd is None else ["--preload", str(ready_fd)]
    keep = (ready_fd,) if ready_fd is not None else ()

    def spawn(run_dir: str, env: dict[str, str], result_fd: int) -> ChildProcess:
        return subprocess.Popen(
            [python, "-I", "-u", "-B", "-m", "tutor.sandbox.child", str(result_fd), *preload],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=run_dir, env=env, pass_fds=(result_fd, *keep), start_new_session=True,
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


def launch(spawn: Spawner, threads: int) -> Launched:
    """Start a worker with a fresh folder, run token and result channel."""
    token = secrets.token_hex(8)
    run_dir = tempfile.mkdtemp(prefix="pytorch-tutor-run-")
    read_fd, write_fd = os.pipe()
    try:
        proc = spawn(run_dir, child_env(token, run_dir, threads), write_fd)
    except BaseException:
        os.close(read_fd)
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        os.close(write_fd)
    return Launched(proc, run_dir, token, os.fdopen(read_fd, "rb"))


class ProcessRun:
    """One worker process, its three channels and its deadline."""

    def __init__(self, spawn: Spawner, request: RunRequest, on_output: OutputCallback | None,
                 launched: Launched | None = None):
        """Runs ``request`` in ``launched``, a worker ``spawn`` started ahead (a spare), or
        else in one ``spawn`` starts now."""
        self.request = request
        self.on_output = on_output
        self.started = time.monotonic()
        self.deadline = self.started + request.limits.timeout_s
        self.flags: set[str] = set()
        self.messages: queue.Queue = queue.Queue()
        self.stdout_parts: list[str] = []
        self.stderr_parts: list[bytes] = []
        self._lock = threading.Lock()
        self._closed = False
        self.result: RunResult | None = None

        self.spawned_by = spawn
        worker = launched or launch(spawn, request.threads)
        self.proc, self.run_dir, self.token = worker.proc, worker.run_dir, worker.token
        self.results = worker.results
        self.readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_results, daemon=True),
        ]
        for reader in self.readers:
            reader.start()
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(request.message())
            self.proc.stdin.flush()
            if not request.judge:
                self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # the worker died at once; wait() reports how

    # ------------------------------------------------------------------ readers
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
        expected = 2 if self.request.judge else 1
        try:
            for _ in range(expected):
                header, blobs = frames.read_message(self.results)
                self.messages.put(("message", header, blobs))
                if header.get("status") != "ok":
                    break
            if self.results.read(1):
                self.messages.put(("error", "unexpected bytes after the results", None))
            else:
                self.messages.put(("eof", None, None))
        except frames.FrameError as exc:
            if "closed" in str(exc) and not self._got_any():
                self.messages.put(("eof", None, None))
            else:
                self.messages.put(("error", str(exc), None))
                if str(exc) == "result too large":
                    self._flag("too_large")
                self._kill()
        except (OSError, ValueError) as exc:
            self.messages.put(("error", str(exc), None))

    def _got_any(self) -> bool:
        return "got_message" in self.flags

    def _flag(self, name: str) -> None:
        with self._lock:
            self.flags.add(name)

    # ------------------------------------------------------------------ control
    def _next_message(self) -> tuple[str, Any, Any]:
        """The next event from the result channel, or ('timeout'|'cancelled', ...)."""
        while True:
            if "cancelled" in self.flags:
                return ("cancelled", None, None)
            left = self.deadline - time.monotonic()
            if left <= 0:
                return ("timeout", None, None)
            try:
                event = self.messages.get(timeout=min(left, 0.05))
            except queue.Empty:
                if self.proc.poll() is not None and self.messages.empty():
                    # Exited; give the reader a moment to deliver what it has.
                    try:
                        return self.messages.get(timeout=0.5)
                    except queue.Empty:
                        return ("eof", None, None)
                continue
            if event[0] == "message":
                self._flag("got_message")
            return event

    def wait(self) -> RunResult:
        """Wait for the first result (or the end). A judge stays alive for ``judge()``."""
        if self.result is not None:
            return self.result
        event = self._next_message()
        result = self._result_from(event)
        if not (self.request.judge and result.ok):
            self._finish(result)
        self.result = result
        return result

    def judge(self, learner: RunResult) -> dict[str, Any]:
        """Send the learner's exported values; return decoded metric values by id."""
        first = self.wait()
        if not first.ok:
            return {}
        message = frames.pack(learner.header, learner.blobs)
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(message)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self.deadline = max(self.deadline, time.monotonic() + 60)
        event = self._next_message()
        try:
            if event[0] != "message":
                return {}
            header, blobs = event[1], event[2]
            metrics = header.get("metrics", {})
            return {str(k): frames.decode_value(v, blobs) for k, v in metrics.items()}
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
        with contextlib.suppress(OSError):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr, self.results):
            with contextlib.suppress(Exception):
                if stream:
                    stream.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)

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
        result.stdout = "".join(self.stdout_parts)
        result.stderr = b"".join(self.stderr_parts).decode(errors="replace")
        result.returncode = self.proc.returncode
        result.duration_s = time.monotonic() - self.started
        if result.status == "ok" and "output_limit" in self.flags:
            result.status = "output_limit"
            result.detail = output_limit_detail(self.request.limits)

    # ------------------------------------------------------------------ statuses
    def _result_from(self, event: tuple[str, Any, Any]) -> RunResult:
        kind, a, b = event
        limits = self.request.limits
        if kind == "message":
            header, blobs = a, b
            status = str(header.get("status", "protocol"))
            error = None
            if isinstance(header.get("error"), dict):
                error = frames.ErrorInfo.from_json(header["error"])
            return RunResult(status=status, header=header, blobs=blobs, error=error)
        if kind == "cancelled":
            self._kill()
            return RunResult("cancelled", detail="The run was cancelled.")
        if kind == "timeout":
            self._kill()
            return RunResult("timeout", detail=(
                f"Your code took longer than {limits.timeout_s:g} s and was stopped. Look for a "
                "loop that never ends, or train on fewer batches while you experiment."))
        if "output_limit" in self.flags:
            return RunResult("output_limit", detail=output_limit_detail(limits))
        if "too_large" in self.flags:
            return RunResult("too_large", detail=(
                "The values your code produced are too large to check (over 64 MiB). Keep the "
                "variables the step asks for small."))
        if "cancelled" in self.flags:
            return RunResult("cancelled", detail="The run was cancelled.")
        if kind == "error":
            return RunResult("protocol", detail=(
                "The result channel held bytes the tutor did not send itself; the run cannot "
                f"count ({a})."))
        return self._ended_without_result()

    def _ended_without_result(self) -> RunResult:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        code = self.proc.returncode
        if code is not None and code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if sig == signal.SIGXCPU:
                return RunResult("timeout", returncode=code, detail=(
                    "Your code used more CPU time than allowed and was stopped."))
            if sig == signal.SIGKILL:
                return RunResult("crashed", returncode=code, detail=(
                    "The process was killed (SIGKILL), most likely for using too much memory. "
                    "Use smaller tensors or fewer at once."))
            if sig == signal.SIGXFSZ:
                return RunResult("crashed", returncode=code, detail=(
                    "Your code wrote a file larger than allowed (64 MiB)."))
            return RunResult("crashed", returncode=code, detail=(
                f"The process crashed ({name}). This happens with ctypes, a broken extension "
                "or a native library error; the traceback is lost."))
        return RunResult("exited", returncode=code, detail=(
            f"Your code ended the process (exit code {code}) before the checks could run. "
            "Remove calls such as os._exit() or sys.exit()."))


def output_limit_detail(limits: Limits) -> str:
    size = f"{limits.output_bytes / MiB:g} MiB" if limits.output_bytes >= MiB else (
        f"{limits.output_bytes // 1024} KiB")
    return (f"Your code printed more than {size}, so the run was stopped. Print less, for "
            "example one line every 100 batches.")
