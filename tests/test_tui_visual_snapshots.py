"""What learners see of their tensors, at 80x24: a picture, a grid of slices, a training
curve, a labelled confusion matrix and the shapes view, each drawn in half blocks (no
terminal graphics protocol, so the snapshots are the same on every terminal)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_snapshots import SMALL, steps
from test_tui_support import SOLUTION

pytestmark = pytest.mark.slow

# The fixture step's solution: the verdict is two lines, and Esc closes the passed dialog,
# which leaves the output to what the run showed.
CODE = SOLUTION

IMAGE = CODE + ("img = torch.zeros(28, 28)\nimg[6:22, 10:18] = 1.0\nimg[12:16, 4:24] = 0.5\n"
                 "show(img, title='a cross')\n")
GRID = CODE + ("batch = torch.zeros(4, 1, 28, 28)\n"
                "for k in range(4):\n    batch[k, 0, 4 + 4 * k:10 + 4 * k, 6:22] = 1.0\n"
                "show(batch, title='a batch of 4')\n")
CURVE = CODE + ("losses = [2.3, 1.1, 0.7, 0.5, 0.4]\n"
                 "for epoch, loss in enumerate(losses):\n"
                 "    report(epoch=epoch, loss=loss, accuracy=1 - loss / 3)\n")
CONFUSION = CODE + (
    "names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',\n"
    "         'Sneaker', 'Bag', 'Ankle boot']\n"
    "cm = torch.eye(10, dtype=torch.int64) * 90\n"
    "cm[6, 0] = 17\ncm[4, 2] = 9\n"
    "show(cm, title='confusion', labels=names)\n")
SHAPES = CODE + "x = torch.rand(8, 1, 28, 28)\nflat = x.flatten(start_dim=1)\n"


@pytest.fixture(autouse=True)
def _isolated(home: Path) -> None:
    """Every test gets conftest's throwaway tutor home."""


@pytest.mark.parametrize("code", [IMAGE, GRID, CURVE, CONFUSION, SHAPES],
                         ids=["image", "grid", "curve", "confusion", "shapes"])
def test_what_a_run_shows_narrow(snap_compare, build, code):
    assert snap_compare(build(), terminal_size=SMALL,
                        run_before=steps(f"code:{code}", "ctrl+r", "escape"))
