"""Shapes at a glance: after a run, the names the code assigned with their shapes and a
module's layer table, computed in the worker, framed without pickle, drawn by both shells."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from conftest import watched_run
from rich.console import Console
from test_cli import tutor
from test_tui_support import SOLUTION, build_app, settle, text_of, wait_for

from tutor.core.runs import Limits, ModuleProbe, Output, Runner, RunRequest, RunResult
from tutor.core.shapes_view import layer_view, name_rows
from tutor.core.values import Built, LayerShape, LayerTable, NamedShape, Shapes, Tensor
from tutor.drawing import ShapesView
from tutor.sandbox import wire as w
from tutor.sandbox.shapes import assigned
from tutor.tui.app import TutorApp
from tutor.tui.widgets.code_editor import CodeEditor
from tutor.tui.widgets.output_panel import OutputPanel

pytestmark = pytest.mark.slow

CNN = """\
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.fc = nn.Linear(6 * 12 * 12, 10)
        self.unused = nn.Linear(2, 2)

    def forward(self, t):
        print("in forward")
        t = F.max_pool2d(F.relu(self.conv1(t)), 2)
        return self.fc(t.flatten(1))


images = torch.rand(3, 1, 28, 28)
images, labels = images.half(), torch.zeros(3, dtype=torch.long)
if True:
    net = Net()
out = net(images.float())
"""
NET_SHAPE = (3, 1, 28, 28)


def _run(runner: Runner, code: str, shapes: bool = True,
         inputs: tuple[tuple[str, tuple[int, ...]], ...] = (("Net", NET_SHAPE),),
         ) -> tuple[RunResult, list[Output]]:
    request = RunRequest(role="learner", code=code, filename="/work/step.py",
                         probes=(ModuleProbe(id="m", name="Net", input_shape=NET_SHAPE),),
                         limits=Limits(timeout_s=30), shapes=shapes, layer_inputs=inputs)
    return watched_run(runner, request)


def _shapes(seen: list[Output]) -> Shapes:
    found = [item for item in seen if isinstance(item, Shapes)]
    assert len(found) == 1, seen
    return found[0]


def test_names_by_line_and_a_cnns_layer_table_cross_unpickled(
        warm_runner: Runner, no_unpickling: None) -> None:
    plain, _ = _run(warm_runner, CNN, shapes=False)
    result, seen = _run(warm_runner, CNN)
    assert result.ok, (result.status, result.error)
    assert result.stdout.count("in forward") == 2  # the code's and the check's: ours is quiet
    shapes = _shapes(seen)
    assert shapes.names == (
        NamedShape(20, "images", "Tensor", (3, 1, 28, 28), "float16"),
        NamedShape(20, "labels", "Tensor", (3,), "int64"),
        NamedShape(22, "net", "Net", params=8650 + 156 + 6),
        NamedShape(23, "out", "Tensor", (3, 10), "float32"),
    )
    (table,) = shapes.tables
    assert (table.name, table.input, table.output, table.error) == ("Net", NET_SHAPE, (3, 10), "")
    assert table.layers == (
        LayerShape("conv1", "Conv2d", (3, 1, 28, 28), (3, 6, 24, 24), 156),
        LayerShape("fc", "Linear", (3, 864), (3, 10), 8650),
        LayerShape("unused", "Linear", None, None, 6, calls=0),
    )
    # The check's own module is built and run as without the shapes: same weights, output.
    mine, before = result.values["m"], plain.values["m"]
    assert isinstance(mine, Built) and isinstance(before, Built)
    assert isinstance(mine.output, Tensor) and isinstance(before.output, Tensor)
    assert mine.output.data is not None and before.output.data is not None
    assert np.array_equal(mine.output.data, before.output.data)


def test_sizes_are_capped_and_a_failing_forward_or_code_makes_nothing_worse(
        warm_runner: Runner) -> None:
    many = "import torch\nfrom torch import nn\n" + "".join(
        f"x{i} = torch.zeros({i + 1})\n" for i in range(50)) + (
        "Net = lambda: nn.Sequential(*[nn.Linear(4, 4) for _ in range(40)])\n")
    result, seen = _run(warm_runner, many, inputs=(("Net", (2, 4)),))
    shapes = _shapes(seen)
    assert len(shapes.names) == w.SHAPED_NAMES and shapes.more == 10
    # Net is a function here, not a module class: the worker skips it, silently.
    assert shapes.tables == ()

    deep = many.replace("Net = lambda: ", "Net = ")  # a module instance this time
    _, seen = _run(warm_runner, deep, inputs=(("Net", (2, 4)),))
    (table,) = _shapes(seen).tables
    assert len(table.layers) == w.SHAPED_LAYERS and table.more == 10

    broken = CNN.replace("6 * 12 * 12, 10", "100, 10") + "after = torch.ones(1)\n" \
        + "raise ValueError('mine')\nlater = torch.ones(2)\n"
    result, seen = _run(warm_runner, broken)
    assert result.status == "error" and result.error.type == "RuntimeError"
    shapes = _shapes(seen)
    assert [n.name for n in shapes.names] == ["images", "labels", "net"]  # before the error
    (table,) = shapes.tables
    assert table.output is None and table.error.startswith("RuntimeError: mat1 and mat2")
    assert [layer.calls for layer in table.layers] == [1, 0, 0]


def test_assigned_names_are_module_level_at_their_last_line() -> None:
    code = ("a = 1\nb, (c, *d) = 1, (2, 3)\nfor i in range(2):\n    e = i\n"
            "def f():\n    g = 1\nclass K:\n    h = 1\na += 1\nk: int = 3\nm: int\n")
    assert assigned(code) == {"b": 2, "c": 2, "d": 2, "e": 4, "a": 9, "k": 10}


TABLE = LayerTable("Net", "Net", (3, 1, 28, 28), (3, 10), params=8812, layers=(
    LayerShape("conv1", "Conv2d", (3, 1, 28, 28), (3, 6, 24, 24), 156),
    LayerShape("fc", "Linear", (3, 864), (3, 10), 8650, calls=2),
    LayerShape("unused", "Linear", None, None, 6, calls=0)), more=3)
SHAPES = Shapes((NamedShape(20, "images", "Tensor", (3, 1, 28, 28), "float16"),
                 NamedShape(22, "net", "Net", params=8812)), 2, (TABLE,))


def test_the_core_model_words_each_row() -> None:
    assert [(r.line, r.name, r.what) for r in name_rows(SHAPES)] == [
        ("20", "images", "[3, 1, 28, 28] float16"), ("22", "net", "Net, 8,812 parameters")]
    view = layer_view(TABLE)
    assert view.title == "Net on a random input [3, 1, 28, 28] -> [3, 10]"
    assert [(r.input, r.output, r.params) for r in view.rows] == [
        ("[3, 1, 28, 28]", "[3, 6, 24, 24]", "156"), ("[3, 864]", "[3, 10] (called 2x)", "8,650"),
        ("not called", "", "6")]
    assert view.note == "3 more layers not shown" and view.total.params == "8,812"
    console = Console(width=80, no_color=True, record=True)
    console.print(ShapesView(SHAPES))
    text = console.export_text()
    assert "line 20 images [3, 1, 28, 28] float16" in text and "2 more names not shown" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_forged_shapes_are_refused() -> None:
    header = w.Shapes(names=[w.NamedShape(line=1, name="x", type="Tensor", shape=[1] * 9)])
    with pytest.raises(w.FrameError):
        w.unpack(w.pack(header), w.Shapes, 1000)
    ok = w.Shapes(names=[w.NamedShape(line=1, name="x\x1b[31m", type="Tensor", shape=[2])])
    decoded = w.event_value(*w.unpack(w.pack(ok), w.Shapes, 1000))
    assert isinstance(decoded, Shapes) and decoded.names[0].name == "x"  # no escape code
    with pytest.raises(w.FrameError):
        w.event_value(ok, [b"1"])


def test_run_prints_the_layer_table_and_check_only_with_shapes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    mine = tmp_path / "mine.py"
    mine.write_text("import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n"
                    "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                    "        self.fc1 = nn.Linear(4, 8)\n        self.out = nn.Linear(8, 2)\n\n"
                    "    def forward(self, x):\n        return self.out(F.relu(self.fc1(x)))\n\n"
                    "x = torch.ones(5, 4)\n")
    done = tutor(home, "--unlock-all", "run", "modules.net", "--file", str(mine),
                 env={"NO_COLOR": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [" ".join(line.split()) for line in done.stdout.splitlines()]
    assert "line 14 x [5, 4] float32" in lines
    assert "Net on a random input [5, 4] -> [5, 2]" in lines
    assert "fc1 Linear [5, 4] [5, 8] 40" in lines and "total Net [5, 4] [5, 2] 58" in lines
    check = tutor(home, "--unlock-all", "check", "modules.net", "--file", str(mine))
    assert check.returncode == 0 and "random input" not in check.stdout
    shown = tutor(home, "--unlock-all", "check", "modules.net", "--file", str(mine), "--shapes")
    assert "Net on a random input [5, 4] -> [5, 2]" in shown.stdout


@pytest.fixture
def build(tmp_path: Path, warm_runner: Runner, home: Path) -> Callable[..., TutorApp]:
    return partial(build_app, warm_runner, tmp_path, unlock_all=True)


async def test_the_output_panel_shows_shapes_after_a_run_and_the_layer_table_at_80x24(
        build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = app.query_one(CodeEditor)
        editor.replace(SOLUTION, (0, 0), editor.document.end)
        await pilot.press("f6")
        await settle(pilot)
        panel = app.query_one(OutputPanel)
        shapes = panel.query_one("#shapes")
        await wait_for(pilot, lambda: "line 2 t [2, 3] float32" in " ".join(
            text_of(shapes).split()))
        assert shapes.display and shapes.region.height > 0
        panel.see(SHAPES)  # a module's table, as a module step's run sends it
        await pilot.pause()
        shown = " ".join(text_of(shapes).split())
        assert "Net on a random input [3, 1, 28, 28] -> [3, 10]" in shown
        assert "conv1 Conv2d [3, 1, 28, 28] [3, 6, 24, 24] 156" in shown
        await pilot.press("f6")
        await settle(pilot)
        await wait_for(pilot, lambda: "random input" not in text_of(shapes))
