"""The progress store: round trips, crash safety, broken files and two tutors at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tutor.core import files, progress
from tutor.core.files import atomic_write_text
from tutor.core.progress import FILE_NAME, Progress, ProgressStore, StepProgress, default_data_dir

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

PROJECT_ROOT = Path(progress.__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> ProgressStore:
    return ProgressStore(tmp_path / "data" / FILE_NAME)


def stored_json(store: ProgressStore) -> dict:
    return json.loads(store.path.read_text(encoding="utf-8"))


def corrupt_files(store: ProgressStore) -> list[Path]:
    return sorted(store.path.parent.glob(f"{FILE_NAME}.corrupt-*"))


# --------------------------------------------------------------------------- basics


def test_missing_file_gives_defaults_and_creates_nothing(store: ProgressStore) -> None:
    snapshot = store.load()

    assert snapshot.step("c", "s") == StepProgress()
    assert snapshot.current("c") is None
    assert not snapshot.is_passed("c", "s")
    assert not store.path.parent.exists()
    assert store.warnings == []


def test_round_trip_through_a_new_store(store: ProgressStore) -> None:
    store.record_attempt("basics", "tensors", passed=False)
    store.record_attempt("basics", "tensors", passed=True)
    store.record_hint("basics", "tensors")
    store.record_solution_viewed("basics", "tensors")
    store.record_skip("basics", "cuda", "needs a GPU")
    store.set_current("basics", "autograd")

    snapshot = ProgressStore(store.path).load()

    step = snapshot.step("basics", "tensors")
    assert (step.attempts, step.hints, step.solution_viewed) == (2, 1, True)
    assert snapshot.is_passed("basics", "tensors")
    assert datetime.fromisoformat(step.passed_at).utcoffset() == timezone.utc.utcoffset(None)
    assert snapshot.step("basics", "cuda").skipped_reason == "needs a GPU"
    assert snapshot.current("basics") == "autograd"
    assert snapshot.passed_steps("basics") == frozenset({"tensors"})
    assert stored_json(store)["version"] == 1


def test_a_passed_step_stays_passed_and_keeps_its_first_time(store: ProgressStore) -> None:
    first = store.record_attempt("c", "s", passed=True)
    later = store.record_attempt("c", "s", passed=False)

    assert later.passed
    assert later.passed_at == first.passed_at
    assert later.attempts == 2


def test_passing_clears_a_skip(store: ProgressStore) -> None:
    store.record_skip("c", "s", "needs a GPU")

    step = store.record_attempt("c", "s", passed=True)

    assert step.passed and not step.skipped


def test_record_hint_counts_up_to_the_limit(store: ProgressStore) -> None:
    counts = [store.record_hint("c", "s", limit=2) for _ in range(4)]

    assert counts == [1, 2, 2, 2]
    assert store.record_hint("c", "other") == 1


def test_reset_step_and_reset_course(store: ProgressStore) -> None:
    store.record_attempt("c", "a", passed=True)
    store.record_attempt("c", "b", passed=True)
    store.record_attempt("d", "a", passed=True)

    store.reset_step("c", "a")
    after_step = store.load()
    store.reset_course("c")
    after_course = store.load()

    assert after_step.step("c", "a") == StepProgress()
    assert after_step.is_passed("c", "b")
    assert after_course.course("c").steps == {}
    assert after_course.is_passed("d", "a")


def test_unknown_keys_from_a_newer_minor_format_are_kept(store: ProgressStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(
        json.dumps(
            {
                "version": 1,
                "theme": "dark",
                "courses": {
                    "c": {
                        "current": "s",
                        "badge": "gold",
                        "steps": {"s": {"attempts": 1, "notes": ["x"]}},
                    }
                },
            }
        ),
        encoding="utf-8",
    )

    store.record_attempt("c", "s", passed=False)

    data = stored_json(store)
    assert data["theme"] == "dark"
    assert data["courses"]["c"]["badge"] == "gold"
    assert data["courses"]["c"]["steps"]["s"]["notes"] == ["x"]
    assert data["courses"]["c"]["steps"]["s"]["attempts"] == 2
    assert store.warnings == []


# --------------------------------------------------------------------------- crash safety


def test_atomic_write_keeps_the_old_file_when_replace_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "file.txt"
    target.write_text("old", encoding="utf-8")

    def crash(*_args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        atomic_write_text(target, "new")

    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_store_survives_a_failed_save_without_touching_the_file(
    store: ProgressStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.record_attempt("c", "s", passed=True)
    before = store.path.read_bytes()

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", crash)
    step = store.record_attempt("c", "other", passed=False)

    assert store.path.read_bytes() == before
    assert [p.name for p in store.path.parent.glob("*.tmp")] == []
    assert step.attempts == 1
    assert store.read_only
    assert store.load().step("c", "other").attempts == 1  # this session keeps it in memory
    assert any("disk full" in warning for warning in store.warnings)


def test_store_that_cannot_create_its_folder_keeps_working_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    store = ProgressStore(blocker / FILE_NAME)

    assert store.record_hint("c", "s") == 1
    assert store.record_hint("c", "s") == 2

    assert store.read_only
    assert len(store.warnings) == 1
    assert store.load().step("c", "s").hints == 2


# --------------------------------------------------------------------------- broken files


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe\x80binary garbage",
        b"",
        b"{not json",
        b"[1, 2, 3]",
        b'"just a string"',
        b"null",
        b'{"courses": {}}',
        b'{"version": "1", "courses": {}}',
        b'{"version": 0, "courses": {}}',
        b'{"version": 1, "courses": ["basics"]}',
    ],
    ids=[
        "binary",
        "empty",
        "truncated",
        "list",
        "string",
        "null",
        "no-version",
        "version-str",
        "version-0",
        "courses-list",
    ],
)
def test_unusable_file_is_moved_aside_with_a_warning(store: ProgressStore, content: bytes) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(content)

    snapshot = store.load()

    assert snapshot == Progress()
    [aside] = corrupt_files(store)
    assert aside.read_bytes() == content
    assert not store.path.exists()
    assert len(store.warnings) == 1
    assert str(aside) in store.warnings[0]
    store.record_attempt("c", "s", passed=True)
    assert ProgressStore(store.path).load().is_passed("c", "s")
    assert not store.read_only


def test_two_corrupt_files_in_the_same_second_both_survive(store: ProgressStore) -> None:
    store.path.parent.mkdir(parents=True)
    for content in (b"first", b"second"):
        store.path.write_bytes(content)
        store.load()

    assert sorted(p.read_bytes() for p in corrupt_files(store)) == [b"first", b"second"]


def test_bad_entries_are_repaired_and_the_rest_is_kept(store: ProgressStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(
        json.dumps(
            {
                "version": 1,
                "courses": {
                    "good": {
                        "current": 7,
                        "steps": {
                            "ok": {
                                "passed_at": "2024-05-01T10:00:00+00:00",
                                "attempts": 3,
                                "hints": 1,
                            },
                            "bad": {
                                "passed_at": 42,
                                "attempts": "x",
                                "hints": -3,
                                "solution_viewed": "yes",
                                "skipped_reason": ["no"],
                            },
                            "junk": "not a step",
                        },
                    },
                    "broken": ["not", "a", "course"],
                    "no-steps": {"current": "a", "steps": "nope"},
                },
            }
        ),
        encoding="utf-8",
    )

    snapshot = store.load()

    assert snapshot.step("good", "ok") == StepProgress("2024-05-01T10:00:00+00:00", 3, 1)
    assert snapshot.step("good", "bad") == StepProgress()
    assert "junk" not in snapshot.course("good").steps
    assert snapshot.current("good") is None
    assert "broken" not in snapshot.courses
    assert snapshot.current("no-steps") == "a"
    assert corrupt_files(store) == []
    assert len(store.warnings) == 1 and "9 invalid" in store.warnings[0]
    store.record_attempt("good", "bad", passed=False)
    assert stored_json(store)["courses"]["good"]["steps"]["bad"]["attempts"] == 1


def test_newer_format_is_left_untouched_and_read_only(store: ProgressStore) -> None:
    store.path.parent.mkdir(parents=True)
    newer = b'{"version": 2, "learners": {"ada": {}}}'
    store.path.write_bytes(newer)

    first = store.load()
    store.record_attempt("c", "s", passed=True)
    second = store.load()

    assert first == Progress()
    assert second.is_passed("c", "s")  # the session goes on in memory
    assert store.path.read_bytes() == newer
    assert corrupt_files(store) == []
    assert store.read_only
    assert len(store.warnings) == 1
    assert "newer" in store.warnings[0] and "format 2" in store.warnings[0]


# --------------------------------------------------------------------------- two tutors at once

CHILD = """
import sys, time
from pathlib import Path
from tutor.core.progress import ProgressStore

path, step, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
store = ProgressStore(path)
for _ in range(int(sys.argv[4])):
    store.record_attempt("course", step, passed=False)
    store.record_hint("course", step)
if store.warnings:
    sys.exit("\\n".join(store.warnings))
"""


def start_child(store: ProgressStore, step: str, go: Path, updates: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    argv = [sys.executable, "-c", CHILD, str(store.path), step, str(go), str(updates)]
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)


def test_two_processes_writing_at_once_lose_no_update(store: ProgressStore, tmp_path: Path) -> None:
    go = tmp_path / "go"
    children = [start_child(store, step, go, 50) for step in ("left", "right")]
    go.touch()  # both start together

    results = [(child.wait(timeout=120), child.stderr.read()) for child in children]

    assert results == [(0, ""), (0, "")]
    snapshot = store.load()
    for step in ("left", "right"):
        assert snapshot.step("course", step).attempts == 50
        assert snapshot.step("course", step).hints == 50


@pytest.mark.skipif(fcntl is None, reason="no fcntl: the store is unlocked here")
def test_a_writer_waits_while_another_holds_the_lock(store: ProgressStore, tmp_path: Path) -> None:
    go = tmp_path / "go"
    go.touch()
    store.lock_path.parent.mkdir(parents=True)
    with store.lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        child = start_child(store, "waiting", go, 1)
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=1.5)
        assert not store.path.exists()
        fcntl.flock(lock, fcntl.LOCK_UN)

    assert child.wait(timeout=60) == 0
    assert store.load().step("course", "waiting").attempts == 1


# --------------------------------------------------------------------------- where the file lives


def test_pytorch_tutor_home_overrides_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(tmp_path / "home"))

    assert default_data_dir() == tmp_path / "home"
    assert ProgressStore.default().path == tmp_path / "home" / FILE_NAME


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG is a Linux convention")
def test_xdg_data_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTORCH_TUTOR_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))

    assert default_data_dir() == tmp_path / "xdg" / "pytorch-tutor"
    assert ProgressStore.default().path == tmp_path / "xdg" / "pytorch-tutor" / FILE_NAME
