"""Markdown from lesson files, prepared for Textual's ``Markdown`` widget."""

from __future__ import annotations

from tutor.core.text import visible


def lesson_markdown(markdown: str) -> str:
    """Lesson text as the Markdown widget should get it: control characters shown, never
    sent to the terminal, and code blocks that name no language marked as text."""
    return label_bare_fences(visible(markdown.strip()))


def label_bare_fences(markdown: str) -> str:
    """Mark code fences that name no language as text.

    Textual guesses a language for them, and guessing imports every Pygments lexer: the
    screen freezes for a second or more on a slow machine.
    """
    lines, fence = [], ""
    for line in markdown.splitlines():
        stripped = line.lstrip()
        if not fence and stripped[:3] in ("```", "~~~"):
            fence = stripped[: len(stripped) - len(stripped.lstrip(stripped[0]))]
            if not stripped[len(fence):].strip():
                line = f"{line}text"
        elif fence and stripped.startswith(fence) and not stripped.strip(fence[0]):
            fence = ""
        lines.append(line)
    return "\n".join(lines)
