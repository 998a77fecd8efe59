"""Load a course directory into ``tutor.core.model`` objects, with positions for every error.

A course is ``course.yaml`` plus one YAML file per lesson. Each file is parsed with
``tutor.core.yamltree`` (libyaml, keeping line and column numbers), validated against
``tutor.core.schema``, then checked for what a schema cannot say (unique ids, answers
in range, Python that parses). A broken lesson file becomes a ``Problem`` and the rest
of the course still loads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from tutor.core import model as m
from tutor.core.schema import CHECK_SCHEMAS, CODE_STEP, COURSE, LESSON, QUIZ_STEP
from tutor.core.yamltree import LocatedMap, LocatedSeq, MarkedYAMLError, YAMLError, parse

COURSE_FILE = "course.yaml"


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
        where = m.Where(course_path)
        raise CourseError([m.Problem(where, f"no {COURSE_FILE} here: is {root} a course?")])
    try:
        data = _parse(course_path)
        _validate(data, COURSE, course_path)
    except _Invalid as exc:
        raise CourseError(exc.problems) from None

    lessons: list[m.Lesson] = []
    problems: list[m.Problem] = []
    lesson_ids: dict[str, m.Where] = {}
    step_ids: dict[str, m.Where] = {}
    for index, name in enumerate(data["lessons"]):
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
    return m.Course(
        id=data["id"],
        title=data["title"],
        description=str(data.get("description", "")),
        root=root,
        lessons=tuple(lessons),
        problems=tuple(problems),
    )


def load_lesson(path: Path) -> m.Lesson:
    """Load one lesson file or raise ``_Invalid`` with every problem found in it."""
    data = _parse(path)
    _validate(data, LESSON, path)
    problems: list[m.Problem] = []
    steps: list[m.Step] = []
    seen: dict[str, m.Where] = {}
    for index, raw in enumerate(data["steps"]):
        try:
            step = _build_step(raw, data["id"], path, _where(path, data["steps"], index))
            _claim(step.id, seen, step.where, "step id")
            steps.append(step)
        except _Invalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise _Invalid(problems)
    return m.Lesson(
        id=data["id"],
        title=data["title"],
        summary=str(data.get("summary", "")),
        steps=tuple(steps),
        path=path,
    )


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
        raise _Invalid([m.Problem(m.Where(path), f"cannot read the file: {exc}")]) from None
    try:
        return parse(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = m.Where(path, mark.line + 1, mark.column + 1) if mark else m.Where(path)
        what = exc.problem or exc.context or "invalid YAML"
        raise _Invalid([m.Problem(where, f"YAML syntax error: {what}")]) from None
    except YAMLError as exc:
        raise _Invalid([m.Problem(m.Where(path), f"YAML error: {exc}")]) from None


def _validate(node: Any, schema: dict, path: Path, base: list | None = None) -> None:
    """Validate ``node`` and raise every schema error at the line it concerns."""
    base = base or []
    errors = sorted(Draft202012Validator(schema).iter_errors(node), key=lambda e: list(e.path))
    if not errors:
        return
    root_node = node
    problems = []
    for error in errors:
        where, message = _locate(root_node, list(error.absolute_path), error, path)
        problems.append(m.Problem(where, message))
    raise _Invalid(problems)


def _locate(node: Any, keys: list, error: Any, path: Path) -> tuple[m.Where, str]:
    parent, target = None, node
    for key in keys:
        parent, target = target, target[key]
    where = _where(path, parent, keys[-1]) if keys else _where(path, node, None)
    field = ".".join(str(k) for k in keys) or "the file"
    message = error.message
    if error.validator == "additionalProperties" and isinstance(target, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in target if k not in allowed]
        if extra:
            where = _key_where(path, target, extra[0])
            choices = ", ".join(sorted(allowed))
            return where, f"unknown field {extra[0]!r} in {field} (allowed: {choices})"
    if error.validator == "required" and isinstance(target, dict):
        where = _where(path, target, None)
    if error.validator in ("anyOf", "oneOf") and error.context:
        message = min(error.context, key=lambda e: len(e.message)).message
    return where, f"{field}: {message}"


def _where(path: Path, container: Any, key: Any) -> m.Where:
    """The position of ``container[key]`` (or of the container itself when key is None)."""
    try:
        if key is None:
            return m.Where(path, container.lc.line + 1, container.lc.col + 1)
        if isinstance(container, LocatedMap):
            line, col = container.lc.value(key)
        elif isinstance(container, LocatedSeq):
            line, col = container.lc.item(key)
        else:
            return m.Where(path)
        return m.Where(path, line + 1, col + 1)
    except (AttributeError, KeyError, IndexError, TypeError):
        return m.Where(path)


def _key_where(path: Path, container: LocatedMap, key: Any) -> m.Where:
    try:
        line, col = container.lc.key(key)
        return m.Where(path, line + 1, col + 1)
    except (AttributeError, KeyError, TypeError):
        return _where(path, container, None)


def _claim(ident: str, seen: dict[str, m.Where], where: m.Where | None, what: str) -> None:
    where = where or m.Where(Path("?"))
    if ident in seen:
        raise _Invalid([m.Problem(where, f"duplicate {what} {ident!r} (first used at {seen[ident]})")])
    seen[ident] = where


# --------------------------------------------------------------------------- steps


def _build_step(raw: Any, lesson_id: str, path: Path, where: m.Where) -> m.Step:
    if not isinstance(raw, dict):
        raise _Invalid([m.Problem(where, "a step must be a mapping")])
    if raw.get("kind", "code") == "quiz":
        return _build_quiz(raw, lesson_id, path, where)
    return _build_code(raw, lesson_id, path, where)


def _build_quiz(raw: LocatedMap, lesson_id: str, path: Path, where: m.Where) -> m.QuizStep:
    _validate(raw, QUIZ_STEP, path)
    answer = raw["answer"]
    answers = tuple(answer) if isinstance(answer, list) else (answer,)
    bad = [a for a in answers if a >= len(raw["choices"])]
    if bad:
        place = _where(path, raw, "answer")
        raise _Invalid([m.Problem(place, f"answer {bad[0]} is out of range: there are "
                                          f"{len(raw['choices'])} choices (numbered from 0)")])
    return m.QuizStep(
        id=raw["id"],
        title=raw["title"],
        lesson_id=lesson_id,
        explanation=str(raw.get("explanation", "")),
        where=where,
        question=str(raw["question"]),
        choices=tuple(str(c) for c in raw["choices"]),
        answer=answers,
        why=str(raw.get("why", "")),
        hints=tuple(str(h) for h in raw.get("hints", [])),
    )


def _build_code(raw: LocatedMap, lesson_id: str, path: Path, where: m.Where) -> m.CodeStep:
    _validate(raw, CODE_STEP, path)
    problems: list[m.Problem] = []
    for field in ("setup", "starter", "solution"):
        if field in raw:
            problems.extend(_syntax_problems(raw[field], path, raw, field))
    for index, code in enumerate(raw.get("accepts", [])):
        problems.extend(_syntax_problems(code, path, raw["accepts"], index))
    for reject in raw.get("rejects", []):
        problems.extend(_syntax_problems(reject["code"], path, reject, "code"))
    checks = []
    for index, raw_check in enumerate(raw["checks"]):
        try:
            checks.append(_build_check(raw_check, path, _where(path, raw["checks"], index)))
        except _Invalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise _Invalid(problems)
    rejects = tuple(
        m.Reject(code=r["code"], feedback=r["feedback"], where=_where(path, raw["rejects"], i))
        for i, r in enumerate(raw.get("rejects", []))
    )
    return m.CodeStep(
        id=raw["id"],
        title=raw["title"],
        lesson_id=lesson_id,
        explanation=str(raw.get("explanation", "")),
        where=where,
        starter=str(raw["starter"]),
        solution=str(raw["solution"]),
        setup=str(raw.get("setup", "")),
        hints=tuple(str(h) for h in raw.get("hints", [])),
        checks=tuple(checks),
        accepts=tuple(str(a) for a in raw.get("accepts", [])),
        rejects=rejects,
        timeout_s=float(raw.get("timeout", m.DEFAULT_TIMEOUT_S)),
        requires=raw.get("requires", "any"),
        data=tuple(raw.get("data", [])),
    )


def _syntax_problems(code: Any, path: Path, container: Any, key: Any) -> list[m.Problem]:
    try:
        ast.parse(str(code))
    except SyntaxError as exc:
        start = _where(path, container, key)
        # A block scalar (`key: |`) starts its text on the line after the key.
        line = start.line + (exc.lineno or 1)
        return [m.Problem(m.Where(path, line, exc.offset or 1), f"Python syntax error: {exc.msg}")]
    return []


# --------------------------------------------------------------------------- checks


def _build_check(raw: Any, path: Path, where: m.Where) -> m.AnyCheck:
    if not isinstance(raw, dict):
        raise _Invalid([m.Problem(where, "a check must be a mapping such as `compare: x`")])
    kinds = [k for k in CHECK_SCHEMAS if k in raw]
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        raise _Invalid([m.Problem(where, f"a check needs exactly one kind of "
                                         f"{', '.join(CHECK_SCHEMAS)} (found: {found})")])
    kind = kinds[0]
    _validate(raw, CHECK_SCHEMAS[kind], path)
    common = {"name": str(raw.get("name", "")), "message": str(raw.get("message", "")),
              "where": where}
    builder = _BUILDERS[kind]
    check = builder(raw, common)
    _check_axes(raw, path, where)
    for expr in _expressions(check):
        try:
            ast.parse(expr, mode="eval")
        except SyntaxError as exc:
            problem = m.Problem(where, f"expression {expr!r} does not parse: {exc.msg}")
            raise _Invalid([problem]) from None
    return check


def _check_axes(raw: dict, path: Path, where: m.Where) -> None:
    shape = raw.get("shape")
    axes = raw.get("axes")
    if shape is not None and axes is not None and len(shape) != len(axes):
        place = _where(path, raw, "axes")
        raise _Invalid([m.Problem(place, f"axes names {list(axes)} do not match the "
                                         f"shape's {len(shape)} axes")])


def _expressions(check: m.AnyCheck) -> Iterable[str]:
    if isinstance(check, m.MetricCheck):
        yield check.expr
    if isinstance(check, m.CallCheck):
        for arg in [*check.args, *(a for _, a in check.kwargs)]:
            if arg.expr is not None:
                yield arg.expr


def _shape(value: Any) -> tuple | None:
    return None if value is None else tuple(value)


def _arg(raw: Any) -> m.ArgSpec:
    if isinstance(raw, dict) and "tensor" in raw:
        return m.ArgSpec(tensor=dict(raw["tensor"]))
    if isinstance(raw, dict) and "expr" in raw:
        return m.ArgSpec(expr=str(raw["expr"]))
    if isinstance(raw, dict) and "value" in raw:
        return m.ArgSpec(value=_plain(raw["value"]))
    return m.ArgSpec(value=_plain(raw))


def _plain(value: Any) -> Any:
    """Located containers as plain lists and dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _compare(raw: dict, common: dict) -> m.CompareCheck:
    return m.CompareCheck(var=raw["compare"], rtol=float(raw.get("rtol", 1e-5)),
                          atol=float(raw.get("atol", 1e-8)), axes=tuple(raw.get("axes", ())),
                          **common)


def _expect(raw: dict, common: dict) -> m.ExpectCheck:
    return m.ExpectCheck(
        var=raw["expect"], shape=_shape(raw.get("shape")), axes=tuple(raw.get("axes", ())),
        dtype=raw.get("dtype"), device=raw.get("device"),
        requires_grad=raw.get("requires_grad"), is_leaf=raw.get("is_leaf"),
        grad=raw.get("grad"), grad_shape=_shape(raw.get("grad_shape")),
        type=raw.get("type"), value=raw.get("value"), **common,
    )


def _call(raw: dict, common: dict) -> m.CallCheck:
    return m.CallCheck(
        function=raw["call"],
        args=tuple(_arg(a) for a in raw.get("args", [])),
        kwargs=tuple((str(k), _arg(v)) for k, v in raw.get("kwargs", {}).items()),
        trials=int(raw.get("trials", 3)), rtol=float(raw.get("rtol", 1e-5)),
        atol=float(raw.get("atol", 1e-8)), axes=tuple(raw.get("axes", ())), **common,
    )


def _module(raw: dict, common: dict) -> m.ModuleCheck:
    layers = raw.get("layers")
    return m.ModuleCheck(
        target=raw["module"], params=raw.get("params"),
        layers=None if layers is None else tuple((str(a), str(b)) for a, b in layers),
        input_shape=_shape(raw.get("input")), output_shape=_shape(raw.get("output")),
        same_as_reference=bool(raw.get("same_as_reference", False)),
        like_reference=bool(raw.get("like_reference", False)),
        rtol=float(raw.get("rtol", 1e-4)), atol=float(raw.get("atol", 1e-5)), **common,
    )


def _metric(raw: dict, common: dict) -> m.MetricCheck:
    return m.MetricCheck(expr=raw["metric"], learner=tuple(raw.get("learner", ())),
                         min=raw.get("min"), max=raw.get("max"), **common)


def _stdout_contains(raw: dict, common: dict) -> m.StdoutCheck:
    return m.StdoutCheck(contains=raw["stdout_contains"], **common)


def _stdout_matches(raw: dict, common: dict) -> m.StdoutCheck:
    return m.StdoutCheck(matches=raw["stdout_matches"], **common)


def _source(raw: dict, common: dict) -> m.SourceCheck:
    rules = raw["source"] or {}
    made_from = tuple((var, tuple(names)) for var, names in rules.get("made_from", {}).items())
    return m.SourceCheck(uses=tuple(rules.get("uses", ())), avoids=tuple(rules.get("avoids", ())),
                         no_loops=bool(rules.get("no_loops", False)), made_from=made_from,
                         **common)


_BUILDERS = {
    "compare": _compare,
    "expect": _expect,
    "call": _call,
    "module": _module,
    "metric": _metric,
    "stdout_contains": _stdout_contains,
    "stdout_matches": _stdout_matches,
    "source": _source,
}
