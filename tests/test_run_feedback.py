"""What the learner reads about a run that produced nothing to check.

The sandbox reports a structured status and no words; every sentence comes from
``tutor.core.run_feedback``, with the run's limits in it. The statuses themselves are the
runner's (tests/test_runner.py); how a failed run becomes a verdict is the checker's
(tests/test_checker.py)."""

from __future__ import annotations

from typing import get_args

import pytest

from tutor.core.run_feedback import (
    OUT_OF_MEMORY,
    PLACEHOLDER,
    PROCESS_LIMIT,
    failure_text,
    reference_failure,
    stderr_text,
)
from tutor.core.runs import Limits, MiB, RunResult, Status
from tutor.core.values import ErrorInfo, Frame

LIMITS = Limits(timeout_s=3, output_bytes=200 * 1024, result_bytes=64 * MiB,
                fsize_bytes=8 * MiB)
FALLBACK = "The run ended with status"
OOM = ErrorInfo("RuntimeError", "DefaultCPUAllocator: can't allocate memory",
                [Frame(2, "", "t = torch.empty(8 * 1024**3)")])


def text(status: Status, **fields) -> str:
    return failure_text(RunResult(status, **fields), LIMITS)


def test_a_timeout_names_the_limit_and_what_to_look_for() -> None:
    said = text("timeout")
    assert said.startswith("Your code took longer than 3 s and was stopped.")
    assert "loop that never ends" in said
    assert "longer than 0.5 s" in failure_text(RunResult("timeout"), Limits(timeout_s=0.5))


def test_running_out_of_memory_shows_the_traceback_and_the_hint() -> None:
    said = text("memory", error=OOM)
    assert said.startswith("Traceback (your code):\n  line 2, in <module>")
    assert "can't allocate memory" in said and said.endswith("\n\n" + OUT_OF_MEMORY)
    assert "smaller tensors" in OUT_OF_MEMORY
    assert OUT_OF_MEMORY not in text("error", error=ErrorInfo("RuntimeError", "shape mismatch"))


def test_calling_exit_points_at_the_call() -> None:
    said = text("exited", exit_code=0,
                error=ErrorInfo("SystemExit", "0", [Frame(5, "", "sys.exit(0)")]))
    assert said.startswith("Traceback (your code):\n  line 5, in <module>\n    sys.exit(0)")
    assert "SystemExit: your code called exit(0)" in said
    assert said.endswith("remove the call to exit().")


def test_ending_the_process_without_a_traceback_gives_the_exit_code() -> None:
    said = text("exited", exit_code=3)
    assert said == ("Your code ended the process (exit code 3) before the checks could run. "
                    "Remove calls such as os._exit() or sys.exit().")


@pytest.mark.parametrize("signal", ["SIGSEGV", "SIGBUS", "SIGABRT"])
def test_a_crash_names_its_signal(signal: str) -> None:
    said = text("crashed", signal=signal)
    assert said.startswith(f"The process crashed ({signal}).") and "traceback is lost" in said


def test_a_crash_without_a_signal_name_still_reads_as_a_sentence() -> None:
    assert text("crashed").startswith("The process crashed (a signal).")


def test_too_much_output_names_the_cap() -> None:
    said = text("output_limit")
    assert said.startswith("Your code printed more than 200 KiB, so the run was stopped.")
    assert "300 MiB" in failure_text(RunResult("output_limit"), Limits(output_bytes=300 * MiB))


def test_values_too_large_to_check_name_the_cap() -> None:
    said = text("too_large")
    assert said.startswith("The values your code produced are too large to check (over 64 MiB)")


def test_a_forged_channel_cannot_count_and_carries_the_technical_detail() -> None:
    said = text("protocol", detail="unexpected bytes after the results")
    assert "cannot count" in said and "(unexpected bytes after the results)" in said


@pytest.mark.parametrize("status, words", [
    ("cpu_time", "more CPU time than allowed"),
    ("killed", "killed (SIGKILL)"),
    ("file_too_large", "wrote a file larger than allowed (8 MiB)"),
    ("cancelled", "The run was cancelled."),
])
def test_the_other_limits_have_their_own_words(status: Status, words: str) -> None:
    assert words in text(status)


def test_a_broken_setup_is_the_lessons_error_not_the_learners() -> None:
    error = ErrorInfo("NameError", "name 'torch' is not defined", [Frame(1, "", "x = torch")])
    said = text("setup_error", error=error, failed_in="setup")
    assert said.startswith("lesson error: the step's own setup code failed:\n")
    assert said.endswith("NameError: name 'torch' is not defined")
    inputs = text("setup_error", error=ErrorInfo("ValueError", "bad shape"), failed_in="f")
    assert inputs.startswith("lesson error: building the inputs of `f` failed:")


def test_an_error_gets_hints_for_the_placeholder_and_for_the_process_limit() -> None:
    placeholder = text("error", error=ErrorInfo(
        "TypeError", "unsupported operand type(s) for +: 'ellipsis' and 'int'"))
    assert placeholder.endswith("\n\n" + PLACEHOLDER)
    forked = text("error", error=ErrorInfo("BlockingIOError", "[Errno 11] Resource "
                                                              "temporarily unavailable"))
    assert forked.endswith("\n\n" + PROCESS_LIMIT)
    plain = text("error", error=ErrorInfo("ZeroDivisionError", "division by zero"))
    assert plain == "ZeroDivisionError: division by zero"


def test_every_status_but_ok_has_words_of_its_own() -> None:
    with_error = {"error", "setup_error", "memory"}
    for status in set(get_args(Status)) - {"ok"}:
        error = OOM if status in with_error else None
        said = text(status, error=error, exit_code=1, signal="SIGSEGV", detail="x")
        assert said and FALLBACK not in said, status


def test_a_failing_reference_is_reported_as_a_lesson_error() -> None:
    timed_out = reference_failure(RunResult("timeout"), LIMITS)
    assert timed_out.startswith("lesson error: the step's reference solution did not run "
                                "(timeout).")
    assert "longer than 3 s" in timed_out
    raised = reference_failure(RunResult("error", error=ErrorInfo("KeyError", "'x'")), LIMITS)
    assert "Traceback (the reference solution):" not in raised  # no frames, no heading
    assert raised.endswith("KeyError: 'x'")


def test_warnings_lose_their_long_folder_and_a_long_stderr_keeps_its_end() -> None:
    warning = "/usr/lib/python3/site-packages/torch/nn/loss.py:608: UserWarning: size\n"
    assert stderr_text(warning) == "loss.py:608: UserWarning: size\n"
    long = "".join(f"line {i}\n" for i in range(2000))
    cut = stderr_text(long, limit=100)
    assert cut.startswith("[...]\n") and cut.endswith("line 1999\n") and len(cut) == 106
