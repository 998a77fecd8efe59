"""Plain-text rendering for the command line: colour only on a terminal, never with NO_COLOR."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tutor.core.verdict import Verdict

_CODES = {"green": "32", "red": "31", "yellow": "33", "dim": "2", "bold": "1", "cyan": "36"}
STATUS_MARKS = {"passed": "✓", "available": "•", "locked": "·", "skipped": "-"}


def use_colour(stream: TextIO = sys.stdout) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def paint(text: str, colour: str, stream: TextIO = sys.stdout) -> str:
    if not use_colour(stream):
        return text
    return f"\033[{_CODES[colour]}m{text}\033[0m"


def indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def verdict_text(verdict: Verdict, title: str = "") -> str:
    """The verdict as a learner reads it: a headline, then one line per check."""
    head = f"{verdict.step}" + (f" — {title}" if title else "")
    if verdict.skipped:
        return f"{paint('skipped', 'yellow')} {head}\n{indent(verdict.skipped)}"
    took = f" ({verdict.duration_s:.1f} s on {verdict.device})" if verdict.device else ""
    if verdict.passed:
        lines = [f"{paint('✓ passed', 'green')} {head}{paint(took, 'dim')}"]
    else:
        lines = [f"{paint('✗ not yet', 'red')} {head}{paint(took, 'dim')}"]
    if verdict.error:
        lines.append(indent(verdict.error))
    if verdict.stderr.strip():
        lines.append(paint("  your code wrote to stderr (warnings are worth reading):", "yellow"))
        lines.append(indent(verdict.stderr.rstrip(), "    "))
    for check in verdict.checks:
        mark = paint("✓", "green") if check.passed else paint("✗", "red")
        note = f" {paint(f'({check.message})', 'dim')}" if check.passed and check.message else ""
        lines.append(f"  {mark} {check.name}{note}")
        if check.message and not check.passed:
            lines.append(indent(check.message, "      "))
    return "\n".join(lines)
