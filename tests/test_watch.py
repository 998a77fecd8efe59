"""``pytorch-tutor watch``: checks on every save, or on Enter with --manual."""

from __future__ import annotations

import _thread
import io
import threading
import time

import pytest
from test_tui_support import FIXTURE, SOLUTION, FakeSession, HeldSession

from tutor.cli import main as cli
from tutor.cli.watch import Watcher


@pytest.fixture(autouse=True)
def _isolated(home, monkeypatch):
    """Every test gets conftest's throwaway tutor home; plain text output."""
    monkeypatch.setenv("NO_COLOR", "1")


def open_session(tmp_path, cls=FakeSession, unlock_all=False):
    return cls.open(lessons=FIXTURE, device="cpu", workspace=tmp_path / "ws",
                    unlock_all=unlock_all)


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_every_save_checks_and_a_pass_moves_to_the_next_file(tmp_path):
    session = open_session(tmp_path)
    out, stop = io.StringIO(), threading.Event()
    watcher = Watcher(session, out=out, lines=iter(()), poll_s=0.02, stop=stop)
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        wait_until(lambda: "✗ not yet" in out.getvalue())
        path = session.file_of("basics.compare")
        assert f"Edit: {path}" in out.getvalue()
        assert "Make `t`, a 2x3 float tensor" in out.getvalue()  # the explanation
        path.write_text(SOLUTION)
        wait_until(lambda: "basics.call.py" in out.getvalue())
    finally:
        stop.set()
        thread.join(5)
    text = out.getvalue()
    assert "✓ passed basics.compare — Make a tensor" in text
    assert "On to the next step: Sum the rows" in text
    assert "hello from the fake runner" in text  # output streams as it comes
    assert session.status_of("basics.compare").status == "passed"
    assert session.current_step_id() == "basics.call"


def test_manual_mode_checks_on_enter_and_takes_commands(tmp_path):
    session = open_session(tmp_path)
    path = session.file_of("basics.compare")

    def typed():
        yield "h"
        yield ""  # Enter: check again, still the starter
        path.write_text(SOLUTION)
        yield ""
        yield "q"

    out = io.StringIO()
    code = Watcher(session, manual=True, out=out, lines=typed()).run()
    text = out.getvalue()
    assert code == 0
    assert "Press Enter to check it" in text
    assert "Hint 1/2: Use `torch.arange`." in text
    assert text.count("✗ not yet basics.compare") == 2
    assert "✓ passed basics.compare" in text
    assert "Stopped watching" in text


def test_a_quiz_is_answered_in_the_terminal(tmp_path):
    session = open_session(tmp_path, unlock_all=True)
    session.visit("basics.quiz")
    out = io.StringIO()
    Watcher(session, out=out, lines=iter(["1", "two", "2", "q"])).run()
    text = out.getvalue()
    assert "  2. 2" in text
    assert "✗ not yet" in text
    assert "Answer with choice numbers" in text
    assert "✓ passed basics.quiz" in text
    assert "The rank is the number of axes." in text


def test_the_last_step_ends_the_course(tmp_path):
    session = open_session(tmp_path, unlock_all=True)
    session.visit("modules.train")
    session.file_of("modules.train").write_text(session.step("modules.train").solution)
    out = io.StringIO()
    assert Watcher(session, out=out, lines=iter(())).run() == 0
    assert "That was the last step of the course" in out.getvalue()


def test_ctrl_c_exits_cleanly_and_cancels_the_run(tmp_path, monkeypatch, capsys):
    cancelled = []

    class Held(HeldSession):
        def check(self, step_id=None, file=None, on_output=None, cancel=None):
            _thread.interrupt_main()  # the learner presses ctrl+c mid-check
            verdict = super().check(step_id, file, on_output, cancel)
            cancelled.append(cancel.cancelled)
            return verdict

    from tutor.core.session import Session

    real_open = Session.open.__func__
    monkeypatch.setattr(Session, "open", lambda **kw: real_open(Held, **{**kw, "warm": False}))
    code = cli.main(["--lessons", str(FIXTURE), "--device", "cpu", "--workspace",
                     str(tmp_path / "ws"), "watch"])
    assert code == 0
    assert cancelled == [True]  # the run was stopped, not left behind
    assert "Stopped watching" in capsys.readouterr().out
