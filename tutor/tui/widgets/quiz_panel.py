"""A quiz step: the question, its choices picked with the keyboard, and the feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Markdown, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from tutor.core.text import visible
from tutor.tui.markdown_text import lesson_markdown

if TYPE_CHECKING:
    from tutor.core import model as m
    from tutor.core.verdict import Verdict


class QuizPanel(VerticalScroll):
    """One answer: arrows and Enter (or a digit). Several answers: Space marks, ctrl+r sends."""

    BINDINGS = [Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)]

    @dataclass
    class Answered(Message):
        picks: list[int]  # 0-based choice indices

    choices_text: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Markdown("", id="question")
        yield Static("", id="quiz-how", classes="note")
        yield OptionList(id="single")
        yield SelectionList[int](id="multiple")
        yield Static("", id="quiz-feedback")
        yield Markdown("", id="quiz-why")

    async def show(self, step: m.QuizStep, passed: bool) -> None:
        self.choices_text = tuple(visible(choice) for choice in step.choices)
        await self.query_one("#question", Markdown).update(lesson_markdown(step.question))
        several = len(step.answers) > 1
        single = self.query_one("#single", OptionList)
        multiple = self.query_one("#multiple", SelectionList)
        single.display, multiple.display = not several, several
        single.clear_options()
        multiple.clear_options()
        if several:
            multiple.add_options([(Content(f"{n}. {choice}"), n - 1)
                                  for n, choice in enumerate(self.choices_text, 1)])
            how = "Choose all that apply: Space marks a choice, ctrl+r sends your answer."
        else:
            single.add_options([Option(_choice(n, choice), id=str(n - 1))
                                for n, choice in enumerate(self.choices_text, 1)])
            single.highlighted = 0
            how = "Choose with the arrows and Enter, or press the choice's number."
        self.query_one("#quiz-how", Static).update(Content.styled(how, "dim"))
        feedback = self.query_one("#quiz-feedback", Static)
        feedback.update(Content.styled("✓ You answered this one already.", "$success")
                        if passed else "")
        await self._show_why("")
        self.scroll_home(animate=False)

    @property
    def choices(self) -> OptionList | SelectionList:
        single = self.query_one("#single", OptionList)
        return single if single.display else self.query_one("#multiple", SelectionList)

    def focus_choices(self) -> None:
        self.choices.focus()

    def submit(self) -> None:
        """Send the marked choices (or the highlighted one, for a single answer)."""
        choices = self.choices
        if isinstance(choices, SelectionList):
            picks = sorted(choices.selected)
        else:
            picks = [] if choices.highlighted is None else [choices.highlighted]
        if picks:
            self.post_message(self.Answered(picks))
        else:
            self.notify("Mark at least one choice first (Space).", severity="warning")

    async def show_verdict(self, verdict: Verdict, picks: list[int], why: str) -> None:
        """The verdict under the choices, the picked one marked, all of it scrolled into view."""
        self._mark(picks, verdict.passed)
        feedback = self.query_one("#quiz-feedback", Static)
        if verdict.passed:
            feedback.update(Content.styled("✓ Right.", "bold $success"))
            await self._show_why(why)
        else:
            feedback.update(Content.styled("✗ Not quite.", "bold $error"))
            message = verdict.checks[0].message if verdict.checks else ""
            await self._show_why(message.removeprefix("Not quite.").strip())
        self.call_after_refresh(self._reveal)

    def _reveal(self) -> None:
        """Bring the feedback and its explanation into view, the feedback first."""
        why = self.query_one("#quiz-why", Markdown)
        target = why if why.display else self.query_one("#quiz-feedback")
        self.scroll_to_widget(target, animate=False, top=False)
        self.scroll_to_widget(self.query_one("#quiz-feedback"), animate=False, top=False)

    def _mark(self, picks: list[int], passed: bool) -> None:
        """Keep the learner's answer marked (✓ or ✗) next to the choice they picked."""
        single = self.query_one("#single", OptionList)
        if not single.display:
            return  # several answers: the marked choices stay marked
        for index, choice in enumerate(self.choices_text):
            mark = ("✓" if passed else "✗") if index in picks else ""
            single.replace_option_prompt_at_index(index, _choice(index + 1, choice, mark))

    async def _show_why(self, why: str) -> None:
        markdown = self.query_one("#quiz-why", Markdown)
        markdown.display = bool(why.strip())
        await markdown.update(lesson_markdown(why))

    def action_pick(self, number: int) -> None:
        choices = self.choices
        if number > choices.option_count:
            return
        choices.focus()
        choices.highlighted = number - 1
        if isinstance(choices, SelectionList):
            choices.toggle(choices.get_option_at_index(number - 1).value)
        else:
            self.submit()

    @on(OptionList.OptionSelected, "#single")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Answered([event.option_index]))


def _choice(number: int, text: str, mark: str = "") -> Table:
    """``2. text`` with wrapped lines indented under the text, not under the number; the
    learner's pick marked on the left. Plain text: a choice is never read as markup."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, width=1)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    style = "bold green" if mark == "✓" else "bold red"
    grid.add_row(Text(mark, style=style), Text(f"{number}."), Text(text))
    return grid
