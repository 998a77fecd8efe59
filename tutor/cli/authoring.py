"""``pytorch-tutor lessons``: validate a course, print its schema, scaffold a lesson."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tutor.cli.render import indent, paint
from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.loader import CourseError, load_course
from tutor.core.mutants import MAX_MUTANTS
from tutor.core.scaffold import write_lesson
from tutor.core.schema import full_schema
from tutor.core.session import bundled_course_dir
from tutor.core.text import EDITOR_COLUMNS, LESSON_CODE_COLUMNS, wide_code_lines, wide_lines
from tutor.core.validate import (
    Attempt,
    CourseScore,
    MutationReport,
    StepReport,
    course_score,
    validate_steps,
)


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
    """Report a course's problems and, with ``--solutions``, run every program it holds
    (with ``--mutants``, the solutions' wrong variants too). Text streams step by step;
    ``--json`` prints one object at the end."""
    as_json = bool(getattr(args, "json", False))
    mutate = bool(getattr(args, "mutants", False))
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
    warnings = width_warnings(course)
    for warning in warnings:
        say(paint(warning, "yellow"))
    steps = course.steps()
    code_steps = [s for s in steps if isinstance(s, m.CodeStep)]
    say(paint(f"{course.id}: {len(course.lessons)} lessons, {len(steps)} steps "
              f"({len(code_steps)} with code), {len(course.problems)} problems", "bold"))
    summary: dict = {"course": course.id, "lessons": len(course.lessons), "steps": len(steps),
                     "code_steps": len(code_steps), "problems": _problems(course.problems),
                     "warnings": warnings}
    reports: list[StepReport] = []
    if args.solutions or mutate:
        if args.step:
            wanted = set(args.step)
            code_steps = [s for s in code_steps if s.id in wanted]
        started = time.monotonic()
        printer = _Printer(feedback=bool(args.solutions))
        reports = _run_programs(args, code_steps, say, None if as_json else printer.print)
        summary["reports"] = [_report_json(r) for r in reports]
        summary["duration_s"] = round(time.monotonic() - started, 1)
    figure_problems: list[str] = []
    if args.solutions or getattr(args, "figures", False):
        with_figures = [s for s in steps if s.figure and (not args.step or s.id in args.step)]
        figure_problems = _build_figures(args, with_figures, say)
        summary["figure_problems"] = figure_problems
    failed = [r for r in reports if not r.ok]
    if reports:
        skipped = sum(1 for r in reports if r.skipped)
        say(paint(f"{len(reports) - len(failed) - skipped} steps ok, {len(failed)} failed, "
                  f"{skipped} skipped; {sum(r.duration_s for r in reports):.1f} s of runs "
                  f"in {summary['duration_s']:.1f} s", "bold"))
    if mutate:
        score = course_score(reports)
        summary["mutation"] = _score_json(score)
        say(paint(f"mutation score {_percent(score.score)}: {score.killed} killed, "
                  f"{score.survived} survived, {score.equivalent} equivalent "
                  f"over {score.steps} steps", "bold"))
    ok = not failed and not course.problems and not figure_problems
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
        return validate_steps(steps, checker, workers=max(1, args.jobs), on_report=on_report,
                              mutate=bool(getattr(args, "mutants", False)))
    finally:
        runner.close()


def width_warnings(course: m.Course) -> list[str]:
    """Lines wider than the 80x24 tutor shows: code blocks in a lesson's text (the lesson
    pane wraps them) and lines of a starter (the editor scrolls sideways). Warnings only:
    they still work, they are just harder to read in a small terminal."""
    found = []
    for step in course.steps():
        texts = [step.explanation, *step.hints]
        if isinstance(step, m.QuizStep):
            texts += [step.question, step.why, *step.explanations]
        for text in texts:
            for _, line in wide_code_lines(text):
                found.append(_width_warning(step, line, "a code block line", LESSON_CODE_COLUMNS))
        if isinstance(step, m.CodeStep):
            for _, line in wide_lines(step.starter):
                found.append(_width_warning(step, line, "a starter line", EDITOR_COLUMNS))
    return found


def _width_warning(step: m.Step, line: str, what: str, limit: int) -> str:
    where = step.where or m.Where(step.lesson_id)
    number, margin = _find_line(where, line)
    return (f"{where.file}:{number}:{margin + limit + 1}: warning: {what} of step {step.id} "
            f"is {len(line.expandtabs(4))} columns wide; at 80x24 the tutor shows {limit}")


def _find_line(where: m.Where, line: str) -> tuple[int, int]:
    """Where ``line`` is in the lesson file, at or after the step's own line: its line
    number and the YAML indentation in front of it."""
    try:
        lines = Path(where.file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return where.line, 0
    for number in range(max(0, where.line - 1), len(lines)):
        if lines[number].endswith(line) and not lines[number][:-len(line)].strip():
            return number + 1, len(lines[number]) - len(line)
    return where.line, 0


def _quiet(*_args: object, **_kwargs: object) -> None:
    """``print`` for --json runs: the JSON object is the only output."""


def _problems(problems: Iterable[m.Problem]) -> list[dict]:
    return [{"file": str(p.where.file), "line": p.where.line, "column": p.where.column,
             "message": p.message} for p in problems]


def _report_json(report: StepReport) -> dict:
    where = report.step.where
    return {"step": report.step.id, "ok": report.ok, "skipped": report.skipped,
            "where": str(where) if where else None,
            "attempts": [{"label": a.label, "ok": a.ok, "passed": a.passed,
                          "problem": a.problem, "feedback": a.feedback,
                          "duration_s": round(a.duration_s, 3)} for a in report.attempts],
            "mutants": _mutation_json(report.mutation) if report.mutation else None}


def _mutation_json(mutation: MutationReport) -> dict:
    return {
        "score": _rounded(mutation.score), "generated": mutation.generated,
        "run": mutation.count("killed") + mutation.count("survived"),
        "killed": mutation.count("killed"), "survived": mutation.count("survived"),
        "equivalent": mutation.count("equivalent"), "left_out": mutation.left_out,
        "stale_equivalents": mutation.stale, "note": mutation.note,
        "results": [{"id": r.mutant.id, "operator": r.mutant.operator, "line": r.mutant.line,
                     "before": r.mutant.before, "after": r.mutant.after, "status": r.status,
                     "reason": r.reason, "feedback": r.feedback,
                     "duration_s": round(r.duration_s, 3)} for r in mutation.results],
    }


def _score_json(score: CourseScore) -> dict:
    return {"score": _rounded(score.score), "killed": score.killed,
            "survived": score.survived, "equivalent": score.equivalent, "steps": score.steps,
            "cap_per_step": MAX_MUTANTS}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _build_figures(args: argparse.Namespace, steps: list[m.AnyStep],
                   say: Callable[..., None]) -> list[str]:
    """Run the code of every figure of ``steps`` (no cache); a failing one as file:line."""
    from tutor.bootstrap import make_runner
    from tutor.core.step_figures import draw

    if not steps:
        return []
    data_dir = _data_dir(any(f.data for s in steps for f in s.figure))
    runner = make_runner(warm=True, spares=1)
    problems: list[str] = []
    built = 0
    try:
        checker = Checker(runner, device=args.device, data_dir=data_dir)
        for step in steps:
            for index, figure in enumerate(step.figure, 1):
                drawn = draw(checker, step, figure)
                built += 1
                if drawn.error:
                    problems.append(_figure_problem(step, index, figure, drawn.error,
                                                    drawn.line))
                    say(problems[-1])
    finally:
        runner.close()
    say(paint(f"{built - len(problems)} figures built, {len(problems)} failed", "bold"))
    return problems


def _figure_problem(step: m.AnyStep, index: int, figure: m.Figure, error: str,
                    line: int | None) -> str:
    where = figure.where or step.where or m.Where("?")
    if line is not None:  # the code's lines start on the line after `code: |`
        where = m.Where(where.file, where.line + line, 1)
    first = error.strip().splitlines()[0] if error.strip() else "failed"
    return f"{where}: figure {index} of step {step.id!r} failed: {first}"


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


class _Printer:
    """Prints each step's report as it finishes; with ``feedback``, what the tutor said
    about every program (for authors to copy ``rejects`` fragments from real text)."""

    def __init__(self, feedback: bool):
        self.feedback = feedback
        self.width = min(100, shutil.get_terminal_size((100, 24)).columns)

    def print(self, report: StepReport) -> None:
        print(self.text(report))
        sys.stdout.flush()

    def text(self, report: StepReport) -> str:
        step = report.step
        if report.skipped:
            return f"{paint('skip', 'yellow')} {step.id}: {report.skipped}"
        times = " ".join(f"{a.label}={a.duration_s:.1f}s" for a in report.attempts)
        if report.ok:
            lines = [f"{paint('ok  ', 'green')} {step.id} {paint(times, 'dim')}"]
        else:
            lines = [f"{paint('FAIL', 'red')} {step.id} ({step.where or ''}) "
                     f"{paint(times, 'dim')}"]
        for attempt in report.attempts:
            lines += self._attempt(attempt)
        if report.mutation is not None:
            lines += self._mutation(report.mutation)
        return "\n".join(lines)

    def _attempt(self, attempt: Attempt) -> list[str]:
        if not attempt.ok:
            return [indent(attempt.problem)]
        if not self.feedback:
            return []
        said = "passed" if attempt.passed else "failed"
        lines = [f"    {attempt.label}: {said}"]
        if attempt.feedback:
            lines.append(self._wrap(attempt.feedback, "        "))
        return lines

    def _mutation(self, mutation: MutationReport) -> list[str]:
        run = mutation.count("killed") + mutation.count("survived")
        if mutation.note:
            head = f"    mutants: {mutation.note}"
        else:
            head = (f"    mutants: {mutation.count('killed')} of {run} killed, "
                    f"{mutation.count('equivalent')} equivalent: {_percent(mutation.score)}")
            if mutation.left_out:
                head += f" ({mutation.left_out} more left out: at most {MAX_MUTANTS} a step)"
        lines = [paint(head, "dim") if mutation.ok else head]
        for result in sorted(mutation.survivors, key=lambda r: r.mutant.line):
            lines += [f"      {paint('survived', 'red')} {result.mutant.id}",
                      f"          - {result.mutant.before}",
                      f"          + {result.mutant.after}"]
        for stale in mutation.stale:
            lines.append(f"      {paint('stale', 'red')} equivalent_mutants lists {stale!r}: no "
                         "mutant of the solution has this id (remove it, or copy the new id)")
        return lines

    def _wrap(self, text: str, prefix: str) -> str:
        """Each line indented, long prose wrapped; code and pointer lines kept as they are."""
        out = []
        for line in text.splitlines():
            if not line.strip():
                out.append("")
            elif line[:1].isspace() or len(prefix) + len(line) <= self.width:
                out.append(prefix + line)
            else:
                out += textwrap.wrap(line, self.width, initial_indent=prefix,
                                     subsequent_indent=prefix, break_on_hyphens=False)
        return "\n".join(out)
