"""Shared fixtures: throwaway tutor homes and the fixture course."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
