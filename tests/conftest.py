"""Shared fixtures: throwaway tutor homes and the fixture course."""

from __future__ import annotations

import functools
import shutil
import time
from functools import partial
from pathlib import Path

import pytest

from tutor.bootstrap import Options
from tutor.bootstrap import open_session as _open_session
from tutor.core.doctor import Protection
from tutor.core.runs import Runner, RunRequest, RunResult
from tutor.core.session import Session
from tutor.sandbox import protections
from tutor.sandbox.spare import SpareRunner
from tutor.sandbox.warm import WarmRunner

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "course"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh tutor home (progress, workspace, data) for one test."""
    path = tmp_path / "home"
    monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return path


@pytest.fixture
def nvidia_driver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """A fake NVIDIA driver: nvidia-smi on PATH, its /proc file, and a fresh probe cache.
    Returns the runtime folder the GPU probe caches in."""
    import os

    from tutor.core import devices
    from tutor.sandbox import gpu

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI 550.54 (fake)'\n")
    smi.chmod(0o755)
    version = tmp_path / "proc-driver-nvidia-version"
    version.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54 (fake)\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(devices, "DRIVER_FILE", str(version))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setattr(gpu, "_found", {})
    assert devices.cuda_may_exist() and devices.resolve("auto") == "auto"
    return runtime


@pytest.fixture
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any unpickling in the tutor's process fails the test (results cross the wire framed)."""
    import pickle

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the tutor unpickled something")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)


def watched_run(runner: Runner, request: RunRequest) -> tuple[RunResult, list]:
    """Run ``request`` to its end, with everything it streamed (``on_output``) in order."""
    seen: list = []
    handle = runner.start(request, on_output=seen.append)
    try:
        return handle.wait(), seen
    finally:
        handle.close()


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture course, for tests that break or extend it."""
    target = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, target)
    return target


@pytest.fixture(scope="module")
def warm_runner():
    """One warm parent per test module: its start-up (importing torch) is paid once."""
    with WarmRunner() as runner:
        runner.wait_ready()  # here, so no test's timing includes the torch import
        yield runner


@pytest.fixture
def build(tmp_path: Path, warm_runner: WarmRunner):
    """Apps over the real session on the fixture course, checking in the module's warm
    runner (tests/test_tui_support.py)."""
    from test_tui_support import build_app

    return partial(build_app, warm_runner, tmp_path)


@pytest.fixture(scope="module")
def spare_runner():
    """One spare interpreter per test module, refilled after each run."""
    with SpareRunner() as runner:
        runner.wait_ready()
        yield runner


def spare_pids(runner: SpareRunner) -> set[int]:
    """The spares waiting once each has imported torch (a start hands out one of these)."""
    assert runner.wait_ready(), "the spares did not start"
    return {spare.pid for spare in runner._idle}


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, or a process that is gone, does not; Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # the name in parentheses may itself hold ")": the state follows the last one
            return f.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def gone(*pids: int, within: float = 8.0) -> bool:
    """Whether every one of ``pids`` has ended, waiting up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


@functools.cache
def layers() -> dict[str, Protection]:
    """The isolation layers as ``doctor`` finds them on this machine, by name."""
    return {p.name: p for p in protections.detect()}


def needs(*names: str) -> pytest.MarkDecorator:
    """Skip, saying why, where this machine lacks a layer a test relies on."""
    missing = [f"{n}: {layers()[n].detail}" for n in names if not layers()[n].active]
    return pytest.mark.skipif(bool(missing), reason="not on this machine: " + "; ".join(missing))


def open_session(runner: Runner | None = None, **options: object) -> Session:
    """The session the shells open (``tutor.bootstrap``), with ``Options`` as keywords."""
    return _open_session(Options(**options), runner)  # type: ignore[arg-type]
