"""The session: unlocking in order, skipping, resuming, quizzes, hints and files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE
from conftest import open_session as open_with

from tutor.core import progress
from tutor.core.doctor import Protection, TorchFacts
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
    return open_with(lessons=FIXTURE_COURSE, device="cpu", **kw)


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
    session = open_with(lessons=course_copy, device="auto")
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
    session = open_with(lessons=course_copy, device="cpu")
    assert any("modules.yaml:" in warning for warning in session.warnings)
    assert [s.lesson for s in session.statuses()] == ["basics"] * 4


def test_a_passing_attempt_says_what_it_unlocked_and_where_to_go(home: Path) -> None:
    session = open_session(home)
    session.checker = CannedChecker("t = 1\n")
    session.write_code("basics.compare", "t = 2\n")
    failed = session.check("basics.compare")
    assert not failed.passed and failed.unlocked == () and failed.solution is None
    assert failed.status().status == "available"
    session.write_code("basics.compare", "t = 1\n")
    attempt = session.check("basics.compare")
    assert attempt.passed and attempt.recorded
    assert [s.id for s in attempt.unlocked] == ["basics.call"]
    assert attempt.next_step == "basics.call"
    assert attempt.solution is not None and "arange" in attempt.solution
    assert attempt.status().status == "passed"
    assert session.current_step_id() == "basics.call"
    again = session.check("basics.compare")  # passing again unlocks nothing new
    assert again.passed and again.unlocked == ()


def test_a_right_quiz_answer_gives_the_explanation(home: Path) -> None:
    session = open_session(home, unlock_all=True)
    wrong = session.answer("basics.quiz", [0])
    assert not wrong.passed and wrong.why == ""
    right = session.answer("basics.quiz", [1])
    assert right.passed and right.why == session.step("basics.quiz").why != ""
    assert right.next_step == "basics.stdout"


def test_a_passing_check_reads_progress_at_most_once_and_writes_it_once(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = open_session(home)
    session.checker = CannedChecker("t = 1\n")
    session.write_code("basics.compare", "t = 1\n")
    session.open_step("basics.compare")
    reads: list[Path] = []
    writes: list[Path] = []
    real_read, real_write = progress.read_file, progress.atomic_write_text
    monkeypatch.setattr(progress, "read_file", lambda path: reads.append(path) or real_read(path))
    monkeypatch.setattr(progress, "atomic_write_text",
                        lambda path, text: writes.append(path) or real_write(path, text))
    attempt = session.check("basics.compare")
    assert attempt.passed
    assert len(writes) == 1  # the attempt, the pass and the next current step, together
    assert len(reads) <= 1
    assert reads == []  # the session held the file as it wrote it last


def test_the_session_sees_progress_another_tutor_wrote(home: Path) -> None:
    mine, theirs = open_session(home), open_session(home)
    mine.statuses()  # read and held
    theirs.checker = CannedChecker("t = 1\n")
    theirs.write_code("basics.compare", "t = 1\n")
    assert theirs.check("basics.compare").passed
    assert mine.status_of("basics.compare").status == "passed"
    mine.next_hint("basics.compare")  # a write merges with theirs, never overwrites it
    fresh = open_session(home)
    assert fresh.status_of("basics.compare").status == "passed"
    assert fresh.hints_shown("basics.compare")


def test_opening_a_step_gathers_what_a_screen_shows(home: Path) -> None:
    session = open_session(home)
    view = session.open_step()
    assert view.step.id == "basics.compare" and not view.is_quiz
    assert view.code == "import torch\nt = ...\n" and view.path == session.file_of(view.step.id)
    assert view.position.lesson_number == 1 and view.position.step_number == 1
    assert view.position.total == len(session.course.steps()) and view.position.done == 0
    assert view.hint_total == 2 and view.hints == ()
    assert view.status.status == "available" and view.device == "cpu"
    assert [s.id for s in view.statuses] == [s.id for s in session.statuses()]
    with pytest.raises(SessionError, match="locked"):
        session.open_step("modules.net")


def test_the_course_summary_counts_per_lesson(home: Path) -> None:
    session = open_session(home, unlock_all=True)
    session.answer("basics.quiz", [1])
    summary = session.summary()
    assert (summary.course, summary.done, summary.total) == ("fixture", 1, 7)
    assert [(lesson.id, lesson.done, lesson.total) for lesson in summary.lessons] == [
        ("basics", 1, 4), ("modules", 0, 3)]
    assert summary.to_json()["lessons"][0] == {"id": "basics", "title": summary.lessons[0].title,
                                               "done": 1, "total": 4}


class FakeMachine:
    def torch_facts(self) -> TorchFacts:
        return TorchFacts(torch="9.9", cuda_build="13.0")

    def protections(self) -> list[Protection]:
        return [Protection("network isolation", False, "not available: test")]


def test_the_doctor_report_comes_from_the_session_and_its_machine(home: Path) -> None:
    session = open_session(home)
    session.machine = FakeMachine()
    report = session.doctor().to_json()
    assert report["torch"] == "9.9" and report["cuda"]["torch_built_for"] == "13.0"
    assert report["course"]["id"] == "fixture" and report["course"]["steps"] == 7
    assert report["sandbox"] == [{"name": "network isolation", "active": False,
                                  "detail": "not available: test"}]
    assert report["progress_file"] == str(session.store.path)
