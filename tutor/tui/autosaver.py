"""Saving the learner's code: after a quiet pause, before anything reads the file, on quit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from tutor.tui import messages as msg

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widget import Widget


@dataclass(frozen=True)
class Draft:
    """Text to write for a step, numbered so an older draft never lands over a newer one."""

    step_id: str
    code: str
    version: int


Shown = Callable[[], tuple[str, str, str] | None]  # (step, text, text as loaded or saved)


class Autosaver:
    """Owns the edit counter, the debounce timer and the version written for each step.

    Workers write too (a check saves the editor's text before it reads the file), so the
    compare-and-write runs under a lock; the counter and the timer live on the UI thread.
    """

    def __init__(self, host: Widget, shown: Shown, write: Callable[[str, str], object],
                 delay_s: float) -> None:
        self.host = host  # runs the timer and the workers, receives ``CodeSaved``
        self.shown = shown  # what the editor holds now
        self.write_code = write
        self.delay_s = delay_s
        self.edits = 0  # every edit counts, over all steps
        self._written: dict[str, int] = {}
        self._lock = threading.Lock()
        self._timer: Timer | None = None

    def edited(self) -> None:
        """Save once the learner has paused typing for ``delay_s``."""
        self.edits += 1
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.host.set_timer(self.delay_s, self.save)

    def pending(self) -> Draft | None:
        """The editor's text when it holds something not yet written."""
        shown = self.shown()
        if shown is None:
            return None
        step_id, text, baseline = shown
        if self._written.get(step_id, -1) >= self.edits or text == baseline:
            return None
        return Draft(step_id, text, self.edits)

    def take(self, step_id: str, text: str) -> Draft:
        """``text`` as the newest version, whatever is on disk: a check reads the file next."""
        self.edits += 1
        return Draft(step_id, text, self.edits)

    def save(self) -> None:
        draft = self.pending()
        if draft is not None:
            self.host.run_worker(partial(self.write_and_report, draft), thread=True,
                                 group="save", exit_on_error=False)

    def write_and_report(self, draft: Draft | None) -> None:
        """Write ``draft`` and tell the screen, so the editor says "saved"; any thread."""
        if draft is not None and self.write(draft):
            self.host.post_message(msg.CodeSaved(draft.step_id, draft.version, draft.code))

    def write(self, draft: Draft) -> bool:
        """Write unless a newer version was written already; safe from any thread."""
        with self._lock:
            if self._written.get(draft.step_id, -1) >= draft.version:
                return False
            self.write_code(draft.step_id, draft.code)
            self._written[draft.step_id] = draft.version
            return True

    def flush(self) -> str:
        """Write what is pending now, on this thread (the app is closing); what went wrong."""
        draft = self.pending()
        try:
            if draft is not None:
                self.write(draft)
        except OSError as exc:
            return f"Could not save your code: {exc}"
        return ""

    def replaced(self, step_id: str) -> None:
        """The core rewrote the file (a reset): no draft taken before now may overwrite it."""
        with self._lock:
            self._written[step_id] = self.edits

    def is_latest(self, version: int) -> bool:
        return version == self.edits
