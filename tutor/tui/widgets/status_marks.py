"""How a step's status looks everywhere in the app: a mark, a word and a theme colour."""

from __future__ import annotations

from textual.content import Content

MARKS = {
    "passed": ("✓", "passed", "$success"),
    "available": ("●", "to do", "$accent"),
    "locked": ("·", "locked", "$text-disabled"),
    "skipped": ("–", "skipped", "$warning"),
}


def status_mark(status: str) -> Content:
    mark, _, colour = MARKS.get(status, MARKS["available"])
    return Content.styled(mark, colour)


def status_badge(status: str) -> Content:
    mark, word, colour = MARKS.get(status, MARKS["available"])
    return Content.styled(f"{mark} {word}", colour)
