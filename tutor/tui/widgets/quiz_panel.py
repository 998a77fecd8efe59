"""A quiz step: the question, its choices picked with the keyboard, and the feedback."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Markdown, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from tutor.core import model as m
from tutor.core.verdict import Verdict
from tutor.tui.markdown_text import label_bare_fences


class QuizPanel(VerticalScroll):
    """One answer: arrows and Enter (or a digit). Several answers: Space marks, ctrl+r sends."""

    BINDINGS = [Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)]

    @dataclass
    class Answered(Message):
        picks: list[int]  # 0-based choice indices

    def compose(self) -> ComposeResult:
        yield Markdown("", id="question")
        yield Static("", id="quiz-how", classes="note")
        yield OptionList(id="single")
        yield SelectionList[int](id="multiple")
        yield Static("", id="quiz-feedback")
        yield Markdown("", id="quiz-why")

    def show(self, step: m.QuizStep, passed: bool) -> None:
        self.query_one("#question", Markdown).update(label_bare_fences(step.question))
        several = len(step.answers) > 1
        single = self.query_one("#single", OptionList)
        multiple = self.query_one("#multiple", SelectionList)
        single.display, multiple.display = not several, several
        single.clear_options()
        multiple.clear_options()
        if several:
            multiple.add_options([(f"{n}. {choice}", n - 1)
                                  for n, choice in enumerate(step.choices, 1)])
            how = "Choose all that apply: Space marks a choice, ctrl+r sends your answer."
        else:
            single.add_options([Option(_choice(n, choice), id=str(n - 1))
                                for n, choice in enumerate(step.choices, 1)])
            single.highlighted = 0
            how = "Choose with the arrows and Enter, or press the choice's number."
        self.query_one("#quiz-how", Static).update(Content.styled(how, "dim"))
        feedback = self.query_one("#quiz-feedback", Static)
        feedback.update(Content.styled("✓ You answered this one already.", "$success")
                        if passed else "")
        self._show_why("")

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

    def show_verdict(self, verdict: Verdict, why: str) -> None:
        if verdict.passed:
            text = Content.styled("✓ Right.", "bold $success")
        else:
            message = verdict.checks[0].message if verdict.checks else "Not quite."
            text = Content.from_markup("[b $error]✗[/] $message", message=message)
        self.query_one("#quiz-feedback", Static).update(text)
        self._show_why(why if verdict.passed else "")

    def _show_why(self, why: str) -> None:
        markdown = self.query_one("#quiz-why", Markdown)
        markdown.display = bool(why.strip())
        markdown.update(label_bare_fences(why.strip()))

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


def _choice(number: int, text: str) -> Table:
    """``2. text`` with wrapped lines indented under the text, not under the number."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(f"{number}.", text)
    return grid
