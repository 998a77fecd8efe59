"""Spare interpreters: a start hands out a worker that had already imported torch, a new
one takes its place, closing leaves nothing running, and platforms where fork is unsafe
get them instead of forked workers. The runner behaviours themselves (values, timeouts,
crashes, forged results...) run on spares in tests/test_runner.py and test_isolation.py."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE, alive, open_session, spare_pids

from tutor.core.runs import Limits, RunRequest, RunResult, ValueProbe
from tutor.sandbox import isolation, reaper, warm
from tutor.sandbox.spare import Spare, SpareRunner

pytestmark = pytest.mark.slow

VALUE_T = (ValueProbe(id="value:t", name="t"),)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def request(code: str = "import torch\nt = torch.ones(3).sum().item()\n",
            threads: int = 1) -> RunRequest:
    return RunRequest(role="learner", code=code, probes=VALUE_T, threads=threads,
                      limits=Limits(timeout_s=60))


def run(runner: SpareRunner, req: RunRequest) -> tuple[int, RunResult]:
    """The pid that ran ``req`` and its result."""
    handle = runner.start(req)
    try:
        return handle.proc.pid, handle.wait()
    finally:
        handle.close()


def spares_of_this_process() -> set[int]:
    """Live spare interpreters started by this test process."""
    found = set()
    for pid, (parent, state) in reaper.processes().items():
        if parent != os.getpid() or state in ("Z", "X"):
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--preload" in cmdline:
            found.add(pid)
    return found


def started_spare(runner: SpareRunner) -> Spare:
    """The runner's spare as soon as it is started, while it still imports torch."""
    runner.warm_up()
    deadline = time.monotonic() + 10
    while not runner._idle and time.monotonic() < deadline:
        time.sleep(0.001)
    (spare,) = runner._idle
    return spare


def test_a_start_hands_out_the_waiting_spare_and_a_new_one_takes_its_place(
        spare_runner: SpareRunner) -> None:
    first = spare_pids(spare_runner)
    pid, result = run(spare_runner, request())
    assert pid in first, "the run did not get the spare that was waiting"
    assert result.ok and result.values["value:t"] == 3.0

    second = spare_pids(spare_runner)  # refilled in the background
    assert second and not second & first
    pid, result = run(spare_runner, request())
    assert pid in second and result.ok


def test_two_spares_serve_a_learner_and_a_reference_side_by_side() -> None:
    with SpareRunner(spares=2) as runner:
        waiting = spare_pids(runner)
        assert len(waiting) == 2
        handles = [runner.start(request()), runner.start(request())]
        try:
            assert {h.proc.pid for h in handles} == waiting
            assert all(h.wait().ok for h in handles)
        finally:
            for handle in handles:
                handle.close()


@linux_only
def test_closing_the_runner_leaves_no_process_behind() -> None:
    before = spares_of_this_process()
    runner = SpareRunner(spares=2)
    waiting = spare_pids(runner)
    pid, result = run(runner, request())  # its replacement starts as we close
    assert result.ok
    runner.close()
    assert not alive(pid) and not any(alive(p) for p in waiting)
    assert spares_of_this_process() - before == set()


def test_a_spare_that_died_is_dropped_and_the_run_starts_cold() -> None:
    with SpareRunner() as runner:
        (dead,) = spare_pids(runner)
        os.kill(dead, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while runner._idle[0].alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        pid, result = run(runner, request())
        assert pid != dead and result.ok
        assert dead not in spare_pids(runner)


def test_a_spare_handed_out_while_it_still_imports_runs_the_code() -> None:
    """The spare furthest along is handed out before it has imported torch: the run it is
    given must run there, not end the worker (the tutor stops listening for "ready" then)."""
    with SpareRunner() as runner:
        importing = started_spare(runner)
        assert not importing.wait_ready(0), "the spare was ready"
        handle = runner._start_one(request(), None)  # one try: no second chance to hide it
        try:
            assert handle.proc.pid == importing.pid, "the run did not get the importing spare"
            result = handle.wait()
        finally:
            handle.close()
        assert result.ok, (result.status, result.exit_code, result.failed_in)
        assert result.values["value:t"] == 3.0


def test_waiting_for_a_spare_that_died_answers_at_once() -> None:
    """A spare that dies before it is ready is not waited for until the timeout."""
    with SpareRunner() as runner:
        spare = started_spare(runner)
        os.kill(spare.pid, signal.SIGKILL)
        asked = time.monotonic()
        assert runner.wait_ready(timeout=120) is False
        assert time.monotonic() - asked < 60, "waited for the timeout"


def test_a_run_with_another_thread_count_starts_cold() -> None:
    with SpareRunner() as runner:
        waiting = spare_pids(runner)
        pid, result = run(runner, request("import os\nt = os.environ['OMP_NUM_THREADS']\n",
                                          threads=2))
        assert pid not in waiting and result.values["value:t"] == "2"


@linux_only
def test_a_spare_whose_import_started_threads_skips_the_namespaces_and_says_so() -> None:
    """OMP_NUM_THREADS=2 lets numpy's BLAS start a thread during the import; unshare needs
    a single thread. The run still passes and its report names every layer's state."""
    with SpareRunner(threads=2) as runner:
        waiting = spare_pids(runner)
        pid, result = run(runner, request(threads=2))
    assert pid in waiting and result.ok
    report = result.isolation
    if not report["namespaces"]["active"]:
        assert "single-threaded" in report["namespaces"]["detail"]
        assert not report["processes"]["active"]


def _with_a_thread(action):
    """Call ``action`` while a second thread runs (in a fork: its layers die with it)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        try:
            answer = "ok:" + action()
        except OSError as exc:
            answer = f"refused:{exc}"
        os.write(write_fd, answer.encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as answers:
        data = answers.read().decode()
    os.waitpid(pid, 0)
    return data


@linux_only
def test_layers_in_a_multi_threaded_worker_are_skipped_or_qualified(tmp_path: Path) -> None:
    answer = _with_a_thread(isolation.enter_namespaces)
    assert answer == "refused:needs a single-threaded worker; 2 threads are running"
    if isolation.landlock_abi() >= 1:
        answer = _with_a_thread(lambda: isolation.restrict(str(tmp_path), [], []))
        assert answer.startswith("ok:") and "not on the 1 thread(s) already running" in answer


# --------------------------------------------------------------------------- platform choice


@pytest.mark.parametrize("platform, spare", [("linux", False), ("darwin", True)])
def test_spares_replace_forked_workers_where_fork_is_unsafe(
        monkeypatch: pytest.MonkeyPatch, platform: str, spare: bool) -> None:
    monkeypatch.setattr(warm.sys, "platform", platform)
    runner = warm.default_runner(spares=2)
    try:
        assert isinstance(runner, SpareRunner) is spare
        assert not spare or runner.spares == 2
    finally:
        runner.close()


def test_spares_replace_forked_workers_where_fork_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(warm.os, "fork")
    assert isinstance(warm.default_runner(), SpareRunner)
    runner = warm.WarmRunner()  # asked for directly, it refuses to fork
    assert not runner.wait_ready(timeout=1) and "unsafe or unavailable" in runner._failed


def test_a_warm_session_gets_spares_on_macos(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm.sys, "platform", "darwin")
    session = open_session(lessons=FIXTURE_COURSE, device="cpu", warm=True)
    try:
        assert isinstance(session.checker.runner, SpareRunner)
    finally:
        session.close()
