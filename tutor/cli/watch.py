"""``pytorch-tutor watch``: check the current step each time its file is saved (rustlings-style).

For learners who edit in another tmux pane or window. A plain loop, no Textual: it polls the
file's modification time and size, which also works on WSL2 and network mounts where file
events never arrive; ``--manual`` re-checks only when Enter is pressed. Typed commands
(``h`` + Enter for a hint, ``q`` + Enter to quit) work in both modes.

A step is checked once the learner saved it (or pressed Enter), never as the untouched
starter: after a pass, the pass and the next step's explanation stay on screen, ending with
what to do next, until the first save of the new file.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tutor.cli import render
from tutor.cli.render import paint
from tutor.cli.seen import Stream
from tutor.core import model as m
from tutor.core.checker import Cancel
from tutor.core.figures import figures
from tutor.core.session import Session, SessionError
from tutor.core.text import visible
from tutor.core.views import Attempt

if TYPE_CHECKING:
    from tutor.core.runs import Output

POLL_S = 0.3
STOPPED = ("\nStopped watching. Your progress is saved: `pytorch-tutor watch` picks up "
           "where you left off.")


def watch(args: argparse.Namespace) -> int:
    from tutor.cli.main import open_session

    # warm: a pre-started worker parent makes every check after the first one fast
    session = open_session(args, warm=True)
    try:
        return Watcher(session, manual=args.manual).run()
    except KeyboardInterrupt:
        print(STOPPED)
        return 0
    finally:
        session.close()


class Watcher:
    """Checks one step after another until the course ends or the learner stops.

    ``lines`` replaces the terminal's input and ``stop`` ends the loop (both for tests).
    """

    def __init__(self, session: Session, manual: bool = False, out: TextIO = sys.stdout,
                 lines: Iterator[str] | None = None, poll_s: float = POLL_S,
                 stop: threading.Event | None = None) -> None:
        self.session = session
        self.manual = manual
        self.out = out
        self.lines = lines
        self.poll_s = poll_s
        self.stop = stop or threading.Event()
        self.colour = render.use_colour(out)
        self.shown = Stream(out)

    def run(self) -> int:
        step_id: str | None = self.session.current_step_id()
        passed: Attempt | None = None
        while step_id is not None:
            view = self.session.open_step(step_id)
            step = view.step
            done = (self._quiz(step, passed) if isinstance(step, m.QuizStep)
                    else self._code(step, passed))
            if done is None:
                self.say(STOPPED)
                return 0
            passed = done
            step_id = self.session.next_step_id(step_id)
        self.say(paint("That was the last step of the course. Well done!", "bold", self.out))
        return 0

    # ------------------------------------------------------------------ code steps
    def _code(self, step: m.CodeStep, after: Attempt | None) -> Attempt | None:
        """The attempt once the step passed (or cannot run here); None when the learner
        stops. ``after``: the pass that led here, repeated last so it stays in view."""
        path = self.session.file_of(step.id)
        self._introduce(step)
        self.say(paint(f"Edit: {path}", "cyan", self.out))
        how = "Press Enter to check it" if self.manual else "Every save checks it"
        self.say(paint(f"{how}; h + Enter shows a hint, q + Enter or ctrl+c quits.", "dim",
                       self.out))
        seen = _signature(path)
        untouched = self.session.read_code(step.id) == step.starter
        if after is not None or untouched:
            self._waiting_for_save(step, after)
            if not self._wait(step, path, seen):
                return None
        while True:
            seen = _signature(path)  # taken first, so a save during the check counts
            attempt = self._check(step)
            if attempt.passed or attempt.verdict.skipped:
                return attempt
            if not self._wait(step, path, seen):
                return None

    def _waiting_for_save(self, step: m.CodeStep, after: Attempt | None) -> None:
        """The last lines on screen before the first check: what passed, what to do now."""
        if after is not None:
            done = self.session.step(after.step_id).title
            self.say(paint(f"✓ {done} passed.", "green", self.out) + " "
                     + paint(f"Now: {step.title}.", "bold", self.out))
        what = "press Enter to check it" if self.manual else "each save checks it"
        self.say(paint(f"Edit the file above; {what}.", "dim", self.out))

    def _check(self, step: m.CodeStep) -> Attempt:
        """Check in a thread so that ctrl+c cancels the run instead of orphaning it."""
        cancel = Cancel()
        result: list[Attempt] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                result.append(self.session.check(step.id, on_output=self._stream, cancel=cancel))
            except BaseException as exc:  # re-raised below, in the caller's thread
                errors.append(exc)

        self.say(paint(f"\nChecking {step.id}…", "dim", self.out))
        thread = threading.Thread(target=work, daemon=True)
        try:
            thread.start()
            while thread.is_alive():
                thread.join(0.1)
        except KeyboardInterrupt:
            cancel.cancel()
            thread.join(5)
            raise
        if errors:
            raise errors[0]
        attempt = result[0]
        render.out(render.verdict_view(attempt.verdict, step.title,
                                       figures(step, attempt.verdict), colour=self.colour),
                   stream=self.out)
        return attempt

    def _wait(self, step: m.Step, path: Path, seen: tuple[int, int, int] | None) -> bool:
        """Until the file differs from ``seen`` (or Enter); False to stop."""
        while not self.stop.is_set():
            line = self._read_line(block=self.manual)
            if line is not None:
                command = line.strip().lower()
                if command in ("q", "quit", "exit"):
                    return False
                if command in ("h", "hint"):
                    self._hint(step)
                    continue
                return True
            if self.manual:
                return False  # input ended
            now = _signature(path)
            if now is not None and now != seen:
                time.sleep(self.poll_s / 3)  # let an editor finish writing
                return True
        return False

    # ------------------------------------------------------------------ quiz steps
    def _quiz(self, step: m.QuizStep, after: Attempt | None) -> Attempt | None:
        self._introduce(step)
        render.out(render.markdown(step.question, colour=self.colour), stream=self.out)
        from tutor.cli.main import choices_view

        render.out(choices_view(step.choices), stream=self.out)
        if after is not None:
            done = self.session.step(after.step_id).title
            self.say(paint(f"✓ {done} passed.", "green", self.out))
        while not self.stop.is_set():
            self.say(paint("Your answer (numbers separated by spaces; h hint, q quit):", "dim",
                           self.out))
            line = self._read_line(block=True)
            if line is None or line.strip().lower() in ("q", "quit", "exit"):
                return None
            if line.strip().lower() in ("h", "hint"):
                self._hint(step)
                continue
            try:
                picks = [int(word) - 1 for word in line.replace(",", " ").split()]
                attempt = self.session.answer(step.id, picks)
            except (ValueError, SessionError) as exc:
                self.say(f"Answer with choice numbers, e.g. 2 ({exc})")
                continue
            render.out(render.verdict_view(attempt.verdict, step.title, colour=self.colour),
                       stream=self.out)
            if attempt.passed:
                if attempt.why:
                    render.out(render.markdown(attempt.why, colour=self.colour), stream=self.out)
                return attempt
        return None

    # ------------------------------------------------------------------ helpers
    def _introduce(self, step: m.Step) -> None:
        lesson = self.session.course.lesson_of(step.id)
        self.say("\n" + paint(f"{lesson.title} › {step.title}  ({step.id})", "bold", self.out))
        if step.explanation.strip():
            render.out(render.markdown(step.explanation, colour=self.colour), stream=self.out)

    def _hint(self, step: m.Step) -> None:
        try:
            hint = self.session.next_hint(step.id)
        except SessionError as exc:
            self.say(visible(str(exc)))
            return
        self.say(paint(f"Hint {hint.number}/{hint.total}:", "yellow", self.out))
        render.out(render.markdown(hint.text, colour=self.colour), stream=self.out)


    def _stream(self, item: Output) -> None:
        """What a check sends as it runs: its text and pictures (``tutor.cli.seen``)."""
        self.shown(item)

    def _read_line(self, block: bool) -> str | None:
        """A typed line, or None: at once when nothing was typed (unless ``block``)."""
        if self.lines is not None:
            if not block:
                self.stop.wait(self.poll_s)
            return next(self.lines, None)
        if block:
            try:
                return input()
            except EOFError:
                return None
        if _stdin_has_line(self.poll_s):
            return sys.stdin.readline()
        return None

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None  # mid-save by an editor that replaces the file
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def _stdin_has_line(timeout: float) -> bool:
    """Wait up to ``timeout`` for a typed line; just wait where stdin cannot be polled."""
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            ready, _, _ = select.select([sys.stdin], [], [], timeout)
            return bool(ready)
    except (OSError, ValueError):  # Windows consoles, closed stdin
        pass
    time.sleep(timeout)
    return False
