"""The app stays responsive while a hostile run is stopped, and nothing survives it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_tui_support import wait_for

from tutor.core.session import Session
from tutor.sandbox import reaper
from tutor.tui.app import make_app
from tutor.tui.options import TutorOptions

pytestmark = pytest.mark.slow
OPTIONS = TutorOptions(show_timings=False, show_paths=False, cursor_blink=False)
MARKER = "1000.777"  # a sleep argument no other process on the machine uses
HOSTILE = f"""import os, signal, subprocess
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen(["sleep", "{MARKER}"], start_new_session=True)
while True:
    pass
"""


def sleepers() -> list[int]:
    found = []
    for pid, (_, state) in reaper.processes().items():
        try:
            if MARKER.encode() in Path(f"/proc/{pid}/cmdline").read_bytes() and state != "Z":
                found.append(pid)
        except OSError:
            continue
    return found


async def test_keys_answer_while_a_hostile_run_is_killed(tmp_path: Path, home: Path,
                                                         course_copy: Path) -> None:
    text = (course_copy / "basics.yaml").read_text()
    (course_copy / "basics.yaml").write_text(
        text.replace("    title: Make a tensor\n", "    title: Make a tensor\n    timeout: 12\n"))
    # Warm, as in the real app: the limit then measures the learner's code, not torch's import.
    session = Session.open(lessons=course_copy, device="cpu", workspace=tmp_path / "ws",
                           warm=True)
    assert session.checker.runner.wait_ready()
    session.write_code("basics.compare", HOSTILE)
    app = make_app(lambda: session, OPTIONS)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.view is not None, timeout=60)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: app.running is not None, timeout=30)
        for _ in range(3):  # switching panes while the loop spins
            before, asked = app.pane, time.monotonic()
            await pilot.press("ctrl+f")
            await wait_for(pilot, lambda b=before: app.pane != b, timeout=2)
            assert time.monotonic() - asked < 2
        assert app.running is not None, "the run should still be going"
        await wait_for(pilot, lambda: app.running is None and app.verdict is not None,
                       timeout=90)
        assert not app.verdict.passed
        assert "longer than 12 s" in (app.verdict.error or "")
    deadline = time.monotonic() + 5
    while sleepers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sleepers() == []
    session.close()
