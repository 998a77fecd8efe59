"""Encode Python and torch values into the wire format (worker side; imports torch).

The inverse, ``tutor.sandbox.wire.to_value``, runs in the tutor and never sees an object:
only typed JSON and raw numeric bytes.
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np
import torch

from tutor.sandbox import wire as w

MAX_ITEMS = 10_000
MAX_STR = 10_000

_repr = reprlib.Repr()
_repr.maxstring = 200
_repr.maxother = 200


class TooLarge(Exception):
    """The values to send are larger than the channel accepts."""


class Encoder:
    """Collects blobs while turning values into wire values.

    ``summary`` leaves tensor data out: what a call check's inputs were, for messages.
    """

    def __init__(self, limit: int, summary: bool = False):
        self.blobs: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.summary = summary

    def blob(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge()
        self.blobs.append(data)
        return len(self.blobs) - 1

    def value(self, value: Any, depth: int = 0, with_state: bool = False) -> w.AnyValue:
        if depth > w.MAX_DEPTH:
            return w.OpaqueV(type=type(value).__name__, repr="(nested too deeply)")
        if value is None:
            return w.NoneV()
        if isinstance(value, (bool, np.bool_)):
            return w.BoolV(v=bool(value))
        if isinstance(value, torch.Tensor):
            return self.tensor(value)
        if isinstance(value, torch.nn.Module):
            return self.module(value, with_state)
        if isinstance(value, np.ndarray):
            return self.ndarray(value)
        if isinstance(value, (int, np.integer)):
            return w.IntV(v=int(value))
        if isinstance(value, (float, np.floating)):
            return w.FloatV(v=_float(float(value)))
        if isinstance(value, str):
            return w.StrV(v=value[:MAX_STR])
        if isinstance(value, (list, tuple)) and len(value) <= MAX_ITEMS:
            items = [self.value(item, depth + 1, with_state) for item in value]
            return w.ListV(items=items) if isinstance(value, list) else w.TupleV(items=items)
        if isinstance(value, dict) and len(value) <= MAX_ITEMS:
            return w.DictV(items=[
                (self.value(k, depth + 1), self.value(item, depth + 1, with_state))
                for k, item in value.items()
                if isinstance(k, (str, int, float, bool, tuple)) or k is None
            ])
        return opaque(value)

    def tensor(self, t: torch.Tensor, with_grad: bool = True) -> w.AnyValue:
        if type(t) is not torch.Tensor:
            return self._subclass(t, with_grad)
        dtype = str(t.dtype).removeprefix("torch.")
        if dtype not in w.WIRE_DTYPES or t.layout != torch.strided or t.is_quantized:
            return opaque(t)
        node = w.TensorV(
            dtype=dtype, shape=list(t.shape), device=str(t.device),
            requires_grad=bool(t.requires_grad), is_leaf=bool(t.is_leaf),
        )
        if t.device.type != "meta" and not self.summary:
            data = t.detach().to("cpu").resolve_conj().resolve_neg()
            if dtype == "bfloat16":
                data = data.float()
            raw = data.contiguous().numpy().astype(w.WIRE_DTYPES[dtype]).tobytes()
            node.blob = self.blob(raw)
        grad = t.grad if (with_grad and t.is_leaf and not self.summary) else None
        if isinstance(grad, torch.Tensor):
            node.grad = self._plain(self.tensor(grad, with_grad=False))
        return node

    def _subclass(self, t: torch.Tensor, with_grad: bool) -> w.AnyValue:
        """A Tensor subclass may lie through its methods: read it through the base class."""
        base = torch.Tensor
        node = self.tensor(base.as_subclass(base.detach(t), base), with_grad=False)
        if not isinstance(node, w.TensorV):
            return node
        node.requires_grad = bool(base.requires_grad.__get__(t))  # type: ignore[attr-defined]
        node.is_leaf = bool(base.is_leaf.__get__(t))  # type: ignore[attr-defined]
        grad = base.grad.__get__(t) if with_grad else None  # type: ignore[union-attr]
        if isinstance(grad, torch.Tensor):
            node.grad = self._plain(self.tensor(base.as_subclass(grad, base), with_grad=False))
        return node

    @staticmethod
    def _plain(node: w.AnyValue) -> w.TensorV | None:
        return node if isinstance(node, w.TensorV) else None

    def ndarray(self, a: np.ndarray) -> w.AnyValue:
        dtype = a.dtype.name
        if dtype not in w.WIRE_DTYPES or a.ndim > w.MAX_RANK:
            return opaque(a)
        node = w.ArrayV(dtype=dtype, shape=list(a.shape), device="cpu")
        if not self.summary:
            node.blob = self.blob(np.ascontiguousarray(a).astype(w.WIRE_DTYPES[dtype]).tobytes())
        return node

    def module(self, module: torch.nn.Module, with_state: bool = False) -> w.ModuleV:
        params = list(module.named_parameters())
        node = w.ModuleV(
            type=type(module).__name__,
            n_params=sum(p.numel() for _, p in params),
            n_trainable=sum(p.numel() for _, p in params if p.requires_grad),
            children=[(name, type(child).__name__) for name, child in module.named_children()],
            params=[(name, list(p.shape)) for name, p in params],
            training=bool(module.training),
        )
        if with_state:
            state = {}
            for name, value in module.state_dict().items():
                if isinstance(value, torch.Tensor):
                    encoded = self._plain(self.tensor(value, with_grad=False))
                    if encoded is not None:
                        state[name] = encoded
            node.state = state
        return node


def opaque(value: Any) -> w.OpaqueV:
    """A value the tutor cannot compare: its type, a short repr, and the sizes that let a
    message name it as a person would ("a DataLoader over 1,000 items in batches of 64")."""
    try:
        text = _repr.repr(value)
    except Exception:  # a learner's __repr__ may raise anything
        text = "<unrepresentable>"
    node = w.OpaqueV(type=type(value).__name__[:200], repr=text)
    node.length = _length(value)
    batch_size = getattr(value, "batch_size", None) if hasattr(value, "dataset") else None
    if isinstance(batch_size, int) and not isinstance(batch_size, bool):
        dataset_length = _length(getattr(value, "dataset", None))
        if dataset_length is not None:
            node.details = {"length": dataset_length, "batch_size": batch_size}
    return node


def _length(value: Any) -> int | None:
    """``len(value)`` where it has one; a learner's ``__len__`` may raise or lie."""
    try:
        length = len(value)
    except Exception:
        return None
    return length if isinstance(length, int) and length >= 0 else None


def _float(x: float) -> float | str:
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return x
