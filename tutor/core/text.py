"""Text from lesson files and from the learner's code, made safe and measured for a terminal.

Lesson files and program output are not trusted to hold only printable text: an escape
sequence in a title or a print (OSC 52 writes the clipboard, OSC 8 hides a link, CSI moves the
cursor) would act on the learner's terminal. Every shell passes such text through
``visible`` before drawing it. Light on purpose: the TUI imports it for its first frame.
"""

from __future__ import annotations

import re

# What a line of a lesson's code block may be, in columns, to show unwrapped in the 80x24
# tutor: the lesson pane's 80 columns less its padding, its scrollbar and the block's padding.
LESSON_CODE_COLUMNS = 75
# What the editor shows at 80 columns: less its border, the line numbers and the scrollbar.
EDITOR_COLUMNS = 72

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # reorder text on screen
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ␛ for ESC, ␇ for BEL
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """``text`` with every control character shown as a visible sign, never sent raw.

    Newlines and tabs stay; a carriage return before a newline goes; any other (an escape,
    a bell, a lone carriage return that would overwrite the line, a bidi override) becomes a
    control picture such as ``␛``, so a hostile sequence reads as text and does nothing.
    """
    if not _CONTROL.search(text):
        return text  # the common case, kept cheap
    return _CONTROL.sub(_shown, text.replace("\r\n", "\n"))


def visible_output(text: str) -> str:
    """A program's output: like ``visible``, with a lone carriage return (a progress bar
    redrawing its line) as a new line rather than a sign."""
    return visible(text.replace("\r\n", "\n").replace("\r", "\n"))


def code_lines(markdown: str) -> list[tuple[int, str]]:
    """The lines inside the code blocks of ``markdown``, with their 0-based line numbers."""
    found: list[tuple[int, str]] = []
    fence = ""
    for number, line in enumerate(markdown.splitlines()):
        opening = _FENCE.match(line)
        if opening and not fence:
            fence = opening.group(1)
        elif opening and line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = ""
        elif fence:
            found.append((number, line))
    return found


def widest_code_line(markdown: str) -> int:
    """The width of the widest line in the code blocks of ``markdown``, in columns."""
    return max((len(line.expandtabs(4)) for _, line in code_lines(markdown)), default=0)


def wide_code_lines(markdown: str, limit: int = LESSON_CODE_COLUMNS) -> list[tuple[int, str]]:
    """Code-block lines of ``markdown`` wider than ``limit`` columns (0-based line numbers)."""
    return [(n, line) for n, line in code_lines(markdown) if len(line.expandtabs(4)) > limit]


def wide_lines(code: str, limit: int = EDITOR_COLUMNS) -> list[tuple[int, str]]:
    """Lines of a program wider than ``limit`` columns (0-based line numbers)."""
    return [(n, line) for n, line in enumerate(code.splitlines())
            if len(line.expandtabs(4)) > limit]


_INLINE = re.compile(r"(`+)(.+?)\1|\*\*(.+?)\*\*")


def inline_spans(text: str) -> list[tuple[str, str]]:
    """A message's inline Markdown as (text, kind) pieces: kind "code" for `code`, "strong"
    for **bold**, "" for the rest; the delimiters are dropped. Messages use no other
    Markdown, and a shell styles the kinds as its screen allows."""
    spans: list[tuple[str, str]] = []
    at = 0
    for match in _INLINE.finditer(text):
        if match.start() > at:
            spans.append((text[at:match.start()], ""))
        if match.group(1):
            spans.append((match.group(2).strip() if match.group(1) == "``" else match.group(2),
                          "code"))
        else:
            spans.append((match.group(3), "strong"))
        at = match.end()
    if at < len(text):
        spans.append((text[at:], ""))
    return spans
