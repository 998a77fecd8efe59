"""The framed wire format between the tutor and its worker processes, typed with msgspec.

One message is ``MAGIC | header length (u32, big-endian) | JSON header | blobs``. The header
is one of the Structs below (a request, a result, a judge's metrics); tensors travel as raw
little-endian bytes that a header entry describes. Nothing is ever unpickled: decoding checks
the header against its type, then every tensor (dtype allowlist, rank, shape, byte length)
before numpy sees a byte, so a learner process that forges bytes on the channel can only
produce a ``FrameError``, never an object of its choosing.

This module imports neither torch nor textual: the decoding side runs in the tutor.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Sequence
from typing import Annotated, Any, BinaryIO, TypeVar

import msgspec
import numpy as np

from tutor.core import values as v
from tutor.core.runs import AnyProbe, Metric

MAGIC = b"PTT2"
MAX_HEADER_BYTES = 8 * 1024 * 1024
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

Size = Annotated[int, msgspec.Meta(ge=0)]
Short = Annotated[str, msgspec.Meta(max_length=32)]


class FrameError(ValueError):
    """Bytes on a channel that are not a well-formed message."""


# --------------------------------------------------------------------------- values


class Value(msgspec.Struct, tag_field="t", kw_only=True):
    """Base of every encoded value; ``t`` names its kind."""


class NoneV(Value, tag="none"):
    pass


class MissingV(Value, tag="missing"):
    pass


class BoolV(Value, tag="bool"):
    v: bool


class IntV(Value, tag="int"):
    v: int


class FloatV(Value, tag="float"):
    v: float | str  # "nan", "inf" and "-inf" as text: JSON has no such numbers


class StrV(Value, tag="str"):
    v: str


class ListV(Value, tag="list"):
    items: list[AnyValue]


class TupleV(Value, tag="tuple"):
    items: list[AnyValue]


class DictV(Value, tag="dict"):
    items: list[tuple[AnyValue, AnyValue]]


class TensorV(Value, tag="tensor"):
    dtype: str
    shape: list[Size]
    device: Short = "cpu"
    requires_grad: bool = False
    is_leaf: bool = True
    blob: Size | None = None  # None: no values (meta, or a summary)
    grad: TensorV | None = None


class ArrayV(TensorV, tag="ndarray"):
    """A numpy array: the fields of a tensor, on the CPU."""


class ModuleV(Value, tag="module"):
    type: str
    n_params: Size
    n_trainable: Size
    children: list[tuple[str, str]]
    params: list[tuple[str, list[Size]]]
    training: bool
    state: dict[str, TensorV] | None = None


class OpaqueV(Value, tag="opaque"):
    type: str
    repr: str
    length: Size | None = None
    details: dict[Short, int | Short] = {}


MAX_FRAMES = 64  # after the worker collapsed recursion and left out the middle of the rest
MAX_OPERANDS = 8
Column = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=1000)]
ShapeV = Annotated[list[Size], msgspec.Meta(max_length=MAX_RANK)]


class FrameV(msgspec.Struct):
    """One line of the learner's code in a traceback; ``col``/``end_col`` (characters into
    ``text``) mark the expression that failed, where it lies on that one line."""

    line: int | None
    name: Name = ""
    text: Text = ""
    col: Column | None = None
    end_col: Column | None = None
    repeats: Size = 0  # the same frame again, this many more times (recursion)
    hidden: Size = 0  # frames left out after this one


class OperandV(msgspec.Struct, kw_only=True):
    """One operand of the failing expression: what it is, never what it holds."""

    text: Text  # the operand's source, as the learner wrote it
    type: Name
    shape: Annotated[list[Size], msgspec.Meta(max_length=MAX_RANK)] | None = None
    dtype: Short = ""
    device: Short = ""
    detail: Text = ""  # a torch layer's own settings ("in_features=784, out_features=10")
    items: Size | None = None  # the length of a list or a tuple
    of: Name = ""  # the type all its items share
    within: Text = ""  # the operand this one is a part of


class ErrorV(msgspec.Struct):
    type: Name
    message: Annotated[str, msgspec.Meta(max_length=8000)]
    frames: Annotated[list[FrameV], msgspec.Meta(max_length=MAX_FRAMES)] = []
    expression: Text = ""  # the failing expression on the last frame's line
    operands: Annotated[list[OperandV], msgspec.Meta(max_length=MAX_OPERANDS)] = []


class RaisedV(Value, tag="raised"):
    error: ErrorV


class CalledV(Value, tag="called"):
    results: list[AnyValue]
    args: list[list[AnyValue]]
    kwargs: list[list[tuple[str, AnyValue]]]
    mutated: list[list[Annotated[str, msgspec.Meta(max_length=64)]]] = []


class BuiltV(Value, tag="built"):
    module: AnyValue
    output: AnyValue | None = None


AnyValue = (
    NoneV | MissingV | BoolV | IntV | FloatV | StrV | ListV | TupleV | DictV | TensorV | ArrayV
    | ModuleV | OpaqueV | RaisedV | CalledV | BuiltV
)


# --------------------------------------------------------------------------- headers


class Header(msgspec.Struct, kw_only=True):
    blobs: list[Size] = []  # the byte length of each blob after the header, in order


class ChildLimits(msgspec.Struct, kw_only=True):
    """The limits as the worker applies them to itself (rlimits and caps)."""

    cpu_s: int = 0  # CPU seconds of the step's code, counted from when it starts
    start_cpu_s: int = 0  # CPU seconds before it (importing torch): RLIMIT_CPU until then
    data_bytes: int = 0  # 0: no RLIMIT_DATA (CUDA runs)
    fsize_bytes: int = 0
    nofile: int = 0
    processes: int = 0
    result_bytes: int = 64 * 1024 * 1024


class GpuSlots(msgspec.Struct):
    dir: str
    slots: int


class Request(Header, tag="request"):
    role: str
    code: str
    filename: str = "<your code>"
    setup: str = ""
    probes: list[AnyProbe] = []
    metrics: list[Metric] = []
    judge: bool = False
    seed: int = 0
    device: str = "cpu"
    data_dir: str = ""
    threads: int = 1
    limits: ChildLimits = msgspec.field(default_factory=ChildLimits)
    protect: list[str] = []
    cuda_off: dict[str, str] = {}  # layers a CUDA run goes without, and why (the probe's)
    gpu: GpuSlots | None = None
    shapes: bool = False
    layer_inputs: list[tuple[Name, ShapeV]] = []


class Layer(msgspec.Struct):
    active: bool
    detail: str


class Started(Header, tag="started"):
    """Sent as the step's code (its setup, then the program) starts: what the worker had
    used until then, so that the tutor counts the code's own CPU and waiting from here."""

    cpu_s: float  # CPU time of the worker so far (interpreter, torch import)
    wait_s: float | None = None  # time it spent ready to run but waiting for a CPU (Linux)


class Result(Header, tag="result"):
    """A worker's values, or why it has none (``status`` as in ``tutor.core.runs.Status``)."""

    status: str
    role: str = ""
    device: str = ""
    isolation: dict[str, Layer] = {}
    error: ErrorV | None = None
    failed_in: str = ""
    values: dict[str, AnyValue] = {}
    cpu_s: float | None = None  # the worker's CPU time at the end (``Started`` has the start)
    wait_s: float | None = None


class Measured(Header, tag="measured"):
    """A judge's metric values, by metric id."""

    metrics: dict[str, AnyValue] = {}


# What ``show(x)`` and ``report(...)`` may send: small, so that a loop of them cannot flood
# the tutor; the worker cuts a tensor down to fit, the tutor refuses anything larger.
SHOWN_VALUES = 16384  # float32 values of one picture (64 KiB)
SHOWN_PANELS = 16  # 2-D slices of a 3-D or 4-D tensor
SHOWN_NAMES = 64  # names of a heat map's rows or columns (show(x, labels=...))
SHOWN_HOLDERS = 8  # the learner's variables that hold a shown tensor
SHOWN_PER_RUN = 32  # pictures a run may send; later ones are dropped
REPORTED_SERIES = 8  # values of one ``report(...)``
REPORTED_PER_RUN = 5000  # reports a run may send; later ones are dropped
Label = Annotated[str, msgspec.Meta(max_length=64)]


class Shown(Header, tag="shown"):
    """A picture of a tensor (``show(x)``): ``data`` the values the worker kept (float32,
    at most 3-D: a row, a slice, or a stack of slices), with the tensor's own shape and dtype."""

    data: TensorV
    shape: Annotated[list[Size], msgspec.Meta(max_length=MAX_RANK)]
    dtype: Short
    title: Label = ""
    labels: Annotated[list[Short], msgspec.Meta(max_length=SHOWN_PANELS)] = []
    names: Annotated[list[Short], msgspec.Meta(max_length=SHOWN_NAMES)] = []  # of the axes
    every: Annotated[int, msgspec.Meta(ge=1)] = 1
    held_by: Annotated[list[Short], msgspec.Meta(max_length=SHOWN_HOLDERS)] = []  # variables


class Reported(Header, tag="reported"):
    """One ``report(epoch=..., loss=...)``: numbers by name ("nan", "inf" as text)."""

    values: Annotated[list[tuple[Short, float | str]], msgspec.Meta(max_length=REPORTED_SERIES)]


# What a run's "shapes at a glance" may hold (``tutor.sandbox.shapes``): the worker keeps
# within these, the tutor refuses anything larger.
SHAPED_NAMES = 40  # names the code assigned at module level
SHAPED_LAYERS = 30  # layers of one module's table
SHAPED_TABLES = 2  # modules with a table


class NamedShape(msgspec.Struct, kw_only=True):
    """A name the code assigned at module level, on ``line``, and what it holds at the end:
    a tensor's shape and dtype, or a module's type and parameter count."""

    line: Size
    name: Name
    type: Name
    shape: ShapeV | None = None
    dtype: Short = ""
    params: Size | None = None


class LayerShape(msgspec.Struct, kw_only=True):
    """One direct child of a module during one forward pass: what went in and came out."""

    name: Name
    type: Name
    input: ShapeV | None = None
    output: ShapeV | None = None
    params: Size = 0
    calls: Size = 1  # times it ran in that pass (0: never)


class LayerTable(msgspec.Struct, kw_only=True):
    """A module run once on the input its ``module`` check uses, layer by layer."""

    name: Name
    type: Name
    input: ShapeV
    output: ShapeV | None = None
    error: Text = ""  # the forward pass raised: its type and message, cut short
    params: Size = 0
    layers: Annotated[list[LayerShape], msgspec.Meta(max_length=SHAPED_LAYERS)] = []
    more: Size = 0  # layers left out


class Shapes(Header, tag="shapes"):
    """What the code's names and modules look like after it ran, sent once before the
    result."""

    names: Annotated[list[NamedShape], msgspec.Meta(max_length=SHAPED_NAMES)] = []
    more: Size = 0  # names left out
    tables: Annotated[list[LayerTable], msgspec.Meta(max_length=SHAPED_TABLES)] = []


H = TypeVar("H", bound=Header)
Opening = Started | Result  # a worker's first message: its code started, or it never ran
# after ``Started``: pictures and progress, the shapes, then the result
Streamed = Shown | Reported | Shapes | Result


# --------------------------------------------------------------------------- framing

_encoder = msgspec.json.Encoder()


def pack(header: Header, blobs: Sequence[bytes] = ()) -> bytes:
    """Serialise one message; ``blobs`` are referenced by index from the header."""
    header.blobs = [len(b) for b in blobs]
    raw = _encoder.encode(header)
    return b"".join([MAGIC, struct.pack(">I", len(raw)), raw, *blobs])


def read_message(stream: BinaryIO, kind: type[H], limit: int) -> tuple[H, list[bytes]]:
    """Read exactly one message of type ``kind`` from a blocking stream."""
    header, blobs = _read(stream, kind, limit)
    return header, blobs


def read_opening(stream: BinaryIO, limit: int) -> tuple[Started | Result, list[bytes]]:
    """A worker's first message: ``Started`` as its code starts, or at once its ``Result``
    (it failed before any code ran)."""
    header, blobs = _read(stream, Opening, limit)
    return header, blobs


def read_streamed(stream: BinaryIO, limit: int
                  ) -> tuple[Shown | Reported | Shapes | Result, list[bytes]]:
    """The next message after ``Started``: a picture, progress, the shapes, or the result."""
    header, blobs = _read(stream, Streamed, limit)
    return header, blobs


def event_value(header: Shown | Reported | Shapes, blobs: list[bytes]) -> v.Event:
    """A picture, a report or the shapes as the core's value; raises FrameError on forged
    content."""
    if isinstance(header, Shapes):
        if blobs:
            raise FrameError("shapes carry no tensor data")
        return _shapes(header)
    if isinstance(header, Reported):
        return v.Reported(tuple((v.plain_text(name), _float(value))
                                for name, value in header.values))
    data = header.data
    if (data.dtype != "float32" or len(data.shape) > 3 or data.blob is None
            or math.prod(data.shape) > SHOWN_VALUES or len(blobs) != 1):
        raise FrameError("a picture must hold at most 16384 float32 values")
    if header.dtype not in WIRE_DTYPES and header.dtype not in _SHOWN_DTYPES:
        raise FrameError(f"dtype {header.dtype!r} is not allowed")
    values = _tensor(data, blobs, 0).data
    assert values is not None
    return v.Shown(values, tuple(header.shape), header.dtype, v.plain_text(header.title),
                   tuple(v.plain_text(label) for label in header.labels), header.every,
                   tuple(v.plain_text(name) for name in header.names),
                   held_by=tuple(v.plain_text(name) for name in header.held_by))


def _shapes(header: Shapes) -> v.Shapes:
    def shape(dims: list[int] | None) -> tuple[int, ...] | None:
        return None if dims is None else tuple(dims)

    text = v.plain_text
    names = tuple(v.NamedShape(n.line, text(n.name), text(n.type), shape(n.shape),
                               text(n.dtype), n.params) for n in header.names)
    tables = tuple(v.LayerTable(
        text(t.name), text(t.type), tuple(t.input), shape(t.output), text(t.error), t.params,
        tuple(v.LayerShape(text(a.name), text(a.type), shape(a.input), shape(a.output),
                           a.params, a.calls) for a in t.layers), t.more)
        for t in header.tables)
    return v.Shapes(names, header.more, tables)


_SHOWN_DTYPES = ("uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2")


def _read(stream: BinaryIO, kind: Any, limit: int) -> tuple[Any, list[bytes]]:
    head = _read_exact(stream, 8)
    if head[:4] != MAGIC:
        raise FrameError("the channel does not start with a message")
    (size,) = struct.unpack(">I", head[4:])
    if size > MAX_HEADER_BYTES:
        raise FrameError("message header too large")
    header = _parse_header(_read_exact(stream, size), kind)
    if sum(header.blobs) > limit:
        raise FrameError("result too large")
    return header, [_read_exact(stream, n) for n in header.blobs]


def unpack(data: bytes, kind: type[H], limit: int) -> tuple[H, list[bytes]]:
    """Parse one complete message held in memory; trailing bytes are an error."""
    if len(data) > limit + MAX_HEADER_BYTES:
        raise FrameError("result too large")
    if len(data) < 8 or data[:4] != MAGIC:
        raise FrameError("the channel does not hold a message")
    (size,) = struct.unpack(">I", data[4:8])
    if size > MAX_HEADER_BYTES or 8 + size > len(data):
        raise FrameError("message header is truncated")
    header = _parse_header(data[8 : 8 + size], kind)
    blobs, offset = [], 8 + size
    for n in header.blobs:
        if offset + n > len(data):
            raise FrameError("message body is truncated")
        blobs.append(data[offset : offset + n])
        offset += n
    if offset != len(data):
        raise FrameError("unexpected bytes after the message")
    return header, blobs


def _parse_header(raw: bytes, kind: Any) -> Any:
    try:
        return _decoder(kind).decode(raw)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise FrameError(f"malformed message header: {exc}") from None


@functools.cache
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    """One decoder per header type: building one takes a millisecond."""
    return msgspec.json.Decoder(kind)


def warm_up() -> None:
    """Build the decoders, and the encoders' view of each value type, once in a warm parent,
    so that no forked worker pays for them (a few milliseconds a run)."""
    for kind in (Request, Result, Measured, Opening, Streamed):
        _decoder(kind)
    tensor = TensorV(dtype="float32", shape=[1], blob=0)
    sample: list[AnyValue] = [NoneV(), MissingV(), BoolV(v=True), IntV(v=1), FloatV(v=1.0), StrV(v=""),
              ListV(items=[]), TupleV(items=[]), DictV(items=[]), tensor,
              ArrayV(dtype="uint8", shape=[1]), OpaqueV(type="", repr=""),
              ModuleV(type="", n_params=0, n_trainable=0, children=[], params=[],
                      training=False, state={"w": tensor}),
              RaisedV(error=ErrorV("", "", [FrameV(1)], operands=[OperandV(text="", type="")])),
              CalledV(results=[], args=[], kwargs=[]),
              BuiltV(module=NoneV())]
    result = Result(status="ok", values={str(i): v for i, v in enumerate(sample)})
    _decoder(Result).decode(_encoder.encode(result))
    _encoder.encode(Measured(metrics={}))


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


def to_value(node: AnyValue, blobs: list[bytes], depth: int = 0) -> Any:
    """One encoded value as core values (``tutor.core.values``), plain Python and numpy."""
    if depth > MAX_DEPTH:
        raise FrameError("value nested too deeply")
    if isinstance(node, (BoolV, IntV, StrV)):
        return node.v
    if isinstance(node, FloatV):
        return _float(node.v)
    if isinstance(node, (ListV, TupleV)):
        items = [to_value(item, blobs, depth + 1) for item in node.items]
        return items if isinstance(node, ListV) else tuple(items)
    if isinstance(node, DictV):
        return _dict(node, blobs, depth)
    if isinstance(node, TensorV):
        return _tensor(node, blobs, depth)
    if isinstance(node, ModuleV):
        return _module(node, blobs, depth)
    if isinstance(node, RaisedV):
        return v.Raised(error_info(node.error))
    if isinstance(node, OpaqueV):
        return v.Opaque(node.type, node.repr[:500], node.length, dict(list(node.details.items())[:8]))
    if isinstance(node, CalledV):
        return _called(node, blobs, depth)
    if isinstance(node, BuiltV):
        output = v.MISSING if node.output is None else to_value(node.output, blobs, depth + 1)
        return v.Built(to_value(node.module, blobs, depth + 1), output)
    return v.MISSING if isinstance(node, MissingV) else None


def values_of(result: Result | Measured, blobs: list[bytes]) -> dict[str, Any]:
    """Every value of a message by id; raises FrameError on forged content."""
    items = result.values if isinstance(result, Result) else result.metrics
    return {key: to_value(node, blobs) for key, node in items.items()}


def error_info(error: ErrorV) -> v.ErrorInfo:
    """An error as the core's value, its text made plain: a worker's terminal escape codes
    (torch bolds part of some messages) never reach the learner's terminal."""
    plain = v.plain_text
    frames = [v.Frame(f.line, plain(f.name), plain(f.text), f.col, f.end_col, f.repeats,
                      f.hidden) for f in error.frames]
    operands = [v.Operand(plain(o.text), plain(o.type),
                          None if o.shape is None else tuple(o.shape), plain(o.dtype),
                          plain(o.device), plain(o.detail), o.items, plain(o.of), plain(o.within))
                for o in error.operands]
    return v.ErrorInfo(plain(error.type), plain(error.message), frames,
                       plain(error.expression), operands)


def _float(value: float | str) -> float:
    if isinstance(value, str):
        if value not in ("nan", "inf", "-inf"):
            raise FrameError("malformed float")
        return float(value)
    return float(value)


def _dict(node: DictV, blobs: list[bytes], depth: int) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key_node, value_node in node.items:
        key = to_value(key_node, blobs, depth + 1)
        if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
            raise FrameError("unhashable dict key")
        try:
            out[key] = to_value(value_node, blobs, depth + 1)
        except TypeError:  # a tuple key holding a list
            raise FrameError("unhashable dict key") from None
    return out


def _tensor(node: TensorV, blobs: list[bytes], depth: int) -> v.Tensor:
    if depth > MAX_DEPTH:  # a chain of gradients nests too
        raise FrameError("value nested too deeply")
    if node.dtype not in WIRE_DTYPES:
        raise FrameError(f"dtype {node.dtype!r} is not allowed")
    if len(node.shape) > MAX_RANK:
        raise FrameError("tensor rank above 8")
    data = None
    if node.blob is not None:
        if node.blob >= len(blobs):
            raise FrameError("tensor refers to a missing blob")
        wire = np.dtype(WIRE_DTYPES[node.dtype])
        raw = blobs[node.blob]
        if len(raw) != math.prod(node.shape) * wire.itemsize:
            raise FrameError("tensor byte length does not match its shape")
        try:
            data = np.frombuffer(raw, dtype=wire).reshape(node.shape)
        except ValueError:  # no bytes, but dimensions no array can have: [0, 2**62]
            raise FrameError("tensor shape is too large for an array") from None
    grad = _tensor(node.grad, blobs, depth + 1) if node.grad is not None else None
    return v.Tensor(
        dtype=node.dtype, shape=tuple(node.shape), device=node.device,
        requires_grad=node.requires_grad, is_leaf=node.is_leaf, grad=grad, data=data,
        kind="ndarray" if isinstance(node, ArrayV) else "tensor",
    )


def _module(node: ModuleV, blobs: list[bytes], depth: int) -> v.Module:
    state = None
    if node.state is not None:
        state = {name: _tensor(t, blobs, depth + 1) for name, t in node.state.items()}
    return v.Module(
        type=node.type, n_params=node.n_params, n_trainable=node.n_trainable,
        children=[(a, b) for a, b in node.children],
        params=[(name, tuple(shape)) for name, shape in node.params],
        training=node.training, state=state,
    )


def _called(node: CalledV, blobs: list[bytes], depth: int) -> v.Called:
    def each(nodes: list[AnyValue]) -> list[Any]:
        return [to_value(n, blobs, depth + 1) for n in nodes]

    return v.Called(
        results=each(node.results),
        args=[each(trial) for trial in node.args],
        kwargs=[[(key, to_value(n, blobs, depth + 1)) for key, n in trial]
                for trial in node.kwargs],
        mutated=[list(trial) for trial in node.mutated],
    )
