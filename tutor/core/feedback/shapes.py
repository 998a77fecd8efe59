"""Say which axis of a shape is wrong and, where it can be proven, the call that fixes it.

With the expected values at hand (a ``compare`` or ``call`` check) a fix is named only when
applying it to the learner's values gives the expected ones: a transpose, a reshape, a squeeze,
an unsqueeze, a missing reduction, one batch of many. With only a shape to meet (an ``expect``
check) a fix that produces the shape is named; a cause that cannot be checked is asked.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from tutor.core.feedback.findings import NO_CLUES, Clues
from tutor.core.feedback.relations import Close
from tutor.core.feedback.words import (
    Pattern,
    article,
    axis_list,
    axis_name,
    count,
    format_shape,
)

Shape = tuple[int, ...]
BROADCAST = (
    "Did a broadcast change the shape? Check that both operands of the operation that makes "
    "it have the shapes you think (print their .shape)."
)
REDUCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "argmax": np.argmax,
}


def shape_problem(
    got: Sequence[int], expected: Pattern, *, axes: Sequence[str] = (), what: str = "`x`",
    values: tuple[np.ndarray, np.ndarray, Close] | None = None, clues: Clues = NO_CLUES,
) -> str | None:
    """Which axis differs and the fix; None entries of ``expected`` match any size.

    ``values`` (the learner's values, the expected ones and their closeness) lets a fix be
    named only when it turns the one into the other; ``clues`` (the learner's code) say
    whether a reduction or a broadcast could be the cause worth asking about.
    """
    got, pattern = tuple(got), tuple(expected)
    if fits(got, pattern):
        return None
    head = f"{what} has shape {format_shape(got)}, expected {format_shape(pattern)}"
    if len(got) == len(pattern):
        want = tuple(g if e is None else e for g, e in zip(got, pattern, strict=True))
        differing = [k for k, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
        detail = "; ".join(f"axis {k}{axis_name(k, axes)}: got {got[k]}, expected {want[k]}"
                           for k in differing)
    else:
        detail = f"it has {count(len(got), 'axis')} instead of {len(pattern)}"
    if values is not None and None not in pattern and _informative(values[1]):
        fix = _proven_fix(values[0], values[1], values[2], axes, clues)
    elif len(got) == len(pattern):
        fix = _same_rank_fix(got, want, clues)
    else:
        fix = _rank_fix(got, pattern, axes, clues)
    return f"{head}: {detail}. {fix}".rstrip()


# --------------------------------------------------------------------------- proven fixes


def _informative(expected: np.ndarray) -> bool:
    """Whether the expected values can tell fixes apart: a constant tensor fits too many."""
    return expected.size > 1 and np.unique(expected).size > 1


def _proven_fix(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str],
                clues: Clues) -> str:
    """The fix that turns the learner's values into the expected ones, or what is known."""
    for finder in (_transposed, _reshaped, _squeezed, _unsqueezed, _broadcast, _unreduced,
                   _overreduced, _indexed, _sliced, _joined_end_to_end):
        found = finder(g, e, close, axes)
        if found:
            return found
    return _unproven_fix(g.shape, e.shape, axes, clues)


def _unproven_fix(got: Shape, want: Shape, axes: Sequence[str], clues: Clues) -> str:
    """No fix gives the expected values: say what gives the shape, and that it is not all."""
    perm = _permutation(got, want) if len(got) == len(want) else None
    if perm is not None:
        return (f"Reordering the axes (`.permute({', '.join(map(str, perm))})`) gives the "
                "right shape but not the expected values: check how you compute it.")
    removed = _removed_axes(got, want) if len(got) > len(want) else None
    if removed is not None and all(got[k] == 1 for k in removed):
        return (f"Removing {axis_list(removed, ())} (size 1) gives the right shape, though the "
                "values would still differ.")
    if math.prod(got) == math.prod(want):
        return (f"`.reshape({', '.join(map(str, want))})` gives the right shape but not the "
                "expected values: check how you compute it.")
    if len(got) == len(want):
        return _hedged_same_rank(got, want, clues)
    return _rank_fix(got, want, axes, clues)


def _transposed(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.ndim != e.ndim or g.ndim > 4 or sorted(g.shape) != sorted(e.shape):
        return ""
    for perm in itertools.permutations(range(g.ndim)):
        if tuple(g.shape[p] for p in perm) == e.shape and close(np.transpose(g, perm), e):
            return _permute_message(perm, g.shape)
    return ""


def _reshaped(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.size != e.size or g.ndim == e.ndim == 0:
        return ""
    if not close(g.reshape(e.shape), e):
        return ""
    if g.ndim > e.ndim and _removed_axes(g.shape, e.shape) is not None and all(
            g.shape[k] == 1 for k in _removed_axes(g.shape, e.shape) or ()):
        return ""  # a squeeze says it better
    if g.ndim < e.ndim and _removed_axes(e.shape, g.shape) is not None and all(
            e.shape[k] == 1 for k in _removed_axes(e.shape, g.shape) or ()):
        return ""  # an unsqueeze says it better
    return _reshape_message(e.shape)


def _squeezed(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.ndim <= e.ndim:
        return ""
    extra = _removed_axes(g.shape, e.shape)
    if extra is None or any(g.shape[k] != 1 for k in extra):
        return ""
    if not close(g.reshape(e.shape), e):
        return ""
    return _squeeze_message(extra)


def _unsqueezed(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.ndim >= e.ndim:
        return ""
    missing = _removed_axes(e.shape, g.shape)
    if missing is None or any(e.shape[k] != 1 for k in missing):
        return ""
    if not close(g.reshape(e.shape), e):
        return ""
    return _unsqueeze_message(missing, axes)


def _unreduced(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """The learner kept an axis that the expected values are reduced over."""
    if g.ndim != e.ndim + 1:
        return ""
    for k in range(g.ndim):
        if g.shape[:k] + g.shape[k + 1:] != e.shape or g.shape[k] < 2:
            continue
        for name, reduce in REDUCTIONS.items():
            if _reduces_to(reduce, g, k, e, close):
                return (f"It still has axis {k} (size {g.shape[k]}): the expected values are "
                        f"its {name} over that axis: add `.{name}(dim={k})`.")
    return ""


def _overreduced(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """The learner reduced over an axis that the expected values keep."""
    if e.ndim != g.ndim + 1:
        return ""
    for k in range(e.ndim):
        if e.shape[:k] + e.shape[k + 1:] != g.shape or e.shape[k] < 2:
            continue
        for name, reduce in REDUCTIONS.items():
            if _reduces_to(reduce, e, k, g, close):
                return (f"Your values are the expected ones after {article(name)} {name} over axis {k}"
                        f"{axis_name(k, axes)}: the result keeps that axis (of size "
                        f"{e.shape[k]}): reduce over another axis, or not at all.")
    return ""


def _reduces_to(reduce: Callable[..., np.ndarray], x: np.ndarray, k: int, target: np.ndarray,
                close: Close) -> bool:
    with np.errstate(all="ignore"):
        try:
            reduced = np.asarray(reduce(x, axis=k))
        except (TypeError, ValueError):
            return False
    return reduced.shape == target.shape and close(reduced.astype(np.float64),
                                                   target.astype(np.float64))


def _indexed(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """The learner took one item along an axis where the expected values keep it whole."""
    if e.ndim != g.ndim + 1:
        return ""
    for k in range(e.ndim):
        if e.shape[:k] + e.shape[k + 1:] != g.shape:
            continue
        for i in range(min(e.shape[k], 64)):
            if close(g, np.take(e, i, axis=k)):
                return (f"Your values are the expected ones at index {i} of axis {k}"
                        f"{axis_name(k, axes)}: indexing with a single integer removed that "
                        f"axis (of size {e.shape[k]}): keep all of it.")
    return ""


def _sliced(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """One axis shorter or longer, and the values a prefix or suffix along it."""
    if g.ndim != e.ndim or g.ndim == 0:
        return ""
    differing = [k for k in range(g.ndim) if g.shape[k] != e.shape[k]]
    if len(differing) != 1:
        return ""
    k = differing[0]
    n, m = g.shape[k], e.shape[k]
    where = f"along axis {k}{axis_name(k, axes)}"
    if n < m:
        for start, label in ((0, "first"), (m - n, "last")):
            if close(g, np.take(e, range(start, start + n), axis=k)):
                batch = " (one batch instead of all of them?)" if k == 0 and g.ndim >= 2 else ""
                return (f"Your values are the {label} {n:,} of the {m:,} expected ones {where}: "
                        f"the rest are missing{batch}.")
    elif m > 1:
        for start, label in ((0, "first"), (n - m, "last")):
            if close(np.take(g, range(start, start + m), axis=k), e):
                return (f"Your {label} {m:,} values {where} are the expected ones, and there "
                        f"{'is' if n - m == 1 else 'are'} {n - m:,} more.")
    return ""


def _joined_end_to_end(g: np.ndarray, e: np.ndarray, close: Close,
                       axes: Sequence[str]) -> str:
    """The expected columns one after another in one long axis: `torch.cat` where
    `torch.stack(..., dim=1)` pairs them up."""
    if g.ndim != 1 or e.ndim != 2 or g.size != e.size or e.shape[1] < 2:
        return ""
    n, k = e.shape
    if not close(g.reshape(k, n).T, e):
        return ""
    return (f"Your values are the expected {k} columns one after another, end to end (as "
            f"`torch.cat` joins them): `torch.stack((...), dim=1)` pairs them up into the "
            f"expected [{n}, {k}] (so does `.reshape({k}, {n}).T`).")


def _broadcast(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.size <= e.size:
        return ""
    try:
        stretched = np.broadcast_to(e, g.shape)
    except ValueError:
        return ""
    if not close(g, stretched):
        return ""
    return ("Your values repeat the expected ones along the extra or longer axes: a broadcast "
            "stretched the result. Check the shapes of both operands of that operation "
            "(print their .shape).")


# --------------------------------------------------------------------------- shape-only fixes


def fewer_items(got: Sequence[int], expected: Pattern) -> bool:
    """Same rank, and shorter along some axis, longer along none: an end left out?"""
    if len(got) != len(expected):
        return False
    pairs = [(g, g if e is None else e) for g, e in zip(got, expected, strict=True)]
    return all(g <= w for g, w in pairs) and any(g < w for g, w in pairs)


def _only_size_one_moves(perm: Sequence[int], shape: Sequence[int]) -> bool:
    """Whether the permutation only moves axes of size 1 (then a reshape keeps the order)."""
    kept = [k for k in range(len(shape)) if shape[k] != 1]
    return [p for p in perm if shape[p] != 1] == kept


def _same_rank_fix(got: Shape, want: Shape, clues: Clues) -> str:
    perm = _permutation(got, want)
    if perm is not None:
        return _permute_message(perm, got)
    if _broadcasts_to(want, got) and clues.may_broadcast():
        return BROADCAST
    if math.prod(got) == math.prod(want):
        return _reshape_message(want)
    return _hedged_same_rank(got, want, clues)


def _hedged_same_rank(got: Shape, want: Shape, clues: Clues) -> str:
    differing = [k for k, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    if differing == [0] and len(got) >= 2:
        return ("Only the first axis differs, which is usually the batch: check the batch "
                "size, or how many items you took.")
    # Reductions that hit the wrong axis are typical of vectors and matrices, not of batches.
    reduced = _wrong_reduction(got, want) if len(got) <= 2 and clues.may_reduce() else None
    if reduced is None:
        return ""
    source, mine, theirs = reduced
    return (
        "If it comes from a reduction (sum, mean, max, argmax...), did you reduce over the "
        f"wrong axis? dim={mine} vs dim={theirs}: for an input of shape "
        f"{format_shape(source)}, dim={mine} gives {format_shape(got)} and dim={theirs} gives "
        f"{format_shape(want)}."
    )


def _rank_fix(got: Shape, pattern: Pattern, axes: Sequence[str], clues: Clues) -> str:
    longer = len(got) > len(pattern)
    removed = _removed_axes(got, pattern) if longer else _removed_axes(pattern, got)
    if removed is not None:
        sizes = [(got if longer else pattern)[k] for k in removed]
        if all(s in (1, None) for s in sizes):
            return _squeeze_message(removed) if longer else _unsqueeze_message(removed, axes)
    if None in pattern:
        return ""
    want = tuple(int(s) for s in pattern if s is not None)
    if _broadcasts_to(want, got) and clues.may_broadcast():
        return BROADCAST
    if math.prod(got) == math.prod(want):
        return _reshape_message(want)
    if removed is None:
        return "Print its .shape after each line to see which axis goes wrong."
    k = removed[0]
    if longer:
        return (f"It has an extra axis {k} (size {got[k]}): reduce over it "
                f"(e.g. .sum(dim={k}) or .mean(dim={k})) or index it away.")
    return (f"It lacks axis {k}{axis_name(k, axes)} (size {want[k]}): a reduction such as sum "
            "or mean without dim= (or with the wrong dim), or indexing with a single integer, "
            "removes an axis.")


# --------------------------------------------------------------------------- messages


def _squeeze_message(extra: Sequence[int]) -> str:
    calls = "".join(f".squeeze({k})" for k in sorted(extra, reverse=True))
    return f"Remove the extra {axis_list(extra, ())} (size 1) with `{calls}`."


def _unsqueeze_message(missing: Sequence[int], axes: Sequence[str]) -> str:
    calls = "".join(f".unsqueeze({k})" for k in sorted(missing))
    text = f"Add the missing {axis_list(missing, axes)} with `{calls}`"
    if len(missing) > 1:
        return f"{text}."
    return f"{text} (or keepdim=True if a reduction removed it)."


def _permute_message(perm: Sequence[int], shape: Sequence[int] = ()) -> str:
    if shape and _only_size_one_moves(perm, shape):
        dims = ", ".join(str(shape[p]) for p in perm)
        return (f"Only axes of size 1 move, so `.permute({', '.join(map(str, perm))})` and "
                f"`.reshape({dims})` both give the expected shape with the values in order.")
    if len(perm) == 2:
        return (
            "The axes are swapped: use `.T` (or `.transpose(0, 1)`), not .reshape/.view, "
            "which would give the right shape with scrambled values."
        )
    moved = [k for k, p in enumerate(perm) if k != p]
    order = ", ".join(map(str, perm))
    if len(moved) == 2:
        i, j = moved
        return (
            f"Swap axis {i} and axis {j} back with `.transpose({i}, {j})` (or "
            f"`.permute({order})`), not .reshape/.view, which would give the right shape with "
            "scrambled values."
        )
    return (
        f"The axes are in a different order: use `.permute({order})`, not .reshape/.view, "
        "which would give the right shape with scrambled values."
    )


def _reshape_message(want: Sequence[int]) -> str:
    dims = ", ".join(map(str, want)) if want else "()"
    return (
        f"It has the right number of elements ({math.prod(want)}) in a different shape: "
        f"use `.reshape({dims})` (or `.view({dims})`)."
    )


# --------------------------------------------------------------------------- shapes


def fits(shape: Sequence[int | None], pattern: Sequence[int | None]) -> bool:
    return len(shape) == len(pattern) and all(
        a is None or b is None or a == b for a, b in zip(shape, pattern, strict=True)
    )


def _removed_axes(longer: Pattern, shorter: Pattern) -> tuple[int, ...] | None:
    """Axes of ``longer`` whose removal leaves ``shorter``, preferring axes of size 1."""
    fitting = [
        combo
        for combo in itertools.combinations(range(len(longer)), len(longer) - len(shorter))
        if fits([s for k, s in enumerate(longer) if k not in combo], shorter)
    ]
    size_one = (c for c in fitting if all(longer[k] in (1, None) for k in c))
    return next(size_one, fitting[0] if fitting else None)


def _permutation(got: Shape, want: Shape) -> Shape | None:
    """``p`` with ``got.permute(p).shape == want``, when the sizes are only reordered."""
    if got == want or sorted(got) != sorted(want):
        return None
    free = list(range(len(got)))
    perm = []
    for size in want:
        k = next(k for k in free if got[k] == size)
        free.remove(k)
        perm.append(k)
    return tuple(perm)


def _broadcasts_to(small: Shape, big: Shape) -> bool:
    try:
        return np.broadcast_shapes(small, big) == big and math.prod(big) > math.prod(small)
    except ValueError:
        return False


def _wrong_reduction(got: Shape, want: Shape) -> tuple[Shape, int, int] | None:
    """An input shape and two axes of it: reducing one gives ``got``, the other ``want``."""
    for mine, theirs in itertools.permutations(range(len(got) + 1), 2):
        rest: list[int | None] = list(got)
        rest.insert(mine, None)  # the axis the learner reduced, size unknown
        reduced = rest.pop(theirs)  # the axis the reference reduced
        slot = rest.index(None)
        if reduced != 1 and want[slot] != 1 and fits(rest, want):
            rest[slot] = want[slot]
            rest.insert(theirs, reduced)
            return tuple(int(s) for s in rest if s is not None), mine, theirs
    return None

