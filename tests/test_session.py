"""The session: unlocking in order, skipping, resuming, quizzes, hints and files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE

from tutor.core.session import Session, SessionError
from tutor.core.verdict import Verdict


class CannedChecker:
    """Stands in for the checker: passes exactly the code it is told to."""

    device = "cpu"
    prefetch = False

    def __init__(self, passing: str):
        self.passing = passing

    def check(self, step, code, filename, on_output=None, cancel=None):
        return Verdict(step=step.id, passed=code == self.passing)


def open_session(home: Path, **kw) -> Session:
    session = Session.open(lessons=FIXTURE_COURSE, device="cpu", **kw)
    return session


def test_steps_unlock_in_order_and_progress_survives_a_restart(home: Path) -> None:
    session = open_session(home)
    assert [s.status for s in session.statuses()][:2] == ["available", "locked"]
    session.checker = CannedChecker("t = 1\n")
    session.write_code("basics.compare", "t = 1\n")
    assert session.check("basics.compare").passed
    again = open_session(home)  # a new process would see the same
    statuses = {s.id: s.status for s in again.statuses()}
    assert statuses["basics.compare"] == "passed" and statuses["basics.call"] == "available"
    assert again.current_step_id() == "basics.call"
    assert again.read_code("basics.compare") == "t = 1\n"
    with pytest.raises(SessionError, match="locked"):
        again.visit("modules.net")


def test_unlock_all_and_quiz_answers(home: Path) -> None:
    session = open_session(home, unlock_all=True)
    assert {s.status for s in session.statuses()} == {"available"}
    assert not session.answer("basics.quiz", [0]).passed
    assert session.answer("basics.quiz", [1]).passed
    assert session.status_of("basics.quiz").status == "passed"
    with pytest.raises(SessionError, match="choose between 1 and 3"):
        session.answer("basics.quiz", [7])
    with pytest.raises(SessionError, match="is a quiz"):
        session.check("basics.quiz")


def test_steps_needing_cuda_are_skipped_and_do_not_block(home: Path, course_copy: Path,
                                                          monkeypatch) -> None:
    from tutor.core import devices

    monkeypatch.setattr(devices, "cuda_may_exist", lambda: False)
    text = (course_copy / "basics.yaml").read_text()
    text = text.replace("  - id: basics.call\n", "  - id: basics.call\n    requires: cuda\n")
    (course_copy / "basics.yaml").write_text(text)
    session = Session.open(lessons=course_copy, device="auto")
    session.checker = CannedChecker("t = 1\n")
    session.write_code("basics.compare", "t = 1\n")
    session.check("basics.compare")
    statuses = {s.id: s for s in session.statuses()}
    assert statuses["basics.call"].status == "skipped"
    assert "CUDA" in statuses["basics.call"].reason
    assert statuses["basics.quiz"].status == "available"


def test_hints_one_at_a_time_and_solution_rules(home: Path) -> None:
    session = open_session(home)
    assert session.hints_shown("basics.compare") == []
    assert session.next_hint("basics.compare").number == 1
    assert session.next_hint("basics.compare").number == 2
    assert session.next_hint("basics.compare").number == 2  # no more: the last one again
    assert len(session.hints_shown("basics.compare")) == 2
    with pytest.raises(SessionError, match="--force"):
        session.solution("basics.compare")
    assert "arange" in session.solution("basics.compare", force=True)
    assert session.store.load().step("fixture", "basics.compare").solution_viewed


def test_starter_written_once_and_reset_keeps_the_old_code(home: Path) -> None:
    session = open_session(home)
    path = session.file_of("basics.compare")
    assert path.read_text() == "import torch\nt = ...\n"
    path.write_text("mine\n")
    assert session.file_of("basics.compare").read_text() == "mine\n"
    session.reset("basics.compare")
    assert path.read_text() == "import torch\nt = ...\n"
    assert (path.parent / (path.name + ".bak")).read_text() == "mine\n"


def test_a_broken_lesson_is_reported_and_the_rest_works(home: Path, course_copy: Path) -> None:
    (course_copy / "modules.yaml").write_text("id: [broken\n")
    session = Session.open(lessons=course_copy, device="cpu")
    assert any("modules.yaml:" in warning for warning in session.warnings)
    assert [s.lesson for s in session.statuses()] == ["basics"] * 4
