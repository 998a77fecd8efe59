"""``show(x)`` and ``report(...)``: the names a worker gives the learner's code to see a
tensor and to plot progress, each sent to the tutor as it happens, as a framed message.

A tensor is cut down here (the first ``wire.SHOWN_PANELS`` 2-D slices, every n-th value)
to at most ``wire.SHOWN_VALUES`` float32 values, so that a picture is small whatever was
shown; a run sends at most ``wire.SHOWN_PER_RUN`` pictures and ``wire.REPORTED_PER_RUN``
reports, and drops the rest. The tutor draws them (``tutor.core.seeing``); nothing here
decides how they look.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from tutor.sandbox import wire as w

Send = Callable[[bytes], None]


class Sight:
    """The two functions, bound to one run's channel."""

    def __init__(self, torch: Any, send: Send) -> None:
        self.torch = torch
        self.send = send
        self.shown = 0
        self.reported = 0

    def names(self) -> dict[str, Any]:
        """What the learner's namespace gets: plain functions, with their own help."""
        sight = self

        def show(x: Any, title: str = "", labels: Any = None) -> None:
            """Draw a tensor in the tutor: a row (1-D), a heat map (2-D), a grid of slices
            (3-D, 4-D); image-like tensors ([28, 28], [B, 1, 28, 28]) as pictures.
            ``labels``: names of a 2-D tensor's rows and columns (class names), or one
            per image of a batch (its labels, or their class names)."""
            sight.show(x, title, labels, _holders(x, sys._getframe(1)))

        def report(**values: Any) -> None:
            """Plot progress in the tutor: ``report(epoch=1, loss=0.52, accuracy=0.81)``."""
            sight.report(values)

        return {"show": show, "report": report}

    def show(self, x: Any, title: str = "", labels: Any = None,
             held_by: list[str] | None = None) -> None:
        header, blob = shown(self.torch, x, str(title), _names(labels), held_by)
        if self.shown < w.SHOWN_PER_RUN:
            self.shown += 1
            self.send(w.pack(header, [blob]))

    def report(self, values: dict[str, Any]) -> None:
        if not values:
            raise TypeError("report() needs at least one value, e.g. report(epoch=1, loss=0.5)")
        if len(values) > w.REPORTED_SERIES:
            raise TypeError(f"report() takes at most {w.REPORTED_SERIES} values at once")
        numbers = [(name[:32], _number(name, value)) for name, value in values.items()]
        if self.reported < w.REPORTED_PER_RUN:
            self.reported += 1
            self.send(w.pack(w.Reported(values=numbers)))


def _number(name: str, value: Any) -> float | str:
    try:
        number = float(value)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"report() takes numbers: {name}= is a {type(value).__name__}; "
                        "a tensor of one value works, or .item()") from None
    return number if math.isfinite(number) else str(number)


def _holders(x: Any, frame: FrameType) -> list[str]:
    """The caller's variables bound to ``x`` itself (``show(images)``: images), so the
    tutor can name its axes as the step's checks name that variable's."""
    found: list[str] = []
    # at module level they are one namespace: read it once
    scopes = (frame.f_globals,) if frame.f_locals is frame.f_globals else (
        frame.f_locals, frame.f_globals)
    for scope in scopes:
        found += [name for name, value in list(scope.items())
                  if value is x and name not in found and not name.startswith("_")]
    return [name[:32] for name in found[:w.SHOWN_HOLDERS]]


def _names(labels: Any) -> list[str]:
    if labels is None:
        return []
    if isinstance(labels, str) or not hasattr(labels, "__iter__"):
        raise TypeError("show(labels=...) takes a list of names, e.g. the class names")
    # a batch's labels tensor gives its numbers; beyond SHOWN_NAMES none would be drawn
    return [str(label.item() if hasattr(label, "item") else label)[:32]
            for label, _ in zip(labels, range(w.SHOWN_NAMES), strict=False)]


def shown(torch: Any, x: Any, title: str, names: list[str] | None = None,
          held_by: list[str] | None = None) -> tuple[w.Shown, bytes]:
    """The message for ``show(x)`` and its one blob: float32 values, cut down to fit."""
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"show() takes a tensor, not a {type(x).__name__}") from None
    if x.ndim > w.MAX_RANK:
        raise ValueError(f"show() draws tensors of up to {w.MAX_RANK} dimensions")
    shape = [int(n) for n in x.shape]
    dtype = str(x.dtype).removeprefix("torch.")
    t = x.detach().to("cpu")
    t = (t.abs() if t.is_complex() else t).to(torch.float32)
    labels: list[str] = []
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim > 2:
        lead = shape[:-2]
        t = t.reshape(-1, shape[-2], shape[-1])[: w.SHOWN_PANELS]
        labels = [_label(i, lead) for i in range(t.shape[0])]
    panels = t.shape[0] if t.ndim == 3 else 1
    every = _stride(list(t.shape[-2:]) if t.ndim > 1 else [t.shape[0]],
                    w.SHOWN_VALUES // max(1, panels))
    if every > 1:
        t = t[::every] if t.ndim == 1 else t[..., ::every, ::every]
    data = t.contiguous().numpy().astype("<f4")
    blob = data.tobytes()
    tensor = w.TensorV(dtype="float32", shape=list(data.shape), blob=0)
    return w.Shown(data=tensor, shape=shape, dtype=dtype[:32], title=title[:64],
                   labels=labels, every=every, names=names or [],
                   held_by=held_by or []), blob


def _stride(sides: list[int], budget: int) -> int:
    """The smallest n such that every n-th value along each side fits ``budget``."""
    every = 1
    while math.prod(-(-side // every) for side in sides) > budget:
        every += 1
    return every


def _label(index: int, lead: list[int]) -> str:
    """``[3]`` for the 4th image of a [B, 1, H, W] batch; ``[1,2]`` where both axes count."""
    at = []
    for size in reversed(lead):
        at.append(index % size if size else 0)
        index = index // size if size else 0
    kept = [str(i) for i, size in zip(reversed(at), lead, strict=True) if size > 1]
    return f"[{','.join(kept or ['0'])}]"
