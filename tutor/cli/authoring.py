"""``pytorch-tutor lessons``: validate a course, print its schema, scaffold a lesson."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tutor.cli.render import indent, paint
from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.loader import CourseError, load_course
from tutor.core.scaffold import write_lesson
from tutor.core.schema import full_schema
from tutor.core.session import bundled_course_dir
from tutor.core.validate import StepReport, validate_steps


def run(args: argparse.Namespace) -> int:
    if args.lessons_command == "schema":
        print(json.dumps(full_schema(), indent=2))
        return 0
    if args.lessons_command == "reference":
        return reference(args.write)
    root = _course_dir(args, getattr(args, "dir", None))
    if args.lessons_command == "new":
        path = write_lesson(root, args.id)
        print(f"Wrote {path} and added it to {root / 'course.yaml'}.\n"
              f"Check it with: pytorch-tutor lessons validate {root} --solutions")
        return 0
    return validate(args, root)


def reference(path: Path | None) -> int:
    """Print the generated reference, or refresh it in ``path``."""
    from tutor.core.reference import reference_markdown, write_reference

    if path is None:
        print(reference_markdown(), end="")
    else:
        changed = write_reference(path)
        print(f"{path}: {'updated' if changed else 'already current'}")
    return 0


def _course_dir(args: argparse.Namespace, given: Path | None) -> Path:
    if given:
        return given
    return Path(args.lessons) if args.lessons else bundled_course_dir()


def validate(args: argparse.Namespace, root: Path) -> int:
    """Report a course's problems and, with ``--solutions``, run every program it holds.
    Text streams step by step; ``--json`` prints one object at the end."""
    as_json = bool(getattr(args, "json", False))
    say = _quiet if as_json else print
    try:
        course = load_course(root)
    except CourseError as exc:
        if as_json:
            print(json.dumps({"ok": False, "problems": _problems(exc.problems)}, indent=2))
        for problem in exc.problems:
            say(str(problem))
        return 1
    for problem in course.problems:
        say(str(problem))
    steps = course.steps()
    code_steps = [s for s in steps if isinstance(s, m.CodeStep)]
    say(paint(f"{course.id}: {len(course.lessons)} lessons, {len(steps)} steps "
              f"({len(code_steps)} with code), {len(course.problems)} problems", "bold"))
    summary: dict = {"course": course.id, "lessons": len(course.lessons), "steps": len(steps),
                     "code_steps": len(code_steps), "problems": _problems(course.problems)}
    reports: list[StepReport] = []
    if args.solutions:
        if args.step:
            wanted = set(args.step)
            code_steps = [s for s in code_steps if s.id in wanted]
        reports = _run_programs(args, code_steps, say, None if as_json else _print_report)
        summary["reports"] = [_report_json(r) for r in reports]
    failed = [r for r in reports if not r.ok]
    if reports:
        skipped = sum(1 for r in reports if r.skipped)
        say(paint(f"{len(reports) - len(failed) - skipped} steps ok, {len(failed)} failed, "
                  f"{skipped} skipped; {sum(r.duration_s for r in reports):.1f} s of runs",
                  "bold"))
    ok = not failed and not course.problems
    if as_json:
        print(json.dumps({"ok": ok, **summary}, indent=2))
    return 0 if ok else 1


def _run_programs(args: argparse.Namespace, steps: list[m.CodeStep], say: Callable[..., None],
                  on_report: Callable[[StepReport], None] | None) -> list[StepReport]:
    data_dir = _data_dir(any(s.data for s in steps))
    from tutor.bootstrap import make_runner

    runner = make_runner(warm=True, spares=2)  # a learner and a reference run side by side
    try:
        started = time.monotonic()
        warm = runner.wait_ready()  # so the first step's times do not include start-up
        say(paint(f"workers {'ready' if warm else 'start cold'} "
                  f"({time.monotonic() - started:.1f} s)", "dim"))
        checker = Checker(runner, device=args.device, data_dir=data_dir)
        return validate_steps(steps, checker, workers=max(1, args.jobs), on_report=on_report)
    finally:
        runner.close()


def _quiet(*_args: object, **_kwargs: object) -> None:
    """``print`` for --json runs: the JSON object is the only output."""


def _problems(problems: Iterable[m.Problem]) -> list[dict]:
    return [{"file": str(p.where.file), "line": p.where.line, "column": p.where.column,
             "message": p.message} for p in problems]


def _report_json(report: StepReport) -> dict:
    where = report.step.where
    return {"step": report.step.id, "ok": report.ok, "skipped": report.skipped,
            "where": str(where) if where else None,
            "attempts": [{"label": a.label, "ok": a.ok, "problem": a.problem,
                          "duration_s": round(a.duration_s, 3)} for a in report.attempts]}


def _data_dir(needed: bool) -> str:
    """The data directory; an author without Fashion-MNIST gets the offline substitute."""
    from tutor.core import datasets

    data_dir = datasets.default_data_dir()
    if needed:
        try:
            datasets.resolve(data_dir)
        except datasets.DatasetMissing:
            print(paint("Fashion-MNIST is missing: building the offline substitute to validate "
                        "with (`pytorch-tutor data fetch` gets the real data).", "yellow"),
                  file=sys.stderr)
            datasets.build_substitute(data_dir)
    return str(data_dir)


def _print_report(report: StepReport) -> None:
    where = report.step.where or ""
    if report.skipped:
        print(f"{paint('skip', 'yellow')} {report.step.id}: {report.skipped}")
    elif report.ok:
        times = " ".join(f"{a.label}={a.duration_s:.1f}s" for a in report.attempts)
        print(f"{paint('ok  ', 'green')} {report.step.id} {paint(times, 'dim')}")
    else:
        print(f"{paint('FAIL', 'red')} {report.step.id} ({where})")
        for attempt in report.attempts:
            if not attempt.ok:
                print(indent(attempt.problem))
    sys.stdout.flush()
