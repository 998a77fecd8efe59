"""The framed wire format between the tutor and its worker processes.

One message is ``MAGIC | header length (u32, big-endian) | JSON header | blobs``.
Tensors travel as raw little-endian bytes described by a header entry; nothing is
ever unpickled. Decoding validates every tensor (dtype allowlist, rank, shape,
byte length) before numpy sees a byte, so a learner process that forges bytes on
the channel can only produce a decoding error, never an object of its choosing.

This module imports neither torch nor textual: the decoding side runs in the UI.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"PTT1"
MAX_HEADER_BYTES = 8 * 1024 * 1024
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_RANK = 8
MAX_DEPTH = 32

# dtype name -> numpy dtype used on the wire. bfloat16 travels as float32.
WIRE_DTYPES: dict[str, str] = {
    "float16": "<f2",
    "float32": "<f4",
    "float64": "<f8",
    "bfloat16": "<f4",
    "complex64": "<c8",
    "complex128": "<c16",
    "int8": "<i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
    "uint8": "<u1",
    "bool": "|b1",
}


class FrameError(ValueError):
    """Bytes on a channel that are not a well-formed message."""


# --------------------------------------------------------------------------- values


@dataclass
class Tensor:
    """A tensor (or numpy array) as it crossed the channel; ``data`` is None on meta."""

    dtype: str
    shape: tuple[int, ...]
    device: str = "cpu"
    requires_grad: bool = False
    is_leaf: bool = True
    grad: Tensor | None = None
    data: np.ndarray | None = None
    kind: str = "tensor"  # or "ndarray"

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass
class Module:
    """What the tutor needs to know about an ``nn.Module`` without holding one."""

    type: str
    n_params: int
    n_trainable: int
    children: list[tuple[str, str]]
    params: list[tuple[str, tuple[int, ...]]]
    training: bool
    state: dict[str, Tensor] | None = None


@dataclass
class Opaque:
    """A value the tutor cannot compare structurally: its type and a short repr."""

    type: str
    repr: str


@dataclass
class ErrorInfo:
    """An exception raised by code in a worker, trimmed to the learner's own frames."""

    type: str
    message: str
    frames: list[dict[str, Any]] = field(default_factory=list)  # {"line", "name", "text"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ErrorInfo:
        frames = data.get("frames") or []
        if not isinstance(frames, list):
            raise FrameError("error frames must be a list")
        return cls(str(data.get("type", "Error")), str(data.get("message", "")), frames)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "frames": self.frames}

    def format(self, heading: str = "Traceback (your code):") -> str:
        """A traceback trimmed to the learner's code, with their file's line numbers."""
        lines = [heading] if self.frames else []
        for frame in self.frames:
            where = frame.get("name") or "<module>"
            lines.append(f"  line {frame.get('line')}, in {where}")
            if frame.get("text"):
                lines.append(f"    {frame['text']}")
        lines.append(f"{self.type}: {self.message}" if self.message else self.type)
        return "\n".join(lines)


class Missing:
    """The learner's namespace has no such name."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


@dataclass
class Raised:
    """A probe whose learner code raised instead of returning a value."""

    error: ErrorInfo


# --------------------------------------------------------------------------- messages


def pack(header: dict[str, Any], blobs: list[bytes] | None = None) -> bytes:
    """Serialise one message. ``header`` must be JSON; ``blobs`` are referenced by index."""
    blobs = blobs or []
    header = dict(header, blobs=[len(b) for b in blobs])
    raw = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    return b"".join([MAGIC, struct.pack(">I", len(raw)), raw, *blobs])


def read_message(stream: BinaryIO, limit: int = MAX_MESSAGE_BYTES) -> tuple[dict, list[bytes]]:
    """Read exactly one message from a blocking stream."""
    head = _read_exact(stream, 8)
    if head[:4] != MAGIC:
        raise FrameError("the channel does not start with a message")
    (size,) = struct.unpack(">I", head[4:])
    if size > MAX_HEADER_BYTES:
        raise FrameError("message header too large")
    header = _parse_header(_read_exact(stream, size))
    sizes = header["blobs"]
    if sum(sizes) > limit:
        raise FrameError("result too large")
    return header, [_read_exact(stream, n) for n in sizes]


def unpack(data: bytes, limit: int = MAX_MESSAGE_BYTES) -> tuple[dict, list[bytes]]:
    """Parse one complete message held in memory; trailing bytes are an error."""
    if len(data) > limit + MAX_HEADER_BYTES:
        raise FrameError("result too large")
    if len(data) < 8 or data[:4] != MAGIC:
        raise FrameError("the channel does not hold a message")
    (size,) = struct.unpack(">I", data[4:8])
    if size > MAX_HEADER_BYTES or 8 + size > len(data):
        raise FrameError("message header is truncated")
    header = _parse_header(data[8 : 8 + size])
    blobs, offset = [], 8 + size
    for n in header["blobs"]:
        if offset + n > len(data):
            raise FrameError("message body is truncated")
        blobs.append(data[offset : offset + n])
        offset += n
    if offset != len(data):
        raise FrameError("unexpected bytes after the message")
    return header, blobs


def _parse_header(raw: bytes) -> dict:
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"message header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise FrameError("message header is not an object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in sizes
    ):
        raise FrameError("blob sizes must be non-negative integers")
    header["blobs"] = sizes
    return header


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise FrameError("the channel closed in the middle of a message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- decoding


def decode_value(node: Any, blobs: list[bytes], depth: int = 0) -> Any:
    """Turn one encoded value (see ``tutor.sandbox.encode``) into plain Python + numpy."""
    if depth > MAX_DEPTH:
        raise FrameError("value nested too deeply")
    if not isinstance(node, dict) or "t" not in node:
        raise FrameError("malformed value")
    kind = node["t"]
    if kind == "none":
        return None
    if kind == "missing":
        return MISSING
    if kind in ("bool", "int", "str"):
        value = node.get("v")
        expected = {"bool": bool, "int": int, "str": str}[kind]
        if not isinstance(value, expected) or (kind == "int" and isinstance(value, bool)):
            raise FrameError(f"malformed {kind}")
        return value
    if kind == "float":
        return _decode_float(node.get("v"))
    if kind in ("list", "tuple"):
        items = [decode_value(item, blobs, depth + 1) for item in _as_list(node.get("items"))]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        out = {}
        for pair in _as_list(node.get("items")):
            if not isinstance(pair, list) or len(pair) != 2:
                raise FrameError("malformed dict item")
            key = decode_value(pair[0], blobs, depth + 1)
            if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                raise FrameError("unhashable dict key")
            out[key] = decode_value(pair[1], blobs, depth + 1)
        return out
    if kind in ("tensor", "ndarray"):
        return _decode_tensor(node, blobs, depth)
    if kind == "module":
        return _decode_module(node, blobs, depth)
    if kind == "raised":
        return Raised(ErrorInfo.from_json(_as_dict(node.get("error"))))
    if kind == "opaque":
        return Opaque(str(node.get("type", "?")), str(node.get("repr", ""))[:500])
    raise FrameError(f"unknown value kind {kind!r}")


def _decode_float(value: Any) -> float:
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise FrameError("malformed float")


def _decode_tensor(node: dict, blobs: list[bytes], depth: int) -> Tensor:
    dtype = node.get("dtype")
    if dtype not in WIRE_DTYPES:
        raise FrameError(f"dtype {dtype!r} is not allowed")
    shape = _as_list(node.get("shape"))
    if len(shape) > MAX_RANK:
        raise FrameError("tensor rank above 8")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise FrameError("tensor shape must be non-negative integers")
    device = node.get("device", "cpu")
    if not isinstance(device, str) or len(device) > 32:
        raise FrameError("malformed device")
    data = None
    blob_index = node.get("blob")
    if blob_index is not None:
        if not isinstance(blob_index, int) or not 0 <= blob_index < len(blobs):
            raise FrameError("tensor refers to a missing blob")
        wire = np.dtype(WIRE_DTYPES[dtype])
        raw = blobs[blob_index]
        if len(raw) != math.prod(shape) * wire.itemsize:
            raise FrameError("tensor byte length does not match its shape")
        data = np.frombuffer(raw, dtype=wire).reshape(shape)
    grad = node.get("grad")
    return Tensor(
        dtype=dtype,
        shape=tuple(shape),
        device=device,
        requires_grad=bool(node.get("requires_grad", False)),
        is_leaf=bool(node.get("is_leaf", True)),
        grad=_decode_tensor(grad, blobs, depth + 1) if isinstance(grad, dict) else None,
        data=data,
        kind=node["t"],
    )


def _decode_module(node: dict, blobs: list[bytes], depth: int) -> Module:
    state = node.get("state")
    decoded_state = None
    if state is not None:
        decoded_state = {
            str(name): _decode_tensor(_as_dict(value), blobs, depth + 1)
            for name, value in _as_dict(state).items()
        }
    return Module(
        type=str(node.get("type", "?")),
        n_params=int(node.get("n_params", 0)),
        n_trainable=int(node.get("n_trainable", 0)),
        children=[(str(a), str(b)) for a, b in _as_list(node.get("children"))],
        params=[(str(a), tuple(int(x) for x in b)) for a, b in _as_list(node.get("params"))],
        training=bool(node.get("training", False)),
        state=decoded_state,
    )


def _as_list(value: Any) -> list:
    if not isinstance(value, list):
        raise FrameError("expected a list")
    return value


def _as_dict(value: Any) -> dict:
    if not isinstance(value, dict):
        raise FrameError("expected an object")
    return value
