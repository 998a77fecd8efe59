"""The learner's file in a Python code editor that reports real edits upward."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from tutor.core.text import visible

# After these the next line goes one level back: the block they end is done.
_BLOCK_ENDS = re.compile(r"^\s*(return|pass|break|continue|raise)\b")


class CodeEditor(TextArea):
    """``TextArea.code_editor`` plus: a baseline text, so loading a file is not an edit;
    Enter that indents like an editor for Python; a way out (Esc) and whole-file keys."""

    # TextArea takes F6 (select line) and F7 (select all) for itself; in the tutor they run
    # the code and jump to the error, wherever the focus is (ctrl+a selects all instead of
    # going to the line start, which Home does; shift+arrows still select). Esc leaves the
    # editor, so Tab then moves between panes instead of indenting.
    BINDINGS = [
        Binding("escape", "screen.leave_editor", "Leave editor",
                tooltip="Leave the editor (ctrl+e comes back)"),
        Binding("f6", "screen.run", "Run", show=False),
        Binding("f7", "screen.goto_error", "Error", show=False),
        Binding("ctrl+a", "select_all", "Select all", show=False),
        Binding("ctrl+home", "cursor_file_start", "Start of file", show=False),
        Binding("ctrl+end", "cursor_file_end", "End of file", show=False),
        Binding("ctrl+shift+home", "cursor_file_start(True)", show=False),
        Binding("ctrl+shift+end", "cursor_file_end(True)", show=False),
        Binding("shift+tab", "dedent", "Dedent", show=False),
    ]

    @dataclass
    class Edited(Message):
        """The text now differs from what was loaded; the step screen saves it after a pause."""

        editor: CodeEditor

    baseline: str = ""

    async def _on_key(self, event: events.Key) -> None:
        """Run the editor's own bound keys (arrows, backspace, ctrl+k...) as they arrive.

        Textual runs a widget's bindings only once the key has bubbled up to the app, while
        a typed character is inserted at once; in a burst of input (a fast typist over SSH,
        a paste of keystrokes) "Down, x" could insert the x before the cursor moved
        (textual#6605). Running the binding here keeps the learner's order. A key handled
        here stops, so neither TextArea nor the app runs it again.
        """
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()  # TextArea's own _on_key does not run
                return
        if self.read_only:
            return
        if event.key == "enter":
            self._stop(event)
            self._replace_via_keyboard("\n" + self.next_indent(), *self.selection)
        elif event.key == "tab" and self.selection.start[0] != self.selection.end[0]:
            self._stop(event)
            self._shift_lines(self.indent_width)

    @staticmethod
    def _stop(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    def next_indent(self) -> str:
        """The indent of a new line at the cursor: the line's own, one level more after a
        colon (``def f():``, ``for x in xs:``), one less after ``return`` or ``pass``."""
        row, column = self.selection.end
        before = self.document.get_line(row)[:column]
        indent = before[: len(before) - len(before.lstrip())]
        code = before.split("#", 1)[0].rstrip()
        if code.endswith(":"):
            return indent + " " * self.indent_width
        if _BLOCK_ENDS.match(code) and indent:
            return indent[: max(0, len(indent) - self.indent_width)]
        return indent

    def action_cursor_file_start(self, select: bool = False) -> None:
        self.move_cursor((0, 0), select=select)

    def action_cursor_file_end(self, select: bool = False) -> None:
        self.move_cursor(self.document.end, select=select)

    def action_dedent(self) -> None:
        self._shift_lines(-self.indent_width)

    def _shift_lines(self, by: int) -> None:
        """Indent (``by`` > 0) or dedent the lines the selection touches, as one edit."""
        start, end = sorted((self.selection.start, self.selection.end))
        rows = range(start[0], end[0] + 1)
        lines = [self.document.get_line(row) for row in rows]
        if by > 0:
            shifted = [" " * by + line if line.strip() else line for line in lines]
        else:
            shifted = [line[min(-by, len(line) - len(line.lstrip(" "))):] for line in lines]
        last = (rows[-1], len(lines[-1]))
        self.replace("\n".join(shifted), (rows[0], 0), last)
        self.selection = Selection((rows[0], 0), (rows[-1], len(shifted[-1])))

    def open_file(self, code: str, path: Path | None, keep_undo: bool = False) -> None:
        """Edit a step's file, titled with its name."""
        self.read_only = False
        self.show_code(code, keep_undo=keep_undo)
        self.border_title = visible(path.name) if path else "code"
        self.border_subtitle = ""

    def show_code(self, code: str, keep_undo: bool = False) -> None:
        """Load ``code``; with ``keep_undo`` as an edit, so ctrl+z brings the old text back.
        A control character in it is shown as a sign (it would act on the terminal)."""
        code = visible(code)
        self.baseline = code
        if keep_undo and self.text != code:
            self.replace(code, (0, 0), self.document.end)
        else:
            self.load_text(code)
        self.move_cursor((0, 0))

    def goto_line(self, line: int, select: bool = True) -> None:
        """Put the cursor on a 1-based line and bring it into view; ``select`` marks the
        whole line (the line an error points at)."""
        row = max(0, min(line - 1, self.document.line_count - 1))
        end = len(self.document.get_line(row))
        self.selection = Selection((row, 0), (row, end)) if select else Selection.cursor((row, 0))
        self.scroll_cursor_visible(center=True, animate=False)

    def saved(self, code: str, latest: bool) -> None:
        """``code`` is on disk now; ``latest``: no edit came after it."""
        self.baseline = code
        if latest:
            self.border_subtitle = "saved"

    @on(TextArea.Changed)
    def _report_edit(self, event: TextArea.Changed) -> None:
        if event.text_area is self and self.text != self.baseline:
            if self.border_subtitle != "edited":
                self.border_subtitle = "edited"
            self.post_message(self.Edited(self))


def file_label(path: Path | None, show_paths: bool) -> str:
    """The learner's file for the lesson's note: its path from ~ with ``show_paths``."""
    if path is None:
        return "code"
    if not show_paths:
        return path.name
    try:
        return f"~/{path.relative_to(Path.home())}"
    except ValueError:
        return str(path)
