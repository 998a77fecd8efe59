"""Toasts: what went wrong outside the learner's code (course problems, failed workers)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tutor.core.text import visible

if TYPE_CHECKING:
    from textual.widget import Widget


class Notices:
    """Says each warning once (they come back with every attempt) and each failure as it is."""

    def __init__(self, host: Widget) -> None:
        self.host = host  # the step screen; its app shows what this does
        self._said: set[str] = set()

    def warn(self, warnings: Iterable[str]) -> None:
        """Broken lesson files, or a progress file that cannot be saved."""
        for warning in warnings:
            if warning not in self._said:
                self._said.add(warning)
                self.host.app.notify(visible(warning), title="Warning", severity="warning",
                                     timeout=12, markup=False)

    def failed(self, error: BaseException | None) -> None:
        """A worker raised: the session's own refusals read as advice, anything else as a bug."""
        from tutor.core.session import SessionError  # loaded with the session

        if isinstance(error, SessionError):
            self.host.app.notify(visible(str(error)), severity="warning", markup=False)
        else:
            self.host.app.notify(visible(f"{type(error).__name__}: {error}"),
                                 title="Something went wrong", severity="error", timeout=15,
                                 markup=False)
