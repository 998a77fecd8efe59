"""Say why a run produced nothing to check, in the learner's terms.

The sandbox reports a structured status (``tutor.core.runs.Status``) and the limits are the
core's own, so every sentence about a timeout, a memory limit or a crash is chosen here.
"""

from __future__ import annotations

import re
from typing import Any

from tutor.core.runs import REQUEST_UNREAD_EXIT, Limits, MiB, RunResult
from tutor.core.values import Built, Called, ErrorInfo, Frame, Raised, plain_text

PLACEHOLDER = "`...` is the starter's placeholder: replace it with your code."
OUT_OF_MEMORY = ("Your code ran out of memory (the limit is there to protect your machine). "
                 "Use smaller tensors or fewer at a time.")
PROCESS_LIMIT = ("If this came from starting a process (os.fork, subprocess, multiprocessing), "
                 "your code already runs as many processes as it may.")
WARNING_PATH = re.compile(r"(?m)^/\S*/([^/\s]+\.py:\d+: )")


def failure_text(result: RunResult, limits: Limits, code: str = "") -> str:
    """Why the learner's run produced no values, and what to do about it; ``code`` (the
    learner's) lets a hint name the line that causes the error."""
    error: ErrorInfo | None = result.error
    if not_started(result):
        return (f"The worker process {_how_it_ended(result)} before your code started: "
                f"your code is not at fault. {CHECK_AGAIN}")
    if result.status == "exited":
        return _exited(result)
    if error is not None:
        if result.status == "setup_error":
            return lesson_setup_error(result)
        text = error.format(source=code)
        if "ellipsis" in error.message:
            text += "\n\n" + PLACEHOLDER
        if error.type == "BlockingIOError":
            text += "\n\n" + PROCESS_LIMIT
        if result.status == "memory":
            text += "\n\n" + OUT_OF_MEMORY
        return text
    return _without_error(result, limits)


CHECK_AGAIN = ("Check again; if it happens again, `pytorch-tutor doctor` checks Python, torch "
               "and the sandbox.")


def not_started(result: RunResult) -> bool:
    """The worker ended before the step's code started (a timeout says so on its own)."""
    return result.failed_in == "start" and result.status != "timeout"


def _how_it_ended(result: RunResult) -> str:
    if result.status == "exited" and result.exit_code == REQUEST_UNREAD_EXIT:
        return "could not read what to run"
    if result.status == "exited":
        return f"ended (exit code {result.exit_code})"
    if result.status in ("memory", "killed"):
        return "was stopped for memory (starting Python and torch)"
    return f"crashed ({result.signal or result.status})"


def _exited(result: RunResult) -> str:
    error = result.error
    if isinstance(error, ErrorInfo):  # sys.exit(...) or exit(...): the learner's frames
        called = ErrorInfo("SystemExit", f"your code called exit({error.message})", error.frames)
        return (f"{called.format()}\n\nYour code ended before the checks could run: remove "
                "the call to exit().")
    return (f"Your code ended the process (exit code {result.exit_code}) before the checks "
            "could run. Remove calls such as os._exit() or sys.exit().")


def machine_busy(result: RunResult) -> bool:
    """Whether the code got little CPU because other programs had it: it waited for a CPU a
    good part of the time (Linux measures that), else the machine's load says so."""
    if result.code_s is None or result.code_s < 1:
        return False
    if result.waited_s is not None:
        return result.waited_s >= max(1.0, 0.25 * result.code_s)
    cpu = result.cpu_s or 0.0
    return result.load is not None and result.load > 1.0 and cpu < 0.5 * result.code_s


def _timeout(result: RunResult, limits: Limits) -> str:
    """The wall-clock backstop was hit: say what the code did meanwhile, and whose fault."""
    if result.failed_in == "start":
        return (f"Your code could not even start within {limits.start_s:g} s (starting Python "
                "and importing torch, or waiting for a free GPU): the machine is busy. Check "
                "again in a moment; your code is not at fault.")
    wall = limits.wall_limit_s
    cpu = result.cpu_s
    if cpu is None:
        return (f"Your code took longer than {wall:g} s and was stopped (the wall-clock limit; "
                f"it may use {limits.timeout_s:g} s of CPU). Look for a loop that never ends, "
                "or a call that waits for ever (input(), a lock, a download).")
    if machine_busy(result):
        waited = f", waiting {result.waited_s:.0f} s for a free CPU" if result.waited_s else ""
        return (f"The machine was busy: your code got only {cpu:.1f} s of CPU in {wall:g} s"
                f"{waited}, so it was stopped before it could finish. This says nothing about "
                "your code: check again when the machine is less busy (close other programs "
                "that use the CPU).")
    return (f"Your code was stopped after {wall:g} s (the wall-clock limit) having used only "
            f"{cpu:.1f} s of CPU: it was waiting, not computing. Look for time.sleep(), "
            "input(), a lock or a download that never ends.")


def _without_error(result: RunResult, limits: Limits) -> str:
    status = result.status
    if status == "timeout":
        return _timeout(result, limits)
    if status == "cpu_time":
        took = f" (in {result.code_s:.0f} s)" if result.code_s is not None else ""
        return (f"Your code used {limits.timeout_s:g} s of CPU time{took}, the limit for this "
                "step, and was stopped. Look for a loop that never ends, or train on fewer "
                "batches while you experiment.")
    if status == "killed":
        return ("The process was killed (SIGKILL), most likely for using too much memory. Use "
                "smaller tensors or fewer at once.")
    if status == "file_too_large":
        return f"Your code wrote a file larger than allowed ({_size(limits.fsize_bytes)})."
    if status == "crashed":
        return (f"The process crashed ({result.signal or 'a signal'}). This happens with ctypes, "
                "a broken extension or a native library error; the traceback is lost.")
    if status == "output_limit":
        return (f"Your code printed more than {_size(limits.output_bytes)}, so the run was "
                "stopped. Print less, for example one line every 100 batches.")
    if status == "too_large":
        return (f"The values your code produced are too large to check (over "
                f"{_size(limits.result_bytes)}). Keep the variables the step asks for small.")
    if status == "protocol":
        return ("The result channel held bytes the tutor did not send itself; this attempt "
                f"cannot count ({result.detail}).")
    if status == "cancelled":
        return "The run was cancelled."
    return f"The run ended with status {status}."


def lesson_setup_error(result: RunResult) -> str:
    """The step's own code failed: its setup, or building a check's inputs."""
    what = ("the step's own setup code failed" if result.failed_in in ("", "setup")
            else f"building the inputs of `{result.failed_in}` failed")
    error = result.error.format(hints=False) if result.error is not None else result.status
    return f"lesson error: {what}:\n{error}"


def reference_failure(result: RunResult, limits: Limits) -> str:
    """The reference solution did not run: the lesson's fault, said to its author."""
    report = "Please report this to the lesson's author."
    if not_started(result):  # no line of the solution ran: neither its author's fault
        return (f"The reference solution could not run: its worker process "
                f"{_how_it_ended(result)} before the code started. {CHECK_AGAIN}")
    if result.status == "setup_error":
        return f"lesson error: the reference solution could not run. {report}\n" + (
            lesson_setup_error(result))
    if result.error is not None:
        why = result.error.format("Traceback (the reference solution):", hints=False)
        return f"lesson error: the reference solution raised an error. {report}\n{why}"
    return f"lesson error: the reference solution {_reference_did(result, limits)}. {report}"


def _reference_did(result: RunResult, limits: Limits) -> str:
    """What went wrong with the reference, in an author's terms (the step's ``timeout``)."""
    status = result.status
    cpu = f"{result.cpu_s:.1f} s" if result.cpu_s is not None else "an unknown amount"
    if status == "cpu_time":
        return (f"used {limits.timeout_s:g} s of CPU time, all it may, and was stopped: does "
                "it loop for ever? (the step's `timeout` sets the limit)")
    if status == "timeout" and result.failed_in == "start":
        return f"could not start within {limits.start_s:g} s: the machine is busy"
    if status == "timeout" and machine_busy(result):
        return (f"got only {cpu} of CPU in {limits.wall_limit_s:g} s and was stopped: the "
                "machine was busy; check again")
    if status == "timeout":
        return (f"did not finish within {limits.wall_limit_s:g} s (wall clock) and used "
                f"{cpu} of CPU: does it wait for something (sleep, input, a download)?")
    return {
        "exited": f"ended the process (exit code {result.exit_code}) before the checks ran",
        "memory": "ran out of memory", "killed": "was killed (SIGKILL), most likely for memory",
        "crashed": f"crashed ({result.signal or 'a signal'})",
        "file_too_large": f"wrote a file larger than {_size(limits.fsize_bytes)}",
        "output_limit": f"printed more than {_size(limits.output_bytes)}",
        "too_large": f"made values too large to check (over {_size(limits.result_bytes)})",
        "protocol": f"sent a broken result ({result.detail})",
        "cancelled": "was cancelled",
    }.get(status, f"ended with status {status}")


def stderr_text(text: str, limit: int = 4000) -> str:
    """Warnings as a learner reads them: ``loss.py:608: UserWarning: ...`` without the long
    folder in front (it pushes the message off an 80-column screen); the end of a long
    stderr (a warning repeated in a loop, say), marked as cut."""
    text = WARNING_PATH.sub(r"\1", plain_text(text))
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def syntax_error_text(exc: SyntaxError, code: str) -> str:
    """What the learner reads when Python cannot read their file: the message, the line with
    a caret where Python points, and when indentation is the likely cause, which line."""
    raw = (exc.text or "").rstrip("\r\n")
    text = raw.strip()
    indent = len(raw) - len(raw.lstrip())
    col = end_col = None
    if text and exc.offset:
        col = min(len(text) - 1, max(0, exc.offset - 1 - indent))
        end = exc.end_offset if exc.end_lineno in (None, exc.lineno) else None
        end_col = max(col + 1, end - 1 - indent) if end and end > 0 else col + 1
    error = ErrorInfo(type(exc).__name__, str(exc.msg), [Frame(exc.lineno, "", text, col, end_col)])
    return error.format(source=code)


def error_line(values: dict[str, Any]) -> int | None:
    """The learner's line where a probe's call of their code raised (their function called by
    a check, a module's forward), for "jump to error"; None when none did."""
    return next((e.line for e in _errors(list(values.values())) if e.line is not None), None)


def _errors(values: list[Any], depth: int = 0) -> list[ErrorInfo]:
    found: list[ErrorInfo] = []
    for value in values:
        if isinstance(value, Raised):
            found.append(value.error)
        elif isinstance(value, Called) and depth < 4:
            found += _errors(value.results, depth + 1)
        elif isinstance(value, Built) and depth < 4:
            found += _errors([value.module, value.output], depth + 1)
    return found


def _size(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n // 1024} KiB"
