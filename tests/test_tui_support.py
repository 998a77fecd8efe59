"""Shared pieces for the TUI tests: the real session on the fixture course, app builders, waits.

The apps open the session the way the shells do (``tutor.bootstrap``) over conftest's warm
runner, one per test module, so every check is real and takes tens of milliseconds once the
runner is warm. A long run is learner code that sleeps; a core that fails is a runner (the
port) that cannot start anything.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.visual import RichVisual
from textual.widget import Widget
from textual.worker import WorkerFailed

from tutor.bootstrap import Options, open_session
from tutor.core.runs import OutputCallback, RunHandle, Runner, RunRequest
from tutor.core.session import Session
from tutor.tui.app import TutorApp, make_app
from tutor.tui.options import TutorOptions

FIXTURE = Path(__file__).parent / "fixtures" / "course"
STARTER = "import torch\nt = ...\n"
SOLUTION = "import torch\nt = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
SLEEPER = "import time\nprint('started', flush=True)\ntime.sleep(30)\n"  # a long training run
QUIET = TutorOptions(show_timings=False, show_paths=False, cursor_blink=False,
                     autosave_delay_s=0.05)


class BrokenRunner:
    """A runner (the core's port) that fails to start every run, as a broken sandbox would."""

    def start(self, request: RunRequest, on_output: OutputCallback | None = None) -> RunHandle:
        raise RuntimeError("the checker broke")

    def warm_up(self) -> None:
        """Nothing to warm."""

    def wait_ready(self, timeout: float = 0.0) -> bool:
        return True

    def close(self) -> None:
        """Nothing to stop."""


def factory(runner: Runner, tmp_path: Path, lessons: Path = FIXTURE,
            unlock_all: bool = False) -> Callable[[], Session]:
    """Opens the session in the app's opening worker, as ``pytorch-tutor`` does."""
    options = Options(lessons=lessons, device="cpu", workspace=tmp_path / "ws",
                      unlock_all=unlock_all)
    return partial(open_session, options, runner)


def build_app(runner: Runner, tmp_path: Path, lessons: Path = FIXTURE,
              options: TutorOptions = QUIET, unlock_all: bool = False) -> TutorApp:
    """The app over the real session; the runner outlives it (a module's warm runner)."""
    return make_app(factory(runner, tmp_path, lessons, unlock_all), options)


def paste(app: TutorApp, code: str) -> None:
    """Put text in the editor as one edit (typing is covered by the journey test)."""
    from tutor.tui.widgets.code_editor import CodeEditor

    editor = app.query_one(CodeEditor)
    editor.replace(code, (0, 0), editor.document.end)


async def settle(pilot: Pilot) -> None:
    """Wait for every worker and the messages they posted (never sleep)."""
    for _ in range(3):
        with contextlib.suppress(WorkerFailed):  # the app reports those itself
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_for(pilot: Pilot, condition: Callable[[], object], timeout: float = 10.0) -> None:
    """For states a thread reaches on its own schedule, e.g. a check that is running."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


def text_of(widget: Widget) -> str:
    """The plain text a Static/Label shows (a Rich table as its width lays it out)."""
    shown = widget.render()
    if isinstance(shown, RichVisual):
        console = Console(width=max(20, widget.content_size.width or 80), no_color=True,
                          file=io.StringIO())
        with console.capture() as captured:
            console.print(shown._renderable)
        return captured.get()
    return str(shown)


def terminal_output(app: App) -> tuple[str, str]:
    """What the app would write to the terminal for its whole screen now (the driver's
    bytes, escape sequences and all), and the text those put on the screen."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False,
                      safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    written = console.file.getvalue()  # type: ignore[attr-defined]
    return written, console.export_text(styles=False)


def screen_text(app: App) -> str:
    """The screen as the learner reads it, one line per row."""
    return terminal_output(app)[1]
