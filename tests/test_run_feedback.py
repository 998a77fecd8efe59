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
    error_line,
    failure_text,
    reference_failure,
    stderr_text,
)
from tutor.core.runs import REQUEST_UNREAD_EXIT, Limits, MiB, RunResult, Status
from tutor.core.values import Built, Called, ErrorInfo, Frame, Module, Raised

LIMITS = Limits(timeout_s=3, output_bytes=200 * 1024, result_bytes=64 * MiB,
                fsize_bytes=8 * MiB)
FALLBACK = "The run ended with status"
OOM = ErrorInfo("RuntimeError", "DefaultCPUAllocator: can't allocate memory",
                [Frame(2, "", "t = torch.empty(8 * 1024**3)")])


def text(status: Status, **fields) -> str:
    return failure_text(RunResult(status, **fields), LIMITS)


def test_the_cpu_limit_names_itself_and_what_to_look_for() -> None:
    said = text("cpu_time", cpu_s=3.0, code_s=3.4)
    assert said.startswith("Your code used 3 s of CPU time (in 3 s), the limit for this step,")
    assert "loop that never ends" in said and "busy" not in said


def test_a_program_that_waits_is_told_it_waited_not_that_it_loops() -> None:
    said = text("timeout", cpu_s=0.2, code_s=19.1, waited_s=0.0)
    assert said.startswith("Your code was stopped after 19 s (the wall-clock limit) having "
                           "used only 0.2 s of CPU: it was waiting, not computing.")
    assert "time.sleep()" in said and "busy" not in said and "loop" not in said


def test_a_busy_machine_is_named_and_the_code_is_not_blamed() -> None:
    said = text("timeout", cpu_s=2.5, code_s=19.2, waited_s=14.0, load=3.2)
    assert said.startswith("The machine was busy: your code got only 2.5 s of CPU in 19 s, "
                           "waiting 14 s for a free CPU")
    assert "check again" in said and "loop" not in said
    without_schedstat = text("timeout", cpu_s=2.5, code_s=19.2, load=3.2)  # macOS, say
    assert without_schedstat.startswith("The machine was busy")
    assert not text("timeout", cpu_s=0.1, code_s=19.2, load=0.3).startswith("The machine")


def test_a_run_that_could_not_start_in_time_blames_the_machine() -> None:
    said = text("timeout", failed_in="start")
    assert said.startswith("Your code could not even start within 120 s")
    assert "not at fault" in said


def test_a_timeout_without_measurements_names_both_limits() -> None:
    said = text("timeout")
    assert said.startswith("Your code took longer than 19 s and was stopped (the wall-clock "
                           "limit; it may use 3 s of CPU).")
    assert "longer than 5 s" in failure_text(RunResult("timeout"),
                                             Limits(timeout_s=0.5, wall_s=5))


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
    ("cpu_time", "used 3 s of CPU time, the limit for this step"),
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


def test_a_failing_reference_is_reported_to_its_author() -> None:
    looped = reference_failure(RunResult("cpu_time", cpu_s=3.0, code_s=3.2), LIMITS)
    assert looped == ("lesson error: the reference solution used 3 s of CPU time, all it may, "
                      "and was stopped: does it loop for ever? (the step's `timeout` sets the "
                      "limit). Please report this to the lesson's author.")
    waited = reference_failure(RunResult("timeout", cpu_s=0.1, code_s=19.0, waited_s=0), LIMITS)
    assert waited.startswith("lesson error: the reference solution did not finish within 19 s "
                             "(wall clock) and used 0.1 s of CPU")
    busy = reference_failure(RunResult("timeout", cpu_s=1, code_s=19, waited_s=15), LIMITS)
    assert "the machine was busy" in busy
    for status in set(get_args(Status)) - {"ok", "error", "setup_error"}:
        said = reference_failure(RunResult(status, exit_code=1, signal="SIGSEGV"), LIMITS)
        assert said.startswith("lesson error: the reference solution ") and "Your" not in said
        assert "ended with status" not in said, status
    raised = reference_failure(RunResult("error", error=ErrorInfo("KeyError", "'x'")), LIMITS)
    assert raised.startswith("lesson error: the reference solution raised an error.")
    assert "Traceback (the reference solution):" not in raised  # no frames, no heading
    assert raised.endswith("KeyError: 'x'")


def test_warnings_lose_their_long_folder_and_a_long_stderr_keeps_its_end() -> None:
    warning = "/usr/lib/python3/site-packages/torch/nn/loss.py:608: UserWarning: size\n"
    assert stderr_text(warning) == "loss.py:608: UserWarning: size\n"
    long = "".join(f"line {i}\n" for i in range(2000))
    cut = stderr_text(long, limit=100)
    assert cut.startswith("[...]\n") and cut.endswith("line 1999\n") and len(cut) == 106


def test_an_error_gets_its_hint_verified_against_the_learners_code() -> None:
    misspelt = ErrorInfo("TypeError", "Net() takes no arguments", [Frame(3, "", "net = Net(1)")])
    source = "class Net:\n    def __int__(self, n): pass\nnet = Net(1)\n"
    verified = failure_text(RunResult("error", error=misspelt), LIMITS, source)
    assert verified.endswith("\n\n`Net` has no `__init__`: the method on line 2 is spelled "
                             "`__int__`, so Python never calls it. Rename it `__init__` (two "
                             "underscores on each side).")
    asked = failure_text(RunResult("error", error=misspelt), LIMITS)
    assert asked.endswith("\n\nDid you spell `__init__` with two underscores on each side? "
                          "Python calls the method of exactly that name when you write "
                          "`Net(...)`.")


def test_the_lessons_own_errors_get_no_advice_meant_for_the_learner() -> None:
    no_gpu = ErrorInfo("RuntimeError", "Found no NVIDIA driver on your system.",
                       [Frame(2, "", "x = torch.ones(2).cuda()")])
    assert "`.to(device)`" in text("error", error=no_gpu)
    assert "`.to(device)`" not in reference_failure(RunResult("error", error=no_gpu), LIMITS)
    assert "`.to(device)`" not in text("setup_error", error=no_gpu, failed_in="setup")


def test_stderr_loses_escape_codes_and_shows_a_progress_bar_as_the_terminal_would() -> None:
    bar = "\x1b[32m 10%|#   |\r 50%|##  |\r100%|####|\x1b[0m\nWarning: \x1b]0;x\x07done\n"
    assert stderr_text(bar) == "100%|####|\nWarning: done\n"


def test_the_line_to_jump_to_is_where_a_checks_call_of_the_learners_code_raised() -> None:
    inside = ErrorInfo("RuntimeError", "size mismatch", [Frame(5, "row_sums", "return x @ o")])
    nowhere = ErrorInfo("ValueError", "bad input")  # raised outside the learner's file
    values = {"value:t": 1, "call:0": Called(results=[2, Raised(nowhere), Raised(inside)]),
              "module:1": Built(module=Module("Net", 0, 0, [], [], True),
                                output=Raised(ErrorInfo("E", "", [Frame(9, "forward", "y")])))}
    assert error_line(values) == 5
    assert error_line({"module:1": values["module:1"]}) == 9
    assert error_line({"value:t": 1, "call:0": Called(results=[Raised(nowhere)])}) is None


@pytest.mark.parametrize(("fields", "how"), [
    ({"status": "exited", "exit_code": 0}, "ended (exit code 0)"),
    ({"status": "exited", "exit_code": REQUEST_UNREAD_EXIT}, "could not read what to run"),
    ({"status": "crashed", "signal": "SIGSEGV"}, "crashed (SIGSEGV)"),
    ({"status": "killed", "signal": "SIGKILL"}, "was stopped for memory (starting Python and torch)"),
])
def test_a_worker_that_ended_before_the_code_started_blames_no_code(fields, how) -> None:
    said = failure_text(RunResult(failed_in="start", **fields), LIMITS)
    assert said.startswith(f"The worker process {how} before your code started: your code "
                           "is not at fault. Check again")
    reference = reference_failure(RunResult(failed_in="start", **fields), LIMITS)
    assert reference.startswith(f"The reference solution could not run: its worker process "
                                f"{how} before the code started.")
    assert "lesson error" not in reference and "author" not in reference
