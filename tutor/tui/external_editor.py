"""Editing the learner's file in their own editor, outside the app."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported

if TYPE_CHECKING:
    from textual.widget import Widget

    from tutor.tui.session_calls import SessionCalls

NO_EDITOR = "No editor found: set $EDITOR (for example: export EDITOR=vim)."


def editor_command() -> list[str] | None:
    """$VISUAL or $EDITOR when installed, else a terminal editor that is."""
    for name in ("VISUAL", "EDITOR"):
        command = shlex.split(os.environ.get(name, ""))
        if command and shutil.which(command[0]):
            return command
    for fallback in ("nano", "vim", "vi"):
        if shutil.which(fallback):
            return [fallback]
    return None


class ExternalEditor:
    """Hands the terminal to the learner's editor and takes it back, saying what went wrong."""

    def __init__(self, host: Widget, calls: SessionCalls) -> None:
        self.host = host  # the step screen; its app shows what this does
        self.calls = calls

    def edit(self, step_id: str, path: Path) -> None:
        """Edit the step's file, then have the app take in what the editor wrote: checked when
        the editor exited normally (``CodeReloaded``)."""
        command = editor_command()
        if command is None:
            self.host.app.notify(NO_EDITOR, severity="warning", markup=False)
            return
        try:
            problem = self.edit_file(command, path)
        except SuspendNotSupported:
            problem = "this terminal cannot hand the screen to another program"
        if problem:
            self.host.app.notify(problem, title="External editor", severity="error", markup=False)
        self.calls.reload(step_id, check=not problem)

    def edit_file(self, command: list[str], path: Path) -> str:
        """Run the editor until it exits; returns what went wrong.

        Nothing may raise inside ``suspend()``: the app would stay suspended, a blank screen.
        """
        with self.host.app.suspend():
            try:
                done = subprocess.run([*command, str(path)], check=False)
            except OSError as exc:
                return f"Could not start {command[0]} ($EDITOR): {exc}"
        if done.returncode != 0:
            return f"{shlex.join(command)} exited with status {done.returncode}; not checked."
        return ""
