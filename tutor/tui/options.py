"""What the app shows that changes from run to run; tests turn it off for stable snapshots."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TutorOptions:
    show_timings: bool = True  # elapsed time while running, durations in verdicts
    show_paths: bool = True  # the learner's file path above the editor
    cursor_blink: bool = True
    autosave_delay_s: float = 1.0  # quiet time after typing before the file is saved
