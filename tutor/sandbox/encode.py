"""Encode Python and torch values into the framed format (worker side; imports torch).

The inverse, ``tutor.sandbox.frames.decode_value``, runs in the tutor and never sees
an object: only JSON and raw numeric bytes.
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np
import torch

from tutor.sandbox.frames import MAX_DEPTH, MAX_MESSAGE_BYTES, WIRE_DTYPES

MAX_ITEMS = 10_000
MAX_STR = 10_000

_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200


class TooLarge(Exception):
    """The values to send are larger than the channel accepts."""


class Encoder:
    """Collects blobs while turning values into JSON nodes."""

    def __init__(self, limit: int = MAX_MESSAGE_BYTES):
        self.blobs: list[bytes] = []
        self.size = 0
        self.limit = limit

    def blob(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge(f"the result is larger than {self.limit // (1024 * 1024)} MiB")
        self.blobs.append(data)
        return len(self.blobs) - 1

    def value(self, value: Any, depth: int = 0, with_state: bool = False) -> dict:
        if depth > MAX_DEPTH:
            return {"t": "opaque", "type": type(value).__name__, "repr": "(nested too deeply)"}
        if value is None:
            return {"t": "none"}
        if isinstance(value, bool):
            return {"t": "bool", "v": value}
        if isinstance(value, torch.Tensor):
            return self.tensor(value)
        if isinstance(value, torch.nn.Module):
            return self.module(value, with_state)
        if isinstance(value, np.ndarray):
            return self.ndarray(value)
        if isinstance(value, (np.bool_,)):
            return {"t": "bool", "v": bool(value)}
        if isinstance(value, (int, np.integer)):
            return {"t": "int", "v": int(value)}
        if isinstance(value, (float, np.floating)):
            return {"t": "float", "v": _float(float(value))}
        if isinstance(value, str):
            return {"t": "str", "v": value[:MAX_STR]}
        if isinstance(value, (list, tuple)) and len(value) <= MAX_ITEMS:
            kind = "list" if isinstance(value, list) else "tuple"
            return {"t": kind, "items": [self.value(v, depth + 1, with_state) for v in value]}
        if isinstance(value, dict) and len(value) <= MAX_ITEMS:
            items = [
                [self.value(k, depth + 1), self.value(v, depth + 1, with_state)]
                for k, v in value.items()
                if isinstance(k, (str, int, float, bool, tuple)) or k is None
            ]
            return {"t": "dict", "items": items}
        return opaque(value)

    def tensor(self, t: torch.Tensor, with_grad: bool = True) -> dict:
        if type(t) is not torch.Tensor:
            return self._subclass(t, with_grad)
        dtype = str(t.dtype).removeprefix("torch.")
        if dtype not in WIRE_DTYPES or t.layout != torch.strided or t.is_quantized:
            return opaque(t)
        node: dict[str, Any] = {
            "t": "tensor",
            "dtype": dtype,
            "shape": list(t.shape),
            "device": str(t.device),
            "requires_grad": bool(t.requires_grad),
            "is_leaf": bool(t.is_leaf),
            "blob": None,
        }
        if t.device.type != "meta":
            data = t.detach().to("cpu").resolve_conj().resolve_neg()
            if dtype == "bfloat16":
                data = data.float()
            node["blob"] = self.blob(data.contiguous().numpy().astype(WIRE_DTYPES[dtype]).tobytes())
        grad = t.grad if (with_grad and t.is_leaf) else None
        if isinstance(grad, torch.Tensor):
            node["grad"] = self.tensor(grad, with_grad=False)
        return node

    def _subclass(self, t: torch.Tensor, with_grad: bool) -> dict:
        """A Tensor subclass may lie through its methods: read it through the base class."""
        base = torch.Tensor
        node = self.tensor(base.as_subclass(base.detach(t), base), with_grad=False)
        node["requires_grad"] = bool(base.requires_grad.__get__(t))
        node["is_leaf"] = bool(base.is_leaf.__get__(t))
        grad = base.grad.__get__(t) if with_grad else None
        if isinstance(grad, torch.Tensor):
            node["grad"] = self.tensor(base.as_subclass(grad, base), with_grad=False)
        return node

    def ndarray(self, a: np.ndarray) -> dict:
        dtype = a.dtype.name
        if dtype not in WIRE_DTYPES or a.ndim > 8:
            return opaque(a)
        data = np.ascontiguousarray(a).astype(WIRE_DTYPES[dtype]).tobytes()
        return {"t": "ndarray", "dtype": dtype, "shape": list(a.shape), "device": "cpu",
                "blob": self.blob(data)}

    def module(self, module: torch.nn.Module, with_state: bool = False) -> dict:
        params = list(module.named_parameters())
        node: dict[str, Any] = {
            "t": "module",
            "type": type(module).__name__,
            "n_params": sum(p.numel() for _, p in params),
            "n_trainable": sum(p.numel() for _, p in params if p.requires_grad),
            "children": [[name, type(child).__name__] for name, child in module.named_children()],
            "params": [[name, list(p.shape)] for name, p in params],
            "training": bool(module.training),
        }
        if with_state:
            node["state"] = {
                name: self.tensor(value, with_grad=False)
                for name, value in module.state_dict().items()
                if isinstance(value, torch.Tensor)
            }
        return node


def opaque(value: Any) -> dict:
    try:
        text = _repr.repr(value)
    except Exception:  # a learner's __repr__ may raise anything
        text = "<unrepresentable>"
    return {"t": "opaque", "type": type(value).__name__, "repr": text}


def _float(x: float) -> float | str:
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return x
