"""``pytorch-tutor``: the command line. Every command is a few lines over ``Session``.

Exit codes: 0 success (a check passed), 1 a check failed, 2 a usage or configuration error,
3 the result could not be saved (a full disk or a read-only home: the message names the path),
130 interrupted (Ctrl-C, SIGTERM, SIGHUP: the runs are stopped and their folders removed).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

from tutor import __version__
from tutor.cli import render
from tutor.cli.render import paint
from tutor.core import devices
from tutor.core.text import visible, visible_output

if TYPE_CHECKING:  # the core loads lazily: `pytorch-tutor` alone must draw the TUI at once
    from rich.console import RenderableType

    from tutor.bootstrap import Options
    from tutor.cli.seen import Stream
    from tutor.core.session import Session

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NOT_SAVED = 0, 1, 2, 3
EXAMPLE_QUIZ = "welcome.why-gpu"  # a quiz of the bundled course (tests/test_cli.py checks it)


class UsageError(Exception):
    """A mistake in how the command was called or configured."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytorch-tutor",
        description="Learn PyTorch hands-on in your terminal. With no command, opens the tutor.",
    )
    parser.add_argument("--version", action="version", version=f"pytorch-tutor {__version__}")
    parser.add_argument("--lessons", metavar="DIR", help="use the course in DIR")
    parser.add_argument("--device", default="auto",
                        help="where your code runs: auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--workspace", metavar="DIR", help="where your code files live")
    parser.add_argument("--unlock-all", action="store_true", help="open every step at once")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    command("list", "list every step and its status")
    p = command("show", "show a step: explanation and your file")
    p.add_argument("step", nargs="?")
    for name, text in (("check", "check your code for a step (exit 0 pass, 1 fail)"),
                       ("run", "run your code for a step without checking it")):
        p = command(name, text)
        p.add_argument("step", nargs="?", help="step id (default: the current step)")
        p.add_argument("--file", type=Path, help="check this file instead of the step's file")
        if name == "check":  # a run shows them always; a check stays short without
            p.add_argument("--shapes", action="store_true",
                           help="also show the shapes your code made and its model's layers")
    p = command("answer", f"answer a quiz step, e.g. `answer {EXAMPLE_QUIZ} 2`")
    p.add_argument("step")
    p.add_argument("choices", nargs="+", type=int, help="choice numbers, from 1")
    p = command("hint", "reveal the next hint for a step")
    p.add_argument("step", nargs="?")
    p = command("solution", "show the reference solution (after passing, or with --force)")
    p.add_argument("step")
    p.add_argument("--force", action="store_true", help="show it before passing (recorded)")
    p = command("reset", "restore a step's starter code (your code is kept as .bak)", False)
    p.add_argument("step", nargs="?")
    p.add_argument("--all", action="store_true", help="reset the whole course")
    command("progress", "how far you are, per lesson").add_argument(
        "--restore", nargs="?", const="", metavar="N",
        help="list the saved copies of your progress; with N, restore copy N")
    command("doctor", "check Python, torch, CUDA, data, workspace and sandbox")

    lessons = command("lessons", "tools for lesson authors", False)
    lsub = lessons.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)
    p = lsub.add_parser("validate", help="report every problem in a course as file:line:column")
    p.add_argument("dir", nargs="?", type=Path)
    p.add_argument("--solutions", action="store_true",
                   help="also run every solution, starter, accept and reject")
    p.add_argument("--mutants", action="store_true",
                   help="also run wrong variants of each solution: every one must fail")
    p.add_argument("--figures", action="store_true",
                   help="also build every figure (--solutions builds them too)")
    p.add_argument("--step", action="append", help="only these steps (with --solutions)")
    p.add_argument("--jobs", type=int, default=2, help="steps validated at once")
    p.add_argument("--json", action="store_true", help="machine-readable output (for editors, CI)")
    lsub.add_parser("schema", help="print the JSON Schema of a lesson file")
    p = lsub.add_parser("reference", help="print the reference of every step and check kind")
    p.add_argument("--write", type=Path, metavar="FILE",
                   help="refresh the generated reference in FILE (docs/writing-lessons.md)")
    p = lsub.add_parser("new", help="write a new lesson file that validates")
    p.add_argument("id", help="the lesson id, e.g. my-lesson")
    p.add_argument("--dir", type=Path, help="the course directory (default: --lessons)")

    data = command("data", "the Fashion-MNIST data set", False)
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    p = dsub.add_parser("fetch", help="download Fashion-MNIST now (or copy it --from a folder)")
    p.add_argument("--from", dest="source", type=Path, help="a folder holding the four files")
    dsub.add_parser("substitute", help="build the offline substitute (no network needed)")
    dsub.add_parser("status", help="where the data is, and what is missing").add_argument(
        "--json", action="store_true", help="machine-readable output")
    command("watch", "check a step every time you save its file", False).add_argument(
        "--manual", action="store_true", help="re-check on Enter instead of watching the file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command:  # the TUI restores the terminal on its own way out
        _interrupt_on_termination()
    try:
        devices.validate(args.device)
        handler = HANDLERS.get(args.command or "tui")
        assert handler is not None
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not isinstance(exc, (UsageError, devices.DeviceError, *_user_errors())):
            raise
        print(f"pytorch-tutor: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _interrupt_on_termination() -> None:
    """SIGTERM and SIGHUP (a closed terminal) end a command as Ctrl-C does: its runs are
    stopped and their folders removed on the way out."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for which in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if which is not None:
            signal.signal(which, interrupt)


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors whose message tells the user what to do (imported only when one happened)."""
    from tutor.core.datasets import DatasetError
    from tutor.core.loader import CourseError
    from tutor.core.scaffold import ScaffoldError
    from tutor.core.session import SessionError

    return (SessionError, CourseError, DatasetError, ScaffoldError)


def options(args: argparse.Namespace, warm: bool = False) -> Options:
    """What the global options chose, for the composition root."""
    from tutor.bootstrap import Options

    return Options(lessons=args.lessons, device=args.device, workspace=args.workspace,
                   unlock_all=args.unlock_all, warm=warm)


def open_session(args: argparse.Namespace, warm: bool = False) -> Session:
    """The learner's session for a command, with any warnings printed to stderr."""
    from tutor.bootstrap import open_session as open_with

    session = open_with(options(args, warm))
    session.store.load()  # reading the progress file is what finds a broken one
    for warning in session.warnings:
        print(paint(f"warning: {warning}", "yellow", sys.stderr), file=sys.stderr)
    return session


def emit(args: argparse.Namespace, data: Any, *shown: RenderableType | str) -> None:
    """``data`` as JSON with --json, else ``shown`` rendered for a person."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        render.out(*shown)


# --------------------------------------------------------------------------- learner commands


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from tutor.tui.app import run_app
    except ImportError:
        print("The full-screen tutor is not available in this version. Start with "
              "`pytorch-tutor list`, then `pytorch-tutor show` and `pytorch-tutor check`.")
        return EXIT_OK
    return run_app(args)


def cmd_list(args: argparse.Namespace) -> int:
    session = open_session(args)
    statuses = session.statuses()
    lines, lesson = [], None
    titles = {lesson.id: lesson.title for lesson in session.course.lessons}
    for s in statuses:
        if s.lesson != lesson:
            lesson = s.lesson
            lines.append(paint(f"{titles.get(lesson, lesson)}", "bold"))
        mark = render.STATUS_MARKS[s.status]
        colour = {"passed": "green", "locked": "dim", "skipped": "yellow"}.get(s.status, "cyan")
        extra = f" ({s.reason})" if s.reason else ""
        quiz = " [quiz]" if s.kind == "quiz" else ""
        lines.append(paint(f"  {mark} {s.id:<32} {s.title}{quiz}  {s.status}{extra}", colour))
    emit(args, [s.to_json() for s in statuses], "\n".join(lines))
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from tutor.core.model import QuizStep

    session = open_session(args)
    view = session.open_step(args.step)
    step = view.step
    data: dict[str, Any] = {"id": step.id, "lesson": step.lesson_id, "title": step.title,
                            "kind": step.kind, "explanation": step.explanation,
                            "status": view.status.status}
    shown: list[RenderableType | str] = [heading(step.title, step.id)]
    if step.explanation.strip():
        shown += ["", render.markdown(step.explanation)]
    if step.figure:
        from tutor.drawing import FigureView

        drawn = session.figures(step.id)
        data["figures"] = [{"caption": d.caption, "pictures": len(d.pictures),
                            "error": d.error} for d in drawn]
        for one in drawn:
            shown += ["", FigureView(one)]
        if not getattr(args, "json", False):
            render.decide_pictures()
    if isinstance(step, QuizStep):
        several = len(step.answers) > 1
        data.update(question=step.question, choices=list(step.choices), several=several)
        shown += ["", render.markdown(step.question), "", choices_view(step.choices)]
        how = ("(several choices are right: give them all, e.g. 1 3)" if several else "N")
        shown += ["", f"Answer with: pytorch-tutor answer {step.id} {how}"]
    else:
        data["file"] = str(view.path)
        shown += ["", Text(f"Your file: {visible(str(view.path))}", "cyan"),
                  f"Edit it, then run: pytorch-tutor check {step.id}"]
    emit(args, data, *shown)
    return EXIT_OK


def heading(title: str, step_id: str) -> RenderableType:
    return Text.assemble((visible(title), "bold"), f"  ({visible(step_id)})")


def choices_view(choices: Sequence[str]) -> RenderableType:
    """``  2. text``, a long choice wrapped under its text."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for number, choice in enumerate(choices, 1):
        grid.add_row(f"  {number}.", render.message(choice))
    return grid


def _stream(args: argparse.Namespace) -> Stream:
    """What the run streams: printed as it comes, or only kept for ``--json``."""
    from tutor.cli.seen import Stream

    return Stream(None if getattr(args, "json", False) else sys.stdout)


def _with_reported(data: dict[str, Any], stream: Stream) -> dict[str, Any]:
    """The verdict's JSON, with what ``report(...)`` sent when it sent anything."""
    reported = stream.reported()
    return {**data, "reported": reported} if reported else data


def cmd_check(args: argparse.Namespace) -> int:
    from tutor.core.figures import figures

    session = open_session(args)
    step_id = args.step or session.current_step_id()
    step = session.step(step_id)
    if args.file and not args.file.exists():
        raise UsageError(f"{args.file} does not exist")
    stream = _stream(args)
    attempt = session.check(step_id, file=args.file, on_output=stream)
    verdict = attempt.verdict
    shown: list[RenderableType | str] = [
        render.verdict_view(verdict, step.title, figures(step, verdict))]
    if stream.curves:
        shown += ["", *stream.sparklines()]
    if stream.shapes and getattr(args, "shapes", False):
        from tutor.drawing import ShapesView

        shown += ["", ShapesView(stream.shapes)]
    if verdict.passed:
        shown += ["", f"Next: pytorch-tutor show {attempt.next_step}" if attempt.next_step
                  else "That was the last step. Well done!"]
    emit(args, _with_reported(verdict.to_json(), stream), *shown)
    if attempt.not_saved and verdict.passed:
        return not_saved(f"this pass was not recorded: {attempt.not_saved}")
    return EXIT_OK if verdict.passed or verdict.skipped else EXIT_FAIL


def not_saved(message: str) -> int:
    print(paint(f"pytorch-tutor: {message}", "red", sys.stderr), file=sys.stderr)
    return EXIT_NOT_SAVED


def cmd_run(args: argparse.Namespace) -> int:
    session = open_session(args)
    stream = _stream(args)
    verdict = session.run(args.step, file=args.file, on_output=stream)
    if getattr(args, "json", False):
        emit(args, _with_reported(verdict.to_json(), stream), "")
        return EXIT_FAIL if verdict.error else EXIT_OK
    if stream.shapes:
        from tutor.drawing import ShapesView

        render.out("", ShapesView(stream.shapes))
    if verdict.stderr:
        sys.stderr.write(visible_output(verdict.stderr))
    if verdict.error:
        print(visible(verdict.error), file=sys.stderr)
    return EXIT_FAIL if verdict.error else EXIT_OK


def cmd_answer(args: argparse.Namespace) -> int:
    session = open_session(args)
    attempt = session.answer(args.step, [c - 1 for c in args.choices])
    shown: list[RenderableType | str] = [
        render.verdict_view(attempt.verdict, session.step(args.step).title)]
    if attempt.why:
        shown += ["", render.markdown(attempt.why)]
    emit(args, attempt.verdict.to_json(), *shown)
    return EXIT_OK if attempt.passed else EXIT_FAIL


def cmd_hint(args: argparse.Namespace) -> int:
    session = open_session(args)
    step_id = args.step or session.current_step_id()
    hint = session.next_hint(step_id)
    data = {"step": step_id, "number": hint.number, "total": hint.total, "hint": hint.text}
    emit(args, data, Text(f"Hint {hint.number}/{hint.total}", "bold yellow"),
         render.markdown(hint.text))
    if session.store.unsaved:
        return not_saved(f"that this hint was shown was not recorded: {session.store.unsaved}")
    return EXIT_OK


def cmd_solution(args: argparse.Namespace) -> int:
    session = open_session(args)
    code = session.solution(args.step, force=args.force)
    emit(args, {"step": args.step, "code": code}, visible(code.rstrip()))
    return EXIT_OK


def cmd_reset(args: argparse.Namespace) -> int:
    session = open_session(args)
    if args.all:
        session.reset_all()
        print("Every step is back to its starter; your old files are kept as .bak files.")
        return EXIT_OK
    if not args.step:
        raise UsageError("name a step to reset, or use --all")
    backup = session.reset(args.step)
    print(f"{args.step} is back to its starter." + (f" Your code is kept in {backup}." if backup
                                                    else ""))
    return EXIT_OK


def cmd_progress(args: argparse.Namespace) -> int:
    session = open_session(args)
    if args.restore is not None:
        return restore_progress(args, session)
    summary = session.summary()
    lines = [paint(f"{summary.title}: {summary.done}/{summary.total} steps", "bold")]
    for lesson in summary.lessons:
        filled = int(20 * lesson.done / lesson.total) if lesson.total else 0
        bar = "█" * filled + "░" * (20 - filled)
        lines.append(f"  {bar} {lesson.done:>2}/{lesson.total:<2} {visible(lesson.title)}")
    if summary.current:
        lines.append(f"\nCurrent step: {visible(summary.current)}")
    emit(args, summary.to_json(), "\n".join(lines))
    return EXIT_OK


def restore_progress(args: argparse.Namespace, session: Session) -> int:
    """List the copies of the progress file that can be restored, or restore copy N."""
    copies = session.store.saved_copies()
    if args.restore:
        if not args.restore.isdigit() or not 1 <= int(args.restore) <= len(copies):
            raise UsageError(f"no copy {args.restore}: `pytorch-tutor progress --restore` "
                             "lists them")
        try:
            print(session.store.restore(copies[int(args.restore) - 1].path))
        except (OSError, ValueError) as exc:
            raise UsageError(str(exc)) from None
        return EXIT_OK
    data = [{"number": n, "path": str(c.path), "saved_at": c.saved_at, "passed": c.passed,
             "restorable": c.restorable, "problem": c.problem} for n, c in enumerate(copies, 1)]
    lines = [f"Copies of {visible(str(session.store.path))}:" if copies else
             f"No saved copies of {visible(str(session.store.path))} yet."]
    for n, c in enumerate(copies, 1):
        what = (f"{c.passed} steps passed" if c.restorable
                else f"cannot be restored: {c.problem}")
        lines.append(f"  {n}. {visible(str(c.path))} (saved {c.saved_at}): {what}")
    if any(c.restorable for c in copies):
        lines.append("Restore one with: pytorch-tutor progress --restore N")
    emit(args, data, "\n".join(lines))
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from tutor.cli.doctor import doctor

    return doctor(args)


def cmd_lessons(args: argparse.Namespace) -> int:
    from tutor.cli import authoring

    return authoring.run(args)


def cmd_data(args: argparse.Namespace) -> int:
    from tutor.cli import data

    return data.run(args)


def cmd_watch(args: argparse.Namespace) -> int:
    from tutor.cli.watch import watch

    return watch(args)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "tui": cmd_tui, "list": cmd_list, "show": cmd_show, "check": cmd_check, "run": cmd_run,
    "answer": cmd_answer, "hint": cmd_hint, "solution": cmd_solution, "reset": cmd_reset,
    "progress": cmd_progress, "doctor": cmd_doctor, "lessons": cmd_lessons, "data": cmd_data,
    "watch": cmd_watch,
}

if __name__ == "__main__":
    sys.exit(main())
