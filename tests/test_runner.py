"""The sandboxed runners: every way learner code can misbehave ends in a structured status,
never values, never a hung tutor, and nothing left running.

Which level owns what, for hostile code:

- here, the runner level, on the cold, the warm (forked) and the spare runner alike: the
  status of each misbehaviour and what is left running afterwards. An endless loop that
  ignores SIGTERM (``timeout``), a memory bomb (``memory``), exiting early (``exited``)
  and crashing (``crashed`` with the signal's name), printing without end
  (``output_limit``), values past the result cap (``too_large``), a grandchild that called
  ``setsid()``, a subprocess meant to outlive the run, a ``torch.py`` in the working
  folder, and forged bytes on the result channel (``protocol``).
- tests/test_run_feedback.py: the words the learner reads for each status.
- tests/test_checker.py: a run that brought back no values is a failed verdict in those words.
- tests/test_hostile.py: end to end through the checker, what only the verdict or the
  machine shows (cheating that runs to the end, fork bombs, the network, files, signals).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import alive, gone, spare_pids

from tutor.core.runs import (
    REQUEST_UNREAD_EXIT,
    AnyProbe,
    Limits,
    Runner,
    RunRequest,
    RunResult,
    ValueProbe,
)
from tutor.core.values import MISSING, Tensor
from tutor.sandbox import reaper
from tutor.sandbox.runner import SubprocessRunner
from tutor.sandbox.spare import SpareRunner
from tutor.sandbox.warm import WarmRunner

pytestmark = pytest.mark.slow

VALUE_T = (ValueProbe(id="value:t", name="t"),)


class Run:
    """Runs code on one runner and remembers the pid of the last worker."""

    def __init__(self, kind: str, runner: Runner, warm: WarmRunner, spare: SpareRunner):
        self.kind, self.runner, self.warm, self.spare = kind, runner, warm, spare
        self.pid = 0

    def __call__(self, code: str, probes: tuple[AnyProbe, ...] = VALUE_T,
                 seen: list[str] | None = None, **limits: float) -> RunResult:
        request = RunRequest(role="learner", code=code, filename="/work/step.py",
                             probes=probes, limits=Limits(**({"timeout_s": 15} | limits)))
        spares = spare_pids(self.spare) if self.kind == "spare" else set()
        handle = self.runner.start(request, on_output=seen.append if seen is not None else None)
        self.pid = handle.proc.pid
        try:
            result = handle.wait()
        finally:
            handle.close()
        if self.kind == "warm":
            assert self.warm.is_warm, f"fell back to cold starts: {self.warm._failed}"
        if self.kind == "spare":
            assert self.pid in spares, "started cold instead of handing out a spare"
        return result


@pytest.fixture(params=["cold", "warm", "spare"])
def run(request: pytest.FixtureRequest, home: Path, warm_runner: WarmRunner,
        spare_runner: SpareRunner) -> Run:
    """Run code with the cold runner, the warm (forking) one and the spare one: all must hold."""
    runner: Runner = {"cold": SubprocessRunner(), "warm": warm_runner,
                      "spare": spare_runner}[request.param]
    return Run(request.param, runner, warm_runner, spare_runner)


def without_values(result: RunResult, status: str) -> None:
    assert result.status == status, (result.status, result.error, result.detail)
    assert not result.ok and result.values == {}


# --------------------------------------------------------------------------- values


def test_values_and_streamed_output(run: Run) -> None:
    seen: list[str] = []
    result = run("import torch\nprint('epoch 1', flush=True)\nt = torch.ones(2, 3)\n", seen=seen)
    assert result.ok, result
    assert "epoch 1" in "".join(seen) and "epoch 1" in result.stdout
    t = result.values["value:t"]
    assert isinstance(t, Tensor) and t.shape == (2, 3) and t.dtype == "float32"
    assert t.data.sum() == 6 and result.device == "cpu"
    assert gone(run.pid, within=10)


def test_exception_traceback_uses_the_learners_line_numbers(run: Run) -> None:
    result = run("import torch\n\nx = torch.ones(2, 3)\ny = x @ x\n")
    assert result.status == "error" and not result.ok
    assert result.values == {"value:t": MISSING}  # what the code had made when it raised
    assert result.error.type == "RuntimeError" and result.error.line == 4
    assert result.error.frames[-1].text == "y = x @ x"
    assert result.detail == ""  # the sandbox words nothing: the core does


def test_environment_is_scrubbed(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    result = run("import os\nt = os.environ.get('SECRET_TOKEN', 'absent')\n")
    assert result.values["value:t"] == "absent"


# --------------------------------------------------------------------------- runaway code


@pytest.mark.parametrize("ignored", ["", "SIGXCPU"])
def test_a_loop_is_stopped_at_its_cpu_limit_counted_from_the_codes_start(run: Run,
                                                                         ignored: str) -> None:
    """The limit is the code's own CPU time: interpreter start and torch import excluded
    (a cold worker spends seconds there); ignoring SIGXCPU leads to the hard limit."""
    code = ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            + (f"signal.signal(signal.{ignored}, signal.SIG_IGN)\n" if ignored else "")
            + "while True: pass\n")
    started = time.monotonic()
    result = run(code, timeout_s=3, wall_s=60)  # the wall clock is not what stops it
    without_values(result, "cpu_time")
    assert result.cpu_s is not None and 2.9 <= result.cpu_s <= 6.5, result.cpu_s
    assert result.code_s is not None and result.code_s >= result.cpu_s - 0.5
    assert time.monotonic() - started < 90
    assert gone(run.pid, within=0)  # killed and reaped before wait() returned


def test_code_that_sleeps_is_stopped_at_the_wall_clock_backstop(run: Run) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(1e6)\n"
    started = time.monotonic()
    result = run(code, timeout_s=3, wall_s=4)
    without_values(result, "timeout")
    assert result.failed_in == "" and result.cpu_s is not None and result.cpu_s < 1
    assert 4 <= result.code_s < 8 and time.monotonic() - started < 40
    assert gone(run.pid, within=0)


def test_the_wall_clock_counts_from_the_codes_start_not_the_interpreters(run: Run) -> None:
    """A wall limit shorter than a cold start (importing torch) still lets the code run."""
    result = run("import time\ntime.sleep(0.5)\nt = 1\n", timeout_s=2, wall_s=1.5)
    assert result.ok, (result.status, result.failed_in)
    assert result.code_s is not None and 0.5 <= result.code_s < 1.5
    assert result.cpu_s is not None and result.cpu_s < 1.0


def test_a_run_that_cannot_start_in_time_says_so(run: Run) -> None:
    if run.kind != "cold":
        pytest.skip("warm and spare workers start at once")
    result = run("t = 1\n", start_s=0.05)
    without_values(result, "timeout")
    assert result.failed_in == "start" and result.cpu_s is None


def test_a_memory_bomb_gets_the_memory_status(run: Run) -> None:
    assert Limits().memory_bytes < 8 * 1024**3  # the default limit is the one that holds
    result = run("import torch\nt = torch.empty(8 * 1024**3, dtype=torch.uint8)\nt.fill_(1)\n")
    without_values(result, "memory")
    assert result.error is not None and result.error.line == 2


def test_values_past_the_result_cap_are_refused_as_too_large(run: Run) -> None:
    result = run("import torch\nt = torch.zeros(300_000)\n", result_bytes=1024 * 1024)
    without_values(result, "too_large")
    assert run("import torch\nt = torch.zeros(200_000)\n", result_bytes=1024 * 1024).ok


def test_printing_without_end_is_cut_and_stops_the_run(run: Run) -> None:
    result = run("while True:\n    print('x' * 10000)\n", output_bytes=200_000)
    without_values(result, "output_limit")
    assert 100_000 < len(result.stdout) <= 200_000
    assert result.code_s is not None and result.code_s < 10  # at the cap, not at a limit


# --------------------------------------------------------------------------- exits and crashes


@pytest.mark.parametrize("code, exit_code, raised", [
    ("import os\nos._exit(0)\n", 0, None),
    ("t = 1\nimport os\nos._exit(3)\n", 3, None),
    ("import sys\nsys.exit(0)\n", None, ("0", 2)),
    ("t = 1\nraise SystemExit('bye')\n", None, ("'bye'", 2)),
], ids=["os._exit", "value-then-os._exit", "sys.exit", "value-then-SystemExit"])
def test_exiting_before_the_results_brings_back_no_values(
        run: Run, code: str, exit_code: int | None, raised: tuple[str, int] | None) -> None:
    result = run(code)
    without_values(result, "exited")
    assert result.failed_in == ""  # the code started: its own exit, not the worker's
    if raised is None:  # the process ended: no traceback, an exit code
        assert result.exit_code == exit_code and result.error is None
    else:  # SystemExit: where the learner called it
        assert result.error.type == "SystemExit"
        assert (result.error.message, result.error.line) == raised


@pytest.mark.parametrize("code, status, signal", [
    ("import ctypes\nctypes.string_at(0)\n", "crashed", "SIGSEGV"),
    ("import os\nos.abort()\n", "crashed", "SIGABRT"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "killed", "SIGKILL"),
    ("import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
     "open('big', 'wb').write(bytes(2 * 1024 * 1024))\n", "file_too_large", "SIGXFSZ"),
], ids=["segfault", "abort", "sigkill", "file-size"])
def test_a_signal_gets_its_own_status_and_name(run: Run, code: str, status: str,
                                               signal: str) -> None:
    result = run(code, fsize_bytes=1024 * 1024)
    without_values(result, status)
    assert result.signal == signal and result.error is None


# --------------------------------------------------------------------------- escapes


def test_setsid_grandchild_does_not_survive(run: Run) -> None:
    code = """
import os, time
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        print(os.getpid(), flush=True)  # stdout: the sandbox may forbid writing elsewhere
        time.sleep(1000)
    os._exit(0)
time.sleep(1.0)
t = 1
"""
    result = run(code)
    assert result.ok, (result.status, result.error)
    assert gone(int(result.stdout.split()[0]), within=10)


def test_setsid_grandchild_of_a_timed_out_run_is_killed(run: Run) -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    print(os.getpid(), flush=True)
    time.sleep(1000)
time.sleep(1000)
"""
    result = run(code, timeout_s=8, wall_s=3)
    without_values(result, "timeout")
    assert gone(int(result.stdout.split()[0]), within=0)


def test_a_subprocess_started_by_learner_code_does_not_outlive_the_run(run: Run) -> None:
    marker = "1000.123"  # a sleep argument no other process on the machine uses
    result = run(f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])\nt = 1\n")
    assert result.ok

    def sleepers() -> list[int]:
        found = []
        for pid in reaper.processes():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and alive(pid):
                found.append(pid)
        return found

    deadline = time.monotonic() + 3
    while sleepers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sleepers() == []


def test_a_module_file_in_the_working_directory_cannot_shadow_the_real_one(run: Run) -> None:
    code = ("open('torch.py', 'w').write('raise SystemExit(1)')\n"
            "open('csv.py', 'w').write('raise SystemExit(1)')\n"
            "import csv, os, sys, torch\n"
            "t = [csv.__file__ != os.path.abspath('csv.py'), os.getcwd() in sys.path, "
            "'' in sys.path, hasattr(torch, 'ones')]\n")
    result = run(code)
    assert result.ok, result.error
    assert result.values["value:t"] == [True, False, False, True]


# --------------------------------------------------------------------------- the channel

FORGE = """
import os, sys
from tutor.sandbox import wire
fd = int(sys.argv[1])  # the worker's result channel
forged = wire.pack(wire.Result(status="ok", values={"value:t": wire.IntV(v=42)}))
"""


@pytest.mark.parametrize("code", [
    "import os\nfor fd in range(3, 64):\n    try: os.write(fd, b'PTT2PASSED')\n"
    "    except OSError: pass\nt = 1\n",
    FORGE + "os.write(fd, forged)\nt = 1\n",
    FORGE + "os.write(fd, wire.MAGIC + (2**31).to_bytes(4, 'big'))\nt = 1\n",
    FORGE + "os.write(fd, wire.MAGIC + (9).to_bytes(4, 'big') + b'{\"t\":\"x\"}')\nt = 1\n",
    FORGE + "os.write(fd, wire.pack(wire.Result(status='timeout')))\nos._exit(0)\n",
], ids=["junk", "frame-before-the-real-one", "huge-length", "wrong-header",
        "runner-status-then-exit"])
def test_forged_bytes_on_the_result_channel_are_a_protocol_error(run: Run, code: str) -> None:
    result = run(code)
    without_values(result, "protocol")
    assert result.detail  # what was wrong, for the technical note
    assert gone(run.pid, within=0)



def test_a_finished_runs_folder_is_gone_before_its_handle_is_closed(home: Path) -> None:
    """A tutor killed between a run's end and the end of the check (the reference done, the
    learner's code still running) must not leave the reference's folder behind: its
    sentinel died with it, so the folder goes as soon as the run is over."""
    import os
    request = RunRequest(role="learner", code="t = 1\n", filename="/work/step.py",
                         probes=VALUE_T, limits=Limits(timeout_s=15))
    handle = SubprocessRunner().start(request)
    try:
        assert os.path.isdir(handle.run_dir)
        assert handle.wait().ok
        assert not os.path.exists(handle.run_dir)
    finally:
        handle.close()


def test_a_worker_that_ends_before_the_code_starts_blames_the_start(home: Path) -> None:
    """A worker that cannot read its request ends with 0 and no word; no line of the code ran,
    so the result says "start" (the feedback then blames neither the learner nor the
    lesson, and the checker does not remember the reference as broken)."""
    from tutor.sandbox.runner import ProcessRun, launch, spawn_interpreter

    spawn = spawn_interpreter(sys.executable)
    launched = launch(spawn, 1)
    launched.proc.stdin.write(b"\xff" * 64)  # no request it can read: it gives up at once
    launched.proc.stdin.flush()
    launched.proc.wait(timeout=60)
    request = RunRequest(role="reference", code="t = 1\n", filename="/work/step.py",
                         probes=VALUE_T, limits=Limits(timeout_s=15))
    handle = ProcessRun(spawn, request, None, launched=launched)
    try:
        result = handle.wait()
    finally:
        handle.close()
    without_values(result, "exited")
    assert (result.exit_code, result.failed_in) == (REQUEST_UNREAD_EXIT, "start")


class Canned:
    """A run that ends as told, and remembers what was done to it."""

    def __init__(self, result: RunResult):
        self.result, self.closed, self.cancelled = result, False, False

    def wait(self) -> RunResult:
        return self.result

    def judge(self, learner: RunResult) -> dict:
        return {"metric": 1}

    def cancel(self) -> None:
        self.cancelled = True

    def close(self) -> None:
        self.closed = True


NOT_STARTED = RunResult("exited", exit_code=REQUEST_UNREAD_EXIT, failed_in="start")


@pytest.mark.parametrize(("first", "tries"), [
    (NOT_STARTED, 2),
    (RunResult("crashed", signal="SIGSEGV", failed_in="start"), 2),
    (RunResult("exited", exit_code=0), 1),  # the code's own exit: its verdict
    (RunResult("timeout", failed_in="start"), 1),  # already waited its whole start limit
    (RunResult("ok"), 1),
])
def test_a_run_that_never_started_is_tried_once_more(first: RunResult, tries: int) -> None:
    from tutor.sandbox.runner import RetriedOnce

    runs = [Canned(first), Canned(NOT_STARTED)]
    started = iter(runs)
    handle = RetriedOnce(lambda: next(started))
    result = handle.wait()
    assert runs[0].closed == (tries == 2)
    # tried at most twice: a second failure to start is said, not tried again
    assert result is (NOT_STARTED if tries == 2 else first)
    assert handle.judge(RunResult("ok")) == {"metric": 1} and handle.wait() is result


def test_a_cancelled_run_is_not_tried_again() -> None:
    from tutor.sandbox.runner import RetriedOnce

    runs = iter([Canned(NOT_STARTED), Canned(RunResult("ok"))])
    handle = RetriedOnce(lambda: next(runs))
    handle.cancel()
    assert handle.wait() is NOT_STARTED and handle.run.cancelled


def test_the_runners_try_a_worker_that_lost_its_request_again(home: Path) -> None:
    """End to end on the cold runner: the first worker cannot read its request and ends
    without a word; the second runs the code, and the caller sees only its values."""
    from tutor.sandbox.runner import ProcessRun, RetriedOnce, launch, spawn_interpreter

    spawn = spawn_interpreter(sys.executable)
    request = RunRequest(role="learner", code="t = 7\n", filename="/work/step.py",
                         probes=VALUE_T, limits=Limits(timeout_s=15))
    tries: list[ProcessRun] = []

    def start() -> ProcessRun:
        if tries:
            tries.append(ProcessRun(spawn, request, None))
            return tries[-1]
        launched = launch(spawn, 1)
        launched.proc.stdin.write(b"\xff" * 64)  # no request it can read
        launched.proc.stdin.flush()
        launched.proc.wait(timeout=60)
        tries.append(ProcessRun(spawn, request, None, launched=launched))
        return tries[-1]

    handle = RetriedOnce(start)
    try:
        result = handle.wait()
    finally:
        handle.close()
    assert len(tries) == 2 and tries[0].wait().exit_code == REQUEST_UNREAD_EXIT
    assert result.ok and result.values["value:t"] == 7


def test_closing_a_run_never_closes_a_channel_under_its_reader(
        run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run closed while its output still streams: each reader thread ends on its own
    channel. Closing a descriptor under a reader would let the reader's next read hit
    whatever file the number was given to next, e.g. another run's request pipe, which a
    worker then finds empty (it ends, not having read its request)."""
    import threading

    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    code = "import sys\nwhile True:\n    sys.stdout.write('x' * 4000 + '\\n')\n"
    streamed = threading.Event()

    def slow(text: str) -> None:  # the reader is between two reads when the run closes
        streamed.set()
        time.sleep(0.3)

    request = RunRequest(role="learner", code=code, filename="/work/step.py", probes=VALUE_T,
                         limits=Limits(timeout_s=15, output_bytes=1 << 30))
    for _ in range(3):
        streamed.clear()
        handle = run.runner.start(request, on_output=slow)
        assert streamed.wait(60), "no output came"
        handle.close()
        for reader in handle.run.readers:
            reader.join(30)
            assert not reader.is_alive()
    assert failures == []
