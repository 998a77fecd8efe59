"""How the learner's values relate to the expected ones, when both have the same shape.

Each relation is tested on the values before it is named: a constant factor (a sum for a
mean, 255, a population for a sample std), a constant offset, the sign, a transpose or other
reordering, a shift by one, logs, a softmax, all zeros. Only one that holds is said, with the
fix that turns the one into the other; an unproven cause is asked, never stated.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from tutor.core.feedback.findings import NO_CLUES, Clues
from tutor.core.feedback.words import axis_name, format_number

MAX_CELLS = 1_000_000  # sorting or permuting bigger tensors for a hint is not worth the wait
MAX_PERMUTED_RANK = 4
MAX_ROTATION = 256  # how far along an axis two swapped parts are looked for
ORDER_HINT = (
    "The values are all there but in a different order: did you use .reshape/.view where "
    ".permute/.transpose was needed, or index along the wrong axis?"
)

Close = Callable[[np.ndarray, np.ndarray], bool]


def closeness(rtol: float, atol: float) -> Close:
    """Equality as the check defines it, never stricter than float32 rounding allows."""
    rtol, atol = max(rtol, 1e-5), max(atol, 1e-7)

    def close(a: np.ndarray, b: np.ndarray) -> bool:
        return a.shape == b.shape and bool(
            np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))

    return close


def relation(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str] = (),
             clues: Clues = NO_CLUES, rtol: float = 1e-5) -> str:
    """A sentence naming a relation that holds between ``g`` and ``e`` (same shape), or ""."""
    if g.size == 0 or g.size > MAX_CELLS or not (np.isfinite(g).all() and np.isfinite(e).all()):
        return ""
    if g.size == 1 and g.dtype != np.bool_:
        return scalar_relation(float(g.reshape(-1)[0]), float(e.reshape(-1)[0]), rtol, clues,
                               counts=g.dtype.kind in "iu" and e.dtype.kind in "iu")
    if g.dtype != np.bool_:
        c = _constant_factor(g, e, close)
        if c is not None and g.dtype.kind in "iu" and e.dtype.kind in "iu":
            return f"Every value is {_factor(c)} times the expected one."  # counts: no mean
        if c is not None:
            return _name_factor(c, clues)
    for finder in (_all_zero, _inverted, _offset, _affine, _relu, _logs, _softmax, _reordered,
                   _shifted, _flat_shift, _row_offset, _column_affine, _count_total,
                   _value_range):
        found = finder(g, e, close, axes)
        if found:
            return found
    return ""


def scalar_relation(got: float, expected: float, rtol: float, clues: Clues = NO_CLUES,
                    counts: bool = False) -> str:
    """How one number relates to the expected one, said only for telling relations: any two
    numbers have some ratio and some difference, so an arbitrary one would be noise.

    Relations are tested relative to the numbers (``rtol``, never an absolute tolerance,
    under which a small number is "close" to anything small). ``counts``: both are whole
    numbers (a count), which a mean cannot give, so a factor is said without asking why."""
    if not (np.isfinite(got) and np.isfinite(expected)) or got == 0 or expected == 0:
        return ""
    tol = max(rtol, 1e-6)

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= tol * abs(b)

    if counts:
        found = _count_relation(int(got), int(expected))
        rounds = [f"`{name}()`" for name in ("round", "ceil") if clues.calls(name)]
        if got == expected + 1 and rounds:
            found += (f" Your code calls {' and '.join(rounds)}, which round up (`round` from "
                      "a half): a count of whole steps rounds down, with `//` or "
                      "`math.floor()`.")
        return found
    for factor, text in ((100.0, "a percentage where a fraction (0 to 1) is wanted?"),
                         (0.01, "a fraction where a percentage is wanted?"),
                         (1000.0, "milliseconds where seconds are wanted, or another unit?"),
                         (0.001, "seconds where milliseconds are wanted, or another unit?")):
        if close(got, factor * expected):
            return f"It is {_factor(factor)} times the expected value: {text}"
    c = got / expected
    whole = [float(round(c))] if abs(c) >= 1.5 else [1 / round(1 / c)] if abs(c) <= 0.67 else []
    for k in [-1.0, *whole, 255.0, 1 / 255, 255 / 256, 256 / 255]:
        if (abs(k) >= 2 or abs(k) <= 0.5 or k == -1 or k in (255 / 256, 256 / 255)) and (
                abs(k) <= 10**7 and abs(k) >= 1e-7) and close(got, k * expected):
            return _name_factor(k, clues, subject="It is")
    if clues.calls("std") or clues.calls("var"):
        found = _std_denominator(c, clues, subject="It is")
        if found:
            return found
    if abs(expected) != 1 and got > 0 and close(got, expected * expected):
        return ("It is the square of the expected value: is a square root missing "
                "(`.sqrt()`, `** 0.5`)? A variance is the square of a std.")
    if abs(got) != 1 and expected > 0 and close(got * got, expected):
        return ("Its square is the expected value: is a square root one too many? A std is "
                "the square root of a variance.")
    return ""


def _count_relation(got: int, expected: int) -> str:
    """Two whole numbers: one more or less, or a whole factor apart."""
    if abs(got - expected) == 1:
        direction = "more" if got > expected else "less"
        return f"It is 1 {direction} than expected: an index or a count off by one?"
    if got == -expected:
        return "It has the opposite sign of the expected one."
    if got % expected == 0 and abs(got // expected) >= 2:
        return f"It is {got // expected} times the expected one."
    if expected % got == 0 and abs(expected // got) >= 2:
        return f"It is 1/{expected // got} of the expected one."
    return ""


def _near_whole(x: float) -> bool:
    """A whole number from 2 up: a count, not a ratio that happens to be near one."""
    return 2 <= abs(x) <= 10**7 and abs(x - round(x)) < 1e-4 * abs(x)


def _all_zero(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if np.any(e != 0) and not np.any(g != 0):
        return "Every value is 0: is something missing where the values are computed?"
    return ""


def _inverted(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.dtype == np.bool_ and np.array_equal(g, ~e):
        return ("Every value is the opposite of the expected one: is a comparison the wrong "
                "way round (< for >, == for !=)?")
    return ""


def _constant_factor(g: np.ndarray, e: np.ndarray, close: Close) -> float | None:
    """The ``c`` with ``g == c * e`` everywhere, other than 0 and 1, if there is one."""
    gf, ef = g.astype(np.float64), e.astype(np.float64)
    nonzero = np.abs(ef) > 1e-12
    if not nonzero.any() or not np.any(gf != 0):
        return None
    c = float(np.median(gf[nonzero] / ef[nonzero]))
    if not np.isfinite(c) or abs(c - 1) < 1e-6 or c == 0 or not close(gf, c * ef):
        return None
    return c


def _name_factor(c: float, clues: Clues = NO_CLUES, subject: str = "Every value is") -> str:
    """What a constant factor between the learner's values and the expected ones says."""
    if abs(c) >= 2 and abs(c - round(c)) < 1e-5 * abs(c):
        c = float(round(c))  # 2.99999 from float32 arithmetic is 3
    if abs(c + 1) < 1e-6:
        has = "It has" if subject == "It is" else "Every value has"
        return f"{has} the opposite sign of the expected one: is a minus sign missing, " \
               "or a subtraction the wrong way round?"
    for value, text in ((255.0, "the expected values are 255 times smaller: divide by 255 "
                                "(as ToTensor does) to bring [0, 255] to [0, 1]"),
                        (1 / 255, "the expected values are 255 times larger: is a division by "
                                  "255 done twice?"),
                        (255 / 256, "your values were divided by 256 where the expected ones "
                                    "were divided by 255"),
                        (256 / 255, "your values were divided by 255 where the expected ones "
                                    "were divided by 256")):
        if abs(c / value - 1) < 1e-4:
            return f"{subject} {_factor(c)} times the expected one: {text}."
    # A std's n/(n-1) only when the code takes one (one number has every ratio to another,
    # so for a number the code must show it even when the source is unknown).
    takes_std = clues.calls("std") or clues.calls("var")
    may_be_std = takes_std or (not clues.source and subject != "It is")
    denominator = _std_denominator(c, clues, subject) if may_be_std else ""
    if denominator:
        return denominator
    ratio = f"{subject} {_factor(c)} times the expected one"
    if c > 1 and abs(c - round(c)) < 1e-5 * c:  # float32 sums drift in the last digits
        return (f"{ratio}: did you sum where a mean was wanted (a mean divides by the "
                f"{round(c)} values it averages), or multiply by {round(c)}?")
    if 0 < c < 1 and abs(1 / c - round(1 / c)) < 1e-4:
        n = round(1 / c)
        return f"{ratio} (1/{n}): did you take a mean where a sum was wanted, or divide by {n}?"
    return f"{ratio}."


def _std_denominator(c: float, clues: Clues, subject: str = "Every value is") -> str:
    """A std or a variance divided by n where n - 1 was wanted, or the other way round.

    The factor alone cannot say which (a std in a denominator turns it over): the learner's
    code decides, by whether its std/var call passes unbiased=False or correction=0."""
    for exponent, what in ((2, "std"), (1, "variance")):  # std: sqrt(n/(n-1)); var: n/(n-1)
        ratio = (c if c > 1 else 1 / c) ** exponent
        if ratio <= 1:
            continue
        n = ratio / (ratio - 1)
        if n < 3 or abs(n - round(n)) >= 1e-3 or round(n) > 10**7:
            continue
        n = round(n)
        head = f"{subject} {_factor(c)} times the expected one"
        population = _population_std(clues)
        if population is None:
            return (f"{head}: the ratio of dividing by n = {n} to dividing by n - 1 = {n - 1}, "
                    "as a std or variance does: is yours the other one (torch's default "
                    "divides by n - 1; unbiased=False or correction=0 divides by n)?")
        if population:
            return (f"{head}: your std/var divides by n = {n} (unbiased=False or "
                    f"correction=0), the expected one by n - 1 = {n - 1}, torch's default: "
                    "drop unbiased=False / correction=0.")
        return (f"{head}: your std/var divides by n - 1 = {n - 1} (torch's default, the "
                f"sample {what}), the expected one by n = {n}: pass unbiased=False (or "
                "correction=0).")
    return ""


def _population_std(clues: Clues) -> bool | None:
    """Whether the learner's std/var calls divide by n (None: no such call, or both kinds)."""
    if clues.facts.tree is None:
        return None
    import ast

    kinds = set()
    for node in ast.walk(clues.facts.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr in ("std", "var", "std_mean", "var_mean")):
            population = any(
                (k.arg == "unbiased" and isinstance(k.value, ast.Constant) and k.value.value is
                 False) or (k.arg == "correction" and isinstance(k.value, ast.Constant)
                            and k.value.value == 0) for k in node.keywords)
            kinds.add(population)
    return kinds.pop() if len(kinds) == 1 else None


def _offset(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.dtype == np.bool_:
        return ""
    d = float(np.median(g.astype(np.float64) - e.astype(np.float64)))
    if d == 0 or not close(g.astype(np.float64), e + d):
        return ""
    direction = "more" if d > 0 else "less"
    size = format_number(abs(d) if g.dtype.kind == "f" else int(round(abs(d))))
    extra = ": an index or a count off by one?" if abs(abs(d) - 1) < 1e-9 else "."
    return f"Every value is {size} {direction} than the expected one{extra}"


def _affine(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """``g == a * e + b``: scaled and shifted, as normalizing with another mean and std."""
    if g.dtype.kind != "f" or g.size < 3 or np.ptp(e) == 0:
        return ""
    a, b = np.polyfit(e.reshape(-1).astype(np.float64), g.reshape(-1).astype(np.float64), 1)
    if abs(a) < 1e-9 or abs(b) < 1e-9 * max(1.0, float(np.abs(e).max())) or not close(
            g, a * e + b):
        return ""
    sign = "+" if b > 0 else "-"
    return (f"Every value is {format_number(a)} × the expected one {sign} {format_number(abs(b))}:"
            " another scale and shift, as normalizing with another mean and std (or the two "
            "swapped) gives?")


def _relu(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """A relu too many or too few: the values agree wherever they are positive."""
    if g.dtype.kind != "f":
        return ""
    if (e < 0).any() and close(g, np.maximum(e, 0)):
        return ("Your values are the expected ones with every negative value set to 0: a relu "
                "(or clamp) that the step does not want?")
    if (g < 0).any() and close(np.maximum(g, 0), e):
        return ("The expected values are yours with every negative value set to 0: a relu is "
                "missing (F.relu, or the nn.ReLU layer).")
    return ""


def per_axis_offset(g: np.ndarray, e: np.ndarray, close: Close) -> bool:
    """Whether the values differ by one number (or one scale and shift) per row or per
    column: what a reduction over the whole tensor gives where one per axis was wanted."""
    return bool(_row_offset(g, e, close, ()) or _column_affine(g, e, close, ()))


def _column_affine(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """Each column (or row) scaled and shifted by numbers of its own, as standardizing with
    the mean and std of the whole tensor gives where those of each column are wanted."""
    if g.dtype.kind != "f" or g.ndim != 2 or min(g.shape) < 3:
        return ""
    for k, word in enumerate(("column", "row")):  # a column runs along axis 0
        gg, ee = (g, e) if k == 0 else (g.T, e.T)
        fits = []
        for j in range(gg.shape[1]):
            x, y = ee[:, j].astype(np.float64), gg[:, j].astype(np.float64)
            if np.ptp(x) == 0:
                return ""
            a, b = np.polyfit(x, y, 1)
            if not close(y, a * x + b):
                break
            fits.append((a, b))
        else:
            if len({(round(a, 6), round(b, 6)) for a, b in fits}) > 1:
                return (f"Each {word} of yours is the expected {word} scaled and shifted by "
                        f"numbers of its own: a mean or std taken over the whole tensor (or "
                        f"another axis) where one per {word} is wanted? Give the reduction "
                        f"the `dim` along each {word} (dim={k}).")
    return ""


def _flat_shift(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """The values read from a few positions too early or too late in the flat data (a
    header of the wrong length skipped)."""
    gf, ef = g.reshape(-1), e.reshape(-1)
    if gf.size < 8:
        return ""
    for k in range(1, min(33, gf.size // 2)):
        if close(gf[k:], ef[:-k]):
            return (f"Your values are the expected ones shifted by {k} positions in the flat "
                    f"data (each is the one {k} places before it should be): does the data "
                    f"start {k} bytes or items later than you read it?")
        if close(gf[:-k], ef[k:]):
            return (f"Your values are the expected ones shifted by {k} positions in the flat "
                    f"data (each is the one {k} places after it should be): does the data "
                    f"start {k} bytes or items earlier than you read it?")
    return ""


def _count_total(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """Counts (whole, not negative) that add up to another total: items counted twice, or
    some never counted (one batch of many)."""
    if g.dtype.kind not in "iu" or e.dtype.kind not in "iu" or g.ndim != 1 or (
            (g < 0).any() or (e < 0).any()):
        return ""
    mine, theirs = int(g.sum()), int(e.sum())
    if mine == theirs:
        return ""
    return (f"Your counts add up to {mine:,}, the expected ones to {theirs:,}: "
            + ("are some items never counted (only one batch, or a `return` too early)?"
               if mine < theirs else "are some items counted more than once?"))


def _row_offset(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """The same vector added to every row, or to every column: a per-column (per-row)
    quantity that is wrong, as a mean over the wrong axis, or a bias."""
    if g.dtype.kind != "f" or g.ndim != 2 or min(g.shape) < 2:
        return ""
    d = g - e
    if np.any(np.abs(d[0]) > 0) and close(g, e + d[0]):
        return ("Every row differs from the expected one by the same vector (one "
                "number per column): is something computed per column wrong, such as a mean "
                "or std over another axis (`dim`), or a bias?")
    if np.any(np.abs(d[:, 0]) > 0) and close(g, e + d[:, :1]):
        return ("Every column differs from the expected one by the same vector "
                "(one number per row): is something computed per row wrong, such as a mean "
                "or std over another axis (`dim`)?")
    return ""


def _logs(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.dtype.kind != "f":
        return ""
    with np.errstate(all="ignore"):
        if (e > 0).all() and close(np.exp(g), e):
            return ("Your values are the logs of the expected ones (log-probabilities?): use "
                    "softmax rather than log_softmax, or take .exp().")
        if (g > 0).all() and close(np.log(g), e):
            return ("The expected values are the logs of yours: use log_softmax rather than "
                    "softmax, or take .log().")
    return ""


def _softmax(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.dtype.kind != "f" or g.ndim == 0:
        return ""
    if np.all(g == 1):  # softmax over an axis of size 1: one value, so probability 1
        for k in range(e.ndim):
            if e.shape[k] > 1 and np.allclose(e.sum(axis=k), 1, atol=1e-4) and (
                    1 in e.shape):
                one = e.shape.index(1)
                return (f"Every value is 1, as a softmax over axis {one}, of size 1, gives: "
                        f"the probabilities are over axis {k}{axis_name(k, axes)}, so use "
                        f"dim={k}.")
    for k in range(g.ndim):
        if g.shape[k] == 1:
            continue  # a softmax over one value is 1 whatever the input: it proves nothing
        if close(_softmax_along(g, k), e):
            return (f"Your values are raw scores: the expected ones are their softmax over "
                    f"dim={k}{axis_name(k, axes)} (they sum to 1 along it).")
        if close(g, _softmax_along(e, k)):
            return (f"Your values are the softmax over dim={k}{axis_name(k, axes)} of the "
                    "expected ones: the step wants the raw scores, without softmax.")
    return ""


def _softmax_along(x: np.ndarray, k: int) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=k, keepdims=True))
    return shifted / shifted.sum(axis=k, keepdims=True)


def _reordered(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    if g.ndim == 0 or not close(np.sort(g, axis=None), np.sort(e, axis=None)):
        return ""
    for perm in _shape_keeping_permutations(g.shape):
        if close(g, np.transpose(e, perm)):
            return _permuted_text(perm, axes)
    for k in range(g.ndim):
        if g.shape[k] > 1 and close(g, np.flip(e, k)):
            return (f"Your values are in reverse order along axis {k}{axis_name(k, axes)}: "
                    "is a sort or an index the wrong way round?")
        for shift in (1, -1):
            if g.shape[k] > 2 and close(g, np.roll(e, shift, k)):
                return (f"Your values are the expected ones shifted by {shift} along axis "
                        f"{k}{axis_name(k, axes)} (with wrap-around): an index off by one?")
        for shift in range(2, min(g.shape[k] - 1, MAX_ROTATION) if g.size <= 100_000 else 0):
            if close(g, np.roll(e, shift, k)):
                return (f"Your values are the expected ones in two parts swapped along axis "
                        f"{k}{axis_name(k, axes)} (the last {shift} first): were the pieces "
                        "joined (cat, stack) in the other order?")
    return ORDER_HINT


def _shape_keeping_permutations(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    if len(shape) > MAX_PERMUTED_RANK:
        return
    for perm in itertools.permutations(range(len(shape))):
        if perm != tuple(range(len(shape))) and tuple(shape[p] for p in perm) == shape:
            yield perm


def _permuted_text(perm: tuple[int, ...], axes: Sequence[str]) -> str:
    moved = [k for k, p in enumerate(perm) if k != p]
    if len(perm) == 2:
        return ("Your values are the expected matrix transposed (rows and columns swapped): "
                "transpose it with `.T`, or swap the axes where you compute it.")
    if len(moved) == 2:
        i, j = moved
        return (f"Your values have axes {i}{axis_name(i, axes)} and {j}{axis_name(j, axes)} "
                f"swapped: `.transpose({i}, {j})` gives the expected values.")
    order = ", ".join(map(str, perm))
    return f"Your values have their axes in another order: `.permute({order})` gives the " \
           "expected values."


def _shifted(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """One position off along an axis, without wrap-around (an off-by-one slice)."""
    for k in range(g.ndim):
        n = g.shape[k]
        if n < 3:
            continue
        head, tail = (slice(None),) * k + (slice(0, n - 1),), (slice(None),) * k + (slice(1, n),)
        if close(g[head], e[tail]):
            return (f"Each of your values is the expected one of the next position along axis "
                    f"{k}{axis_name(k, axes)}: an index or slice starts one too early?")
        if close(g[tail], e[head]):
            return (f"Each of your values is the expected one of the previous position along "
                    f"axis {k}{axis_name(k, axes)}: an index or slice starts one too late?")
    return ""


def _value_range(g: np.ndarray, e: np.ndarray, close: Close, axes: Sequence[str]) -> str:
    """The expected values lie in [0, 1] (torch.rand, probabilities) and the learner's do not."""
    if g.dtype.kind != "f" or g.size < 8:
        return ""
    if e.min() >= 0 and e.max() <= 1 and (g.min() < 0 or g.max() > 1):
        return (f"The expected values all lie between 0 and 1 (like torch.rand's); yours go "
                f"from {format_number(g.min())} to {format_number(g.max())}.")
    if e.min() >= 0 > g.min():
        return (f"The expected values are all 0 or more; yours go down to "
                f"{format_number(g.min())}.")
    return ""


def _factor(c: float) -> str:
    """A factor as a person writes it: 3, not 3.0."""
    return str(int(c)) if float(c).is_integer() and abs(c) < 1e15 else format_number(c)
