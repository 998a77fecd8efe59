"""The full-screen tutor's figures, for ``check_latency.py``: a check in the app (a headless
pilot) and launches of ``pytorch-tutor`` on a pseudo-terminal, read from outside as a
terminal would read them.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from tutor.tui.app import TutorApp

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "course"
STEP = "basics.compare"
SOLUTION = "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
TUTOR = Path(sys.executable).with_name("pytorch-tutor")
SIZE = (80, 24)  # columns, rows
# What a terminal does with the bytes, as far as finding text goes: escape sequences drop out.
ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
CTRL_R, CTRL_Q = b"\x12", b"\x11"
TIMEOUT_S = 60.0  # a figure that takes longer than this is a failure, not a figure


# --------------------------------------------------------------------------- a check in the app


def time_tui_checks(runner: object, count: int) -> list[float]:
    """Milliseconds from pressing ctrl+r to the verdict on screen (the first frame drawn
    after the verdict widget took it), for a passing check of a tensor step, in the app over
    ``runner`` (references computed ahead, as in ``pytorch-tutor``); the first check, which
    warms up, is not counted."""
    return asyncio.run(_tui_checks(runner, count)) if count > 0 else []


@contextlib.asynccontextmanager
async def _tutor(runner: object) -> AsyncIterator[tuple[TutorApp, Pilot]]:
    """The app over ``runner``, at ``SIZE``, in a throwaway home, once its step is shown."""
    from tutor.bootstrap import Options, open_session
    from tutor.tui.app import make_app
    from tutor.tui.options import TutorOptions

    home = Path(tempfile.mkdtemp(prefix="tutor-bench-"))
    os.environ["PYTORCH_TUTOR_HOME"] = str(home)
    options = Options(lessons=FIXTURE, device="cpu", workspace=home / "ws", warm=True)
    app = make_app(partial(open_session, options, runner),  # type: ignore[arg-type]
                   TutorOptions(cursor_blink=False))
    try:
        async with app.run_test(size=SIZE) as pilot:
            while app.step_screen.state.view is None:
                await pilot.pause(0.05)
            yield app, pilot
    finally:
        shutil.rmtree(home, ignore_errors=True)


async def _tui_checks(runner: object, count: int) -> list[float]:
    from textual import events
    from textual.screen import Screen

    from tutor.tui.screens.passed_screen import PassedScreen
    from tutor.tui.widgets.output_panel import OutputPanel

    finish, draw = OutputPanel.finish, Screen._compositor_refresh
    verdict_in: list[bool] = []  # the verdict widget holds the verdict, not yet drawn
    painted: list[float] = []  # when the frame that shows it was drawn

    def finished(panel: OutputPanel, *args: object, **kwargs: object) -> None:
        finish(panel, *args, **kwargs)  # type: ignore[arg-type]
        verdict_in.append(True)

    def drawn(screen: Screen) -> None:  # the screen's frame, written to the terminal
        draw(screen)
        if verdict_in:
            verdict_in.clear()
            painted.append(time.perf_counter())

    OutputPanel.finish = finished  # type: ignore[method-assign]
    Screen._compositor_refresh = drawn  # type: ignore[method-assign]
    times = []
    try:
        async with _tutor(runner) as (app, pilot):
            editor = app.step_screen.editor
            session = app.step_screen.calls.live
            step = session.step(STEP)
            for number in range(count + 1):
                # an edit just typed (written by the check), the reference computed meanwhile
                editor.replace(SOLUTION + "\n" * (number % 2), (0, 0), editor.document.end)
                await asyncio.to_thread(session.checker.wait_prepared, step)
                await pilot.pause(0.2)  # the learner's next key comes once the screen is drawn
                painted.clear()
                started = time.perf_counter()
                app.post_message(events.Key("ctrl+r", None))  # as the terminal's key arrives
                deadline = time.monotonic() + TIMEOUT_S
                while not painted or not isinstance(app.screen, PassedScreen):
                    if time.monotonic() > deadline:
                        verdict = app.step_screen.state.verdict
                        raise RuntimeError(f"the check did not pass: {verdict}")
                    await pilot.pause(0.01)
                times.append((painted[0] - started) * 1000)
                await pilot.press("escape")  # stay on the step, check it again
    finally:
        OutputPanel.finish = finish  # type: ignore[method-assign]
        Screen._compositor_refresh = draw  # type: ignore[method-assign]
    return times[1:]


# --------------------------------------------------------------------------- keys during a run

BUSY = "import time\nend = time.monotonic() + 40\nwhile time.monotonic() < end:\n    pass\n"


def time_keys(runner: object, count: int) -> tuple[list[float], list[float]]:
    """Milliseconds from a key (ctrl+f, the next pane) to the frame that shows its effect,
    with the app idle (the baseline) and while the learner's code spins a CPU core: the UI
    must not wait for the run."""
    return asyncio.run(_keys(runner, count)) if count > 0 else ([], [])


async def _keys(runner: object, count: int) -> tuple[list[float], list[float]]:
    from textual import events
    from textual.screen import Screen

    draw = Screen._compositor_refresh
    painted: list[float] = []

    def drawn(screen: Screen) -> None:
        draw(screen)
        painted.append(time.perf_counter())

    async def presses(app: TutorApp, pilot: Pilot) -> list[float]:
        times = []
        for _ in range(count):
            before = app.step_screen.panes.pane
            await pilot.pause(0.2)
            started = time.perf_counter()
            app.post_message(events.Key("ctrl+f", None))  # as the terminal's key arrives
            deadline = time.monotonic() + TIMEOUT_S
            while app.step_screen.panes.pane == before:
                if time.monotonic() > deadline:
                    raise RuntimeError("the key was not answered")
                await pilot.pause(0.005)
            changed = len(painted)
            while len(painted) == changed:  # the frame that shows the new pane
                await pilot.pause(0.005)
            times.append((painted[changed] - started) * 1000)
        return times

    Screen._compositor_refresh = drawn  # type: ignore[method-assign]
    try:
        async with _tutor(runner) as (app, pilot):
            step = app.step_screen
            idle = await presses(app, pilot)
            step.editor.replace(BUSY, (0, 0), step.editor.document.end)
            await pilot.press("ctrl+r")
            while step.running is None:
                await pilot.pause(0.05)
            await pilot.pause(0.5)  # the code is spinning now
            busy = await presses(app, pilot)
            if step.running is None:
                raise RuntimeError("the run ended before the keys were timed")
            await pilot.press("ctrl+c")
            while step.running is not None:
                await pilot.pause(0.05)
    finally:
        Screen._compositor_refresh = draw  # type: ignore[method-assign]
    return idle, busy


# --------------------------------------------------------------------------- launches


class Terminal:
    """``pytorch-tutor`` on a pseudo-terminal of ``SIZE``: what it wrote, as text."""

    def __init__(self, home: Path, *args: str) -> None:
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the tutor, on the terminal's other end
            os.environ.update(PYTORCH_TUTOR_HOME=str(home), TERM="xterm-256color")
            os.environ.pop("NO_COLOR", None)
            os.execv(str(TUTOR), [str(TUTOR), "--workspace", str(home / "ws"), *args])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        self.written = b""

    def wait_for(self, needle: bytes, timeout: float = 60.0, after: int = 0) -> float | None:
        """Seconds from the launch until ``needle`` shows (past byte ``after`` of the
        output), or None."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if needle in ESCAPES.sub(b"", self.written[after:]):
                return time.perf_counter() - self.started
            ready, _, _ = select.select([self.fd], [], [], 0.005)
            if ready:
                try:
                    self.written += os.read(self.fd, 1 << 16)
                except OSError:
                    return None
        return None

    def press(self, key: bytes) -> None:
        os.write(self.fd, key)

    def close(self) -> None:
        """Quit as the learner does (ctrl+q), so the tutor stops its workers itself."""
        with contextlib.suppress(OSError):
            self.press(CTRL_Q)
        deadline = time.perf_counter() + 60  # it closes its workers, maybe still starting
        while time.perf_counter() < deadline:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:  # keep reading: a full terminal would block the tutor's writes
                with contextlib.suppress(OSError):
                    os.read(self.fd, 1 << 16)
        else:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def first_words() -> bytes:
    """Words of the bundled course's first step, as its explanation shows them (plain text
    from its first paragraph, which holds no Markdown there)."""
    from tutor.core.loader import load_course
    from tutor.core.session import bundled_course_dir

    step = load_course(bundled_course_dir()).steps()[0]
    plain = re.findall(r"[A-Za-z][A-Za-z ,]{12,}", step.explanation)
    return max(plain, key=len).strip().split("  ")[0][:24].encode()


def python_startup_ms() -> float:
    """The baseline every launch pays: an interpreter that does nothing."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return (time.perf_counter() - started) * 1000


def time_launches(count: int) -> dict[str, object]:
    """Launch ``pytorch-tutor`` ``count`` times as a returning learner (after a first launch
    in the same home) and once as a new one; time the first step's text and the first
    check right after it."""
    if count <= 0:
        return {}
    needle = first_words()
    home = Path(tempfile.mkdtemp(prefix="tutor-launch-"))
    try:
        new = _launch(home, needle)
        returning = [_launch(home, needle) for _ in range(count)]
        checked = _first_check(home, needle)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    screens = [t for t in returning if t is not None]
    return {
        "first_screen_ms": round(statistics.median(screens) * 1000) if screens else None,
        "first_screen_max_ms": round(max(screens) * 1000) if screens else None,
        "first_screen_new_learner_ms": round(new * 1000) if new else None,
        "python_startup_ms": round(python_startup_ms()),
        **checked,
        "launches": len(returning),
    }


def _launch(home: Path, needle: bytes) -> float | None:
    terminal = Terminal(home)
    try:
        return terminal.wait_for(needle)
    finally:
        terminal.close()


def _first_check(home: Path, needle: bytes) -> dict[str, object]:
    """Press ctrl+r as soon as the first step shows (its file holding a solution) and time
    the verdict, as the learner waits for it while the workers load PyTorch."""
    from tutor.core.loader import load_course
    from tutor.core.session import bundled_course_dir

    step = load_course(bundled_course_dir()).steps()[0]
    files = list((home / "ws").rglob(f"{step.id}.py"))
    if not files:
        return {"first_check_after_launch_ms": None}
    files[0].write_text(step.solution)  # type: ignore[union-attr]
    terminal = Terminal(home)
    try:
        if terminal.wait_for(needle) is None:
            return {"first_check_after_launch_ms": None}
        mark = len(terminal.written)
        pressed = time.perf_counter()
        terminal.press(CTRL_R)
        warming = terminal.wait_for(b"Warming up PyTorch", timeout=5, after=mark) is not None
        verdict = terminal.wait_for(b"Passed", timeout=120, after=mark)
        took = (terminal.started + verdict - pressed) * 1000 if verdict else None
        return {"first_check_after_launch_ms": round(took) if took else None,
                "first_check_from_launch_ms": round(verdict * 1000) if verdict else None,
                "first_check_showed_warming_up": warming}
    finally:
        terminal.close()
