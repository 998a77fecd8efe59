"""``show(x)`` and ``report(...)`` in the learner's code: framed pictures and progress that
reach ``on_output`` while the run goes, cut down to fit, never unpickled."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import watched_run

from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.checks.expect import Expect
from tutor.core.runs import Limits, Output, Runner, RunRequest, RunResult, ValueProbe
from tutor.core.seeing import Curves, picture
from tutor.core.values import Reported, Shown, Tensor
from tutor.sandbox import wire as w
from tutor.sandbox.runner import SubprocessRunner
from tutor.sandbox.warm import WarmRunner

pytestmark = pytest.mark.slow

TRAINING = """\
import torch
images = torch.rand(64, 1, 28, 28)
show(images, title="a batch")
show(torch.arange(6).reshape(2, 3))
for epoch in range(1, 4):
    report(epoch=epoch, loss=torch.tensor(1.0 / epoch), accuracy=0.5 + epoch / 10)
print("done", flush=True)
t = torch.ones(2)
"""


BATCH = "import torch\nbatch = torch.rand(8, 1, 28, 28)\n"


def _run(runner: Runner, code: str) -> tuple[RunResult, list[Output]]:
    request = RunRequest(role="learner", code=code, filename="/work/step.py",
                         probes=(ValueProbe(id="value:t", name="t"),),
                         limits=Limits(timeout_s=15))
    return watched_run(runner, request)


@pytest.fixture(params=["cold", "warm"])
def runner(request: pytest.FixtureRequest, home: Path, warm_runner: WarmRunner) -> Runner:
    return SubprocessRunner() if request.param == "cold" else warm_runner


def test_pictures_and_progress_cross_the_wire_capped_and_unpickled(
        runner: Runner, no_unpickling: None) -> None:
    result, seen = _run(runner, TRAINING)
    assert result.ok, (result.status, result.error)
    assert isinstance(result.values["value:t"], Tensor)  # the probes still answer
    pictures = [item for item in seen if isinstance(item, Shown)]
    reports = [item for item in seen if isinstance(item, Reported)]
    batch, small = pictures
    assert batch.shape == (64, 1, 28, 28) and batch.dtype == "float32"
    assert batch.title == "a batch" and batch.data.dtype == np.float32
    assert batch.data.shape == (16, 28, 28) and batch.data.size <= w.SHOWN_VALUES
    assert batch.labels[:3] == ("[0]", "[1]", "[2]") and batch.every == 1
    assert small.dtype == "int64" and small.data.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert [r.values for r in reports] == [
        (("epoch", 1.0), ("loss", 1.0), ("accuracy", 0.6)),
        (("epoch", 2.0), ("loss", 0.5), ("accuracy", 0.7)),
        (("epoch", 3.0), ("loss", pytest.approx(1 / 3)), ("accuracy", 0.8)),
    ]
    assert "done" in "".join(item for item in seen if isinstance(item, str))


def test_a_huge_tensor_is_cut_down_and_a_flood_of_reports_is_capped(runner: Runner) -> None:
    code = ("import torch\nshow(torch.zeros(1000, 1000))\n"
            f"for i in range({w.REPORTED_PER_RUN + 50}):\n    report(step=i, loss=1.0)\n"
            f"for i in range({w.SHOWN_PER_RUN + 5}):\n    show(torch.zeros(3))\nt = 1\n")
    result, seen = _run(runner, code)
    assert result.ok, (result.status, result.error)
    pictures = [item for item in seen if isinstance(item, Shown)]
    assert len(pictures) == w.SHOWN_PER_RUN
    huge = pictures[0]
    assert huge.shape == (1000, 1000) and huge.every == 8 and huge.data.shape == (125, 125)
    assert sum(isinstance(item, Reported) for item in seen) == w.REPORTED_PER_RUN


def test_code_that_uses_neither_runs_as_before_and_mistakes_are_the_learners(
        runner: Runner) -> None:
    result, seen = _run(runner, "t = 3\nprint(t)\n")
    assert result.ok and "".join(map(str, seen)) == "3\n"
    result, _ = _run(runner, "report(epoch=1, loss='low')\n")
    assert result.status == "error" and result.error.type == "TypeError"
    assert "report() takes numbers" in result.error.message
    result, _ = _run(runner, "show(object())\n")
    assert result.status == "error" and "show() takes a tensor" in result.error.message


def test_forged_pictures_are_refused() -> None:
    forged = w.Shown(data=w.TensorV(dtype="float32", shape=[200, 200], blob=0),
                     shape=[200, 200], dtype="float32")
    blob = np.zeros((200, 200), "<f4").tobytes()
    header, blobs = w.unpack(w.pack(forged, [blob]), w.Shown, 1 << 20)
    with pytest.raises(w.FrameError, match="at most 16384"):
        w.event_value(header, blobs)
    lying = w.Shown(data=w.TensorV(dtype="float32", shape=[4], blob=0), shape=[4],
                    dtype="float32")
    header, blobs = w.unpack(w.pack(lying, [pickle.dumps([1, 2])]), w.Shown, 1 << 20)
    with pytest.raises(w.FrameError, match="byte length"):
        w.event_value(header, blobs)


def test_reports_become_curves_with_the_epoch_as_their_axis() -> None:
    curves = Curves()
    for epoch, loss in enumerate([2.0, 1.0, float("nan")], 1):
        curves.add(Reported((("epoch", float(epoch)), ("loss", loss))))
    assert list(curves.series) == ["loss"] and curves.x_name == "epoch"
    assert curves.series["loss"].at == [1.0, 2.0, 3.0]
    assert curves.summary(curves.series["loss"]) == "nan at epoch 3 (from 2)"


def test_a_learners_picture_carries_the_steps_axis_names(warm_runner: WarmRunner) -> None:
    step = m.CodeStep(id="s", title="S", starter="", solution=BATCH, checks=(
        Expect(var="batch", shape=(8, 1, 28, 28), axes=("B", "C", "H", "W")),))
    seen: list[Output] = []
    code = BATCH + "show(batch)\nshow(batch[:2])\n"
    verdict = Checker(warm_runner, device="cpu").run(step, code, "mine.py", seen.append)
    assert verdict.error is None, verdict
    shown, cut = [item for item in seen if isinstance(item, Shown)]
    assert cut.held_by == () and cut.axes == ()  # an expression: no variable, no names
    assert shown.held_by == ("batch",) and shown.axes == ("B", "C", "H", "W")
    assert picture(shown).caption == "shape [B=8, C=1, H=28, W=28] · float32"
    assert picture(shown).slices[1].label == "B=1"
