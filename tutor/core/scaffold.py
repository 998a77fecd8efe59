"""``lessons new``: a lesson file that validates, to start from."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from tutor.core.files import atomic_write_text

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
    yaml = YAML()
    data = yaml.load(course_file.read_text(encoding="utf-8"))
    data["lessons"].append(lesson_id)
    from io import StringIO

    out = StringIO()
    yaml.dump(data, out)
    atomic_write_text(course_file, out.getvalue())
    return path
