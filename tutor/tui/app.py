"""The full-screen tutor: one step screen over the session, and the keys that work anywhere.

The app holds what the screen is opened with and what outlives it (quitting, the command
palette's entries); the step screen (``screens/step_screen.py``) presents the session.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen

from tutor.tui.keys import APP_BINDINGS
from tutor.tui.options import TutorOptions
from tutor.tui.pane_layout import WIDE_FROM
from tutor.tui.screens.step_screen import StepScreen
from tutor.tui.session_calls import SessionFactory

if TYPE_CHECKING:  # the session loads in the opening worker, after the first frame
    from tutor.core.session import Session
    from tutor.tui.first_screen import FirstScreen


class TutorApp(App[None]):
    """Opens on the step screen; ctrl+q saves and quits from anywhere."""

    CSS_PATH = "app.tcss"
    TITLE = "pytorch-tutor"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [*APP_BINDINGS]

    def __init__(self, session_factory: SessionFactory, options: TutorOptions | None = None,
                 first_screen: FirstScreen | None = None) -> None:
        super().__init__()
        self.options = options or TutorOptions()
        self.step_screen = StepScreen(session_factory, self.options, first_screen)

    def get_default_screen(self) -> Screen[None]:
        return self.step_screen

    async def action_quit(self) -> None:
        """Save what is typed and stop a running check before leaving."""
        problem = self.step_screen.leave()
        if problem:
            self.notify(problem, severity="error", markup=False)
        else:
            self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p): every action, and every step that is open."""
        yield from self.step_screen.commands()
        yield from super().get_system_commands(screen)


def make_app(session_factory: SessionFactory, options: TutorOptions | None = None,
             first_screen: FirstScreen | None = None) -> TutorApp:
    """The app over any session: the real one, or one the tests open on a fixture course."""
    return TutorApp(session_factory, options, first_screen)


def open_session(args: argparse.Namespace) -> Session:
    """Runs in the opening worker, so the first frame never waits for the course tools.

    ``warm``: a pre-started worker parent makes every check after the first one fast.
    """
    from tutor.bootstrap import Options
    from tutor.bootstrap import open_session as open_with

    return open_with(Options(lessons=args.lessons, device=args.device,
                             workspace=args.workspace, unlock_all=args.unlock_all, warm=True))


def run_app(args: argparse.Namespace) -> int:
    """``pytorch-tutor`` with no command."""
    from tutor.core.progress import default_data_dir
    from tutor.tui import first_screen

    home, chosen = default_data_dir(), _chosen(args)
    decide_pictures()
    app = make_app(partial(open_session, args), first_screen=first_screen.load(home, chosen))
    try:
        app.run()
    finally:
        step = app.step_screen
        step.calls.close(timeout=60)  # a session still opening is closed once it is open
        session = step.calls.session
        left = step.left_at()
        if session is not None and left is not None:
            first_screen.save(home, chosen, session.course.root, left)
    return app.return_code or 0


def decide_pictures() -> None:
    """Pixels where the terminal draws them (``tutor.graphics``), else half blocks.
    Decided before Textual starts: its keyboard reader would take the terminal's answer."""
    from tutor import graphics

    out = sys.__stdout__
    graphics.activate(graphics.choose(os.environ, out is not None and out.isatty()))


def _chosen(args: argparse.Namespace) -> dict[str, object]:
    """The options a first screen depends on."""
    return {name: str(getattr(args, name)) for name in ("lessons", "device", "workspace",
                                                         "unlock_all")}
