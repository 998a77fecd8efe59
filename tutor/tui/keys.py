"""Every key the app binds, in one table that the footer, the help screen and the command
palette all read. Keys that survive SSH and tmux: ctrl+letters that TextArea leaves alone
(not ctrl+a/e/k/u/w/z/y/x/c/v, not ctrl+b, tmux's prefix), with F-keys as aliases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

if TYPE_CHECKING:  # the help screen loads when it opens
    from tutor.tui.screens.help_screen import KeyRows

BINDINGS = [
    Binding("ctrl+r,f5", "check", "Check", tooltip="Check your code (or send a quiz answer)"),
    Binding("escape", "cancel", "Cancel", priority=True, tooltip="Stop the running code"),
    Binding("ctrl+t,f3", "hint", "Hint", tooltip="Reveal the next hint"),
    Binding("ctrl+g,f7", "goto_line", "Error", tooltip="Jump to the line the error is on"),
    Binding("ctrl+n", "next_step", "Next", tooltip="Go to the next step"),
    Binding("ctrl+f", "next_pane", "Pane", show=False,
            tooltip="Move between lesson, code and output"),
    Binding("ctrl+l,f2", "course_map", "Map", tooltip="All lessons and steps; open any unlocked"),
    Binding("f1", "help", "Help", tooltip="Show every key"),
    Binding("ctrl+q", "quit", "Quit", tooltip="Save and quit"),
    Binding("f6", "run", "Run", show=False, tooltip="Run your code without checking it"),
    Binding("f4", "solution", "Solution", show=False,
            tooltip="Show the solution (asks first before you pass; that is recorded)"),
    Binding("ctrl+o,f8", "edit_externally", "Open in $EDITOR", show=False,
            tooltip="Open the file in $EDITOR, check it when you return"),
    Binding("f9", "reset", "Reset", show=False, tooltip="Put the starter code back (asks first)"),
    Binding("ctrl+s", "save", "Save", show=False, tooltip="Save now (saving is automatic)"),
]

EDITOR_KEYS = [
    ("ctrl+z / ctrl+y", "undo / redo"),
    ("ctrl+c / ctrl+x / ctrl+v", "copy / cut / paste"),
    ("shift+arrows", "select"),
    ("Tab", "indent (in the editor)"),
    ("Esc", "leave the editor (then Tab moves between panes)"),
]


def key_rows() -> KeyRows:
    """The help screen's table."""
    rows = [(key_names(b.key), b.tooltip or b.description) for b in BINDINGS]
    return [("Tutor", rows), ("Editor", EDITOR_KEYS),
            ("Anywhere", [("ctrl+p", "command palette: every action and every step")])]


def key_names(key: str) -> str:
    """``ctrl+r,f5`` as ``ctrl+r / F5``."""
    names = {"escape": "Esc"}
    return " / ".join(names.get(k, k.upper() if k[0] == "f" and k[1:].isdigit() else k)
                      for k in key.split(","))
