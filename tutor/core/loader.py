"""Load a course directory into ``tutor.core.model`` objects, with positions for every error.

A course is ``course.yaml`` plus one YAML file per lesson. Each file is parsed with
``tutor.core.yamltree`` (libyaml, keeping line and column numbers) and converted into the
declarations of ``tutor.core.model`` and ``tutor.core.checks``, whose problems come back with
the path of the data they concern and become ``file:line:column: message``. What a type
cannot say (unique ids, Python that parses) is checked here. A broken lesson file becomes a
``Problem`` and the rest of the course still loads.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from tutor.core import model as m
from tutor.core.checks import KINDS, Check
from tutor.core.declare import DeclError, Issue, convert, describe_path, suggest
from tutor.core.yamltree import LocatedMap, LocatedSeq, MarkedYAMLError, YAMLError, parse

COURSE_FILE = "course.yaml"
T = TypeVar("T")


class CourseError(Exception):
    """The course as a whole cannot be used (no course.yaml, or it is broken)."""

    def __init__(self, problems: list[m.Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Invalid(Exception):
    def __init__(self, problems: list[m.Problem]):
        self.problems = problems


# --------------------------------------------------------------------------- public API


def load_course(root: Path | str) -> m.Course:
    """Load a course; broken lesson files are listed in ``Course.problems``."""
    root = Path(root)
    course_path = root / COURSE_FILE
    if not course_path.is_file():
        where = m.Where(str(course_path))
        raise CourseError([m.Problem(where, f"no {COURSE_FILE} here: is {root} a course?")])
    try:
        data = _parse(course_path)
        header = _declared(data, m.CourseFile, course_path)
    except _Invalid as exc:
        raise CourseError(exc.problems) from None

    lessons: list[m.Lesson] = []
    problems: list[m.Problem] = []
    lesson_ids: dict[str, m.Where] = {}
    step_ids: dict[str, m.Where] = {}
    for index, name in enumerate(header.lessons):
        path = root / f"{name}.yaml"
        if not path.is_file():
            where = _where(course_path, data["lessons"], index)
            problems.append(m.Problem(where, f"lesson file {path.name} not found"))
            continue
        try:
            lesson = load_lesson(path)
            _claim(lesson.id, lesson_ids, lesson.steps[0].where, "lesson id")
            for step in lesson.steps:
                _claim(step.id, step_ids, step.where, "step id")
        except _Invalid as exc:
            problems.extend(exc.problems)
            continue
        lessons.append(lesson)
    return m.Course(id=header.id, title=header.title, description=header.description,
                    root=root, lessons=tuple(lessons), problems=tuple(problems))


def load_lesson(path: Path) -> m.Lesson:
    """Load one lesson file or raise ``_Invalid`` with every problem found in it."""
    data = _parse(path)
    if not isinstance(data, dict):
        raise _Invalid([m.Problem(m.Where(str(path)), "a lesson file is a mapping with id, "
                                                      "title and steps")])
    head = {key: value for key, value in data.items() if key != "steps"}
    header = _declared(head, m.LessonFile, path, data)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        where = _where(path, data, "steps" if "steps" in data else None)
        raise _Invalid([m.Problem(where, "steps: a lesson needs a list of at least one step")])
    problems: list[m.Problem] = []
    steps: list[m.AnyStep] = []
    seen: dict[str, m.Where] = {}
    for index, raw in enumerate(raw_steps):
        try:
            step = _build_step(raw, header.id, path, _where(path, raw_steps, index))
            _claim(step.id, seen, step.where, "step id")
            steps.append(step)
        except _Invalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise _Invalid(problems)
    return m.Lesson(id=header.id, title=header.title, summary=header.summary,
                    steps=tuple(steps), path=path)


def problems_of(root: Path | str) -> list[m.Problem]:
    """Every problem in a course directory (empty when it is valid)."""
    try:
        return list(load_course(root).problems)
    except CourseError as exc:
        return exc.problems


# --------------------------------------------------------------------------- parsing


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Invalid([m.Problem(m.Where(str(path)), f"cannot read the file: {exc}")]) from None
    try:
        return parse(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (m.Where(str(path), mark.line + 1, mark.column + 1) if mark
                 else m.Where(str(path)))
        what = exc.problem or exc.context or "invalid YAML"
        raise _Invalid([m.Problem(where, f"YAML syntax error: {what}")]) from None
    except YAMLError as exc:
        raise _Invalid([m.Problem(m.Where(str(path)), f"YAML error: {exc}")]) from None


def _declared(raw: Any, kind: type[T], path: Path, located: Any = None, what: str = "") -> T:
    """``raw`` as a ``kind``, or every problem at its place in the file."""
    try:
        return convert(raw, kind, what=what)
    except DeclError as exc:
        raise _Invalid(_problems(exc, path, located if located is not None else raw)) from None


def _problems(error: DeclError, path: Path, root: Any) -> list[m.Problem]:
    return [m.Problem(_issue_where(issue, path, root), issue.message) for issue in error.issues]


def _issue_where(issue: Issue, path: Path, root: Any) -> m.Where:
    """The position of the data an issue concerns: the deepest node of its path found."""
    parent, node = None, root
    keys = list(issue.path)
    for depth, key in enumerate(keys):
        try:
            parent, node = node, node[key]
        except (KeyError, IndexError, TypeError):
            return _where(path, node, None) if depth else _where(path, root, None)
    if not keys:
        return _where(path, root, None)
    if issue.on_key and isinstance(parent, LocatedMap):
        return _key_where(path, parent, keys[-1])
    return _where(path, parent, keys[-1])


def _where(path: Path, container: Any, key: Any) -> m.Where:
    """The position of ``container[key]`` (or of the container itself when key is None)."""
    try:
        if key is None:
            return m.Where(str(path), container.lc.line + 1, container.lc.col + 1)
        if isinstance(container, LocatedMap):
            line, col = container.lc.value(key)
        elif isinstance(container, LocatedSeq):
            line, col = container.lc.item(key)
        else:
            return m.Where(str(path))
        return m.Where(str(path), line + 1, col + 1)
    except (AttributeError, KeyError, IndexError, TypeError):
        return m.Where(str(path))


def _key_where(path: Path, container: LocatedMap, key: Any) -> m.Where:
    try:
        line, col = container.lc.key(key)
        return m.Where(str(path), line + 1, col + 1)
    except (AttributeError, KeyError, TypeError):
        return _where(path, container, None)


def _claim(ident: str, seen: dict[str, m.Where], where: m.Where | None, what: str) -> None:
    where = where or m.Where("?")
    if ident in seen:
        message = f"duplicate {what} {ident!r} (first used at {seen[ident]})"
        raise _Invalid([m.Problem(where, message)])
    seen[ident] = where


# --------------------------------------------------------------------------- steps

STEP_KINDS = ("code", "quiz")
COMMON_FIELDS = ("name", "message", "advice")  # what every check kind has


def _build_step(raw: Any, lesson_id: str, path: Path, where: m.Where) -> m.AnyStep:
    if not isinstance(raw, dict):
        raise _Invalid([m.Problem(where, "a step must be a mapping")])
    kind = raw.get("kind", "code")
    label = f"step {raw['id']!r}" if isinstance(raw.get("id"), str) else "this step"
    if kind == "quiz":
        quiz = _declared(raw, m.QuizStep, path, what=label)
        figure_problems = _figure_problems(raw, path)
        if figure_problems:
            raise _Invalid(figure_problems)
        return msgspec.structs.replace(quiz, lesson_id=lesson_id, where=where,
                                       figure=_placed(quiz.figure, raw, path))
    if kind != "code":
        message = f"unknown step kind {kind!r}{suggest(str(kind), STEP_KINDS)}"
        raise _Invalid([m.Problem(_where(path, raw, "kind"), message)])
    return _build_code(raw, lesson_id, path, where, label)


def _build_code(raw: dict[str, Any], lesson_id: str, path: Path, where: m.Where,
                label: str) -> m.CodeStep:
    problems: list[m.Problem] = []
    body = {key: value for key, value in raw.items() if key != "checks"}
    step: m.CodeStep | None = None
    try:
        step = _declared(body, m.CodeStep, path, raw, what=label)
    except _Invalid as exc:
        problems.extend(exc.problems)
    for field in ("setup", "starter", "solution"):
        if isinstance(raw.get(field), str):
            problems.extend(_syntax_problems(raw[field], path, raw, field))
    for index, code in enumerate(_list(raw.get("accepts"))):
        if isinstance(code, str):
            problems.extend(_syntax_problems(code, path, raw["accepts"], index))
    for reject in _list(raw.get("rejects")):
        if isinstance(reject, dict) and isinstance(reject.get("code"), str):
            problems.extend(_syntax_problems(reject["code"], path, reject, "code"))
    problems.extend(_figure_problems(raw, path))
    checks, check_problems = _build_checks(raw, path, label)
    problems.extend(check_problems)
    if problems or step is None:
        raise _Invalid(problems)
    return msgspec.structs.replace(step, checks=checks, lesson_id=lesson_id, where=where,
                                   figure=_placed(step.figure, raw, path))


def _figure_problems(raw: dict[str, Any], path: Path) -> list[m.Problem]:
    """Syntax errors in the code of a step's figures, at their lines."""
    return [problem for figure in _list(raw.get("figure"))
            if isinstance(figure, dict) and isinstance(figure.get("code"), str)
            for problem in _syntax_problems(figure["code"], path, figure, "code")]


def _placed(figures: tuple[m.Figure, ...], raw: dict[str, Any],
            path: Path) -> tuple[m.Figure, ...]:
    """Each figure with the place of its code (whose first line follows ``code: |``)."""
    raw_figures = _list(raw.get("figure"))
    return tuple(msgspec.structs.replace(figure, where=_where(path, raw_figures[i], "code"))
                 for i, figure in enumerate(figures))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _syntax_problems(code: str, path: Path, container: Any, key: Any) -> list[m.Problem]:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        start = _where(path, container, key)
        # A block scalar (`key: |`) starts its text on the line after the key.
        line = start.line + (exc.lineno or 1)
        return [m.Problem(m.Where(str(path), line, exc.offset or 1),
                          f"Python syntax error: {exc.msg}")]
    return []


# --------------------------------------------------------------------------- checks


def _build_checks(raw: dict[str, Any], path: Path, label: str) -> tuple[tuple[Check, ...],
                                                                     list[m.Problem]]:
    raw_checks = raw.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        where = _where(path, raw, "checks" if "checks" in raw else None)
        return (), [m.Problem(where, f"{label} needs `checks:`, a list of at least one check")]
    checks: list[Check] = []
    problems: list[m.Problem] = []
    for index, raw_check in enumerate(raw_checks):
        try:
            checks.append(build_check(raw_check, ("checks", index)))
        except DeclError as exc:
            problems.extend(_problems(exc, path, raw))
    return tuple(checks), problems


def build_check(raw: Any, path: tuple[str | int, ...] = ()) -> Check:
    """One check from its YAML data: the key that names its kind picks the declaration."""
    if not isinstance(raw, dict):
        raise DeclError.at(path, "a check must be a mapping such as `compare: x`")
    kinds = [key for key in raw if key in KINDS]
    if len(kinds) == 1:
        return KINDS[kinds[0]].from_raw(raw, path)
    if kinds:
        raise DeclError.at(path, f"a check has one kind, this one has {len(kinds)}: "
                                 f"{', '.join(kinds)}")
    others = [key for key in raw if key not in COMMON_FIELDS]
    if others:
        key = str(others[0])
        raise DeclError([Issue((*path, key), f"unknown check kind {key!r} in "
                                             f"{describe_path(path)}{suggest(key, KINDS)}",
                               on_key=True)])
    raise DeclError.at(path, f"{describe_path(path)} names no check kind: use one of "
                             f"{', '.join(sorted(KINDS))}")
