"""The figures of a step's explanation (``figure:``): their code run in the sandbox, the
pictures it showed kept in a cache file, so a figure is computed once per course and code.

The code is the author's: it runs as a ``reference`` run through the checker's runner (never
in the shell's process), and what its ``show(x)`` calls sent is what the shells draw
(``tutor.core.seeing``, ``tutor.drawing``). The cache is keyed by a hash of the code and the
data it saw; a cache file that cannot be read is ignored and written anew, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from tutor.core import datasets
from tutor.core import model as m
from tutor.core.checker import Checker, handle_limits, protected_paths
from tutor.core.files import atomic_write_text
from tutor.core.progress import APP_NAME, HOME_ENV
from tutor.core.run_feedback import failure_text
from tutor.core.runs import Output, RunRequest
from tutor.core.values import ErrorInfo, Shown

CACHE_FORMAT = 1
FIGURE_FILENAME = "<figure>"
FIGURE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Drawn:
    """One figure once its code ran: the pictures it showed, or why there are none."""

    caption: str
    pictures: tuple[Shown, ...] = ()
    error: str = ""
    line: int | None = None  # the failing line, counted in the figure's code


def default_cache_dir() -> Path:
    """The tutor's cache folder (under ``$PYTORCH_TUTOR_HOME`` when that is set)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser() / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


class FigureCache:
    """``figures-<course>.json``: the pictures of each figure, by the hash of its code."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_course(cls, course_id: str, folder: Path | None = None) -> FigureCache:
        return cls((folder or default_cache_dir()) / f"figures-{course_id}.json")

    def get(self, key: str) -> tuple[Shown, ...] | None:
        entry = self._read().get(key)
        if not isinstance(entry, list):
            return None
        try:
            return tuple(_shown(item) for item in entry)
        except (TypeError, ValueError, KeyError):
            return None

    def put(self, key: str, pictures: tuple[Shown, ...]) -> None:
        figures = self._read()
        figures[key] = [_plain(p) for p in pictures]
        with contextlib.suppress(OSError):  # a cache not written only costs a run next time
            atomic_write_text(self.path, json.dumps({"format": CACHE_FORMAT,
                                                     "figures": figures}))

    def _read(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
            return {}
        figures = doc.get("figures")
        return figures if isinstance(figures, dict) else {}


def figure_key(figure: m.Figure, data_kind: str = "") -> str:
    text = f"{CACHE_FORMAT}\0{data_kind}\0{figure.code}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def draw(checker: Checker, step: m.AnyStep, figure: m.Figure,
         cache: FigureCache | None = None) -> Drawn:
    """The pictures of ``figure``: from ``cache`` when it has them, else from a run."""
    data_dir, data_kind = checker.data_dir, ""
    if figure.data:
        try:
            root, data_kind = datasets.resolve(Path(checker.data_dir))
        except datasets.DatasetMissing as exc:
            return Drawn(figure.caption, error=str(exc))
        data_dir = str(root)
    key = figure_key(figure, data_kind)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return Drawn(figure.caption, cached)
    drawn = _run(checker, step, figure, data_dir)
    if cache is not None and not drawn.error:
        cache.put(key, drawn.pictures)
    return drawn


def _run(checker: Checker, step: m.AnyStep, figure: m.Figure, data_dir: str) -> Drawn:
    shell = m.CodeStep(id=step.id, title=step.title, starter="", solution=figure.code,
                       timeout_s=FIGURE_TIMEOUT_S, where=step.where)
    limits = handle_limits(shell, checker.limits, "reference")
    pictures: list[Shown] = []

    def collect(item: Output) -> None:
        if isinstance(item, Shown):
            pictures.append(item)

    request = RunRequest(role="reference", code=figure.code, filename=FIGURE_FILENAME,
                         data_dir=data_dir, limits=limits,
                         protect=protected_paths(shell, FIGURE_FILENAME))
    handle = checker.runner.start(request, collect)
    try:
        result = handle.wait()
    finally:
        handle.close()
    if not result.ok:
        error = result.error
        if isinstance(error, ErrorInfo):
            return Drawn(figure.caption, error=f"{error.type}: {error.message}",
                         line=error.line)
        return Drawn(figure.caption, error=failure_text(result, limits, figure.code))
    if not pictures:
        return Drawn(figure.caption, error="the figure's code showed nothing: call show(x)")
    return Drawn(figure.caption, tuple(pictures))


def _plain(shown: Shown) -> dict[str, Any]:
    values = [None if not math.isfinite(x) else x for x in shown.data.reshape(-1).tolist()]
    return {"data": values, "data_shape": list(shown.data.shape), "shape": list(shown.shape),
            "dtype": shown.dtype, "title": shown.title, "labels": list(shown.labels),
            "every": shown.every, "names": list(shown.names)}


def _shown(item: dict[str, Any]) -> Shown:
    data = np.array([math.nan if x is None else float(x) for x in item["data"]],
                    dtype=np.float32).reshape([int(n) for n in item["data_shape"]])
    return Shown(data, tuple(int(n) for n in item["shape"]), str(item["dtype"]),
                 str(item["title"]), tuple(str(x) for x in item["labels"]), int(item["every"]),
                 tuple(str(x) for x in item.get("names", ())))
