"""Hostile courses: a course downloaded from anyone is untrusted input. Each case below is
something a course file can do to the tutor or the machine, and the behaviour asserted is
what the learner (or the author) must get instead: a bounded refusal, a lesson error, or
the sandbox holding around the course's own code (its ``setup`` and solution run in
workers, exactly like the learner's code). Terminal escapes in course text are the screen's
(tests of the CLI and the TUI).

Payloads that would do harm if a layer were off run only where ``doctor`` finds that layer
(``needs``), touch only throwaway folders, and a fake NVIDIA driver stands in for a GPU
server: that is where the sandbox used to be off.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import needs

from tutor.core import devices, judging, yamltree
from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.checks import Outcome
from tutor.core.checks.stdout import MATCH_CPU_S
from tutor.core.loader import CourseError, load_course
from tutor.core.runs import RunResult
from tutor.core.validate import validate_steps
from tutor.sandbox.runner import SubprocessRunner
from tutor.sandbox.warm import WarmRunner

linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                           reason="the sandbox's layers are Linux's")


def course(root: Path, lesson: str, lessons: tuple[str, ...] = ("hostile",)) -> Path:
    """A course folder with one lesson file (``lesson``, YAML) named ``hostile``."""
    root.mkdir(parents=True, exist_ok=True)
    names = "".join(f"  - {name}\n" for name in lessons)
    (root / "course.yaml").write_text(f"format: 1\nid: hostile\ntitle: Hostile\nlessons:\n{names}")
    (root / "hostile.yaml").write_text(textwrap.dedent(lesson))
    return root


def one_step(root: Path, body: str) -> m.CodeStep:
    """A course with one code step (``body``: its fields after id and title)."""
    lesson = ("id: hostile\ntitle: Hostile\nsteps:\n  - id: hostile.step\n    title: A step\n"
              + textwrap.indent(textwrap.dedent(body), "    "))
    loaded = load_course(course(root, lesson))
    assert not loaded.problems, loaded.problems
    step = loaded.step("hostile.step")
    assert isinstance(step, m.CodeStep)
    return step


# --------------------------------------------------------------------------- the YAML


def billion_laughs(levels: int = 10) -> str:
    """Nested anchors: each level holds nine copies of the one below (9**10 values)."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"lol{n}: &lol{n} [" + ", ".join([f"*lol{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 40) -> str:
    """Merge keys that double at each level (2**40 pairs), resolved before anything else
    is built: the top mapping merges the last level."""
    defs = ["&m0 {a0: 0}", "&n0 {b0: 0}"]
    for n in range(1, levels):
        defs.append(f"&m{n} {{<<: [*m{n - 1}, *n{n - 1}], a{n}: {n}}}")
        defs.append(f"&n{n} {{<<: [*n{n - 1}, *m{n - 1}], b{n}: {n}}}")
    return "defs: [" + ", ".join(defs) + f"]\n<<: *m{levels - 1}\n"


@pytest.mark.parametrize("where", ["course.yaml", "lesson"])
@pytest.mark.parametrize("bomb", [billion_laughs, merge_bomb], ids=["aliases", "merge-keys"])
def test_an_alias_bomb_is_refused_quickly_with_bounded_memory(
        tmp_path: Path, where: str, bomb) -> None:
    text = bomb()
    assert len(text.encode()) < 4096  # a few lines, billions of values
    root = course(tmp_path / "c", "id: hostile\ntitle: Hostile\nsteps:\n  - id: s\n")
    target = root / ("course.yaml" if where == "course.yaml" else "hostile.yaml")
    target.write_text(text)
    # VmHWM is this process's own peak: ru_maxrss would start from the pytest worker's,
    # which Linux carries across fork and exec.
    probe = ("import sys, time\n"
             "from tutor.core.loader import CourseError, load_course\n"
             "start = time.perf_counter()\n"
             "try:\n    problems = [str(p) for p in load_course(sys.argv[1]).problems]\n"
             "except CourseError as exc:\n    problems = [str(p) for p in exc.problems]\n"
             "took = time.perf_counter() - start\n"
             "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
             "print(took, peak.split()[1])\n"
             "print(problems[0])\n")
    done = subprocess.run([sys.executable, "-c", probe, str(root)], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    timing, problem = done.stdout.splitlines()[:2]
    took, max_rss_kib = float(timing.split()[0]), int(timing.split()[1])
    assert took < 10.0, took  # unbounded, it would build for hours
    assert max_rss_kib < 200 * 1024, max_rss_kib  # the interpreter and the tutor's core: ~60 MB
    assert problem.startswith(f"{target}:") and "too many aliases/nodes" in problem


def test_the_node_limit_leaves_room_for_any_real_course() -> None:
    bundled = Path(__file__).parent.parent / "lessons"
    for path in bundled.glob("*.yaml"):
        yamltree.parse(path.read_text(), max_nodes=yamltree.MAX_NODES // 20)  # 20x headroom
    with pytest.raises(yamltree.TooManyNodes):
        yamltree.parse(billion_laughs(6), max_nodes=1000)


def test_a_mapping_that_merges_itself_is_refused_not_a_crash() -> None:
    with pytest.raises(yamltree.YAMLError, match="merges itself"):
        yamltree.parse("a: &a {x: 1, <<: *a}\n")
    for depth in (999, 5000):  # libyaml stops at 1000 levels; below, the builder does
        with pytest.raises(yamltree.YAMLError, match="nested too deeply|nesting depth"):
            yamltree.parse("[" * depth + "]" * depth)


@pytest.mark.parametrize("name", ["../outside", "/etc/passwd", "sub/lesson", "..", ".hidden"])
def test_lesson_names_cannot_reach_outside_the_course(tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside.yaml"  # would load, were the name followed
    outside.write_text("id: outside\ntitle: Outside\nsteps:\n  - id: o\n    kind: quiz\n")
    root = course(tmp_path / "c", "id: hostile\ntitle: H\nsteps: []\n", lessons=(name,))
    with pytest.raises(CourseError, match=r"course\.yaml:5:5: lessons\[0\] must be an id"):
        load_course(root)


# --------------------------------------------------------------------------- patterns


def test_a_catastrophic_pattern_is_bounded_and_reported_as_a_lesson_error(
        tmp_path: Path) -> None:
    step = one_step(tmp_path / "c", """\
        starter: "print('a')"
        solution: "print('a' * 26 + '!')"
        checks:
          - stdout_matches: "^(a+)+$"
            name: prints only a's
        """)
    printed = "a" * 26 + "!\n"  # ~14 s of backtracking in Python's re
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    [result] = judging.evaluate(step, Outcome({}, {}, {}, printed, "", "cpu"))
    took = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert not result.passed
    assert result.message.startswith("lesson error: the pattern /^(a+)+$/ of `stdout_matches` "
                                     f"took more than {MATCH_CPU_S} s of CPU")
    tutor_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert tutor_cpu < 0.5, tutor_cpu  # the matching never ran in the tutor's process
    assert took < MATCH_CPU_S * 10 + 10
    [ok] = judging.evaluate(step, Outcome({}, {}, {}, "aaa\n", "", "cpu"))
    assert ok.passed  # an ordinary output still matches as before


# --------------------------------------------------------------------------- the course's code


@pytest.fixture
def fake_gpu_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    nvidia_driver: Path) -> Path:
    """A machine with an NVIDIA driver (conftest's fake) and a throwaway HOME holding a
    secret; where the sandbox used to be off."""
    learner_home = tmp_path / "learner-home"
    (learner_home / ".ssh").mkdir(parents=True)
    (learner_home / ".ssh" / "id_ed25519").write_text("SECRET KEY")
    monkeypatch.setenv("HOME", str(learner_home))
    assert devices.cuda_may_exist()
    return learner_home


SETUP_ATTEMPTS = """\
import os, socket
tried = {}
def attempt(name, action):
    try:
        action()
        tried[name] = "succeeded"
    except OSError as exc:
        tried[name] = "denied" if isinstance(exc, PermissionError) else "failed"
attempt("write", lambda: open(os.environ.get("PTT_TARGET", "/nonexistent") + "/x", "w").write("x"))
attempt("ssh", lambda: open(os.environ.get("PTT_SECRET", "/nonexistent")).read())
"""


@linux
@pytest.mark.slow
@needs("network isolation", "filesystem isolation", "TCP block")
@pytest.mark.parametrize("kind", ["cold", "warm"])
def test_a_lessons_setup_is_sandboxed_on_a_gpu_server_too(
        fake_gpu_server: Path, tmp_path: Path, kind: str, warm_runner: WarmRunner) -> None:
    """The report that opened this: with a driver, a course's setup wrote outside the
    sandbox, read ~/.ssh and opened TCP and UDP connections during a plain `check`."""
    target = tmp_path / "writable-outside"
    target.mkdir()
    secret = fake_gpu_server / ".ssh" / "id_ed25519"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        setup = (SETUP_ATTEMPTS.replace('os.environ.get("PTT_TARGET", "/nonexistent")',
                                        repr(str(target)))
                 .replace('os.environ.get("PTT_SECRET", "/nonexistent")', repr(str(secret)))
                 + f"attempt('tcp', lambda: socket.create_connection(('127.0.0.1', "
                   f"{tcp.getsockname()[1]}), timeout=3))\n"
                 + f"attempt('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                   f".sendto(b'leak', ('127.0.0.1', {udp.getsockname()[1]})))\n")
        step = one_step(tmp_path / "c", f"""\
            setup: {json.dumps(setup)}
            starter: "t = ..."
            solution: "t = tried"
            checks:
              - compare: t
            """)
        runner = SubprocessRunner() if kind == "cold" else warm_runner
        checker = Checker(runner, device="auto", data_dir=str(tmp_path / "data"))
        verdict = checker.check(step, "t = tried\nprint(tried)\n", str(tmp_path / "mine.py"))
        tcp.setblocking(False)
        udp.setblocking(False)
        with pytest.raises(BlockingIOError):
            tcp.accept()
        with pytest.raises(BlockingIOError):
            udp.recv(16)
    assert "'write': 'denied'" in verdict.stdout and "'ssh': 'denied'" in verdict.stdout
    assert "succeeded" not in verdict.stdout, verdict.stdout
    assert list(target.iterdir()) == [] and secret.read_text() == "SECRET KEY"
    assert verdict.device == "cpu" and verdict.passed  # decided before the sandbox: the CPU


@linux
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["cold", "warm"])
def test_dev_shm_is_private_to_each_run_and_gone_after_it(
        home: Path, tmp_path: Path, kind: str, warm_runner: WarmRunner) -> None:
    marker = f"ptt-course-{os.getpid()}-{kind}"
    host_file = Path("/dev/shm") / f"ptt-host-{os.getpid()}-{kind}"
    host_file.write_text("the machine's")
    setup = (f"import os\nseen = []\ntry:\n    seen = os.listdir('/dev/shm')\n"
             f"    open('/dev/shm/{marker}', 'w').write('left behind?')\n"
             f"    kept = 'written'\nexcept OSError as exc:\n    kept = type(exc).__name__\n")
    step = one_step(tmp_path / "c", f"""\
        setup: {json.dumps(setup)}
        starter: "t = ..."
        solution: "t = [seen, kept]"
        checks:
          - compare: t
        """)
    runner = SubprocessRunner() if kind == "cold" else warm_runner
    try:
        verdict = Checker(runner).check(step, "t = [seen, kept]\nprint(t)\n", "mine.py")
    finally:
        host_file.unlink()
    assert not Path("/dev/shm", marker).exists(), "a run's /dev/shm outlived it"
    assert host_file.name not in verdict.stdout, "the run saw the machine's /dev/shm"
    assert "'written'" in verdict.stdout or "PermissionError" in verdict.stdout


@pytest.mark.slow
def test_a_reference_solution_that_loops_fails_once_in_the_authors_words(
        home: Path, tmp_path: Path, warm_runner: WarmRunner) -> None:
    step = one_step(tmp_path / "c", """\
        timeout: 2
        starter: "t = ..."
        solution: |
          while True:
              pass
        accepts:
          - "t = 1"
        rejects:
          - code: "t = 2"
            feedback: "2"
          - code: "t = 3"
            feedback: "3"
        checks:
          - compare: t
        """)
    checker = Checker(warm_runner, prefetch=True)
    started = time.monotonic()
    [report] = validate_steps([step], checker)
    took = time.monotonic() - started
    [attempt] = report.attempts  # the solution's; the starter, accepts and rejects never ran
    assert attempt.label == "solution" and not attempt.ok
    assert attempt.problem.startswith("the reference solution used 2 s of CPU time, all it "
                                      "may, and was stopped: does it loop for ever?")
    assert "4 other program(s) of this step were not run" in attempt.problem
    assert "Your code" not in attempt.problem
    assert took < 30, took  # one reference's time, not one per program (each 2 x 2 + 10 s)


class _Looping:
    """A runner whose reference runs all hit their CPU limit; counts the runs it starts."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, request, on_output=None):
        self.started.append(request.role)
        result = RunResult("cpu_time" if request.role == "reference" else "ok", cpu_s=50.0,
                           code_s=51.0, waited_s=0.1, values={"value:t": 1})
        return _Done(result)


class _Done:
    def __init__(self, result: RunResult) -> None:
        self.result = result

    def wait(self) -> RunResult:
        return self.result

    def judge(self, learner: RunResult) -> dict:
        return {}

    def cancel(self) -> None:
        """Nothing runs."""

    def close(self) -> None:
        """Nothing to release."""


def test_a_learners_checks_do_not_rerun_a_reference_that_loops(tmp_path: Path) -> None:
    step = one_step(tmp_path / "c", """\
        starter: "t = ..."
        solution: "while True: pass"
        checks:
          - compare: t
        """)
    runner = _Looping()
    checker = Checker(runner)  # type: ignore[arg-type]
    first = checker.check(step, "t = 1\n", "mine.py")
    assert first.error is not None and first.error.startswith(
        "lesson error: the reference solution used 50 s of CPU time, all it may")
    assert runner.started == ["reference", "learner"]
    again = checker.check(step, "t = 2\n", "mine.py")
    assert again.error == first.error and runner.started == ["reference", "learner"]
