"""Say what differs between a learner's value and the expected one: the first failing
property, in the order a learner fixes them (defined, type, shape, dtype, device, values).

Compares decoded values (``tutor.core.values``) with numpy in the tutor's own process, so
nothing the learner's code patched (``torch.allclose``, a lying ``__eq__``) takes part. Shapes
are compared before values and never broadcast: ``[6]``, ``[1]`` and ``[[6]]`` all differ.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from tutor.core.feedback.dtypes import device_problem, dtype_problem
from tutor.core.feedback.findings import NO_CLUES, Clues, Finding, Mode
from tutor.core.feedback.relations import (
    closeness,
    per_axis_offset,
    relation,
    scalar_relation,
)
from tutor.core.feedback.shapes import fewer_items, shape_problem
from tutor.core.feedback.words import (
    CALLABLE_TYPES,
    clip,
    count,
    describe,
    describe_kind,
    format_number,
    format_shape,
    item,
    join_words,
    plural,
    type_name,
)
from tutor.core.values import MISSING, Module, Opaque, Raised, Tensor, is_placeholder

NAN_CAUSES = (
    "NaN (not a number) comes from 0/0, log or sqrt of a negative number, "
    "or training that diverged (try a smaller learning rate)"
)
INF_CAUSES = "inf comes from dividing by zero, exp() of a large number, or overflow"


def difference(
    got: Any,
    expected: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    axes: Sequence[str] = (),
    what: str = "`x`",
    clues: Clues = NO_CLUES,
    exact_types: bool = False,
    extra_keys: bool = False,
) -> Finding | None:
    """Why ``got`` is not ``expected`` (None when they match), first difference only.

    ``expected`` is a value from the reference run: a reference that is missing or raised is
    the lesson's fault and must be reported before calling this. ``exact_types`` refuses a
    one-element tensor where a Python number is expected; ``extra_keys`` lets a dict hold keys
    beyond the expected ones.
    """
    if is_placeholder(got) and not is_placeholder(expected):
        return Finding(wrong_type(got, expected, what), "placeholder")
    problem = unusable(got, what, clues)
    if problem:
        return problem
    options = _Options(rtol, atol, axes, clues, exact_types, extra_keys)
    found = _difference(got, expected, options, what)
    if found is not None and (_one_number(expected) or got is None):
        return replace(found, one_number=found.one_number or _one_number(expected),
                       none=found.none or got is None)
    return found


def _one_number(value: Any) -> bool:
    if isinstance(value, Tensor):
        return math.prod(value.shape) == 1
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _difference(got: Any, expected: Any, options: _Options, what: str) -> Finding | None:
    if isinstance(expected, Tensor):
        return _tensor(got, expected, options, what)
    if isinstance(expected, (list, tuple)):
        return _sequence(got, expected, options, what)
    if isinstance(expected, dict):
        return _dict(got, expected, options, what)
    if isinstance(expected, Module):
        return _module(got, expected, what)
    if isinstance(expected, (bool, int, float)):
        return _scalar(got, expected, options, what)
    if isinstance(expected, str):
        return _string(got, expected, what)
    same = type(got) is type(expected) and got == expected  # None, or an Opaque's type and repr
    return None if same else Finding(wrong_type(got, expected, what), "type")


def describe_difference(got: Any, expected: Any, **options: Any) -> str | None:
    """``difference`` as text."""
    found = difference(got, expected, **options)
    return None if found is None else found.text


def unusable(value: Any, what: str, clues: Clues = NO_CLUES) -> Finding | None:
    """A value that is not there at all: not defined, an error, or still the placeholder.
    With ``clues``, an error's usual cause is checked against the learner's source."""
    if value is MISSING:
        return Finding(f"{what} is not defined: did you remove or rename it?", "missing")
    if isinstance(value, Raised):
        return Finding(f"{what} raised an error:\n{value.error.format(source=clues.source)}",
                       "raises", value.error.type)
    if is_placeholder(value):
        return Finding(f"{what} is still `...`, the starter's placeholder: replace it with "
                       "your code.", "placeholder")
    return None


class _Options:
    def __init__(self, rtol: float, atol: float, axes: Sequence[str], clues: Clues,
                 exact_types: bool, extra_keys: bool):
        self.rtol, self.atol, self.axes, self.clues = rtol, atol, axes, clues
        self.exact_types, self.extra_keys = exact_types, extra_keys

    def nested(self, got: Any, expected: Any, what: str) -> Finding | None:
        return difference(got, expected, rtol=self.rtol, atol=self.atol, axes=self.axes,
                          what=what, clues=self.clues, exact_types=self.exact_types,
                          extra_keys=self.extra_keys)


# --------------------------------------------------------------------------- tensors


def _tensor(got: Any, expected: Tensor, o: _Options, what: str) -> Finding | None:
    if not isinstance(got, Tensor) or got.kind != expected.kind:
        return Finding(wrong_type(got, expected, what), "type")
    values = None
    if got.data is not None and expected.data is not None:
        values = (_wide(got.data), _wide(expected.data), closeness(o.rtol, o.atol))
    shape = shape_problem(got.shape, expected.shape, axes=o.axes, what=what, values=values,
                          clues=o.clues)
    if shape:
        return Finding(shape, "shape", short=fewer_items(got.shape, expected.shape))
    dtype = dtype_problem(got.dtype, expected.dtype, what=what, kind=expected.kind,
                          clues=o.clues)
    if dtype:
        return Finding(dtype, "dtype")
    device = device_problem(got.device, expected.device, what=what)
    if device:
        return Finding(device, "device")
    said = _values_difference(got, expected, o, what)
    if said is None:
        return None
    per_axis = got.data is not None and expected.data is not None and per_axis_offset(
        _wide(got.data), _wide(expected.data), closeness(o.rtol, o.atol))
    return replace(said, per_axis=per_axis)


def _wide(data: np.ndarray) -> np.ndarray:
    """Floats as float64 (float16 arithmetic would swallow atol); others as they are."""
    if np.iscomplexobj(data):
        return data.astype(np.complex128)
    return data.astype(np.float64) if np.issubdtype(data.dtype, np.floating) else data


def _values_difference(got: Tensor, expected: Tensor, o: _Options,
                       what: str) -> Finding | None:
    if got.data is None or expected.data is None:
        return None  # meta tensors: shape, dtype and device are all they have
    g, e = _wide(got.data), _wide(expected.data)
    inexact = np.issubdtype(e.dtype, np.inexact)
    if inexact:
        problem = _non_finite(g, e, what)
        if problem:
            return Finding(problem, named=True)
        bad = ~np.isclose(g, e, rtol=o.rtol, atol=o.atol, equal_nan=True)
    else:
        bad = g != e
    if not bad.any():
        return None
    text = _first_mismatch(g, e, bad, what)
    if inexact:
        errors = np.abs(g - e)[bad]
        errors = errors[np.isfinite(errors)]
        text += "." if not errors.size else (
            f". Largest difference {format_number(errors.max())} (tolerance {o.atol:g} + "
            f"{o.rtol:g} × |expected|).")
    else:
        text += " (compared exactly, no tolerance)."
    found = "" if np.iscomplexobj(e) else relation(g, e, closeness(o.rtol, o.atol), o.axes,
                                                   o.clues, o.rtol)
    return _said(text, found)


def _said(text: str, cause: str, mode: Mode = "values") -> Finding:
    """A difference, and the cause found for it (``named`` when there is one)."""
    return Finding(f"{text} {cause}" if cause else text, mode, named=bool(cause))


def _non_finite(g: np.ndarray, e: np.ndarray, what: str) -> str | None:
    """NaN and inf first: a closeness test would only say "values differ"."""
    for label, bad, causes in (
        ("NaN", np.isnan(g) & ~np.isnan(e), NAN_CAUSES),
        ("inf", np.isinf(g) & (g != e), INF_CAUSES),
    ):
        if bad.any():
            first = _first_index(bad)
            if g.ndim == 0:
                return f"{what} is {label}, expected {format_number(e[first])}. {causes}."
            return (
                f"{what} contains {label} at index {list(first)} ({int(bad.sum())} of {g.size} "
                f"values), where {format_number(e[first])} was expected. {causes}."
            )
    return None


def _first_mismatch(g: np.ndarray, e: np.ndarray, bad: np.ndarray, what: str) -> str:
    """The count and the first wrong element, as a sentence without its full stop."""
    first = _first_index(bad)
    got_expected = f"{format_number(g[first])}, expected {format_number(e[first])}"
    if g.ndim == 0:
        return f"{what} is {got_expected}"
    n = int(bad.sum())
    verb = "is" if n == 1 else "are"
    return (
        f"{what} has the right shape and dtype, but {n} of its {g.size} values {verb} wrong. "
        f"First at index {list(first)}: got {got_expected}"
    )


def _first_index(mask: np.ndarray) -> tuple[int, ...]:
    flat = int(np.argmax(mask.reshape(-1)))  # argmax stops at the first True
    return tuple(int(i) for i in np.unravel_index(flat, mask.shape))


# --------------------------------------------------------------------------- plain values


def _scalar(got: Any, expected: bool | int | float, o: _Options, what: str) -> Finding | None:
    if isinstance(got, Tensor) and got.shape == () and got.data is not None and not isinstance(
            expected, bool):
        number = got.data.reshape(-1)[0].item()
        if o.exact_types:
            return Finding(f"{what} is a one-element tensor holding {format_number(number)}, "
                           f"expected a Python {type(expected).__name__}: call .item() to get "
                           "the number out of the tensor.", "type")
        got = number  # a 0-d tensor holds the number the step asks for: its value decides
    if isinstance(expected, bool) or isinstance(got, bool) or not isinstance(got, (int, float)):
        if type(got) is not type(expected):
            return Finding(wrong_type(got, expected, what), "type")
        return None if got == expected else Finding(f"{what} is {got}, expected {expected}.")
    if isinstance(expected, int):
        if isinstance(got, float):
            text = wrong_type(got, expected, what)
            if not got.is_integer() and o.clues.calls("max") and not o.clues.calls("argmax"):
                text += (" Your code takes `.max()`, the largest value itself; its position "
                         "(the class) is `.argmax()`.")
            return Finding(text, "type")
        if got == expected:
            return None
        return _with_relation(f"{what} is {format_number(got)}, expected {expected}.", got,
                              expected, o)
    return _float(got, expected, o, what)  # an int is fine here


def _with_relation(text: str, got: float, expected: float, o: _Options) -> Finding:
    """``text``, and how the two numbers relate where that tells something."""
    counts = isinstance(got, int) and isinstance(expected, int)
    relation_ = scalar_relation(got, expected, o.rtol, o.clues, counts=counts)
    # Two numbers always stand in some relation: one found is a lead, not a proven cause.
    return Finding(f"{text} {relation_}" if relation_ else text)


def _float(got: float | int, expected: float, o: _Options, what: str) -> Finding | None:
    if got == expected or (math.isnan(got) and math.isnan(expected)):
        return None
    if math.isnan(got):
        return Finding(f"{what} is NaN, expected {format_number(expected)}. {NAN_CAUSES}.")
    gap = abs(got - expected)
    if gap <= o.atol + o.rtol * abs(expected):
        return None
    return _with_relation(
        f"{what} is {format_number(got)}, expected {format_number(expected)} (difference "
        f"{format_number(gap)}, tolerance {o.atol:g} + {o.rtol:g} × |expected|).",
        got, expected, o)


def _string(got: Any, expected: str, what: str) -> Finding | None:
    if not isinstance(got, str):
        return Finding(wrong_type(got, expected, what), "type")
    if got == expected:
        return None
    pairs = enumerate(zip(got, expected, strict=False))
    at = next((k for k, (a, b) in pairs if a != b), min(len(got), len(expected)))
    text = (f"{what} is {clip(repr(got))}, expected {clip(repr(expected))} (they first differ "
            f"at character {at}).")
    return _said(text, _text_cause(got, expected))


def _text_cause(got: str, expected: str) -> str:
    """What a wrong text shows of its making: a missing `f`, Python's default object text,
    the right numbers in another order."""
    placeholder = re.search(r"\{[A-Za-z_][\w.\[\]'\"]*(?:![rsa])?(?::[^{}]*)?\}", got)
    if placeholder and placeholder.group(0) not in expected:
        return (f"It contains `{placeholder.group(0)}` as it is: put an `f` before the opening "
                "quote (an f-string), so that Python fills in the values.")
    if re.fullmatch(r"<[\w.]+ object at 0x[0-9a-fA-F]+>", got):
        return ("That is Python's default text for an object: define `__repr__` in the class "
                "(returning your text), and print() and repr() use it.")
    mine, theirs = re.findall(r"-?\d+(?:\.\d+)?", got), re.findall(r"-?\d+(?:\.\d+)?", expected)
    if mine != theirs and sorted(mine) == sorted(theirs) and re.sub(
            r"-?\d+(?:\.\d+)?", "#", got) == re.sub(r"-?\d+(?:\.\d+)?", "#", expected):
        moved = [f"{a}" for a, b in zip(mine, theirs, strict=True) if a != b]
        return (f"It has the right numbers in another order ({join_words(moved)} are "
                "swapped): check which value goes in which place.")
    return ""


def _sequence(got: Any, expected: Sequence[Any], o: _Options, what: str) -> Finding | None:
    if not isinstance(got, (list, tuple)):  # a list where a tuple is expected is fine
        return Finding(wrong_type(got, expected, what), "type")
    if len(got) != len(expected):
        return Finding(f"{what} has {count(len(got), 'item')}, expected {len(expected)}.",
                       "length")
    swapped = _swapped_items(got, expected, o)
    if swapped:
        return Finding(f"{what} has the right items in another order: {swapped}.", "values")
    numbers = _short_numbers(got, expected, o, what)
    if numbers:
        return numbers
    for index, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        found = o.nested(mine, theirs, item(what, index))
        if found:
            return found if found.text.startswith("item ") else found.prefixed(f"item {index}: ")
    return None


def _short_numbers(got: Sequence[Any], expected: Sequence[Any], o: _Options,
                   what: str) -> Finding | None:
    """A short list of numbers shown whole, with the items that differ and how the lists
    relate: "[2, 4, 6] where [1, 2, 3] is expected: every value is 2 times..."."""
    def plain(items: Sequence[Any]) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)

    if not (1 < len(expected) <= 12 and plain(got) and plain(expected)):
        return None
    counts = all(isinstance(v, int) for v in [*got, *expected])
    kind = np.int64 if counts else np.float64
    g, e = np.array(got, dtype=kind), np.array(expected, dtype=kind)
    bad = g != e if counts else ~np.isclose(g, e, rtol=o.rtol, atol=o.atol)
    if not bad.any():
        return None
    wrong = [str(k) for k in np.flatnonzero(bad)]
    items = f"item {wrong[0]} differs" if len(wrong) == 1 else (
        f"items {join_words(wrong)} differ")
    text = f"{what} is {_numbers(got)}, expected {_numbers(expected)} ({items})."
    found = relation(g, e, closeness(o.rtol, o.atol), (), o.clues, o.rtol) if bad.all() else ""
    return _said(text, found)


def _numbers(values: Sequence[float]) -> str:
    return "[" + ", ".join(format_number(v) for v in values) + "]"


def _swapped_items(got: Sequence[Any], expected: Sequence[Any], o: _Options) -> str:
    """"items 0 and 1 are swapped" when the items are all there, in another order."""
    n = len(expected)
    if not 1 < n <= 8:
        return ""
    at = {}
    for i, mine in enumerate(got):
        matches = [j for j, theirs in enumerate(expected) if o.nested(mine, theirs, "") is None]
        if not matches:
            return ""
        at[i] = matches
    order = _assignment(at, n)
    if order is None or order == list(range(n)):
        return ""
    moved = [i for i in range(n) if order[i] != i]
    if len(moved) == 2:
        return f"items {moved[0]} and {moved[1]} are swapped"
    return "item " + ", ".join(f"{i} should be item {order[i]}" for i in moved)


def _assignment(at: dict[int, list[int]], n: int) -> list[int] | None:
    """One expected index for each item, each used once (a small search), or None."""
    order: list[int] = []

    def place(i: int, used: set[int]) -> bool:
        if i == n:
            return True
        for j in at[i]:
            if j not in used:
                order.append(j)
                if place(i + 1, used | {j}):
                    return True
                order.pop()
        return False

    return order if place(0, set()) else None


def _dict(got: Any, expected: dict[Any, Any], o: _Options, what: str) -> Finding | None:
    if not isinstance(got, dict):
        return Finding(wrong_type(got, expected, what), "type")
    missing = [repr(k) for k in expected if k not in got]
    if missing:
        return Finding(f"{what} is missing the {plural(len(missing), 'key')} "
                       f"{join_words(missing)}.", "keys")
    extra = [repr(k) for k in got if k not in expected]
    if extra and not o.extra_keys:
        return Finding(f"{what} has the unexpected {plural(len(extra), 'key')} "
                       f"{join_words(extra)}.", "keys")
    for key, theirs in expected.items():
        found = o.nested(got[key], theirs, item(what, key))
        if found:
            return found
    return None


def _module(got: Any, expected: Module, what: str) -> Finding | None:
    if not isinstance(got, Module):
        return Finding(wrong_type(got, expected, what), "type")
    if got.type != expected.type:
        return Finding(f"{what} is a {got.type} module, expected a {expected.type}.", "type")
    if got.params != expected.params:
        return Finding(f"{what} has the parameters {_param_list(got)}, expected "
                       f"{_param_list(expected)}.", "params")
    return None


def _param_list(module: Module) -> str:
    return clip(", ".join(f"{name} {format_shape(shape)}" for name, shape in module.params), 200)


# --------------------------------------------------------------------------- wrong types


def wrong_type(got: Any, expected: Any, what: str) -> str:
    """"`x` is <what it is>, expected <what it should be>", with a conversion when known."""
    if is_placeholder(got):
        return (f"{what} is still `...`, the starter's placeholder: replace it with "
                f"{describe_kind(expected)}.")
    if isinstance(got, Opaque) and got.type in CALLABLE_TYPES and type_name(expected) not in (
            CALLABLE_TYPES):
        return (f"{what} is a function, not its result: did you forget the parentheses, "
                f"e.g. `t.size()` instead of `t.size`? Expected {describe_kind(expected)}.")
    text = f"{what} is {describe(got)}, expected {describe(expected)}"
    joined = _join_hint(got, expected)
    if joined:
        return f"{text}: {joined}."
    inside = _item_that_matches(got, expected)
    if inside is not None:
        return (f"{text}. Its item {inside} is the expected value: take that item "
                f"(`[{inside}]`, or unpack: `a, b = ...` for a pair).")
    hint = conversion_hint(got, type_name(expected))
    if not hint:
        return f"{text}."
    return f"{text}: {hint}" if hint.endswith("?") else f"{text}: {hint}."


def _join_hint(got: Any, expected: Any) -> str:
    """For a list of tensors where one tensor is wanted: the join that gives its shape."""
    if not isinstance(expected, Tensor):
        return ""
    return join_hint(got, expected.shape)


def join_hint(got: Any, shape: Sequence[int | None]) -> str:
    """For a list of tensors where one tensor of ``shape`` is wanted (``None``: any size),
    the join, `torch.stack` or `torch.cat`, that gives that shape, or ""."""
    if not (isinstance(got, (list, tuple)) and got and all(isinstance(t, Tensor) for t in got)):
        return ""
    shapes = [tuple(t.shape) for t in got]
    shown = format_shape(tuple(shape))

    def fits(candidate: tuple[int, ...]) -> bool:
        return len(candidate) == len(shape) and all(
            want is None or want == have for have, want in zip(candidate, shape, strict=True))

    if len(set(shapes)) == 1 and fits((len(got), *shapes[0])):
        return (f"`torch.stack(...)` joins the {len(got)} tensors along a new axis 0, which "
                f"gives the expected shape {shown}")
    if all(len(s) >= 1 and s[1:] == shapes[0][1:] for s in shapes) and fits(
            (sum(s[0] for s in shapes), *shapes[0][1:])):
        return (f"`torch.cat(...)` joins the {len(got)} tensors along their axis 0, which "
                f"gives the expected shape {shown}")
    return ""


def _item_that_matches(got: Any, expected: Any) -> int | None:
    """The index of the item of a short tuple or list that is the expected value: a sample
    (image, label) kept whole where its image was wanted."""
    if not isinstance(got, (list, tuple)) or not 1 < len(got) <= 8 or isinstance(
            expected, (list, tuple)):
        return None
    return next((k for k, item in enumerate(got) if difference(item, expected) is None), None)


def conversion_hint(got: Any, wanted: str) -> str:
    """How to turn ``got`` into a value of type ``wanted`` (a ``type_name``), or ""."""
    have = type_name(got)
    if got is None and wanted != "none":
        return (
            "did you forget to `return` it, or keep the result of a method that returns None "
            "(like .sort() or print())?"
        )
    if have in ("int", "float", "bool") and wanted == "tensor":
        return ("you returned a Python number: keep the tensor (drop .item()), or wrap it with "
                "torch.tensor(...)")
    if have == "tensor" and wanted in ("int", "float", "bool"):
        if got.numel == 1:
            return "call .item() to get a Python number"
        return f"it has {got.numel} elements, not one: reduce it first (e.g. .sum()), then .item()"
    if have in ("tuple", "list") and wanted == "tensor" and len(got) == 2 and all(
            isinstance(v, Tensor) for v in got) and got[1].dtype == "int64":
        return ("it holds two tensors, values and indices, as .max(dim=...) and .sort() return "
                "them: keep the one you need (.indices, or use .argmax(dim=...))")
    if have in ("list", "tuple") and wanted == "tensor" and got and all(
            isinstance(v, Tensor) for v in got):
        return ("join its tensors into one: `torch.stack(...)` along a new axis, "
                "`torch.cat(...)` along an axis they have")
    if have in ("list", "tuple", "int", "float", "bool") and wanted == "tensor":
        return "wrap it with torch.tensor(...)"
    if (have, wanted) == ("float", "int"):
        # int() only helps a whole number: 0.11 where 7 is wanted is another value.
        return "use int(...) or integer division //" if float(got).is_integer() else ""
    hints = {
        ("tensor", "list"): "call .tolist()",
        ("tensor", "ndarray"): "call .numpy() (after .detach().cpu() if needed)",
        ("ndarray", "tensor"): "use torch.from_numpy(...) or torch.tensor(...)",
    }
    return hints.get((have, wanted), "")
