"""Shared fixtures: throwaway tutor homes and the fixture course."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
