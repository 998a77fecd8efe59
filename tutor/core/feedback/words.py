"""The words feedback is made of: how a value, a shape, a number or a list of names reads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tutor.core.values import MISSING, Module, Opaque, Raised, Tensor

Pattern = Sequence[int | None]  # a shape where None matches any size
CALLABLE_TYPES = ("function", "builtin_function_or_method", "method", "method-wrapper",
                  "builtin_method")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_DESCRIBED_TYPES = {  # objects a worker describes by their size: what to call them
    "DataLoader": "a DataLoader over {length:,} items in batches of {batch_size}",
}


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
        return _describe_object(value)
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
        return _describe_sequence(value)
    if isinstance(value, dict):
        return f"a dict with {count(len(value), 'key')}"
    return f"{article(type(value).__name__)} {type(value).__name__}"


def _describe_sequence(value: list[Any] | tuple[Any, ...]) -> str:
    """"a list of 4 float32 tensors of shape [1, 28, 28]" when the items are alike."""
    kind = type(value).__name__
    if value and all(isinstance(v, Tensor) for v in value):
        first = value[0]
        if all((v.dtype, v.shape, v.device, v.kind) == (first.dtype, first.shape, first.device,
                                                        first.kind) for v in value):
            noun = "numpy arrays" if first.kind == "ndarray" else "tensors"
            where = "" if first.device == "cpu" else f" on {first.device}"
            return (f"a {kind} of {len(value)} {first.dtype} {noun} of shape "
                    f"{format_shape(first.shape)}{where}")
    if value and all(type(v) is type(value[0]) for v in value) and isinstance(
            value[0], (bool, int, float, str)):
        noun = {"str": "string", "bool": "bool"}.get(type(value[0]).__name__,
                                                     type(value[0]).__name__)
        return f"a {kind} of {count(len(value), noun)}"
    return f"a {kind} of {count(len(value), 'item')}"


def _describe_object(value: Opaque) -> str:
    """An object as a person would name it; never a memory address."""
    if value.type == "function":
        named = re.match(r"<function (\S+)", value.repr)
        return f"the function `{named[1]}`" if named else "a function"
    template = _DESCRIBED_TYPES.get(value.type)
    if template is not None and value.details:
        try:
            return template.format(**value.details)
        except (KeyError, ValueError):
            pass
    if value.length is not None:
        return f"{article(value.type)} {value.type} of {count(value.length, 'item')}"
    shown = _ADDRESS.sub("", value.repr)
    if not shown or shown.startswith("<"):
        return f"{article(value.type)} {value.type}"
    return f"{article(value.type)} {value.type} ({clip(shown)})"


def small_value(value: Any, limit: int = 10) -> str:
    """A value short enough to show in full ("[4.0, 16.0, 36.0]", "3"), else ""."""
    if isinstance(value, Tensor) and value.data is not None and value.numel <= limit:
        values = ", ".join(format_number(v) for v in value.data.reshape(-1))
        shape = "" if value.data.ndim == 1 else f" (shape {format_shape(value.shape)})"
        return f"[{values}]{shape}" if value.data.ndim else format_number(value.data.item())
    if isinstance(value, (bool, int, float)):
        return format_number(value)
    if isinstance(value, str):
        return clip(repr(value))
    return ""


def describe_kind(value: Any) -> str:
    """Like ``describe`` but without giving away a scalar's value: "a bool", "an int"."""
    if isinstance(value, (bool, int, float)):
        return f"{article(type(value).__name__)} {type(value).__name__}"
    if isinstance(value, str):
        return "a string"
    return describe(value)


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


def article(word: str) -> str:
    """ "a" or "an" before ``word`` as it is read aloud (an int64, a uint8, an Image)."""
    lowered = word.lower()
    if lowered.startswith(("uint", "uni", "use", "one")):
        return "a"
    return "an" if lowered[:1] in "aeio" else "a"


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


def join_words(words: Iterable[str], last: str = "and") -> str:
    """"a", "a and b", "a, b and c" (at least one word)."""
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {last} " + items[-1]


def axis_name(k: int, axes: Sequence[str]) -> str:
    """" (C)" when the step named axis ``k``."""
    return f" ({axes[k]})" if k < len(axes) else ""


def axis_list(ks: Sequence[int], axes: Sequence[str]) -> str:
    return join_words(f"axis {k}{axis_name(k, axes)}" for k in ks)


def item(what: str, key: Any) -> str:
    """"`x[0]`" from "`x`" and 0."""
    if len(what) > 1 and what.startswith("`") and what.endswith("`"):
        return f"{what[:-1]}[{key!r}]`"
    return f"{what}[{key!r}]"


def plural(n: int, noun: str) -> str:
    if n == 1:
        return noun
    return "axes" if noun == "axis" else noun + "s"


def count(n: int, noun: str) -> str:
    return f"{n:,} {plural(n, noun)}"


def clip(text: str, limit: int = 60) -> str:
    """At most ``limit`` characters, so one long value cannot flood a message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
