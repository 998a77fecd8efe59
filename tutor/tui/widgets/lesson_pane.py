"""The explanation of a step as Markdown, under its title, and what to do next."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Group
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Markdown, Static

from tutor.core.text import visible
from tutor.tui.markdown_text import lesson_markdown
from tutor.tui.widgets.pixel_stack import PixelStack, in_sixel

if TYPE_CHECKING:
    from tutor.core.step_figures import Drawn
    from tutor.core.views import StepView

FigureSource = Callable[[str], "list[Drawn]"]


class LessonPane(VerticalScroll):
    """Scrolls with the arrow keys once focused; shows, never fetches."""

    can_focus = True
    _shown = ""  # the Markdown on screen
    _figures_of = ""  # the step whose figures are on screen or being drawn
    # Draws a step's figures (the session's ``figures``), called in a thread worker; unset,
    # the open session's is used.
    draw_figures: FigureSource | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="lesson-title")
        yield Markdown("", id="explanation")
        figures = Static("", id="figures")
        figures.display = False  # until a step with figures is shown
        yield figures
        pixels = PixelStack(id="figure-pixels")  # the figures, where they are Sixel images
        pixels.display = False
        yield pixels
        yield Static("", id="skip-note", classes="note")
        yield Static("", id="next-move", classes="note")

    async def show(self, view: StepView, reason: str, file_label: str) -> None:
        """``reason``: why the step is skipped here, if it is; ``file_label``: the learner's
        file as the editor names it. Returns once the new text is mounted, so the caller can
        change the header in the same frame."""
        await self.show_text(view.step.title, view.step.explanation, reason,
                             next_move(view.is_quiz, view.hint_total, file_label))
        self.show_figures(view.step.id, len(view.step.figure))

    def show_figures(self, step_id: str, count: int) -> None:
        """A placeholder line, then the step's figures once a worker has drawn them."""
        box = self.query_one("#figures", Static)
        box.display = bool(count)
        if step_id != self._figures_of:
            self.query_one(PixelStack).display = False
        if not count:
            self._figures_of = ""
            return
        if step_id == self._figures_of:
            return
        source = self.draw_figures  # set by the step screen once the session is open
        if source is None:
            return
        self._figures_of = step_id
        box.update(Content.from_markup(f"[dim]Drawing {count} figure"
                                       f"{'s' if count > 1 else ''}…[/]"))
        self._draw(step_id, source)

    @work(thread=True, exclusive=True, group="figures", exit_on_error=False)
    def _draw(self, step_id: str, source: FigureSource) -> None:
        try:
            drawn = source(step_id)
        except Exception as exc:  # a figure must never take the lesson down
            self.app.call_from_thread(self._failed, step_id, str(exc))
            return
        self.app.call_from_thread(self._drawn, step_id, drawn)

    def _drawn(self, step_id: str, drawn: list[Drawn]) -> None:
        from tutor.drawing import FigureView

        if step_id != self._figures_of:
            return
        views = [FigureView(d) for d in drawn]
        if in_sixel():  # as widgets of their own
            self.query_one("#figures", Static).display = False
            stack = self.query_one(PixelStack)
            stack.show(views)
            stack.display = True
        else:
            self.query_one("#figures", Static).update(Group(*views))

    def _failed(self, step_id: str, error: str) -> None:
        if step_id == self._figures_of:
            self.query_one("#figures", Static).update(
                Content.from_markup("[dim](figures not drawn: $error)[/]", error=error))

    async def show_text(self, title: str, explanation: str, reason: str,
                        then: Content) -> None:
        """The lesson's title and text, why it is skipped (if it is) and what to do next."""
        self.loading = False
        self.query_one("#lesson-title", Static).update(Content(visible(title)))
        markdown = lesson_markdown(explanation)
        if markdown != self._shown:  # the same text (from the first screen): no redraw
            self._shown = markdown
            await self.query_one("#explanation", Markdown).update(markdown)
            self.scroll_home(animate=False)
        skip = self.query_one("#skip-note", Static)
        skip.update(Content.from_markup(
            "[$warning]Skipped:[/] $reason. Read it, then move on with [b]ctrl+n[/b].",
            reason=visible(reason)) if reason else "")
        skip.display = bool(reason)
        self.query_one("#next-move", Static).update(then)

    async def show_problem(self, title: str, text: str) -> None:
        """A message that replaces the lesson, e.g. a course that could not be opened."""
        self.query_one("#lesson-title", Static).update(Content(title))
        body = "\n".join(f"    {line}" for line in visible(text).splitlines())
        self._shown = f"{body}\n"
        self.loading = False
        await self.query_one("#explanation", Markdown).update(self._shown)
        self._figures_of = ""
        self.query_one("#figures", Static).display = False
        self.query_one(PixelStack).display = False
        for note in ("#skip-note", "#next-move"):
            self.query_one(note, Static).update("")


def next_move(quiz: bool, hint_total: int, file_label: str) -> Content:
    """What to do once the lesson is read."""
    if quiz:
        return Content.from_markup("[dim]Answer in the Quiz pane ([b]ctrl+e[/b] goes there).[/]")
    hint = " Stuck? [b]ctrl+t[/b] shows a hint." if hint_total else ""
    return Content.from_markup(
        "[dim]Your file is [b]$file[/b]. Edit it ([b]ctrl+e[/b] jumps to the code), then "
        f"press [b]ctrl+r[/b] to check it.{hint}[/]", file=visible(file_label))
