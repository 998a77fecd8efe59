"""Say why a run produced nothing to check, in the learner's terms.

The sandbox reports a structured status (``tutor.core.runs.Status``) and the limits are the
core's own, so every sentence about a timeout, a memory limit or a crash is chosen here.
"""

from __future__ import annotations

import re

from tutor.core.runs import Limits, MiB, RunResult
from tutor.core.values import ErrorInfo

PLACEHOLDER = "`...` is the starter's placeholder: replace it with your code."
OUT_OF_MEMORY = ("Your code ran out of memory (the limit is there to protect your machine). "
                 "Use smaller tensors or fewer at a time.")
PROCESS_LIMIT = ("If this came from starting a process (os.fork, subprocess, multiprocessing), "
                 "your code already runs as many processes as it may.")
WARNING_PATH = re.compile(r"(?m)^/\S*/([^/\s]+\.py:\d+: )")


def failure_text(result: RunResult, limits: Limits) -> str:
    """Why the learner's run produced no values, and what to do about it."""
    error: ErrorInfo | None = result.error
    if result.status == "exited":
        return _exited(result)
    if error is not None:
        text = error.format()
        if result.status == "setup_error":
            return lesson_setup_error(result)
        if "ellipsis" in error.message:
            text += "\n\n" + PLACEHOLDER
        if error.type == "BlockingIOError":
            text += "\n\n" + PROCESS_LIMIT
        if result.status == "memory":
            text += "\n\n" + OUT_OF_MEMORY
        return text
    return _without_error(result, limits)


def _exited(result: RunResult) -> str:
    error = result.error
    if isinstance(error, ErrorInfo):  # sys.exit(...) or exit(...): the learner's frames
        called = ErrorInfo("SystemExit", f"your code called exit({error.message})", error.frames)
        return (f"{called.format()}\n\nYour code ended before the checks could run: remove "
                "the call to exit().")
    return (f"Your code ended the process (exit code {result.exit_code}) before the checks "
            "could run. Remove calls such as os._exit() or sys.exit().")


def _without_error(result: RunResult, limits: Limits) -> str:
    status = result.status
    if status == "timeout":
        return (f"Your code took longer than {limits.timeout_s:g} s and was stopped. Look for "
                "a loop that never ends, or train on fewer batches while you experiment.")
    if status == "cpu_time":
        return "Your code used more CPU time than allowed and was stopped."
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
    error = result.error.format() if result.error is not None else result.status
    return f"lesson error: {what}:\n{error}"


def reference_failure(result: RunResult, limits: Limits) -> str:
    """The reference solution did not run: the lesson's fault, said as such."""
    if result.error is not None and result.status != "setup_error":
        why = result.error.format("Traceback (the reference solution):")
    elif result.status == "setup_error":
        why = lesson_setup_error(result)
    else:
        why = _without_error(result, limits)
    return ("lesson error: the step's reference solution did not run "
            f"({result.status}). Please report this to the lesson's author.\n{why}")


def stderr_text(text: str, limit: int = 4000) -> str:
    """Warnings as a learner reads them: ``loss.py:608: UserWarning: ...`` without the long
    folder in front (it pushes the message off an 80-column screen); the end of a long
    stderr (a warning repeated in a loop, say), marked as cut."""
    text = WARNING_PATH.sub(r"\1", text)
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def _size(n: int) -> str:
    return f"{n / MiB:g} MiB" if n >= MiB else f"{n // 1024} KiB"
