"""Steady under load: the course's slowest steps pass with two CPU-bound processes running
beside them (the limit that stops a program is its own CPU time, counted from when its code
starts, not the wall clock from the interpreter's start), and a runaway loop is still
stopped, with a message that says which limit it hit."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.datasets import build_substitute
from tutor.core.loader import load_course
from tutor.core.session import bundled_course_dir
from tutor.sandbox.runner import SubprocessRunner
from tutor.sandbox.warm import WarmRunner

pytestmark = pytest.mark.slow

SLOWEST = ("data.fashion", "training.loop")  # the course's longest-running reference solutions


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    build_substitute(folder)
    return folder


@pytest.fixture
def burners() -> Iterator[None]:
    """Two processes that keep two CPUs busy for as long as the test runs."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    time.sleep(0.5)
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def step(step_id: str) -> m.CodeStep:
    found = load_course(bundled_course_dir()).step(step_id)
    assert isinstance(found, m.CodeStep)
    return found


@pytest.mark.parametrize("kind", ["cold", "warm"])
@pytest.mark.parametrize("step_id", SLOWEST)
def test_the_slowest_steps_pass_beside_two_cpu_burners(home: Path, data: Path, burners: None,
                                                       step_id: str, kind: str,
                                                       warm_runner: WarmRunner) -> None:
    runner = SubprocessRunner() if kind == "cold" else warm_runner
    checker = Checker(runner, device="cpu", data_dir=str(data))
    chosen = step(step_id)
    started = time.monotonic()
    verdict = checker.check(chosen, chosen.solution, "mine.py")
    took = time.monotonic() - started
    assert verdict.passed, (verdict.error, [c.message for c in verdict.checks if not c.passed])
    print(f"{step_id} ({kind}) passed beside two CPU burners in {took:.1f} s "
          f"(its limit: {chosen.timeout_s:g} s of CPU)")


def test_a_runaway_loop_is_still_stopped_beside_the_burners(home: Path, data: Path,
                                                             burners: None) -> None:
    chosen = msgspec.structs.replace(step("training.loop"), timeout_s=3)
    checker = Checker(SubprocessRunner(), device="cpu", data_dir=str(data))
    verdict = checker.check(chosen, "while True:\n    pass\n", "mine.py")
    assert not verdict.passed and verdict.error is not None
    assert verdict.error.startswith("Your code used 3 s of CPU time"), verdict.error
    assert "loop that never ends" in verdict.error
