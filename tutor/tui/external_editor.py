"""Which program opens the learner's file outside the app."""

from __future__ import annotations

import os
import shlex
import shutil


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
