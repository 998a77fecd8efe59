"""``show(cm, labels=classes)``: a heat map with its rows and columns named, and the pair of
classes a confusion matrix mixes up most; through the worker's message and the wire."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import watched_run
from rich.console import Console

from tutor.core.runs import Limits, RunRequest
from tutor.core.seeing import confused_most, picture
from tutor.core.values import Shown
from tutor.drawing import PictureView
from tutor.sandbox import wire as w

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot")


def matrix() -> np.ndarray:
    cm = np.diag(np.full(10, 50.0)).astype(np.float32)
    cm[6, 0], cm[2, 4] = 17, 9
    return cm


def drawn(shown: Shown) -> list[str]:
    console = Console(width=80, no_color=True, color_system=None, record=True)
    console.print(PictureView(picture(shown)))
    return console.export_text().splitlines()


def test_a_confusion_matrix_is_drawn_with_class_names_and_the_pair_confused_most() -> None:
    lines = drawn(Shown(matrix(), (10, 10), "int64", "cm", (), 1, CLASSES))
    assert lines[0] == "cm · shape [10, 10] · int64"
    assert lines[1].split() == ["T-s", "Tro", "Pul", "Dre", "Coa", "San", "Shi", "Sne", "Bag",
                                "Ank"]
    assert lines[8].split() == ["Shirt", "17", "0", "0", "0", "0", "0", "50", "0", "0", "0"]
    assert lines[-1] == "Confused most: Shirt taken for T-shirt/top (17 times)."
    assert all(len(line) <= 80 for line in lines)


def test_names_that_fit_no_axis_are_left_out_and_floats_get_no_sentence() -> None:
    shown = Shown(matrix(), (10, 10), "float32", "p", (), 1, CLASSES)
    seen = picture(shown)
    assert seen.kind == "heat" and seen.rows == CLASSES and seen.note == ""
    odd = picture(Shown(matrix()[:3], (3, 10), "int64", "", (), 1, CLASSES))
    assert odd.rows == () and odd.columns == CLASSES
    assert picture(Shown(matrix(), (10, 10), "int64")).kind == "image"  # unnamed: a picture


def test_a_diagonal_matrix_confuses_nothing() -> None:
    seen = picture(Shown(np.eye(3, dtype=np.float32), (3, 3), "int64", "", (), 1,
                         ("a", "b", "c")))
    assert seen.note == "No class is confused with another."
    assert confused_most(seen.slices[0], (), (), "int64") == ""


def test_names_cross_the_wire_and_are_capped() -> None:
    data = w.TensorV(dtype="float32", shape=[2, 2], blob=0)
    blob = np.eye(2, dtype="<f4").tobytes()
    header = w.Shown(data=data, shape=[2, 2], dtype="int64", names=["cat", "dog\x1b[31m"])
    value = w.event_value(header, [blob])
    assert isinstance(value, Shown) and value.names[0] == "cat"
    assert "\x1b" not in value.names[1]
    framed = w.pack(w.Shown(data=data, shape=[2, 2], dtype="int64",
                            names=["x"] * (w.SHOWN_NAMES + 1)), [blob])
    with pytest.raises(w.FrameError):
        w.read_streamed(io.BytesIO(framed), 1 << 20)


def test_a_batch_shows_each_image_under_its_own_name() -> None:
    images = np.zeros((4, 28, 28), np.float32)
    panels = ("[0]", "[1]", "[2]", "[3]")
    named = picture(Shown(images, (64, 1, 28, 28), "float32", "", panels, 1, CLASSES * 7,
                          ("B", "C", "H", "W")))
    assert [s.label for s in named.slices] == ["T-shirt/top", "Trouser", "Pullover", "Dress"]
    short = picture(Shown(images, (64, 1, 28, 28), "float32", "", panels, 1, ("a", "b")))
    assert [s.label for s in short.slices] == list(panels)  # a name missing: none is given
    both = picture(Shown(images, (2, 2, 28, 28), "float32", "", ("[0,0]", "[0,1]", "[1,0]",
                                                                   "[1,1]"), 1, ("a", "b")))
    assert both.slices[1].label == "[0,1]"  # two axes counted: a name would be a guess


def test_a_batchs_labels_tensor_names_its_images_through_the_worker(warm_runner) -> None:
    code = ("import torch\nimages = torch.rand(100, 1, 28, 28)\n"
            "labels = torch.arange(100) % 10\nshow(images, labels=labels)\n")
    result, seen = watched_run(warm_runner, RunRequest(role="learner", code=code,
                                                       filename="/work/mine.py",
                                                       limits=Limits(timeout_s=15)))
    assert result.ok, (result.status, result.error)
    (shown,) = [item for item in seen if isinstance(item, Shown)]
    assert len(shown.names) == w.SHOWN_NAMES and shown.names[:3] == ("0", "1", "2")
    assert [s.label for s in picture(shown).slices][:11] == [str(i % 10) for i in range(11)]
