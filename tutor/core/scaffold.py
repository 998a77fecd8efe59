"""``lessons new``: a lesson file that validates, to start from."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tutor.core.files import atomic_write_text
from tutor.core.yamltree import LocatedSeq, parse

TEMPLATE = '''\
id: {id}
title: {title}
summary: One sentence on what the learner will be able to do.
steps:
  - id: {id}.first
    title: A first step
    explanation: |
      Explain one idea with a tiny example, then ask for one thing.

      ```python
      t = torch.zeros(2, 3)
      ```

      Make `t`, a tensor of zeros with 2 rows and 3 columns.
    starter: |
      import torch

      t = ...
    solution: |
      import torch

      t = torch.zeros(2, 3)
    hints:
      - "`torch.zeros` takes the size of each axis."
    accepts:
      - |
        import torch

        t = torch.zeros((2, 3))
    rejects:
      - code: |
          import torch

          t = torch.zeros(3, 2)
        feedback: shape
    checks:
      - compare: t
      - expect: t
        shape: [2, 3]
        dtype: float32

  - id: {id}.quiz
    kind: quiz
    title: A quick question
    question: How many elements does `torch.zeros(2, 3)` hold?
    choices: ["5", "6", "23"]
    answer: 1
    why: The number of elements is the product of the sizes, 2 x 3.
'''


class ScaffoldError(Exception):
    """The lesson cannot be created (bad id, file exists, no course)."""


def write_lesson(course_dir: Path, lesson_id: str) -> Path:
    """Write ``<lesson_id>.yaml`` from the template and append it to course.yaml."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", lesson_id):
        raise ScaffoldError(f"{lesson_id!r} is not a valid id: use lower-case letters, digits, - and _")
    course_file = course_dir / "course.yaml"
    if not course_file.is_file():
        raise ScaffoldError(f"{course_file} not found: is {course_dir} a course directory?")
    path = course_dir / f"{lesson_id}.yaml"
    if path.exists():
        raise ScaffoldError(f"{path} already exists")
    title = lesson_id.replace("-", " ").replace("_", " ").capitalize()
    atomic_write_text(path, TEMPLATE.format(id=lesson_id, title=title))
    atomic_write_text(course_file, _with_lesson(course_file.read_text(encoding="utf-8"),
                                                lesson_id))
    return path


def _with_lesson(text: str, lesson_id: str) -> str:
    """course.yaml with ``lesson_id`` appended to ``lessons``, keeping the author's layout."""
    data = parse(text)
    lessons = data.get("lessons") if isinstance(data, dict) else None
    if not isinstance(lessons, LocatedSeq):
        raise ScaffoldError("course.yaml has no `lessons` list to add the lesson to")
    lines = text.splitlines(keepends=True)
    if lessons:
        line, col = lessons.lc.item(len(lessons) - 1)
        if lines[line][:col].rstrip().endswith("-"):  # a block list: one "- name" per line
            dash = lines[line].index("-")
            lines.insert(line + 1, " " * dash + f"- {lesson_id}\n")
            if not lines[line].endswith("\n"):
                lines[line] += "\n"
            return "".join(lines)
    data = dict(data, lessons=[*lessons, lesson_id])  # a flow list: rewrite the file
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
