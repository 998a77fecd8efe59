"""Nothing lost, nothing pretended: a damaged progress file comes back from its last good
copy, and a full disk or a read-only home never reports a pass it did not save, nor shows a
traceback. The read-only home is real: the command runs in a mount namespace where the home
is a read-only bind mount (where the kernel lets a user make one)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE, needs, open_session
from test_session import CannedChecker

from tutor.core import files
from tutor.core.progress import FILE_NAME, ProgressStore
from tutor.core.session import NotSaved, SessionError
from tutor.sandbox import isolation

SOLUTION = "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- restoring


def test_a_corrupt_progress_file_is_restored_from_the_last_good_copy(home: Path) -> None:
    store = ProgressStore(home / FILE_NAME)
    store.record_attempt("c", "one", passed=True)
    store.record_attempt("c", "two", passed=True)
    store.path.write_bytes(b'{"version": 1, "courses": {"c": {"steps": {"one"')  # cut short

    again = ProgressStore(store.path)
    assert again.load().passed_steps("c") == {"one", "two"}
    [warning] = again.warnings
    assert warning.startswith(f"{store.path} is not valid JSON. It was moved to ")
    assert "your progress was restored from the copy saved " in warning
    assert "(2 steps passed)" in warning
    assert json.loads(store.path.read_text())["courses"]["c"]["steps"]["two"]["passed_at"]
    assert [p.name for p in home.glob(f"{FILE_NAME}.corrupt-*")]  # the damaged one is kept


def test_the_last_good_copies_rotate_on_each_write(home: Path) -> None:
    store = ProgressStore(home / FILE_NAME)
    store.record_attempt("c", "one", passed=True)
    store.record_attempt("c", "two", passed=True)
    newest, older = store.good_copy_paths()
    assert newest.read_bytes() == store.path.read_bytes()
    assert "two" not in json.loads(older.read_text())["courses"]["c"]["steps"]
    assert [c.passed for c in store.saved_copies()] == [2, 1]


def test_progress_restore_lists_the_copies_and_restores_one(home: Path) -> None:
    store = ProgressStore(home / FILE_NAME)
    store.record_attempt("fixture", "basics.compare", passed=True)
    store.record_hint("fixture", "basics.call")
    store.path.write_text("not json")
    listed = tutor(home, "progress", "--restore")
    assert listed.returncode == 0, listed.stderr
    assert "1. " in listed.stdout and "1 steps passed" in listed.stdout
    assert "progress --restore N" in listed.stdout
    data = json.loads(tutor(home, "progress", "--restore", "--json").stdout)
    assert data[0]["restorable"] and data[0]["passed"] == 1
    restored = tutor(home, "progress", "--restore", "2")
    assert restored.returncode == 0 and "Progress restored from" in restored.stdout
    assert tutor(home, "progress", "--restore", "9").returncode == 2


# --------------------------------------------------------------------------- a full disk


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "replace", replace)


def test_a_pass_on_a_full_disk_says_it_was_not_saved_and_is_saved_later(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = open_session(lessons=FIXTURE_COURSE, device="cpu")
    session.checker = CannedChecker("t = 1\n")  # type: ignore[assignment]
    session.write_code("basics.compare", "t = 1\n")
    with monkeypatch.context() as disk:
        full_disk(disk)
        attempt = session.check("basics.compare")
        assert attempt.passed and not attempt.saved
        assert attempt.not_saved.startswith(f"Could not save progress to {home / FILE_NAME}")
        assert "No space left on device" in attempt.not_saved
        with pytest.raises(NotSaved, match="could not save your code to .*No space left"):
            session.write_code("basics.compare", "t = 2\n")
        with pytest.raises(OSError):  # what the TUI's autosaver catches, to try again
            session.write_code("basics.compare", "t = 2\n")
    assert not ProgressStore(home / FILE_NAME).load().is_passed("fixture", "basics.compare")
    session.next_hint("basics.compare")  # the next change, with space again: both are saved
    assert session.store.unsaved == ""
    assert ProgressStore(home / FILE_NAME).load().is_passed("fixture", "basics.compare")


def test_show_and_reset_on_a_full_disk_say_what_was_not_written(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    session = open_session(lessons=FIXTURE_COURSE, device="cpu")
    full_disk(monkeypatch)
    with pytest.raises(SessionError, match=r"could not write your starter file .*compare\.py"):
        session.open_step("basics.compare")
    with pytest.raises(SessionError, match="could not put the starter back in"):
        session.reset("basics.compare")


# --------------------------------------------------------------------------- a read-only home


def tutor(home: Path, *args: str,
          prepare: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTORCH_TUTOR")}
    environ.update(PYTORCH_TUTOR_HOME=str(home), XDG_DATA_HOME=str(home / "xdg"))
    return subprocess.run(
        [sys.executable, "-m", "tutor.cli.main", "--lessons", str(FIXTURE_COURSE), "--device",
         "cpu", *args], capture_output=True, text=True, env=environ, timeout=180, cwd=ROOT,
        preexec_fn=prepare)


def read_only(folder: Path) -> Callable[[], None]:
    """Run in the command's process before it starts: ``folder`` becomes read-only there."""

    def prepare() -> None:
        isolation.enter_namespaces()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                               ctypes.c_ulong, ctypes.c_char_p]
        ms_rdonly, ms_remount, ms_bind = 1, 32, 4096
        path = str(folder).encode()
        if (libc.unshare(isolation.CLONE_NEWNS) != 0
                or libc.mount(None, b"/", None, isolation.MS_REC | isolation.MS_PRIVATE, None)
                or libc.mount(path, path, None, ms_bind, None)
                or libc.mount(None, path, None, ms_remount | ms_bind | ms_rdonly, None)):
            os._exit(99)

    return prepare


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mount namespaces")
@needs("network isolation")
def test_a_read_only_home_never_reports_an_unsaved_pass_nor_shows_a_traceback(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    mine = Path(json.loads(tutor(home, "show", "--json").stdout)["file"])
    mine.write_text(SOLUTION)
    ro = read_only(home)

    checked = tutor(home, "check", prepare=ro)
    assert checked.returncode == 3, (checked.stdout, checked.stderr)
    assert "passed" in checked.stdout.lower()
    assert "this pass was not recorded" in checked.stderr
    assert str(home / FILE_NAME) in checked.stderr and "Read-only file system" in checked.stderr
    assert "Traceback" not in checked.stderr

    hinted = tutor(home, "hint", "basics.compare", prepare=ro)
    assert hinted.returncode == 3 and str(home / FILE_NAME) in hinted.stderr
    assert "Hint 1/2" in hinted.stdout and "Traceback" not in hinted.stderr

    (mine.parent / mine.name).unlink()  # a step whose starter must be written anew
    shown = tutor(home, "show", "basics.compare", prepare=ro)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert f"could not write your starter file {mine}: Read-only file system" in shown.stderr

    mine.write_text(SOLUTION)
    reset = tutor(home, "reset", "basics.compare", prepare=ro)
    assert reset.returncode == 2 and "Traceback" not in reset.stderr
    assert "could not put the starter back in" in reset.stderr and str(mine) in reset.stderr
    assert mine.read_text() == SOLUTION

    assert tutor(home, "progress", "--json").returncode == 0  # nothing was recorded
    assert json.loads(tutor(home, "progress", "--json").stdout)["done"] == 0
