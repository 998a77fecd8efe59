"""The checker end to end on the fixture course, with real workers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from conftest import FIXTURE_COURSE

from tutor.core import model as m
from tutor.core.checker import Cancel, Checker
from tutor.core.loader import load_course

pytestmark = pytest.mark.slow
COURSE = load_course(FIXTURE_COURSE)


def step(step_id: str) -> m.CodeStep:
    found = COURSE.step(step_id)
    assert isinstance(found, m.CodeStep)
    return found


class RecordingRunner:
    """Wraps a runner and records the seed and role of every run it starts."""

    def __init__(self, inner):
        self.inner, self.starts = inner, []

    def start(self, request, on_output=None):
        self.starts.append((request.role, request.seed))
        return self.inner.start(request, on_output)


def test_every_check_kind_passes_with_its_solution(warm_runner) -> None:
    checker = Checker(warm_runner)
    for code_step in (s for s in COURSE.steps() if isinstance(s, m.CodeStep)):
        verdict = checker.check(code_step, code_step.solution, "solution.py")
        assert verdict.passed, (code_step.id, verdict.to_json())
        assert len(verdict.checks) == len(code_step.checks)


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


def test_metric_checks_are_judged_on_the_learners_trained_model(warm_runner) -> None:
    lazy = "import torch\nmodel = torch.nn.Linear(4, 1)\nlosses = [2.0, 1.0]\n"
    verdict = Checker(warm_runner).check(step("modules.train"), lazy, "mine.py")
    fit, went_down = verdict.checks
    assert not fit.passed and "above" in fit.message and went_down.passed


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


def test_a_hard_coded_answer_fails_on_fresh_inputs(warm_runner) -> None:
    call = step("basics.call")
    cheat = ("import torch\nfirst = None\ndef row_sums(x):\n    global first\n"
             "    if first is None:\n        first = x.sum(dim=1)\n    return first\n")
    verdict = Checker(warm_runner).check(call, cheat, "mine.py")
    assert not verdict.passed and "trial 2" in verdict.checks[0].message


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
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - started < 3
    assert result["v"].passed is False and "cancelled" in result["v"].error


def test_a_step_that_needs_cuda_is_skipped_without_a_gpu(warm_runner, monkeypatch) -> None:
    from tutor.core import devices

    monkeypatch.setattr(devices, "cuda_may_exist", lambda: False)
    gpu_step = m.CodeStep(id="g", title="g", lesson_id="l", starter="", solution="t = 1",
                          checks=(m.ExpectCheck(var="t", type="int"),), requires="cuda")
    verdict = Checker(warm_runner, device="auto").check(gpu_step, "t = 1", "mine.py")
    assert verdict.skipped and "CUDA" in verdict.skipped and not verdict.checks


def test_a_step_that_needs_data_says_how_to_get_it(warm_runner, tmp_path: Path) -> None:
    data_step = m.CodeStep(id="d", title="d", lesson_id="l", starter="", solution="t = 1",
                           checks=(m.ExpectCheck(var="t", type="int"),), data=("fashion-mnist",))
    verdict = Checker(warm_runner, data_dir=str(tmp_path)).check(data_step, "t = 1", "mine.py")
    assert not verdict.passed
    for text in ("train-images-idx3-ubyte", str(tmp_path), "pytorch-tutor data fetch",
                 "pytorch-tutor data substitute"):
        assert text in verdict.error


def test_a_broken_reference_is_a_lesson_error_never_a_pass(warm_runner) -> None:
    broken = m.CodeStep(id="b", title="b", lesson_id="l", starter="", solution="t = 1 / 0",
                        checks=(m.CompareCheck(var="t"),))
    verdict = Checker(warm_runner).check(broken, "t = 1", "mine.py")
    assert not verdict.passed and verdict.error.startswith("lesson error")
