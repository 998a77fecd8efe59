"""The checker: a run that brought back no values becomes a failed verdict in the core's
words (with a stand-in runner), and every check kind end to end on the fixture course, with
real workers. The statuses themselves are the runner's (tests/test_runner.py), their words
are tests/test_run_feedback.py's."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, get_args

import msgspec
import pytest
from conftest import FIXTURE_COURSE

from tutor.core import model as m
from tutor.core.checker import Cancel, Checker
from tutor.core.checks.compare import Compare
from tutor.core.checks.expect import Expect
from tutor.core.loader import load_course
from tutor.core.run_feedback import failure_text
from tutor.core.runs import Limits, RunRequest, RunResult, Status
from tutor.core.values import ErrorInfo, Frame

slow = pytest.mark.slow
COURSE = load_course(FIXTURE_COURSE)


def step(step_id: str) -> m.CodeStep:
    found = COURSE.step(step_id)
    assert isinstance(found, m.CodeStep)
    return found


class Canned:
    """A run handle that hands back a prepared result and records what was done to it."""

    def __init__(self, result: RunResult):
        self.result = result
        self.cancelled = self.closed = False

    def wait(self) -> RunResult:
        return self.result

    def judge(self, learner: RunResult) -> dict[str, Any]:
        return {}

    def cancel(self) -> None:
        self.cancelled = True

    def close(self) -> None:
        self.closed = True


class CannedRunner:
    """Answers each role with a prepared result, without starting any process."""

    def __init__(self, learner: RunResult, reference: RunResult | None = None):
        self.results = {"learner": learner, "reference": reference or RunResult("ok")}
        self.handles: dict[str, Canned] = {}
        self.requests: dict[str, RunRequest] = {}

    def start(self, request: RunRequest, on_output=None) -> Canned:
        self.requests[request.role] = request
        self.handles[request.role] = Canned(self.results[request.role])
        return self.handles[request.role]


TRACEBACK = ErrorInfo("RuntimeError", "boom", [Frame(3, "", "y = x @ x")])


@pytest.mark.parametrize("status", sorted(set(get_args(Status)) - {"ok"}))
def test_a_run_without_values_fails_in_the_cores_words(status: Status) -> None:
    basics = msgspec.structs.replace(step("basics.compare"), timeout_s=3)
    error = TRACEBACK if status in ("error", "setup_error", "memory") else None
    learner = RunResult(status, error=error, stdout="epoch 1\n", stderr="warned\n",
                        exit_code=1, signal="SIGSEGV", detail="late bytes")
    runner = CannedRunner(learner)
    verdict = Checker(runner).check(basics, "t = 1\n", "mine.py")
    assert not verdict.passed and not verdict.checks and not verdict.skipped
    assert verdict.error == failure_text(learner, Limits(timeout_s=3))
    assert verdict.line == (3 if error else None)
    assert (verdict.stdout, verdict.stderr) == ("epoch 1\n", "warned\n")
    assert runner.requests["learner"].limits.timeout_s == 3  # the step's limit, in the words
    assert runner.handles["reference"].cancelled, "the reference ran on for nothing"
    assert all(handle.closed for handle in runner.handles.values())


def test_a_timed_out_attempt_names_the_steps_own_limit() -> None:
    basics = msgspec.structs.replace(step("basics.compare"), timeout_s=7)
    verdict = Checker(CannedRunner(RunResult("timeout"))).check(basics, "t = 1\n", "mine.py")
    assert verdict.error.startswith("Your code took longer than 31 s and was stopped (the "
                                    "wall-clock limit; it may use 7 s of CPU).")


def test_a_reference_that_did_not_run_is_the_lessons_error() -> None:
    values = {"value:t": 1}
    runner = CannedRunner(RunResult("ok", values=values), RunResult("timeout"))
    verdict = Checker(runner).check(step("basics.compare"), "t = 1\n", "mine.py")
    assert not verdict.passed and not verdict.checks
    assert verdict.error.startswith("lesson error: the reference solution did not finish")
    assert f"within {runner.requests['reference'].limits.wall_limit_s:g} s" in verdict.error


def test_a_reference_whose_worker_never_started_it_is_not_remembered_as_broken() -> None:
    """The worker failed, not the solution: the next check runs the reference afresh."""
    values = {"value:t": 1}
    basics = step("basics.compare")
    runner = CannedRunner(RunResult("ok", values=values),
                          RunResult("exited", exit_code=0, failed_in="start"))
    checker = Checker(runner)
    verdict = checker.check(basics, "t = 1\n", "mine.py")
    assert not verdict.passed and verdict.error.startswith(
        "The reference solution could not run: its worker process ended (exit code 0)")
    assert checker.broken_reference(basics) == ""
    runner.results["reference"] = RunResult("ok", values=values)
    again = checker.check(basics, "t = 1\n", "mine.py")
    assert again.error is None and again.checks[0].passed  # judged against the reference


# --------------------------------------------------------------------------- with workers


class RecordingRunner:
    """Wraps a runner and records the seed and role of every run it starts."""

    def __init__(self, inner):
        self.inner, self.starts = inner, []

    def start(self, request, on_output=None):
        self.starts.append((request.role, request.seed))
        return self.inner.start(request, on_output)


@slow
def test_every_check_kind_passes_with_its_solution(warm_runner) -> None:
    checker = Checker(warm_runner)
    for code_step in (s for s in COURSE.steps() if isinstance(s, m.CodeStep)):
        verdict = checker.check(code_step, code_step.solution, "solution.py")
        assert verdict.passed, (code_step.id, verdict.to_json())
        assert len(verdict.checks) == len(code_step.checks)


@slow
def test_warnings_reach_the_learner_and_a_clean_run_has_no_stderr(warm_runner) -> None:
    checker = Checker(warm_runner)
    basics = step("basics.compare")
    clean = checker.check(basics, basics.solution, "solution.py")
    assert clean.passed and clean.stderr == ""  # the worker itself writes nothing there
    noisy = basics.solution + (
        "import warnings, sys\n"
        "warnings.warn('this size looks odd')\n"
        "print('to stderr', file=sys.stderr)\n")
    verdict = checker.check(basics, noisy, "/home/learner/course/mine.py")
    assert verdict.passed and verdict.stdout == clean.stdout  # stdout checks see stdout only
    # the folder is dropped: the message must fit an 80-column output pane
    assert verdict.stderr.startswith("mine.py:")
    assert "UserWarning: this size looks odd" in verdict.stderr
    assert verdict.stderr.rstrip().endswith("to stderr")
    assert verdict.to_json()["stderr"] == verdict.stderr


@slow
def test_metric_checks_are_judged_on_the_learners_trained_model(warm_runner) -> None:
    lazy = "import torch\nmodel = torch.nn.Linear(4, 1)\nlosses = [2.0, 1.0]\n"
    verdict = Checker(warm_runner).check(step("modules.train"), lazy, "mine.py")
    fit, went_down = verdict.checks
    assert not fit.passed and "above" in fit.message and went_down.passed


@slow
def test_a_prefetched_reference_still_gives_fresh_inputs_to_every_check(warm_runner) -> None:
    recording = RecordingRunner(warm_runner)
    checker = Checker(recording, prefetch=True)
    call = step("basics.call")
    for _ in range(3):
        checker.wait_prepared(call)
        assert checker.check(call, call.solution, "mine.py").passed
    learner_seeds = [seed for role, seed in recording.starts if role == "learner"]
    reference_seeds = [seed for role, seed in recording.starts if role == "reference"]
    assert len(set(learner_seeds)) == 3
    assert set(learner_seeds) <= set(reference_seeds)
    # The reference of the next check was started before that check: roles alternate.
    assert [role for role, _ in recording.starts][:4] == ["reference", "learner", "reference",
                                                         "learner"]


@slow
def test_a_hard_coded_answer_fails_on_fresh_inputs(warm_runner) -> None:
    call = step("basics.call")
    cheat = ("import torch\nfirst = None\ndef row_sums(x):\n    global first\n"
             "    if first is None:\n        first = x.sum(dim=1)\n    return first\n")
    verdict = Checker(warm_runner).check(call, cheat, "mine.py")
    # The first trial passes; the check names what the later ones show: one result for all.
    assert not verdict.passed
    assert "returns the same result for each of the 3 inputs" in verdict.checks[0].message


@slow
def test_cancel_stops_a_long_run_quickly(warm_runner) -> None:
    cancel = Cancel()
    result = {}
    code = "import time\nfor i in range(600):\n    time.sleep(0.1)\nt = 1\n"
    worker = threading.Thread(target=lambda: result.setdefault(
        "v", Checker(warm_runner).check(step("basics.compare"), code, "mine.py", cancel=cancel)))
    worker.start()
    time.sleep(1.0)
    started = time.monotonic()
    cancel.cancel()
    worker.join(30)
    # Stopped by the cancel, not by the code's end (a minute away); speed is the benchmark's.
    assert not worker.is_alive() and time.monotonic() - started < 30
    assert result["v"].passed is False and "cancelled" in result["v"].error


@slow
def test_a_step_that_needs_cuda_is_skipped_without_a_gpu(warm_runner, monkeypatch) -> None:
    from tutor.core import devices

    monkeypatch.setattr(devices, "cuda_may_exist", lambda: False)
    gpu_step = m.CodeStep(id="g", title="g", lesson_id="l", starter="", solution="t = 1",
                          checks=(Expect(var="t", type="int"),), requires="cuda")
    verdict = Checker(warm_runner, device="auto").check(gpu_step, "t = 1", "mine.py")
    assert verdict.skipped and "CUDA" in verdict.skipped and not verdict.checks


@slow
def test_a_step_that_needs_data_says_how_to_get_it(warm_runner, tmp_path: Path) -> None:
    data_step = m.CodeStep(id="d", title="d", lesson_id="l", starter="", solution="t = 1",
                           checks=(Expect(var="t", type="int"),), data=("fashion-mnist",))
    verdict = Checker(warm_runner, data_dir=str(tmp_path)).check(data_step, "t = 1", "mine.py")
    assert not verdict.passed
    for text in ("train-images-idx3-ubyte", str(tmp_path), "pytorch-tutor data fetch",
                 "pytorch-tutor data substitute"):
        assert text in verdict.error


@slow
def test_a_broken_reference_is_a_lesson_error_never_a_pass(warm_runner) -> None:
    broken = m.CodeStep(id="b", title="b", lesson_id="l", starter="", solution="t = 1 / 0",
                        checks=(Compare(var="t"),))
    verdict = Checker(warm_runner).check(broken, "t = 1", "mine.py")
    assert not verdict.passed and verdict.error.startswith("lesson error")


def test_no_reference_is_prepared_for_a_data_step_while_the_data_is_missing(
        tmp_path: Path) -> None:
    """A reference prepared while the data set was missing would fail the first check after
    the learner builds it (`pytorch-tutor data substitute` in another pane): the check says
    the data is missing instead, and runs afresh once it is there."""
    started: list[RunRequest] = []

    class Recording:
        def start(self, request: RunRequest, on_output=None):
            started.append(request)
            raise AssertionError("nothing may start while the data is missing")

    step = m.CodeStep(id="s", title="S", starter="t = ...\n", solution="t = 1\n",
                      data=("fashion-mnist",), checks=(Compare(var="t"),))
    checker = Checker(Recording(), device="cpu", data_dir=str(tmp_path), prefetch=True)
    checker.prepare(step)
    assert started == [] and not checker._ahead
    verdict = checker.check(step, "t = 2\n", "mine.py")
    assert not verdict.passed and "Fashion-MNIST is not ready" in (verdict.error or "")
