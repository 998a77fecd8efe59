"""A quiz step: the question, its choices picked with the keyboard, and the feedback."""

from __future__ import annotations

from dataclasses import dataclass

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

    def show(self, step: m.QuizStep, passed: bool) -> None:
        self.query_one("#question", Markdown).update(step.question)
        several = len(step.answer) > 1
        single = self.query_one("#single", OptionList)
        multiple = self.query_one("#multiple", SelectionList)
        single.display, multiple.display = not several, several
        single.clear_options()
        multiple.clear_options()
        labels = [f"{n}. {choice}" for n, choice in enumerate(step.choices, 1)]
        if several:
            multiple.add_options([(label, i) for i, label in enumerate(labels)])
            how = "Choose all that apply: Space marks a choice, ctrl+r sends your answer."
        else:
            single.add_options([Option(label, id=str(i)) for i, label in enumerate(labels)])
            single.highlighted = 0
            how = "Choose with the arrows and Enter, or press the choice's number."
        self.query_one("#quiz-how", Static).update(Content.styled(how, "dim"))
        feedback = self.query_one("#quiz-feedback", Static)
        feedback.update(Content.styled("✓ You answered this one already.", "$success")
                        if passed else "")

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
            text = Content.from_markup("[b $success]✓ Right.[/] $why", why=why.strip())
        else:
            message = verdict.checks[0].message if verdict.checks else "Not quite."
            text = Content.from_markup("[b $error]✗[/] $message", message=message)
        self.query_one("#quiz-feedback", Static).update(text)

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
