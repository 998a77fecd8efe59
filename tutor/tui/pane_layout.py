"""Which panes show: all three side by side when wide, one at a time under the pane bar when
narrow; and which one the learner is in."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from tutor.tui.widgets.pane_bar import PaneBar

if TYPE_CHECKING:  # the step view's widgets load after the first frame
    from textual.widget import Widget

    from tutor.tui.screens.step_screen import StepScreen
    from tutor.tui.widgets.hint_panel import HintPanel
    from tutor.tui.widgets.output_panel import OutputPanel
    from tutor.tui.widgets.quiz_panel import QuizPanel

PANES = ("lesson", "code", "output")
WIDE_FROM = 110  # columns; narrower terminals show one pane at a time
CONTAINERS = (("lesson", "lesson"), ("output", "output"), ("code", "work"))  # pane, widget id
LESSON_CHROME = 7  # the wide lesson pane's border, paddings and scrollbar around its code
WORK_MIN = 56  # columns the editor and the output keep, however wide the lesson's code


class PaneLayout:
    """Decides the screen's ``pane`` and owns the width; the screen tells it about resizes,
    focus and quizzes.

    Widgets' ``display`` is set directly: a class on a container would restyle the whole
    lesson on every switch.
    """

    def __init__(self, screen: StepScreen) -> None:
        self.screen = screen
        self.width = 80
        self.quiz = False  # the code pane holds a quiz rather than the editor
        self.lesson_code = 0  # the widest line of the lesson's code blocks, in columns

    @property
    def pane(self) -> str:
        """The pane the learner is in: the screen's, whose watcher moves the pane bar."""
        return self.screen.pane

    @pane.setter
    def pane(self, pane: str) -> None:
        self.screen.pane = pane

    @property
    def narrow(self) -> bool:
        return self.width < WIDE_FROM

    def resize(self, width: int) -> None:
        self.width = width
        self.arrange()

    def show(self, pane: str, focus: bool = True) -> None:
        """At narrow widths the panes are tabs: show one; at any width, focus it."""
        self.pane = pane = pane if pane in self.panes else "code"
        self.arrange()
        if focus:
            self._focus_target(pane).focus()

    def step_opened(self, quiz: bool, moved: bool, lesson_code: int = 0) -> None:
        """A step opened; when it is a new one, narrow terminals show its lesson first.
        ``lesson_code``: the width its lesson's code needs, which wide screens give it."""
        self.quiz = quiz
        self.lesson_code = lesson_code
        if not self.screen.query("#work"):  # only the lesson is built yet
            self.pane = "lesson" if self.narrow else "code"
            self.arrange()
            return
        labels = {"lesson": "Lesson", "code": "Quiz" if quiz else "Code", "output": "Output"}
        self.screen.query_one(PaneBar).labels = {p: labels[p] for p in self.panes}
        if self.pane not in self.panes:
            self.pane = "code"
        if moved:
            self.show("lesson" if self.narrow else "code")
        else:
            self.arrange()

    @property
    def panes(self) -> tuple[str, ...]:
        """A quiz runs nothing: it has no output pane."""
        return PANES[:2] if self.quiz else PANES

    def cycle(self) -> None:
        panes = self.panes
        self.show(panes[(panes.index(self.pane) + 1) % len(panes)] if self.pane in panes
                  else "code")

    def arrange(self) -> None:
        screen, narrow = self.screen, self.narrow
        _show(screen.query_one(PaneBar), narrow)
        if screen.query("#lesson"):
            lesson = screen.query_one("#lesson")
            lesson.styles.width = "1fr" if narrow else self.lesson_columns()
        if not screen.query("#work"):
            return  # the first frame: the panes are not built yet
        shown = {pane: not narrow or pane == self.pane for pane in PANES}
        for selector, visible in (
            ("#lesson", shown["lesson"]),
            ("#work", shown["code"] or (shown["output"] and not self.quiz)),
            ("#editor", shown["code"] and not self.quiz),
            ("#quiz", shown["code"] and self.quiz),
            ("#output", shown["output"] and not self.quiz),
            ("#hints", shown["code"] and cast("HintPanel", screen.query_one("#hints")).has_hints),
        ):
            _show(screen.query_one(selector), visible)

    def lesson_columns(self) -> int:
        """Wide: the lesson gets what its code needs (two fifths of the screen at least),
        as long as the editor and the output keep ``WORK_MIN`` columns."""
        wanted = max(self.lesson_code + LESSON_CHROME, self.width * 2 // 5)
        return max(20, min(wanted, self.width - WORK_MIN))

    def leave_editor(self) -> None:
        """Out of the editor (Esc): to the lesson, which scrolls with the arrows; Tab then
        moves between panes instead of indenting."""
        self.show("lesson")

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
            return self.screen.query_one("#lesson")
        if pane == "output":
            output = cast("OutputPanel", self.screen.query_one("#output"))
            # the verdict first: arrows scroll it at once; Tab then reaches what was printed
            return output.query_one("#verdict-scroll" if output.has_verdict else "#log")
        if self.quiz:
            return cast("QuizPanel", self.screen.query_one("#quiz")).choices
        return self.screen.query_one("#editor")


def _show(widget: Widget, visible: bool) -> None:
    if widget.display != visible:
        widget.display = visible
