"""``pytorch-tutor watch``: checks on every save, or on Enter with --manual."""

from __future__ import annotations

import _thread
import io
import signal
import threading
import time

import pytest
from conftest import FIXTURE_COURSE, open_session

from tutor.cli import main as cli
from tutor.cli.watch import Watcher
from tutor.core import checker

SOLUTION = ("import torch\nprint('hello from your code', flush=True)\n"
            "t = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n")
pytestmark = pytest.mark.slow  # real checks, on workers forked from one warm parent


@pytest.fixture(autouse=True)
def _isolated(home, monkeypatch):
    """Every test gets conftest's throwaway tutor home; plain text output."""
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def session_for(tmp_path, warm_runner):
    """The real session on the fixture course, checking on the module's warm runner."""
    return lambda unlock_all=False: open_session(
        warm_runner, lessons=FIXTURE_COURSE, device="cpu", workspace=tmp_path / "ws",
        unlock_all=unlock_all)


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_every_save_checks_and_a_pass_moves_to_the_next_file(session_for):
    session = session_for()
    out, stop = io.StringIO(), threading.Event()
    watcher = Watcher(session, out=out, lines=iter(()), poll_s=0.02, stop=stop)
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        wait_until(lambda: "Edit the file above; each save checks it." in out.getvalue())
        path = session.file_of("basics.compare")
        assert f"Edit: {path}" in out.getvalue()
        assert "Make `t`, a 2x3 float tensor" in out.getvalue()  # the explanation
        assert "not yet" not in out.getvalue()  # the untouched starter is not checked
        path.write_text("import torch\nt = torch.zeros(2, 3)\n")
        wait_until(lambda: "✗ not yet" in out.getvalue())
        path.write_text(SOLUTION)
        wait_until(lambda: "Now: Sum the rows." in out.getvalue())
        time.sleep(0.3)  # a few polls: the next step's starter must not be checked
    finally:
        stop.set()
        thread.join(5)
    text = out.getvalue()
    assert "✓ passed basics.compare — Make a tensor" in text
    assert "hello from your code" in text  # output streams as it comes
    shown = text.split("Stopped watching")[0]  # the screen before the test stopped it
    last = shown.rstrip().splitlines()[-2:]  # what stays in a small pane: the pass, what next
    assert last == ["✓ Make a tensor passed. Now: Sum the rows.",
                    "Edit the file above; each save checks it."]
    assert "basics.call" not in text.split("Now: Sum the rows.")[1]
    assert session.status_of("basics.compare").status == "passed"
    assert session.current_step_id() == "basics.call"


def test_manual_mode_checks_on_enter_and_takes_commands(session_for):
    session = session_for()
    path = session.file_of("basics.compare")

    def typed():
        yield "h"
        yield ""  # Enter: the first check, of the starter
        yield ""  # Enter: check again
        path.write_text(SOLUTION)
        yield ""
        yield "q"

    out = io.StringIO()
    code = Watcher(session, manual=True, out=out, lines=typed()).run()
    text = out.getvalue()
    assert code == 0
    assert "Press Enter to check it" in text
    assert "Hint 1/2:\nUse `torch.arange`." in text
    assert text.count("✗ not yet basics.compare") == 2
    assert "✓ passed basics.compare" in text
    assert "✓ Make a tensor passed. Now: Sum the rows." in text
    assert "Stopped watching" in text


def test_an_edited_file_is_checked_at_once(session_for):
    session = session_for()
    session.file_of("basics.compare").write_text(SOLUTION)
    out = io.StringIO()
    Watcher(session, out=out, lines=iter(["q"])).run()
    assert "✓ passed basics.compare" in out.getvalue()


def test_a_quiz_is_answered_in_the_terminal(session_for):
    session = session_for(unlock_all=True)
    session.visit("basics.quiz")
    out = io.StringIO()
    Watcher(session, out=out, lines=iter(["1", "two", "2", "q"])).run()
    text = out.getvalue()
    assert "  2. 2" in text
    assert "✗ not yet" in text
    assert "Answer with choice numbers" in text
    assert "✓ passed basics.quiz" in text
    assert "The rank is the number of axes." in text


def test_the_last_step_ends_the_course(session_for):
    session = session_for(unlock_all=True)
    session.visit("modules.train")
    session.file_of("modules.train").write_text(session.step("modules.train").solution)
    out = io.StringIO()
    assert Watcher(session, out=out, lines=iter(())).run() == 0
    assert "That was the last step of the course" in out.getvalue()


def test_ctrl_c_exits_cleanly_and_cancels_the_run(tmp_path, monkeypatch, capsys, request):
    # ctrl+c is SIGINT's default handler; a job started in the background (a CI's runner,
    # `cmd &`) inherits SIGINT ignored, and interrupt_main() then does nothing
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    workspace = tmp_path / "ws"
    session = open_session(lessons=FIXTURE_COURSE, device="cpu", workspace=workspace)
    session.file_of("basics.compare").write_text(
        "import time\nprint('training...', flush=True)\ntime.sleep(120)\n")
    cancelled = []
    real_cancel = checker.Cancel.cancel
    monkeypatch.setattr(checker.Cancel, "cancel",
                        lambda self: cancelled.append(True) or real_cancel(self))

    def stream(self, text: str) -> None:  # the learner presses ctrl+c once the run is going
        if "training" in text:
            _thread.interrupt_main()

    monkeypatch.setattr(Watcher, "_stream", stream)
    # a check that ends without the interrupt must fail the test, not wait for a save
    # forever (stdin is not a terminal here)
    monkeypatch.setattr(Watcher, "_wait", lambda *args: False)
    started = time.monotonic()
    code = cli.main(["--lessons", str(FIXTURE_COURSE), "--device", "cpu", "--workspace",
                     str(workspace), "watch"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert cancelled, out  # the run was stopped, not left to finish its two minutes
    assert time.monotonic() - started < 100
    assert "Stopped watching" in out
