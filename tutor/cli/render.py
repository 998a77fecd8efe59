"""Rendering for the command line, with Rich: lesson Markdown rendered, lines wrapped to the
terminal (80 columns when the output is not a terminal), messages with hanging indents,
colour only on a terminal and never with NO_COLOR. Lesson text and program output pass
through ``visible`` first: a control character in them is shown, never obeyed."""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from tutor.core.text import inline_spans, visible

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text

    from tutor.core.figures import Figure
    from tutor.core.verdict import Verdict

_CODES = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1", "cyan": "36"}
STATUS_MARKS = {"passed": "✓", "available": "•", "locked": "·", "skipped": "-"}
PLAIN_WIDTH = 80  # when the output is a file or a pipe
CODE_STYLE = "cyan"


def use_colour(stream: TextIO = sys.stdout) -> bool:
    return "NO_COLOR" not in os.environ and _is_terminal(stream)


def _is_terminal(stream: TextIO) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def paint(text: str, colour: str, stream: TextIO = sys.stdout) -> str:
    """``text`` in a colour (on a terminal); its control characters shown, never sent."""
    text = visible(text)
    if not use_colour(stream):
        return text
    return f"\033[{_CODES[colour]}m{text}\033[0m"


def indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line else line for line in visible(text).splitlines())


# --------------------------------------------------------------------------- Rich output


def console(stream: TextIO | None = None, width: int | None = None) -> Console:
    """A console for ``stream``: the terminal's width and colours, or plain 80 columns."""
    from rich.console import Console

    stream = stream or sys.stdout
    terminal = _is_terminal(stream)
    colour = use_colour(stream)
    return Console(file=stream, width=width or (None if terminal else PLAIN_WIDTH),
                   force_terminal=colour, no_color=not colour,
                   color_system="auto" if colour else None, highlight=False, markup=False,
                   emoji=False, soft_wrap=False)


def decide_pictures(stream: TextIO | None = None) -> None:
    """Once per command, before its first picture: real pixels where the terminal draws them
    (``tutor.graphics``). Only on the process's own terminal, where the pixels are sent."""
    from tutor import graphics

    if graphics.decided():
        return
    stream = stream or sys.stdout
    terminal = _is_terminal(stream) and _same_file(stream, sys.__stdout__)
    graphics.activate(graphics.choose(os.environ, terminal))


def _same_file(stream: TextIO, other: TextIO | None) -> bool:
    try:
        return other is not None and stream.fileno() == other.fileno()
    except (AttributeError, OSError, ValueError):
        return False


def out(*renderables: RenderableType | str, stream: TextIO | None = None) -> None:
    """Print to ``stream`` (stdout): a string as it is (already made ``visible`` and
    painted), anything else through Rich; plain output loses the padding Rich puts at the
    ends of lines."""
    stream = stream or sys.stdout
    target = console(stream)
    plain = target.no_color and not _is_terminal(stream)
    for renderable in renderables:
        if isinstance(renderable, str):
            print(renderable, file=stream)
        elif plain:
            stream.write(to_text(renderable))
        else:
            target.print(renderable)
    stream.flush()


def to_text(*renderables: RenderableType | str, width: int = PLAIN_WIDTH) -> str:
    """The plain text ``renderables`` print as, ``width`` columns wide."""
    buffer = io.StringIO()
    plain = console(buffer, width)
    for renderable in renderables:
        plain.print(renderable)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def markdown(text: str, colour: bool | None = None) -> RenderableType:
    """Lesson Markdown: rendered, its code blocks compact; without colour, inline code keeps
    its backticks (nothing else would tell it from the prose)."""

    colour = use_colour() if colour is None else colour
    rendered = _markdown_class()(visible(text.strip()), code_theme="ansi_dark", hyperlinks=False,
                                inline_code_theme="ansi_dark" if colour else None)
    if not colour:
        _keep_backticks(rendered.parsed)
    return rendered


def message(text: str, style: str = "", colour: bool | None = None) -> Text:
    """A check's message or name: inline `code` styled (backticks kept without colour)."""
    from rich.text import Text

    colour = use_colour() if colour is None else colour
    result = Text(style=style)
    for piece, kind in inline_spans(visible(text)):
        if kind == "code":
            result.append(piece if colour else f"`{piece}`", CODE_STYLE)
        else:
            result.append(piece, "bold" if kind == "strong" else "")
    return result


def hanging(body: RenderableType, by: int) -> RenderableType:
    """``body`` indented ``by`` columns, its wrapped lines too."""
    from rich.padding import Padding

    return Padding(body, (0, 0, 0, by))


def verdict_view(verdict: Verdict, title: str = "", figures: Sequence[Figure] = (),
                 colour: bool | None = None) -> RenderableType:
    """The verdict as a learner reads it: a headline, then one row per check, each message
    wrapped under its check's name."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    colour = use_colour() if colour is None else colour
    head = Text(visible(verdict.step) + (f" — {visible(title)}" if title else ""))
    if verdict.skipped:
        return Group(Text.assemble(("skipped", "yellow"), " ", head),
                     hanging(Text(visible(verdict.skipped)), 4))
    took = f" ({verdict.duration_s:.1f} s on {verdict.device})" if verdict.device else ""
    word = ("✓ passed", "green") if verdict.passed else ("✗ not yet", "red")
    parts: list[RenderableType] = [Text.assemble(word, " ", head, (took, "dim"))]
    if verdict.error:
        parts.append(hanging(message(verdict.error.rstrip(), colour=colour), 4))
    if verdict.stderr.strip():
        parts.append(hanging(Text("your code wrote to stderr (warnings are worth reading):",
                                  "yellow"), 2))
        parts.append(hanging(Text(visible(verdict.stderr.rstrip())), 4))
    reached = {figure.name: figure for figure in figures}
    rows = Table.grid(padding=(0, 1))
    rows.add_column(no_wrap=True)
    rows.add_column(ratio=1)
    for check in verdict.checks:
        mark = Text("✓", "green") if check.passed else Text("✗", "red")
        name = message(check.name, colour=colour)
        body: list[RenderableType] = [name]
        figure = reached.get(check.name)
        if figure is not None:
            body.append(hanging(Text(f"yours: {figure}", "bold green"), 4))
        elif check.message and check.passed:
            name.append(Text.assemble(" (", message(check.message, colour=colour), ")",
                                      style="dim"))
        elif check.message:
            body.append(hanging(message(check.message, colour=colour), 4))
        rows.add_row(mark, Group(*body))
    if verdict.checks:
        parts.append(hanging(rows, 2))
    return Group(*parts)


def verdict_text(verdict: Verdict, title: str = "", figures: Sequence[Figure] = ()) -> str:
    """``verdict_view`` as plain text, 80 columns wide."""
    return to_text(verdict_view(verdict, title, figures, colour=False)).rstrip("\n")


# --------------------------------------------------------------------------- Markdown details


def _keep_backticks(tokens: list[Any]) -> None:
    """Put the backticks back around inline code (markdown-it tokens, in place)."""
    for token in tokens:
        for child in token.children or ():
            if child.type == "code_inline":
                child.content = f"`{child.content}`"


@functools.cache
def _markdown_class() -> type:
    """Rich's Markdown with code blocks that take one blank line around them, not three,
    and wrap rather than run off the edge (built on first use: it loads markdown-it)."""
    from rich.markdown import CodeBlock, Markdown
    from rich.syntax import Syntax

    class CompactCodeBlock(CodeBlock):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            code = str(self.text).rstrip()
            yield Syntax(code, self.lexer_name, theme=self.theme, word_wrap=True,
                         padding=(0, 0, 0, 2), background_color="default")

    class CompactMarkdown(Markdown):
        elements = {**Markdown.elements, "fence": CompactCodeBlock,
                    "code_block": CompactCodeBlock}

    return CompactMarkdown
