"""Toasts: hints, and what went wrong outside the learner's code (course problems, failed
workers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    from tutor.core.status import Hint


class Notices:
    """Says each warning once (they come back with every attempt) and each failure as it is."""

    def __init__(self, app: App[None]) -> None:
        self.app = app
        self._said: set[str] = set()

    def warn(self, warnings: Iterable[str]) -> None:
        """Broken lesson files, or a progress file that cannot be saved."""
        for warning in warnings:
            if warning not in self._said:
                self._said.add(warning)
                self.app.notify(warning, title="Warning", severity="warning", timeout=12,
                                markup=False)

    def hint(self, hint: Hint) -> None:
        """The hint as a toast too: the lesson pane may be hidden at narrow widths."""
        last = " That is the last hint; F4 shows the solution." if hint.number == hint.total else ""
        self.app.notify(hint.text + last, title=f"Hint {hint.number}/{hint.total}", timeout=15,
                        markup=False)

    def failed(self, error: BaseException | None) -> None:
        """A worker raised: the session's own refusals read as advice, anything else as a bug."""
        from tutor.core.session import SessionError  # loaded with the session

        if isinstance(error, SessionError):
            self.app.notify(str(error), severity="warning", markup=False)
        else:
            self.app.notify(f"{type(error).__name__}: {error}", title="Something went wrong",
                            severity="error", timeout=15, markup=False)
