"""One run of the learner's code at a time, as the output panel shows it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # the checker loads with the session, after the first frame
    from textual.timer import Timer

    from tutor.core.checker import Cancel
    from tutor.core.figures import Figure
    from tutor.core.runs import Output, OutputCallback
    from tutor.core.verdict import Verdict
    from tutor.tui.screens.step_screen import StepScreen
    from tutor.tui.widgets.output_panel import OutputPanel

TICK_S = 0.25  # how often the running state and streamed output are drawn
SHOW_AFTER_S = 0.12  # a run that answers sooner goes straight to its verdict
VERBS_DONE = {"check": "Check", "run": "Run"}
Job = Callable[["Cancel", "OutputCallback"], None]  # runs in a thread, posts its result


class RunController:
    """Decides the screen's ``running`` (which refreshes the keys) and owns the cancel
    switch, the ticker and the output the worker streams in. The worker's thread only
    appends to a deque; ticks drain it, so the panel is touched on the UI thread alone.

    The worker starts first and the screen shows the run only after ``SHOW_AFTER_S``: a
    warm check answers in less, and redrawing the panes meanwhile would slow it down (the
    UI and the worker share one interpreter) for a "Checking…" line nobody could read.
    """

    def __init__(self, screen: StepScreen, show_timings: bool,
                 on_show: Callable[[], None]) -> None:
        self.screen = screen
        self.show_timings = show_timings
        self.on_show = on_show  # bring the output into view (narrow screens)
        self.cancel: Cancel | None = None
        self.warming = False  # the first check waits for PyTorch to load in the workers
        self._started = 0.0
        self._frame = 0
        self._printed = False
        self._shown = False
        self._output: deque[Output] = deque()
        self._timers: list[Timer] = []

    @property
    def running(self) -> str | None:
        """"check" or "run" while one is going."""
        return self.screen.running

    @running.setter
    def running(self, mode: str | None) -> None:
        self.screen.running = mode

    @property
    def panel(self) -> OutputPanel:
        return cast("OutputPanel", self.screen.query_one("#output"))

    def start(self, mode: str, job: Job) -> None:
        """Hand ``job`` to a thread worker; show it running if it takes a while."""
        from tutor.core.checker import Cancel  # loaded by now, with the session

        # Set without redrawing the keys: a warm check answers before anyone could read them,
        # and redrawing the footer meanwhile costs it ~30 ms (one CPU for both); ``_show``
        # redraws them once the run is on screen.
        self.screen.set_reactive(type(self.screen).running, mode)
        self.cancel = Cancel()
        self._started, self._frame, self._printed = time.monotonic(), 0, False
        self.warming = self._shown = False
        self._output.clear()
        self.screen.run_worker(partial(job, self.cancel, self._output.append), thread=True,
                               group="run", exclusive=True, exit_on_error=False)
        self._timers = [self.screen.set_timer(SHOW_AFTER_S, self._show)]

    def _show(self) -> None:
        """The run is taking a while: show it, its output as it comes and how to stop it."""
        if not self.running or self._shown:
            return
        self._shown = True
        self.panel.start(self.running)
        self.on_show()
        self._timers.append(self.screen.set_interval(TICK_S, self._tick))
        self._tick()
        self.screen.refresh_bindings()  # ctrl+c cancels now; the keys that wait for it dim

    def warm_up_started(self) -> None:
        """The run waits for PyTorch to load in the workers: say so rather than spin."""
        if self.running:
            self.warming = True
            self._show()
            self._tick()

    def finish(self, mode: str, verdict: Verdict, figures: Sequence[Figure] = ()) -> bool:
        """Show how the run ended; False when the learner cancelled it (nothing to show).
        The time shown is the learner's wait, from the key press to the verdict."""
        cancelled = self.cancel is not None and self.cancel.cancelled
        mode = self.running or mode
        waited = time.monotonic() - self._started
        if not self._shown:
            self.panel.clear(state=False)  # the last verdict goes; this one replaces it
            self.on_show()
        self._stop()
        if cancelled:
            self.panel.stop("Cancelled. Nothing was recorded; ctrl+r checks again.")
            return False
        self.panel.finish(mode, verdict, self._printed, waited if self.show_timings else None,
                          figures)
        return True

    def failed(self) -> None:
        """The worker raised: the tutor failed, not the learner's code."""
        if self.running:
            self._show()
            self._stop()
            self.panel.stop("The tutor could not run this (see the message).")

    def request_cancel(self) -> None:
        """Stop the run (ctrl+c), and say so wherever the learner is looking."""
        if self.running and self.cancel is not None and not self.cancel.cancelled:
            self.cancel.cancel()
            self._show()
            self.panel.stop("Cancelling…")
            self.screen.notify(f"{VERBS_DONE.get(self.running, 'Run')} cancelled: nothing was "
                               "recorded.", title="ctrl+c", markup=False)

    def abandon(self) -> None:
        """Stop the run without a word: the app is closing."""
        if self.running and self.cancel is not None:
            self.cancel.cancel()

    def _tick(self) -> None:
        self._drain()
        self._frame += 1
        elapsed = time.monotonic() - self._started if self.show_timings else None
        if self.running and not (self.cancel and self.cancel.cancelled):
            self.panel.tick(self.running, self._frame, elapsed, self.warming)

    def _drain(self) -> None:
        """Text to the log, pictures and progress to the panel's figures, in their order."""
        chunks: list[str] = []
        if self._output:
            self.warming = False  # the code runs: PyTorch has loaded
        while self._output:
            item = self._output.popleft()
            if isinstance(item, str):
                chunks.append(item)
                continue
            if chunks:
                self._write(chunks)
            self.panel.see(item)
        if chunks:
            self._write(chunks)

    def _write(self, chunks: list[str]) -> None:
        self._printed = True
        self.panel.write("".join(chunks))
        chunks.clear()

    def _stop(self) -> None:
        for timer in self._timers:
            timer.stop()
        self._timers = []
        self._drain()
        self.running = None  # the keys that waited for the run come back
