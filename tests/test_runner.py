"""The sandboxed runner: every way learner code can misbehave ends in a clear status,
never a pass, never a hung tutor, and nothing left running."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import spare_pids

from tutor.sandbox import reaper
from tutor.sandbox.runner import Limits, Runner, RunRequest, RunResult, SubprocessRunner
from tutor.sandbox.spare import SpareRunner
from tutor.sandbox.warm import WarmRunner

pytestmark = pytest.mark.slow

VAR_T = [{"id": "v:t", "kind": "var", "name": "t"}]


@pytest.fixture(params=["cold", "warm", "spare"])
def run(request: pytest.FixtureRequest, warm_runner: WarmRunner, spare_runner: SpareRunner):
    """Run code with the cold runner, the warm (forking) one and the spare one: all must hold."""
    runner: Runner = {"cold": SubprocessRunner(), "warm": warm_runner,
                      "spare": spare_runner}[request.param]

    def run(code: str, probes: list | None = None, seen: list | None = None,
            **limits) -> RunResult:
        req = RunRequest(role="learner", code=code, filename="/work/step.py",
                         probes=VAR_T if probes is None else probes,
                         limits=Limits(**({"timeout_s": 15} | limits)))
        spares = spare_pids(spare_runner) if request.param == "spare" else set()
        handle = runner.start(req, on_output=seen.append if seen is not None else None)
        try:
            result = handle.wait()
        finally:
            handle.close()
        if request.param == "warm":
            assert warm_runner.is_warm, f"fell back to cold starts: {warm_runner._failed}"
        if request.param == "spare":
            assert handle.proc.pid in spares, "started cold instead of handing out a spare"
        return result

    return run


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_values_and_streamed_output(run) -> None:
    seen: list[str] = []
    result = run("import torch\nprint('epoch 1', flush=True)\nt = torch.ones(2, 3)\n", seen=seen)
    assert result.ok, result
    assert "epoch 1" in "".join(seen) and "epoch 1" in result.stdout
    t = result.exports()["v:t"]
    assert t.shape == (2, 3) and t.dtype == "float32" and t.data.sum() == 6


def test_exception_traceback_uses_the_learners_line_numbers(run) -> None:
    result = run("import torch\n\nx = torch.ones(2, 3)\ny = x @ x\n")
    assert result.status == "error"
    assert result.error.frames[-1]["line"] == 4
    assert "y = x @ x" in result.error.format() and "RuntimeError" in result.error.format()


def test_infinite_loop_with_sigterm_ignored_is_killed_at_the_wall_limit(run) -> None:
    code = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass\n"
    started = time.monotonic()
    result = run(code, timeout_s=4)
    assert result.status == "timeout" and "longer than 4 s" in result.detail
    assert time.monotonic() - started < 10


def test_memory_bomb_gets_a_memory_message(run) -> None:
    result = run("import torch\nt = torch.empty(8 * 1024**3, dtype=torch.uint8)\nt.fill_(1)\n",
                 memory_bytes=3 * 1024**3)
    assert result.status == "memory", (result.status, result.detail, result.error)
    assert "memory" in (result.error.format() if result.error else result.detail).lower()


@pytest.mark.parametrize("code, status", [
    ("import os\nos._exit(0)\n", "exited"),
    ("import sys\nsys.exit(0)\n", "exited"),
    ("import ctypes\nctypes.string_at(0)\n", "crashed"),
])
def test_early_exit_and_crashes_never_produce_values(run, code: str, status: str) -> None:
    result = run(code)
    assert result.status == status
    assert not result.ok and "exports" not in result.header


def test_huge_output_is_capped_and_stops_the_run(run) -> None:
    result = run("while True:\n    print('x' * 10000)\n", output_bytes=200_000)
    assert result.status == "output_limit" and "printed more than" in result.detail
    assert len(result.stdout) <= 200_000


def test_setsid_grandchild_does_not_survive(run) -> None:
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
    assert result.ok
    grandchild = int(result.stdout.split()[0])
    deadline = time.monotonic() + 3
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(grandchild)


def test_setsid_grandchild_of_a_timed_out_run_is_killed(run) -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    print(os.getpid(), flush=True)
    time.sleep(1000)
time.sleep(1000)
"""
    result = run(code, timeout_s=8)  # a cold start on a busy machine takes seconds
    assert result.status == "timeout"
    assert not alive(int(result.stdout.split()[0]))


def test_a_module_file_in_the_working_directory_cannot_shadow_the_real_one(run) -> None:
    code = ("open('torch.py', 'w').write('raise SystemExit(1)')\n"
            "open('csv.py', 'w').write('raise SystemExit(1)')\n"
            "import csv, os, sys, torch\n"
            "t = [csv.__file__ != os.path.abspath('csv.py'), os.getcwd() in sys.path, "
            "'' in sys.path, hasattr(torch, 'ones')]\n")
    result = run(code)
    assert result.ok, result.error
    assert result.exports()["v:t"] == [True, False, False, True]


def test_forged_bytes_on_the_result_channel_never_count(run) -> None:
    code = ("import os\nfor fd in range(3, 64):\n"
            "    try: os.write(fd, b'PTT1PASSED')\n    except OSError: pass\nt = 1\n")
    result = run(code)
    assert result.status == "protocol" and not result.ok


def test_environment_is_scrubbed(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    result = run("import os\nt = os.environ.get('SECRET_TOKEN', 'absent')\n")
    assert result.exports()["v:t"] == "absent"


def test_a_subprocess_started_by_learner_code_does_not_outlive_the_run(run) -> None:
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
