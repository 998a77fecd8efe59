"""Hostile learner code, end to end through the checker: every attempt to cheat, escape or
do harm ends in a verdict that is never a pass, with the tutor alive, its progress file
intact and nothing left running. Each test runs with the cold and with the warm runner; a
test that needs a protection this machine lacks is skipped with the reason `doctor` gives.

Which level owns what: this module has the cases that only the verdict or the machine
shows: code that cheats and still runs to its end (patched torch, lying tensors, a printed
"PASSED"), NaN results, fork bombs, the network, files and signals. The cases that end a
run early (endless loops, memory bombs, early exits and crashes, endless output, oversize
results, setsid() grandchildren, subprocesses outliving the run, a torch.py in the working
folder, forged bytes on the result channel) get their structured status in tests/test_runner.py,
on every runner; their words in tests/test_run_feedback.py; and tests/test_checker.py shows
that a run without values is a failed verdict in those words.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest
from conftest import FIXTURE_COURSE, alive, gone, layers, needs

from tutor.core import model as m
from tutor.core.checker import Checker, protected_paths
from tutor.core.loader import load_course
from tutor.core.progress import ProgressStore
from tutor.core.runs import Limits, RunRequest, RunResult, ValueProbe
from tutor.core.verdict import Verdict
from tutor.sandbox import reaper
from tutor.sandbox.runner import SubprocessRunner
from tutor.sandbox.warm import WarmRunner

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"),
                                                   reason="process checks read /proc")]

COURSE = load_course(FIXTURE_COURSE)
STEP = COURSE.step("basics.compare")  # `t`: a 2x3 float32 tensor holding 0..5
assert isinstance(STEP, m.CodeStep)
RIGHT = "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
ATTEMPT = """import os, signal, socket
def attempt(name, action):
    try:
        action()
        print(name, "succeeded", flush=True)
    except OSError as exc:
        print(name, "denied" if isinstance(exc, PermissionError) else "failed", exc, flush=True)
"""


def attempts(actions: dict[str, str]) -> str:
    """Learner code that tries each expression and prints `NAME succeeded|denied|failed`."""
    return ATTEMPT + "".join(f"attempt({name!r}, lambda: {expr})\n"
                             for name, expr in actions.items())


@dataclasses.dataclass
class Tutor:
    """A tutor's checker over the fixture course, with a real progress file and workspace."""

    runner: SubprocessRunner | WarmRunner
    warm_runner: WarmRunner  # the module's warm parent, running in every test
    home: Path
    data: Path
    progress: Path
    learner_file: Path
    before: bytes = b""

    @property
    def warm(self) -> bool:
        return isinstance(self.runner, WarmRunner)

    def check(self, code: str, timeout_s: float | None = None) -> Verdict:
        step = STEP if timeout_s is None else msgspec.structs.replace(STEP, timeout_s=timeout_s)
        checker = Checker(self.runner, device="cpu", data_dir=str(self.data))
        return checker.check(step, code, str(self.learner_file))

    def run(self, code: str, timeout_s: float = 60) -> RunResult:
        """One learner run with the checker's protections, for tests that need the values
        and the isolation report."""
        request = RunRequest(role="learner", code=code, filename=str(self.learner_file),
                             probes=(ValueProbe(id="value:t", name="t"),),
                             data_dir=str(self.data), limits=Limits(timeout_s=timeout_s),
                             protect=protected_paths(STEP, str(self.learner_file)))
        handle = self.runner.start(request)
        try:
            return handle.wait()
        finally:
            handle.close()

    def assert_unharmed(self) -> None:
        """The tutor is alive, its progress intact, and nothing of the run still runs."""
        assert self.progress.read_bytes() == self.before
        zygote = self.warm_runner._proc
        keep = {zygote.pid} if zygote is not None else set()
        if self.warm:
            assert zygote is not None and alive(zygote.pid) and self.warm_runner.is_warm
        deadline = time.monotonic() + 8
        while True:
            table = reaper.processes()
            left = {p for p in reaper.descendants(os.getpid(), table) - keep
                    if table[p][1] not in ("Z", "X")}
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert not left, f"still running: {left}"


@pytest.fixture(params=["cold", "warm"])
def tutor(request: pytest.FixtureRequest, home: Path, warm_runner: WarmRunner) -> Tutor:
    store = ProgressStore(home / "progress.json")
    store.record_attempt(COURSE.id, STEP.id, False)
    data = home / "data"
    data.mkdir()
    (data / "readme.txt").write_text("data")
    learner_file = home / "workspace" / COURSE.id / "basics" / f"{STEP.id}.py"
    learner_file.parent.mkdir(parents=True)
    learner_file.write_text(RIGHT)
    (learner_file.parent / "basics.call.py").write_text("# another step of mine\n")
    runner = SubprocessRunner() if request.param == "cold" else warm_runner
    made = Tutor(runner, warm_runner, home, data, home / "progress.json", learner_file)
    made.before = made.progress.read_bytes()
    return made


def failed(verdict: Verdict) -> str:
    """Everything the learner is told about a failed attempt, in one string."""
    assert not verdict.passed and not verdict.skipped
    return "\n".join([verdict.error or ""] + [c.message for c in verdict.checks if not c.passed])


# --------------------------------------------------------------------------- fork bombs


FORK_BOMB = """
import os, time
pids = []
for _ in range(2000):  # bounded here, so a missing limit cannot take the machine down
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            os.execv("/bin/sleep", ["sleep", "30"])  # lighter than 2000 copies of torch
        finally:
            time.sleep(30)
            os._exit(0)
    pids.append(pid)
t = pids
"""


def test_a_fork_bomb_is_bounded_and_leaves_nothing_behind(tutor: Tutor) -> None:
    started = time.monotonic()
    result = tutor.run(FORK_BOMB, timeout_s=120)  # forking a torch process is slow on 2 cores
    assert result.ok, (result.status, result.detail, result.error)
    pids = result.values["value:t"]
    assert pids and gone(*pids, within=15), "forked children outlived the run"
    probe = time.monotonic()
    subprocess.run(["true"], check=True, timeout=10)  # the host still answers at once
    assert time.monotonic() - probe < 5 and probe - started < 150
    report = result.isolation
    bounds = [r["detail"] for r in (report["processes"], report["cgroup"]) if r["active"]]
    if not bounds:
        pytest.skip("no process-count layer here (the bomb stopped at the test's own 2000): "
                    f"{report['processes']['detail']}; {report['cgroup']['detail']}")
    limit = min(int(d.split()[2]) for d in bounds)  # "at most N processes ..."
    assert len(pids) < limit
    tutor.assert_unharmed()


@pytest.mark.skipif(not (layers()["process count"].active or layers()["process cgroup"].active),
                    reason="no process-count layer here: an unbounded loop would not stop")
def test_a_fork_loop_that_does_not_stop_gets_a_clear_message(tutor: Tutor) -> None:
    code = ("import os\nwhile True:\n    if os.fork() == 0:\n"
            "        os.execv('/bin/sleep', ['sleep', '30'])\n")
    assert "as many processes as it may" in failed(tutor.check(code, timeout_s=60))
    tutor.assert_unharmed()


# --------------------------------------------------------------------------- cheating


@pytest.mark.parametrize("code", [
    "import torch\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
    "torch.isclose = lambda a, b, **k: torch.ones_like(a, dtype=torch.bool)\n"
    "t = torch.zeros(2, 3)\n",
    "import torch\nclass Liar(torch.Tensor):\n    def __eq__(self, other): return True\n"
    "    def __ne__(self, other): return False\nt = torch.zeros(2, 3).as_subclass(Liar)\n",
    "import torch\nprint('PASSED')\nprint('All checks passed!')\nt = torch.zeros(2, 3)\n",
    "import builtins, torch\nbuiltins.isinstance = lambda *a: True\nbuiltins.len = lambda x: 6\n"
    "t = torch.zeros(2, 3)\n",
], ids=["patched-torch", "lying-eq", "printed-PASSED", "patched-builtins"])
def test_monkeypatching_and_printing_cannot_make_a_wrong_answer_pass(tutor: Tutor,
                                                                     code: str) -> None:
    failed(tutor.check(code))
    tutor.assert_unharmed()


def test_nan_results_are_named_before_any_closeness_test(tutor: Tutor) -> None:
    assert "NaN" in failed(tutor.check("import torch\nt = torch.full((2, 3), float('nan'))\n"))
    tutor.assert_unharmed()


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("protocol", [
    pytest.param("tcp", marks=needs("network isolation", "TCP block")),
    pytest.param("udp", marks=needs("network isolation")),
])
def test_the_network_is_unreachable_even_on_loopback(tutor: Tutor, protocol: str) -> None:
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if protocol == "tcp":
            listener.listen()
            action = f"socket.create_connection(('127.0.0.1', {port}), timeout=3)"
        else:
            action = (f"socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                      f".sendto(b'leak', ('127.0.0.1', {port}))")
        verdict = tutor.check(attempts({protocol: action}))
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept() if protocol == "tcp" else listener.recv(16)
    assert f"{protocol} succeeded" not in verdict.stdout and f"{protocol} " in verdict.stdout
    failed(verdict)
    tutor.assert_unharmed()


@needs("filesystem isolation")
def test_writing_outside_the_run_folder_is_denied(tutor: Tutor, tmp_path: Path) -> None:
    targets = {"tmp": tmp_path / "escape.txt", "workspace": tutor.learner_file.parent / "x.py",
               "data": tutor.data / "poisoned.idx", "shared-tmp": Path("/tmp/ptt-escape.txt")}
    writes = {name: f"open({str(path)!r}, 'w').write('x')" for name, path in targets.items()}
    verdict = tutor.check(attempts(writes | {"run folder": "open('mine.txt', 'w').write('x')"}))
    for name, path in targets.items():
        assert f"{name} denied" in verdict.stdout
        assert not path.exists()
    assert "run folder succeeded" in verdict.stdout
    tutor.assert_unharmed()


@needs("filesystem isolation")
def test_solutions_progress_and_other_files_cannot_be_read(tutor: Tutor) -> None:
    secrets = {"solutions": FIXTURE_COURSE / "basics.yaml", "progress": tutor.progress,
               "other-step": tutor.learner_file.parent / "basics.call.py",
               "own-file": tutor.learner_file, "home": Path.home()}
    reads = {name: f"open({str(path)!r}).read()" if path.is_file() else f"os.listdir({str(path)!r})"
             for name, path in secrets.items()}
    readme = str(tutor.data / "readme.txt")
    verdict = tutor.check(attempts(reads | {"data": f"open({readme!r}).read()"}))
    for name in secrets:
        assert f"{name} denied" in verdict.stdout, verdict.stdout
    assert "data succeeded" in verdict.stdout
    tutor.assert_unharmed()


@needs("filesystem isolation")
def test_a_course_inside_a_readable_folder_stays_unreadable(tutor: Tutor) -> None:
    """Like an installed tutor whose lessons sit inside the package: the folder around the
    course is readable, the course itself is not."""
    course_dir = tutor.data / "course"
    shutil.copytree(FIXTURE_COURSE, course_dir)
    step = load_course(course_dir).step(STEP.id)
    assert isinstance(step, m.CodeStep)
    code = attempts({"course": f"open({str(course_dir / 'basics.yaml')!r}).read()",
                     "sibling": f"open({str(tutor.data / 'readme.txt')!r}).read()"})
    checker = Checker(tutor.runner, device="cpu", data_dir=str(tutor.data))
    verdict = checker.check(step, code, str(tutor.learner_file))
    assert "course denied" in verdict.stdout and "sibling succeeded" in verdict.stdout
    tutor.assert_unharmed()


@needs("filesystem isolation")
def test_the_progress_file_cannot_be_deleted_or_replaced(tutor: Tutor) -> None:
    path = str(tutor.progress)
    verdict = tutor.check(attempts({"remove": f"os.remove({path!r})",
                                    "truncate": f"open({path!r}, 'w').close()",
                                    "rename": f"os.rename({path!r}, 'stolen.json')"}))
    for action in ("remove", "truncate", "rename"):
        assert f"{action} denied" in verdict.stdout
    tutor.assert_unharmed()


@needs("signal scoping")
def test_the_tutor_cannot_be_killed(tutor: Tutor) -> None:
    # SIGKILL goes only where signal 0 was refused: should the sandbox ever fail, the test
    # fails instead of killing the test session.
    careful = (
        "def kill(send, pid):\n"
        "    try:\n"
        "        send(pid, 0)\n"
        "    except PermissionError:\n"
        "        send(pid, signal.SIGKILL)\n"
        "    else:\n"
        "        raise OSError('reachable: SIGKILL not sent')\n"
    )
    verdict = tutor.check(careful + attempts({
        "parent": "kill(os.kill, os.getppid())",  # the tutor, or the warm parent
        "tutor": f"kill(os.kill, {os.getpid()})",
        "group": f"kill(os.killpg, {os.getpgid(0)})",
    }))
    for target in ("parent", "tutor", "group"):
        assert f"{target} denied" in verdict.stdout, verdict.stdout
    failed(verdict)
    tutor.assert_unharmed()  # includes: the warm parent (the worker's parent) still runs
