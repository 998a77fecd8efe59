"""The learner's file in a Python code editor that reports real edits upward."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import Selection


class CodeEditor(TextArea):
    """``TextArea.code_editor`` plus: a baseline text, so loading a file is not an edit."""

    # TextArea takes F6 (select line) and F7 (select all) for itself; in the tutor they run
    # the code and jump to the error, wherever the focus is (shift+arrows still select).
    BINDINGS = [
        Binding("f6", "app.run", "Run", show=False),
        Binding("f7", "app.goto_line", "Error", show=False),
    ]

    @dataclass
    class Edited(Message):
        """The text now differs from what was loaded; the app saves it after a pause."""

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

    def open_file(self, code: str, path: Path | None, show_paths: bool,
                  keep_undo: bool = False) -> None:
        """Edit a step's file, titled with its name (its path with ``show_paths``)."""
        self.read_only = False
        self.show_code(code, keep_undo=keep_undo)
        self.border_title = file_label(path, show_paths)
        self.border_subtitle = ""

    def show_code(self, code: str, keep_undo: bool = False) -> None:
        """Load ``code``; with ``keep_undo`` as an edit, so ctrl+z brings the old text back."""
        self.baseline = code
        if keep_undo and self.text != code:
            self.replace(code, (0, 0), self.document.end)
        else:
            self.load_text(code)
        self.move_cursor((0, 0))

    def goto_line(self, line: int) -> None:
        """Select a 1-based line and bring it into view (the line an error points at)."""
        row = max(0, min(line - 1, self.document.line_count - 1))
        end = len(self.document.get_line(row))
        self.selection = Selection((row, 0), (row, end))
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
    if path is None:
        return "code"
    if not show_paths:
        return path.name
    try:
        return f"~/{path.relative_to(Path.home())}"
    except ValueError:
        return str(path)
