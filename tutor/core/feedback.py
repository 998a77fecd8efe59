"""Say what differs between a learner's value and the expected one, and how to fix it.

Compares decoded values (``tutor.core.values``) with numpy in the tutor's own process, so
nothing the learner's code patched (``torch.allclose``, a lying ``__eq__``) takes part. Shapes
are compared before values and never broadcast: ``[6]``, ``[1]`` and ``[[6]]`` all differ.
Messages name the axis that is wrong and the call that most likely fixes it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tutor.core.values import MISSING, Module, Opaque, Raised, Tensor, is_placeholder

Shape = tuple[int, ...]
Pattern = Sequence[int | None]  # a shape where None matches any size

NAN_CAUSES = (
    "NaN (not a number) comes from 0/0, log or sqrt of a negative number, "
    "or training that diverged (try a smaller learning rate)"
)
INF_CAUSES = "inf comes from dividing by zero, exp() of a large number, or overflow"
BROADCAST = (
    "A broadcast silently changed the shape: check that both operands have the shapes you "
    "think (print their .shape)."
)
ORDER_HINT = (
    "The values are all there but in a different order: did you use .reshape/.view where "
    ".permute/.transpose was needed, or index along the wrong axis?"
)
_CASTS = {
    "float32": ".float()", "float64": ".double()", "float16": ".half()",
    "bfloat16": ".bfloat16()", "int64": ".long()", "int32": ".int()", "int16": ".short()",
    "int8": ".char()", "uint8": ".byte()", "bool": ".bool()",
}
_ORDER_HINT_MAX = 1_000_000  # sorting bigger tensors for a hint is not worth the wait


# --------------------------------------------------------------------------- entry point


def describe_difference(
    got: Any,
    expected: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    axes: Sequence[str] = (),
    what: str = "`x`",
) -> str | None:
    """Why ``got`` is not ``expected`` (None when they match), first difference only.

    ``expected`` is a value from the reference run: a reference that is missing or raised is
    the lesson's fault and must be reported before calling this.
    """
    if is_placeholder(got) and not is_placeholder(expected):
        return wrong_type(got, expected, what)
    problem = unusable(got, what)
    if problem:
        return problem
    if isinstance(expected, Tensor):
        return _tensor_difference(got, expected, rtol, atol, axes, what)
    if isinstance(expected, (list, tuple)):
        return _sequence_difference(got, expected, rtol, atol, axes, what)
    if isinstance(expected, dict):
        return _dict_difference(got, expected, rtol, atol, axes, what)
    if isinstance(expected, Module):
        return _module_difference(got, expected, what)
    if isinstance(expected, (bool, int, float)):
        return _scalar_difference(got, expected, rtol, atol, what)
    if isinstance(expected, str):
        return _string_difference(got, expected, what)
    same = type(got) is type(expected) and got == expected  # None, or an Opaque's type and repr
    return None if same else wrong_type(got, expected, what)


def unusable(value: Any, what: str) -> str | None:
    """The message for a value that is not there at all: not defined, or an error."""
    if value is MISSING:
        return f"{what} is not defined: did you remove or rename it?"
    if isinstance(value, Raised):
        return f"{what} raised an error:\n{value.error.format()}"
    if is_placeholder(value):
        return f"{what} is still `...`, the starter's placeholder: replace it with your code."
    return None


# --------------------------------------------------------------------------- tensors


def _tensor_difference(
    got: Any, expected: Tensor, rtol: float, atol: float, axes: Sequence[str], what: str
) -> str | None:
    if not isinstance(got, Tensor) or got.kind != expected.kind:
        return wrong_type(got, expected, what)
    return (
        shape_problem(got.shape, expected.shape, axes=axes, what=what)
        or dtype_problem(got.dtype, expected.dtype, what=what, kind=expected.kind)
        or device_problem(got.device, expected.device, what=what)
        or _values_difference(got, expected, rtol, atol, what)
    )


def _values_difference(
    got: Tensor, expected: Tensor, rtol: float, atol: float, what: str
) -> str | None:
    if got.data is None or expected.data is None:
        return None  # meta tensors: shape, dtype and device are all they have
    g, e = got.data, expected.data
    if np.issubdtype(e.dtype, np.inexact):
        wide = np.complex128 if np.iscomplexobj(e) else np.float64
        g, e = g.astype(wide), e.astype(wide)  # float16 arithmetic would swallow atol
        return _non_finite(g, e, what) or _inexact_mismatch(g, e, rtol, atol, what)
    return _exact_mismatch(g, e, what)


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


def _inexact_mismatch(
    g: np.ndarray, e: np.ndarray, rtol: float, atol: float, what: str
) -> str | None:
    bad = ~np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return None
    text = _first_mismatch(g, e, bad, what) + "."
    errors = np.abs(g - e)[bad]
    errors = errors[np.isfinite(errors)]
    if errors.size:
        text += f" Largest difference {format_number(errors.max())}"
        text += f" (tolerance {atol:g} + {rtol:g} × |expected|)."
    return _with_order_hint(text, g, e)


def _exact_mismatch(g: np.ndarray, e: np.ndarray, what: str) -> str | None:
    bad = g != e
    if not bad.any():
        return None
    text = _first_mismatch(g, e, bad, what) + " (compared exactly, no tolerance)."
    return text if g.dtype == np.bool_ else _with_order_hint(text, g, e)


def _first_mismatch(g: np.ndarray, e: np.ndarray, bad: np.ndarray, what: str) -> str:
    """The count and the first wrong element, as a sentence without its full stop."""
    first = _first_index(bad)
    got_expected = f"{format_number(g[first])}, expected {format_number(e[first])}"
    if g.ndim == 0:
        return f"{what} is {got_expected}"
    count = int(bad.sum())
    verb = "is" if count == 1 else "are"
    return (
        f"{what} has the right shape and dtype, but {count} of its {g.size} values {verb} wrong. "
        f"First at index {list(first)}: got {got_expected}"
    )


def _with_order_hint(text: str, g: np.ndarray, e: np.ndarray) -> str:
    if not 1 < g.size <= _ORDER_HINT_MAX:
        return text
    same = np.sort(g, axis=None), np.sort(e, axis=None)
    if np.issubdtype(g.dtype, np.inexact):
        shuffled = np.allclose(*same, equal_nan=True)
    else:
        shuffled = np.array_equal(*same)
    return f"{text} {ORDER_HINT}" if shuffled else text


def _first_index(mask: np.ndarray) -> tuple[int, ...]:
    flat = int(np.argmax(mask.reshape(-1)))  # argmax stops at the first True
    return tuple(int(i) for i in np.unravel_index(flat, mask.shape))


# --------------------------------------------------------------------------- shapes


def shape_problem(
    got: Sequence[int], expected: Pattern, *, axes: Sequence[str] = (), what: str = "`x`"
) -> str | None:
    """Which axis differs and the likely fix; None entries of ``expected`` match any size."""
    got, pattern = tuple(got), tuple(expected)
    if _fits(got, pattern):
        return None
    head = f"{what} has shape {format_shape(got)}, expected {format_shape(pattern)}"
    if len(got) == len(pattern):
        want = tuple(g if e is None else e for g, e in zip(got, pattern, strict=True))
        differing = [k for k, (g, e) in enumerate(zip(got, want, strict=True)) if g != e]
        detail = "; ".join(
            f"axis {k}{_axis_name(k, axes)}: got {got[k]}, expected {want[k]}" for k in differing
        )
        fix = _same_rank_fix(got, want)
    else:
        detail = f"it has {_count(len(got), 'axis')} instead of {len(pattern)}"
        fix = _rank_fix(got, pattern, axes) or (
            "Print its .shape after each line to see which axis goes wrong."
        )
    return f"{head}: {detail}. {fix}".rstrip()


def _same_rank_fix(got: Shape, want: Shape) -> str:
    perm = _permutation(got, want)
    if perm is not None:
        return _permute_message(perm)
    if _broadcasts_to(want, got):
        return BROADCAST
    if math.prod(got) == math.prod(want):
        return _reshape_message(want)
    differing = [k for k, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    if differing == [0] and len(got) >= 2:
        return ("Only the first axis differs, which is usually the batch: check the batch "
                "size, or how many items you took.")
    # Reductions that hit the wrong axis are typical of vectors and matrices, not of batches.
    reduced = _wrong_reduction(got, want) if len(got) <= 2 else None
    if reduced is None:
        return ""
    source, mine, theirs = reduced
    return (
        "If it comes from a reduction (sum, mean, max, argmax...), you may have reduced over "
        f"the wrong axis: dim={mine} vs dim={theirs} (for an input of shape "
        f"{format_shape(source)}, dim={mine} gives {format_shape(got)} and dim={theirs} gives "
        f"{format_shape(want)})."
    )


def _rank_fix(got: Shape, pattern: Pattern, axes: Sequence[str]) -> str:
    longer = len(got) > len(pattern)
    removed = _removed_axes(got, pattern) if longer else _removed_axes(pattern, got)
    if removed is not None:
        sizes = [(got if longer else pattern)[k] for k in removed]
        if all(s in (1, None) for s in sizes):
            return _squeeze_message(removed) if longer else _unsqueeze_message(removed, axes)
    if None in pattern:
        return ""
    want = tuple(int(s) for s in pattern if s is not None)
    if _broadcasts_to(want, got):
        return BROADCAST
    if math.prod(got) == math.prod(want):
        return _reshape_message(want)
    if removed is None:
        return ""
    k = removed[0]
    if longer:
        return (
            f"It has an extra axis {k} (size {got[k]}): reduce over it "
            f"(e.g. .sum(dim={k}) or .mean(dim={k})) or index it away."
        )
    return (
        f"It lacks axis {k}{_axis_name(k, axes)} (size {want[k]}): a reduction such as sum "
        "or mean without dim= (or with the wrong dim), or indexing with a single integer, "
        "removes an axis."
    )


def _squeeze_message(extra: Sequence[int]) -> str:
    calls = "".join(f".squeeze({k})" for k in sorted(extra, reverse=True))
    return f"Remove the extra {_axis_list(extra, ())} (size 1) with `{calls}`."


def _unsqueeze_message(missing: Sequence[int], axes: Sequence[str]) -> str:
    calls = "".join(f".unsqueeze({k})" for k in sorted(missing))
    text = f"Add the missing {_axis_list(missing, axes)} with `{calls}`"
    if len(missing) > 1:
        return f"{text}."
    return f"{text} (or keepdim=True if a reduction removed it)."


def _axis_list(ks: Sequence[int], axes: Sequence[str]) -> str:
    return join_words(f"axis {k}{_axis_name(k, axes)}" for k in ks)


def _permute_message(perm: Shape) -> str:
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


def _reshape_message(want: Shape) -> str:
    dims = ", ".join(map(str, want)) if want else "()"
    return (
        f"It has the right number of elements ({math.prod(want)}) in a different shape: "
        f"use `.reshape({dims})` (or `.view({dims})`)."
    )


def _fits(shape: Sequence[int | None], pattern: Sequence[int | None]) -> bool:
    return len(shape) == len(pattern) and all(
        a is None or b is None or a == b for a, b in zip(shape, pattern, strict=True)
    )


def _removed_axes(longer: Pattern, shorter: Pattern) -> tuple[int, ...] | None:
    """Axes of ``longer`` whose removal leaves ``shorter``, preferring axes of size 1."""
    fitting = [
        combo
        for combo in itertools.combinations(range(len(longer)), len(longer) - len(shorter))
        if _fits([s for k, s in enumerate(longer) if k not in combo], shorter)
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
        if reduced != 1 and want[slot] != 1 and _fits(rest, want):
            rest[slot] = want[slot]
            rest.insert(theirs, reduced)
            return tuple(int(s) for s in rest if s is not None), mine, theirs
    return None


# --------------------------------------------------------------------------- dtype, device


def dtype_problem(
    got: str, expected: str, *, what: str = "`x`", kind: str = "tensor"
) -> str | None:
    """A dtype difference with the conversion a beginner most likely needs."""
    if got == expected:
        return None
    return f"{what} has dtype {got}, expected {expected}: {_dtype_hint(got, expected, kind)}."


def _dtype_hint(got: str, want: str, kind: str) -> str:
    if kind == "ndarray":
        return f"convert with .astype(np.{want})"
    cast = _CASTS.get(want, f".to(torch.{want})")
    if want.startswith("float") and got == "int64":
        return (
            f"Python ints make int64 tensors: write 1.0 instead of 1, pass "
            f"dtype=torch.{want}, or call {cast}"
        )
    if want == "float32" and got == "float64":
        return (
            "float64 comes from numpy arrays (their default, which torch.from_numpy keeps), "
            "from dtype=torch.float64 or from .double(): use .float() or dtype=torch.float32"
        )
    if got == "float32" and not want.startswith("float"):
        return (
            "torch.Tensor(...) always makes float32, while torch.tensor(...) keeps the type of "
            f"the data: use torch.tensor(...) or call {cast}"
        )
    if got == "bool":
        return f"comparisons (==, <, >) give bool tensors: call {cast}"
    if want == "bool":
        return "use a comparison (like x > 0) or call .bool()"
    return f"convert with {cast} or pass dtype=torch.{want} when you create it"


def devices_match(got: str, wanted: str) -> bool:
    """``cuda`` matches ``cuda:0``: a device without an index means any of its kind."""
    if got == wanted:
        return True
    same_kind = got.split(":")[0] == wanted.split(":")[0]
    return same_kind and (":" not in got or ":" not in wanted)


def device_problem(got: str, expected: str, *, what: str = "`x`") -> str | None:
    """A device difference and how to move the value."""
    if devices_match(got, expected):
        return None
    text = f"{what} is on {got}, expected {expected}"
    if got == "cpu" and expected.startswith("cuda"):
        hint = (
            "move it to the GPU with .to(device) (the `device` variable holds the device this "
            "check runs on), or create it there with device=device"
        )
    elif got.startswith("cuda") and expected == "cpu":
        hint = "bring it back with .cpu() (numpy and plotting need CPU tensors)"
    elif got == "meta":
        hint = "a meta tensor has a shape but no values: create it on a real device"
    else:
        hint = "move it with .to(device)"
    return f"{text}: {hint}."


# --------------------------------------------------------------------------- plain values


def _scalar_difference(
    got: Any, expected: bool | int | float, rtol: float, atol: float, what: str
) -> str | None:
    if isinstance(expected, bool) or isinstance(got, bool) or not isinstance(got, (int, float)):
        if type(got) is not type(expected):
            return wrong_type(got, expected, what)
        return None if got == expected else f"{what} is {got}, expected {expected}."
    if isinstance(expected, int):
        if isinstance(got, float):
            return wrong_type(got, expected, what)
        return None if got == expected else f"{what} is {got}, expected {expected}."
    return _float_difference(got, expected, rtol, atol, what)  # an int is fine here


def _float_difference(
    got: float | int, expected: float, rtol: float, atol: float, what: str
) -> str | None:
    if got == expected or (math.isnan(got) and math.isnan(expected)):
        return None
    if math.isnan(got):
        return f"{what} is NaN, expected {format_number(expected)}. {NAN_CAUSES}."
    gap = abs(got - expected)
    if gap <= atol + rtol * abs(expected):
        return None
    return (
        f"{what} is {format_number(got)}, expected {format_number(expected)} (difference "
        f"{format_number(gap)}, tolerance {atol:g} + {rtol:g} × |expected|)."
    )


def _string_difference(got: Any, expected: str, what: str) -> str | None:
    if not isinstance(got, str):
        return wrong_type(got, expected, what)
    if got == expected:
        return None
    pairs = enumerate(zip(got, expected, strict=False))
    at = next((k for k, (a, b) in pairs if a != b), min(len(got), len(expected)))
    return (
        f"{what} is {clip(repr(got))}, expected {clip(repr(expected))} "
        f"(they first differ at character {at})."
    )


def _sequence_difference(
    got: Any, expected: Sequence, rtol: float, atol: float, axes: Sequence[str], what: str
) -> str | None:
    if not isinstance(got, (list, tuple)):  # a list where a tuple is expected is fine
        return wrong_type(got, expected, what)
    if len(got) != len(expected):
        return f"{what} has {_count(len(got), 'item')}, expected {len(expected)}."
    for index, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        problem = describe_difference(
            mine, theirs, rtol=rtol, atol=atol, axes=axes, what=_item(what, index)
        )
        if problem:
            return problem if problem.startswith("item ") else f"item {index}: {problem}"
    return None


def _dict_difference(
    got: Any, expected: dict, rtol: float, atol: float, axes: Sequence[str], what: str
) -> str | None:
    if not isinstance(got, dict):
        return wrong_type(got, expected, what)
    missing = [repr(k) for k in expected if k not in got]
    if missing:
        return f"{what} is missing the {_plural(len(missing), 'key')} {join_words(missing)}."
    extra = [repr(k) for k in got if k not in expected]
    if extra:
        return f"{what} has the unexpected {_plural(len(extra), 'key')} {join_words(extra)}."
    for key, theirs in expected.items():
        problem = describe_difference(
            got[key], theirs, rtol=rtol, atol=atol, axes=axes, what=_item(what, key)
        )
        if problem:
            return problem
    return None


def _module_difference(got: Any, expected: Module, what: str) -> str | None:
    if not isinstance(got, Module):
        return wrong_type(got, expected, what)
    if got.type != expected.type:
        return f"{what} is a {got.type} module, expected a {expected.type}."
    if got.params != expected.params:
        return (
            f"{what} has the parameters {_param_list(got)}, "
            f"expected {_param_list(expected)}."
        )
    return None


def _param_list(module: Module) -> str:
    return clip(", ".join(f"{name} {format_shape(shape)}" for name, shape in module.params), 200)


# --------------------------------------------------------------------------- wording


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
    hint = conversion_hint(got, type_name(expected))
    if not hint:
        return f"{text}."
    return f"{text}: {hint}" if hint.endswith("?") else f"{text}: {hint}."


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
    hints = {
        ("tensor", "list"): "call .tolist()",
        ("tensor", "ndarray"): "call .numpy() (after .detach().cpu() if needed)",
        ("ndarray", "tensor"): "use torch.from_numpy(...) or torch.tensor(...)",
        ("float", "int"): "use int(...), round(...) or integer division //",
    }
    if have in ("list", "tuple", "int", "float", "bool") and wanted == "tensor":
        return "wrap it with torch.tensor(...) (or torch.stack(...) for a list of tensors)"
    return hints.get((have, wanted), "")


def type_name(value: Any) -> str:
    """The name lessons use for a value's type: "tensor", "ndarray", "module", "none", "int"..."""
    if isinstance(value, Tensor):
        return value.kind
    if isinstance(value, Module):
        return "module"
    if isinstance(value, Opaque):
        return value.type
    if value is None:
        return "none"
    return type(value).__name__


def describe(value: Any) -> str:
    """A short noun phrase for any decoded value: "a float32 tensor of shape [3, 4]"."""
    if isinstance(value, Tensor):
        noun = "numpy array" if value.kind == "ndarray" else "tensor"
        where = "" if value.device == "cpu" else f" on {value.device}"
        shape = format_shape(value.shape)
        return f"{article(value.dtype)} {value.dtype} {noun} of shape {shape}{where}"
    if isinstance(value, Module):
        return f"{article(value.type)} {value.type} module"
    if isinstance(value, Opaque):
        return f"{article(value.type)} {value.type} ({clip(value.repr)})"
    if isinstance(value, Raised):
        return f"an error ({value.error.type})"
    if value is MISSING:
        return "not defined"
    if value is None:
        return "None"
    if isinstance(value, (bool, int, float)):
        return f"the {type(value).__name__} {format_number(value)}"
    if isinstance(value, str):
        return f"the string {clip(repr(value))}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"a dict with {_count(len(value), 'key')}"
    return f"{article(type(value).__name__)} {type(value).__name__}"


def describe_kind(value: Any) -> str:
    """Like ``describe`` but without giving away a scalar's value: "a bool", "an int"."""
    if isinstance(value, (bool, int, float)):
        return f"{article(type(value).__name__)} {type(value).__name__}"
    if isinstance(value, str):
        return "a string"
    return describe(value)


def article(word: str) -> str:
    """ "a" or "an" before ``word`` as it is read aloud (an int64, a uint8, an Image)."""
    lowered = word.lower()
    if lowered.startswith(("uint", "uni", "use", "one")):
        return "a"
    return "an" if lowered[:1] in "aeio" else "a"


CALLABLE_TYPES = ("function", "builtin_function_or_method", "method", "method-wrapper",
                  "builtin_method")


def format_shape(shape: Pattern) -> str:
    """``[3, 4]``; a wildcard shows as ``any``."""
    return "[" + ", ".join("any" if s is None else str(s) for s in shape) + "]"


def format_number(x: Any) -> str:
    """Six significant digits for floats; ints and bools as they are."""
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, (bool, int)):
        return str(x)
    text = f"{x:.6g}"
    plain = isinstance(x, float) and text.lstrip("-").isdigit()
    return text + ".0" if plain else text  # 3.0, so that a float never reads as an int


def join_words(words: Iterable[str]) -> str:
    """"a", "a and b", "a, b and c" (at least one word)."""
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _axis_name(k: int, axes: Sequence[str]) -> str:
    return f" ({axes[k]})" if k < len(axes) else ""


def _item(what: str, key: Any) -> str:
    if len(what) > 1 and what.startswith("`") and what.endswith("`"):
        return f"{what[:-1]}[{key!r}]`"
    return f"{what}[{key!r}]"


def _plural(n: int, noun: str) -> str:
    if n == 1:
        return noun
    return "axes" if noun == "axis" else noun + "s"


def _count(n: int, noun: str) -> str:
    return f"{n} {_plural(n, noun)}"


def clip(text: str, limit: int = 60) -> str:
    """At most ``limit`` characters, so one long value cannot flood a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
