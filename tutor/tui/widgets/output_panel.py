"""The run's state, its verdict (one line per check) and what the code printed, live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Log, Static

from tutor.core.seeing import Curves, Picture, picture
from tutor.core.text import inline_spans, visible, visible_output
from tutor.core.values import Event, Reported, Shapes
from tutor.drawing import CurvesView, PictureView
from tutor.tui.widgets.pixel_stack import PixelStack, in_sixel
from tutor.tui.widgets.shapes_panel import ShapesPanel

if TYPE_CHECKING:
    from tutor.core.figures import Figure
    from tutor.core.verdict import Verdict

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
VERBS = {"check": "Checking", "run": "Running"}
STATE_CLASSES = {"-running", "-passed", "-failed", "-quiet"}  # the border says how it went
PICTURES_KEPT = 2  # the latest pictures a run showed, above what it printed


class OutputPanel(Vertical):
    """Set by the app: ``start``, ``tick``, ``write``, then ``finish`` (or ``stop``)."""

    def compose(self) -> ComposeResult:
        yield Static(_idle(), id="run-status")
        with VerticalScroll(id="verdict-scroll"):
            yield Static("", id="verdict")
        yield PixelStack(id="seen-pixels")  # pictures, where they are Sixel images
        yield Static("", id="seen")
        yield ShapesPanel(id="shapes")
        yield Log(id="log", max_lines=5000)

    def on_mount(self) -> None:
        self._curves = Curves()
        self._pictures: list[Picture] = []
        self.border_title = "output"
        self.query_one("#log", Log).border_title = "printed"
        self.query_one("#verdict-scroll").display = False
        self.query_one("#seen").display = False
        self.query_one("#seen-pixels").display = False

    @property
    def has_verdict(self) -> bool:
        return bool(self.query_one("#verdict-scroll").display)

    def clear(self, state: bool = True) -> None:
        """Empty the panel; ``state=False`` keeps the border's state for ``finish`` to set."""
        self._curves = Curves()
        self._pictures = []
        self.query_one("#seen").display = False
        self.query_one("#seen-pixels").display = False
        self.query_one(ShapesPanel).clear()
        self._status(_idle())
        self._verdict(None)
        self.query_one("#log", Log).clear()
        self.query_one("#log", Log).border_title = "printed"
        if state:
            self._state_classes()

    def _state_classes(self, *shown: str) -> None:
        """The run's state as classes, changed in one go: each change restyles the panel
        and everything in it (~5 ms), on the way from the key press to the verdict."""
        wanted = (set(self.classes) - STATE_CLASSES) | set(shown)
        if wanted != set(self.classes):
            self.set_classes(wanted)

    def start(self, mode: str) -> None:
        self.clear(state=False)
        self._state_classes("-running")
        self.tick(mode, 0, None)

    def tick(self, mode: str, frame: int, elapsed_s: float | None, warming: bool = False) -> None:
        took = f" {elapsed_s:.1f} s" if elapsed_s is not None else ""
        verb = "Warming up PyTorch (first check only)" if warming else VERBS.get(mode, "Running")
        self._status(Content.from_markup(
            "[b $accent]$spin $verb…[/]$took  [dim]ctrl+c cancels[/]",
            spin=SPINNER[frame % len(SPINNER)], verb=verb, took=took))

    def write(self, text: str) -> None:
        """What the code printed; shown, never obeyed (an escape sequence reads as text)."""
        self.query_one("#log", Log).write(visible_output(text))

    def see(self, event: Event) -> None:
        """A picture (``show(x)``) or a report (``report(...)``) the code sent: the curves
        grow as the run goes, the latest pictures stay above the printed text; the shapes
        (sent once, at the end) go to their own panel."""
        if isinstance(event, Shapes):
            self.query_one(ShapesPanel).show(event)
            return
        if isinstance(event, Reported):
            self._curves.add(event)
        else:
            self._pictures = [*self._pictures, picture(event)][-PICTURES_KEPT:]
        shown: list[RenderableType] = [PictureView(p) for p in self._pictures]
        if in_sixel():  # the pictures as widgets of their own, redone only when they change
            if not isinstance(event, Reported):
                stack = self.query_one(PixelStack)
                stack.show(shown)
                stack.display = True
            shown = []
        if self._curves:
            shown.append(CurvesView(self._curves))
        self.query_one("#seen", Static).update(Group(*shown))
        self.query_one("#seen").display = bool(shown)

    def finish(self, mode: str, verdict: Verdict, printed: bool, waited_s: float | None,
               figures: Sequence[Figure] = ()) -> None:
        """Show the verdict; ``printed`` says whether the output was already streamed;
        ``waited_s`` is how long the learner waited for it (None: timings are off)."""
        if not printed and verdict.stdout:
            self.write(verdict.stdout)
        if verdict.stderr.strip():  # after the output: the two streams arrive apart
            self.write(f"{'' if self._ends_line() else chr(10)}── stderr ──\n{verdict.stderr}")
        self._status(_headline(mode, verdict, waited_s))
        quiet = not any(self.query_one("#log", Log).lines)
        self.query_one("#log", Log).border_title = "printed: nothing" if quiet else "printed"
        colours = _Colours(self.app.get_css_variables())
        self._verdict(_details(verdict, figures, colours))
        passed = mode == "check" and verdict.passed
        failed = bool(verdict.error) or (mode == "check" and not verdict.passed
                                         and not verdict.skipped)
        self._state_classes(*(name for name, on in (("-quiet", quiet), ("-passed", passed),
                                                    ("-failed", failed)) if on))

    def _ends_line(self) -> bool:
        log = self.query_one("#log", Log)
        return not log.lines or log.lines[-1] == ""

    def stop(self, why: str) -> None:
        """The run ended without a verdict (cancelled, or the tutor itself failed)."""
        self.remove_class("-running")
        self._status(Content.styled(why, "$warning"))

    def _status(self, content: Content) -> None:
        self.query_one("#run-status", Static).update(content)

    def _verdict(self, content: RenderableType | None) -> None:
        self.query_one("#verdict", Static).update(content or "")
        scroll = self.query_one("#verdict-scroll")
        scroll.display = content is not None
        scroll.scroll_home(animate=False)


class _Colours:
    """The theme's colours as Rich styles (the verdict is a Rich table, for its indents)."""

    def __init__(self, variables: dict[str, str]) -> None:
        def colour(name: str, fallback: str) -> str:
            value = variables.get(name, fallback)
            return value if value.startswith("#") else fallback

        self.success = Style(color=colour("text-success", "green"))
        self.error = Style(color=colour("text-error", "red"))
        self.warning = Style(color=colour("text-warning", "yellow"))
        self.code = Style(color=colour("text-warning", "yellow"))
        self.dim = Style(dim=True)


def _idle() -> Content:
    return Content.from_markup("[dim]Press[/] [b]ctrl+r[/b] [dim]to check your code, "
                               "[b]F6[/b] to just run it.[/]")


def _headline(mode: str, verdict: Verdict, waited_s: float | None) -> Content:
    took = f" on {verdict.device}" if verdict.device else ""
    if waited_s is not None:
        took = f" in {waited_s:.1f} s{took}"
    if verdict.skipped:
        return Content.styled("– Skipped: this step cannot run here", "$warning")
    if mode == "run":
        if verdict.error:
            return Content.from_markup("[b $error]✗ Your code stopped with an error[/][dim]$t[/]",
                                       t=took)
        return Content.from_markup("[b]Ran[/][dim]$t (not checked: ctrl+r checks)[/]", t=took)
    if verdict.passed:
        return Content.from_markup("[b $success]✓ Passed[/][dim]$t[/]", t=took)
    return Content.from_markup("[b $error]✗ Not yet$what[/][dim]$t[/]", what=_failed(verdict),
                               t=took)


def _failed(verdict: Verdict) -> str:
    """How many checks failed, when there is more than one to count."""
    if not verdict.checks:
        return ": your code stopped before the checks"
    failed = sum(not c.passed for c in verdict.checks)
    if len(verdict.checks) == 1:
        return ""
    return f": {failed} of {len(verdict.checks)} checks failed"


def message_text(message: str, colours: _Colours) -> Text:
    """A check's message: its `code` styled, with the backticks dropped."""
    text = Text()
    for piece, kind in inline_spans(visible(message)):
        text.append(piece, colours.code if kind == "code" else "bold" if kind == "strong" else "")
    return text


def _details(verdict: Verdict, figures: Sequence[Figure], colours: _Colours) -> Table | None:
    """One row per check: its mark, then its name over its message, both wrapped under the
    name rather than under the mark."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    if verdict.skipped:
        grid.add_row("–", Text(visible(verdict.skipped)))
    if verdict.error:
        head = Text("Error", style=colours.error + Style(bold=True))
        if verdict.line:
            head.append(f" at line {verdict.line}", colours.error + Style(bold=True))
            head.append(" · F7 jumps there", colours.dim)
        grid.add_row(Text("✗", style=colours.error),
                     Group(head, message_text(verdict.error.rstrip(), colours)))
    reached = {figure.name: figure for figure in figures}
    for check in verdict.checks:
        mark = Text("✓", style=colours.success) if check.passed else Text("✗", style=colours.error)
        parts: list[RenderableType] = [message_text(check.name, colours)]
        figure = reached.get(check.name)
        if figure is not None:
            parts.append(Padding(Text(f"yours: {figure}", style=colours.success
                                      + Style(bold=True)), (0, 0, 0, 2)))
        elif check.message and not check.passed:
            parts.append(Padding(message_text(check.message, colours), (0, 0, 0, 2)))
        grid.add_row(mark, Group(*parts))
    return grid if grid.row_count else None
