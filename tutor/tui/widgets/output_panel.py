"""The run's state, its verdict (one line per check) and what the code printed, live."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Log, Static

from tutor.core.verdict import Verdict

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
VERBS = {"check": "Checking", "run": "Running"}


class OutputPanel(Vertical):
    """Set by the app: ``start``, ``tick``, ``write``, then ``finish`` (or ``stop``)."""

    def compose(self) -> ComposeResult:
        yield Static(_idle(), id="run-status")
        with VerticalScroll(id="verdict-scroll"):
            yield Static("", id="verdict")
        yield Log(id="log", max_lines=5000)

    def on_mount(self) -> None:
        self.query_one("#log", Log).border_title = "output"
        self.query_one("#verdict-scroll").display = False

    def clear(self) -> None:
        self._status(_idle())
        self._verdict(None)
        self.query_one("#log", Log).clear()
        self.set_class(False, "-running", "-passed", "-failed")

    def start(self, mode: str) -> None:
        self.clear()
        self.add_class("-running")
        self.tick(mode, 0, None)

    def tick(self, mode: str, frame: int, elapsed_s: float | None) -> None:
        took = f" {elapsed_s:.1f} s" if elapsed_s is not None else ""
        self._status(Content.from_markup(
            "[b $accent]$spin $verb…[/]$took  [dim]esc cancels[/]",
            spin=SPINNER[frame % len(SPINNER)], verb=VERBS.get(mode, "Running"), took=took))

    def write(self, text: str) -> None:
        self.query_one("#log", Log).write(text)

    def finish(self, mode: str, verdict: Verdict, printed: bool, show_timings: bool) -> None:
        """Show the verdict; ``printed`` says whether the output was already streamed."""
        self.remove_class("-running")
        if not printed and verdict.stdout:
            self.write(verdict.stdout)
        if verdict.stderr.strip():  # after the output: the two streams arrive apart
            self.write(f"{'' if self._ends_line() else chr(10)}── stderr ──\n{verdict.stderr}")
        self._status(_headline(mode, verdict, show_timings))
        self._verdict(_details(verdict))
        self.set_class(mode == "check" and verdict.passed, "-passed")
        self.set_class(bool(verdict.error) or (mode == "check" and not verdict.passed
                                               and not verdict.skipped), "-failed")

    def _ends_line(self) -> bool:
        log = self.query_one("#log", Log)
        return not log.lines or log.lines[-1] == ""

    def stop(self, why: str) -> None:
        """The run ended without a verdict (cancelled, or the tutor itself failed)."""
        self.remove_class("-running")
        self._status(Content.styled(why, "$warning"))

    def _status(self, content: Content) -> None:
        self.query_one("#run-status", Static).update(content)

    def _verdict(self, content: Content | None) -> None:
        self.query_one("#verdict", Static).update(content or "")
        scroll = self.query_one("#verdict-scroll")
        scroll.display = content is not None
        scroll.scroll_home(animate=False)


def _idle() -> Content:
    return Content.from_markup("[dim]Press[/] [b]ctrl+r[/b] [dim]to check your code, "
                               "[b]F6[/b] to just run it.[/]")


def _headline(mode: str, verdict: Verdict, show_timings: bool) -> Content:
    took = ""
    if verdict.device:
        took = f" on {verdict.device}"
        if show_timings:
            took = f" in {verdict.duration_s:.1f} s{took}"
    if verdict.skipped:
        return Content.styled("– Skipped: this step cannot run here", "$warning")
    if mode == "run":
        if verdict.error:
            return Content.from_markup("[b $error]✗ Your code stopped with an error[/][dim]$t[/]",
                                       t=took)
        return Content.from_markup("[b]Ran[/][dim]$t (not checked: ctrl+r checks)[/]", t=took)
    if verdict.passed:
        return Content.from_markup("[b $success]✓ Passed[/][dim]$t[/]", t=took)
    failed = sum(not c.passed for c in verdict.checks)
    what = (f"{failed} of {len(verdict.checks)} checks failed" if verdict.checks
            else "your code stopped before the checks")
    return Content.from_markup("[b $error]✗ Not yet:[/] $what[dim]$t[/]", what=what, t=took)


def _details(verdict: Verdict) -> Content | None:
    parts: list[Content] = []
    if verdict.skipped:
        parts.append(Content(verdict.skipped))
    if verdict.error:
        if verdict.line:
            parts.append(Content.from_markup(
                "[b $error]Error at line $line[/] [dim]· ctrl+g jumps there[/]",
                line=str(verdict.line)))
        parts.append(Content(verdict.error.rstrip()))
    for check in verdict.checks:
        mark = Content.styled("✓", "$success") if check.passed else Content.styled("✗", "$error")
        parts.append(Content.assemble(mark, " ", check.name))
        if check.message and not check.passed:
            parts.append(Content("\n".join("    " + line for line in check.message.splitlines())))
    return Content("\n").join(parts) if parts else None
