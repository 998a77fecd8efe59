"""Every key the app binds, in one table that the footer, the help screen and the command
palette all read. Keys that survive SSH and tmux: ctrl+letters that TextArea leaves alone
(not ctrl+k/u/w/z/y/x/v, not ctrl+b, tmux's prefix), with F-keys as aliases. Two overlap on
purpose: ctrl+e jumps to the code (in the editor it is still the line's end) and ctrl+c
cancels a running check (otherwise it copies, in the editor).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding
from textual.markup import escape

from tutor.core.text import visible

if TYPE_CHECKING:  # the help screen loads when it opens
    from tutor.tui.screens.help_screen import KeyRows
    from tutor.tui.state import TutorState

BINDINGS = [  # the step screen's
    Binding("ctrl+r,f5", "check", "Check", tooltip="Check your code (or send a quiz answer)"),
    # ctrl+c is what a beginner presses to stop: it cancels a run; otherwise it copies (in
    # the editor) or says how to quit, as Textual does
    Binding("ctrl+c", "cancel", "Cancel", priority=True, tooltip="Stop the running code"),
    Binding("ctrl+t,f3", "hint", "Hint", tooltip="Reveal the next hint"),
    Binding("f7", "goto_error", "Error", tooltip="Jump to the line the error is on"),
    Binding("ctrl+e", "edit_code", "Code", tooltip="Jump back to your code (or the quiz)"),
    Binding("ctrl+n", "next_step", "Next", tooltip="Go to the next step"),
    Binding("ctrl+l,f2", "course_map", "Map", tooltip="All lessons and steps; open any unlocked"),
    Binding("f1", "help", "Help", tooltip="Show every key"),
    Binding("ctrl+f", "next_pane", "Pane", show=False,
            tooltip="Move between lesson, code and output"),
    Binding("ctrl+g", "goto_line", "Go to line", show=False,
            tooltip="Go to a line of your code (the error's line is filled in)"),
    Binding("f6", "run", "Run", show=False, tooltip="Run your code without checking it"),
    Binding("f4", "solution", "Solution", show=False,
            tooltip="Show the solution (asks first before you pass; that is recorded)"),
    Binding("ctrl+o,f8", "edit_externally", "Open in $EDITOR", show=False,
            tooltip="Open the file in $EDITOR, check it when you return"),
    Binding("f9", "reset", "Reset", show=False, tooltip="Put the starter code back (asks first)"),
    Binding("ctrl+s", "save", "Save", show=False, tooltip="Save now (saving is automatic)"),
]
APP_BINDINGS = [Binding("ctrl+q", "quit", "Quit", tooltip="Save and quit")]  # from anywhere

# Keys that act on the step on screen: hidden before a step is open.
STEP_ACTIONS = {"check", "run", "cancel", "hint", "goto_error", "goto_line", "edit_code",
                "next_step", "next_pane", "course_map", "solution", "reset", "edit_externally",
                "save", "help"}
CODE_ACTIONS = {"run", "edit_externally", "save", "goto_error", "goto_line"}  # not on a quiz

EDITOR_KEYS = [
    ("Esc", "leave the editor (Tab then moves between panes); ctrl+e comes back"),
    ("Enter", "new line, indented like the last one (one more level after a colon)"),
    ("Tab / shift+Tab", "indent / dedent"),
    ("ctrl+z / ctrl+y", "undo / redo"),
    ("ctrl+c / ctrl+x / ctrl+v", "copy / cut / paste (ctrl+c stops a running check)"),
    ("ctrl+a", "select all"),
    ("shift+arrows", "select"),
    ("Home / End", "start / end of the line"),
    ("ctrl+Home / ctrl+End", "start / end of the file"),
    ("ctrl+k", "delete to the end of the line"),
]


def key_rows() -> KeyRows:
    """The help screen's table."""
    every = sorted([*BINDINGS, *APP_BINDINGS], key=lambda b: not b.show)  # the footer's first
    rows = [(key_names(b.key), b.tooltip or b.description) for b in every]
    return [("Tutor", rows), ("Editor", EDITOR_KEYS),
            ("Anywhere", [("ctrl+p", "command palette: every action and every step")])]


def key_names(key: str) -> str:
    """``ctrl+r,f5`` as ``ctrl+r / F5``."""
    names = {"escape": "Esc"}
    return " / ".join(names.get(k, k.upper() if k[0] == "f" and k[1:].isdigit() else k)
                      for k in key.split(","))


def allowed(action: str, state: TutorState, running: bool) -> bool | None:
    """Whether a key works now: True shows it, None shows it dimmed, False hides it."""
    if action == "cancel":
        return running
    if action not in STEP_ACTIONS or action == "help":
        return True
    if state.view is None:
        return False
    if action in CODE_ACTIONS and state.is_quiz:
        return False
    if action == "goto_error":
        return bool(state.verdict and state.verdict.line)
    if action in ("check", "run", "reset", "edit_externally") and running:
        return None
    return action != "hint" or bool(state.view.hint_total)


def palette_commands(state: TutorState, running: bool, run_action: Callable[[str], object],
                     go_to: Callable[[str], None]) -> Iterator[SystemCommand]:
    """The command palette's own entries: every action that works now, every open step."""
    for binding in BINDINGS:
        if allowed(binding.action, state, running):
            yield SystemCommand(binding.description, binding.tooltip,
                                partial(run_action, binding.action))
    for status in state.open_steps():
        # the palette reads titles as markup: a lesson's text must stay text
        yield SystemCommand(escape(visible(f"Go to: {status.title}")),
                            escape(visible(f"{status.id} ({status.status})")),
                            partial(go_to, status.id))
