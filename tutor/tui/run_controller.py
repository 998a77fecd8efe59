"""One run of the learner's code at a time, as the output panel shows it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # the checker loads with the session, after the first frame
    from textual.app import App
    from textual.timer import Timer

    from tutor.core.checker import Cancel
    from tutor.core.verdict import Verdict
    from tutor.tui.widgets.output_panel import OutputPanel

TICK_S = 0.25  # how often the running state and streamed output are drawn
Job = Callable[["Cancel", Callable[[str], None]], None]  # runs in a thread, posts its result


class RunController:
    """Owns the running state: the mode, the cancel switch, the ticker and the output the
    worker streams in. The worker's thread only appends to a deque; ticks drain it, so the
    panel is touched on the UI thread alone."""

    def __init__(self, app: App[None], show_timings: bool) -> None:
        self.app = app
        self.show_timings = show_timings
        self.running: str | None = None  # "check" or "run"
        self.cancel: Cancel | None = None
        self._started = 0.0
        self._frame = 0
        self._printed = False
        self._output: deque[str] = deque()
        self._ticker: Timer | None = None

    @property
    def panel(self) -> OutputPanel:
        return cast("OutputPanel", self.app.query_one("#output"))

    def start(self, mode: str, job: Job) -> None:
        """Show the run starting, then hand ``job`` to a thread worker."""
        from tutor.core.checker import Cancel  # loaded by now, with the session

        self.running, self.cancel = mode, Cancel()
        self._started, self._frame, self._printed = time.monotonic(), 0, False
        self._output.clear()
        self.panel.start(mode)
        self._ticker = self.app.set_interval(TICK_S, self._tick)
        self.app.run_worker(partial(job, self.cancel, self._output.append), thread=True,
                            group="run", exclusive=True, exit_on_error=False)
        self.app.refresh_bindings()  # the keys that wait for the run dim, esc appears

    def finish(self, mode: str, verdict: Verdict) -> bool:
        """Show how the run ended; False when the learner cancelled it (nothing to show)."""
        cancelled = self.cancel is not None and self.cancel.cancelled
        mode = self.running or mode
        self._stop()
        if cancelled:
            self.panel.stop("Cancelled. Nothing was recorded; ctrl+r checks again.")
            return False
        self.panel.finish(mode, verdict, self._printed, self.show_timings)
        return True

    def failed(self) -> None:
        """The worker raised: the tutor failed, not the learner's code."""
        if self.running:
            self._stop()
            self.panel.stop("The tutor could not run this (see the message).")

    def request_cancel(self) -> None:
        if self.running and self.cancel is not None:
            self.cancel.cancel()
            self.panel.stop("Cancelling…")

    def abandon(self) -> None:
        """Stop the run without a word: the app is closing."""
        if self.running and self.cancel is not None:
            self.cancel.cancel()

    def _tick(self) -> None:
        self._drain()
        self._frame += 1
        elapsed = time.monotonic() - self._started if self.show_timings else None
        if self.running:
            self.panel.tick(self.running, self._frame, elapsed)

    def _drain(self) -> None:
        chunks = []
        while self._output:
            chunks.append(self._output.popleft())
        if chunks:
            self._printed = True
            self.panel.write("".join(chunks))

    def _stop(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        self._drain()
        self.running = None
        self.app.refresh_bindings()
