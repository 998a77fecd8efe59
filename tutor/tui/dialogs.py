"""The screens pushed over the step view, and where their answers lead. Each screen's module
loads when it is first shown: several bring Markdown or TextArea, too slow for the first frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tutor.tui.keys import key_rows

if TYPE_CHECKING:
    from textual.widget import Widget

    from tutor.core.figures import Figure
    from tutor.core.status import StepStatus
    from tutor.core.views import Attempt, CourseSummary
    from tutor.tui.screens.passed_screen import LessonEnd

Question = tuple[str, str, str]  # the question, why it matters, the word for yes
EARLY_SOLUTION: Question = (
    "See the solution before passing?",
    "Trying first is how this sticks: a hint (ctrl+t) may be enough. If you look now, your "
    "progress records that you saw the solution for this step.", "Show it")
RESET: Question = (
    "Reset this step?",
    "Your code goes back to the starter and this step's progress is cleared. Your current "
    "code is kept in a .bak file next to it, and ctrl+z undoes the reset in the editor.",
    "Reset")


class Dialogs:
    """Pushes one dialog at a time; the callbacks say what the step screen does with the
    answer."""

    def __init__(self, host: Widget) -> None:
        self.host = host  # the step screen; its app shows what this does

    def confirm(self, question: Question, then: Callable[[], None]) -> None:
        from tutor.tui.screens.confirm_screen import ConfirmScreen

        ask, detail, yes = question
        self.host.app.push_screen(ConfirmScreen(ask, detail, yes=yes),
                                  lambda answer: then() if answer else None)

    def passed(self, title: str, attempt: Attempt, following: StepStatus | None,
               go_to: Callable[[str], None], figures: Sequence[Figure] = (),
               lesson_end: LessonEnd | None = None) -> None:
        """A step passed: what it unlocked; Enter goes on to ``following``."""
        from tutor.tui.screens.passed_screen import PassedScreen

        def then(go_on: bool | None) -> None:
            if go_on and following is not None:
                go_to(following.id)

        self.host.app.push_screen(PassedScreen(title, list(attempt.unlocked),
                                               following.title if following else None,
                                               attempt.solution, attempt.why, figures,
                                               lesson_end),
                                  then)

    def solution(self, title: str, code: str, language: str) -> None:
        from tutor.tui.screens.solution_screen import SolutionScreen

        self.host.app.push_screen(SolutionScreen(f"Solution: {title}", code, language))

    def course_map(self, statuses: list[StepStatus], summary: CourseSummary,
                   warnings: list[str], current: str | None,
                   go_to: Callable[[str], None]) -> None:
        from tutor.tui.screens.course_map_screen import CourseMapScreen

        def then(step_id: str | None) -> None:
            if step_id and step_id != current:
                go_to(step_id)

        self.host.app.push_screen(CourseMapScreen(statuses, summary, warnings, current), then)

    def goto_line(self, lines: int, suggested: int, then: Callable[[int], None]) -> None:
        """Ask for a line of the learner's code; ``then`` gets the one chosen."""
        from tutor.tui.screens.goto_line_screen import GotoLineScreen

        self.host.app.push_screen(GotoLineScreen(lines, suggested, then))

    def help(self) -> None:
        from tutor.tui.screens.help_screen import HelpScreen

        self.host.app.push_screen(HelpScreen(key_rows()))


def lesson_end(before: Sequence[StepStatus], attempt: Attempt,
               summary: CourseSummary | None) -> LessonEnd | None:
    """The lesson ``attempt`` completed (all its steps done now, not before), if it did."""
    from tutor.tui.screens.passed_screen import LessonEnd

    lesson = next((s.lesson for s in attempt.statuses if s.id == attempt.step_id), None)
    mine = [s for s in attempt.statuses if s.lesson == lesson]
    was = [s for s in before if s.lesson == lesson]
    if summary is None or not mine or not all(s.done for s in mine) or (
            was and all(s.done for s in was)):
        return None
    ids = [x.id for x in summary.lessons]
    if lesson not in ids:
        return None
    index = ids.index(lesson)
    this = summary.lessons[index]
    following = summary.lessons[index + 1] if index + 1 < len(ids) else None
    return LessonEnd(this.title, this.summary, tuple(s.title for s in mine),
                     following.title if following else None,
                     following.summary if following else "")
