"""Which panes show: all three side by side when wide, one at a time under the pane bar when
narrow; and which one the learner is in."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from tutor.tui.widgets.pane_bar import PaneBar

if TYPE_CHECKING:  # the step view's widgets load after the first frame
    from textual.app import App
    from textual.widget import Widget

    from tutor.tui.widgets.output_panel import OutputPanel
    from tutor.tui.widgets.quiz_panel import QuizPanel

PANES = ("lesson", "code", "output")
WIDE_FROM = 110  # columns; narrower terminals show one pane at a time
CONTAINERS = (("lesson", "lesson"), ("output", "output"), ("code", "work"))  # pane, widget id


class PaneLayout:
    """Owns the chosen pane and the width; the app tells it about resizes, focus and quizzes.

    Widgets' ``display`` is set directly: a class on a container would restyle the whole
    lesson on every switch.
    """

    def __init__(self, app: App[None]) -> None:
        self.app = app
        self.pane = "code"
        self.width = 80
        self.quiz = False  # the code pane holds a quiz rather than the editor

    @property
    def narrow(self) -> bool:
        return self.width < WIDE_FROM

    def resize(self, width: int) -> None:
        self.width = width
        self.arrange()

    def show(self, pane: str, focus: bool = True) -> None:
        """At narrow widths the panes are tabs: show one; at any width, focus it."""
        self.pane = pane
        self.app.query_one(PaneBar).active = pane
        self.arrange()
        if focus:
            self._focus_target(pane).focus()

    def step_opened(self, quiz: bool, moved: bool) -> None:
        """A step opened; when it is a new one, narrow terminals show its lesson first."""
        self.quiz = quiz
        self.app.query_one(PaneBar).labels = {"lesson": "Lesson", "code": "Quiz" if quiz
                                              else "Code", "output": "Output"}
        if moved:
            self.show("lesson" if self.narrow else "code")
        else:
            self.arrange()

    def cycle(self) -> None:
        self.show(PANES[(PANES.index(self.pane) + 1) % len(PANES)])

    def arrange(self) -> None:
        app, narrow = self.app, self.narrow
        _show(app.query_one(PaneBar), narrow)
        if not app.query("#work"):
            return  # the first frame: the panes are not built yet
        shown = {pane: not narrow or pane == self.pane for pane in PANES}
        for selector, visible in (
            ("#lesson", shown["lesson"]),
            ("#work", shown["code"] or shown["output"]),
            ("#editor", shown["code"] and not self.quiz),
            ("#quiz", shown["code"] and self.quiz),
            ("#output", shown["output"]),
        ):
            _show(app.query_one(selector), visible)

    def follow_focus(self, widget: Widget) -> None:
        """Keep the pane bar in step when focus moves by mouse or Tab."""
        ids = {node.id for node in widget.ancestors_with_self}
        for pane, container in CONTAINERS:
            if container in ids:
                if pane != self.pane:
                    self.show(pane, focus=False)
                return

    def _focus_target(self, pane: str) -> Widget:
        if pane == "lesson":
            return self.app.query_one("#lesson")
        if pane == "output":
            return cast("OutputPanel", self.app.query_one("#output")).query_one("#log")
        if self.quiz:
            return cast("QuizPanel", self.app.query_one("#quiz")).choices
        return self.app.query_one("#editor")


def _show(widget: Widget, visible: bool) -> None:
    if widget.display != visible:
        widget.display = visible
