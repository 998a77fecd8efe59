"""The wire format: typed messages survive a round trip, and every forged or malformed
message is refused with a ``FrameError``, never an object and never another exception."""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest

from tutor.core import runs
from tutor.core import values as v
from tutor.sandbox import wire as w

LIMIT = 1024 * 1024


def tensor(dtype: str = "float32", shape: list[int] | None = None, blob: int | None = 0,
           **fields) -> w.TensorV:
    return w.TensorV(dtype=dtype, shape=[2, 2] if shape is None else shape, blob=blob, **fields)


def result(node: w.AnyValue, blobs: list[bytes] = ()) -> bytes:
    """A worker's result message holding ``node`` as the value of probe ``x``."""
    return w.pack(w.Result(status="ok", values={"x": node}), list(blobs))


def raw_message(header: bytes, body: bytes = b"") -> bytes:
    """A message framed by hand around a header that no Struct would produce."""
    return w.MAGIC + struct.pack(">I", len(header)) + header + body


def decoded(message: bytes, limit: int = LIMIT) -> dict:
    """What the tutor makes of a result message: both parsers, then the values."""
    streamed, stream_blobs = w.read_message(io.BytesIO(message), w.Result, limit)
    header, blobs = w.unpack(message, w.Result, limit)
    assert streamed == header and stream_blobs == blobs
    return w.values_of(header, blobs)


def nested(depth: int) -> w.AnyValue:
    node: w.AnyValue = w.NoneV()
    for _ in range(depth):
        node = w.ListV(items=[node])
    return node


# --------------------------------------------------------------------------- round trips


def test_a_request_with_typed_probes_round_trips() -> None:
    request = w.Request(
        role="learner", code="t = 1\n", filename="/work/step.py", setup="import torch\n",
        probes=[
            runs.ValueProbe(id="value:t", name="t", with_state=True),
            runs.CallProbe(id="call:0", name="f", trials=3,
                           args=(runs.TensorArg(shape=(2, 3), dtype="int64", low=0, high=5),
                                 runs.ExprArg("torch.ones(2)"), runs.ValueArg([1, "a"])),
                           kwargs=(("dim", runs.ValueArg(1)),)),
            runs.ModuleProbe(id="module:1", name="Net", input_shape=(4, 8), same_weights=True),
        ],
        metrics=[runs.Metric("metric:2", "accuracy(model)", (("model", "value:model"),))],
        judge=True, seed=7, limits=w.ChildLimits(cpu_s=50, data_bytes=2**31),
        protect=["/home/me"], gpu=w.GpuSlots(dir="/tmp/gpu", slots=2),
    )
    parsed, blobs = w.unpack(w.pack(request), w.Request, LIMIT)
    assert parsed == request and blobs == []
    call = parsed.probes[1]
    assert isinstance(call, runs.CallProbe) and isinstance(call.args[0], runs.TensorArg)
    assert call.args[0].shape == (2, 3) and call.kwargs == (("dim", runs.ValueArg(1)),)


def test_nested_values_round_trip_into_core_values() -> None:
    data = np.arange(4, dtype="<f4").tobytes()
    grad = np.ones(4, dtype="<f4").tobytes()
    ints = np.array([[1, 2, 3]], dtype="<i8").tobytes()
    node = w.DictV(items=[
        (w.StrV(v="t"), tensor(requires_grad=True, grad=tensor(blob=1))),
        (w.StrV(v="n"), w.FloatV(v="nan")),
        (w.StrV(v="inf"), w.FloatV(v="-inf")),
        (w.StrV(v="xs"), w.TupleV(items=[w.IntV(v=3), w.NoneV(), w.BoolV(v=True)])),
        (w.IntV(v=5), w.ListV(items=[w.StrV(v="five")])),
        (w.StrV(v="a"), w.ArrayV(dtype="int64", shape=[1, 3], blob=2)),
        (w.StrV(v="meta"), tensor(shape=[1000, 1000], blob=None, device="meta")),
        (w.StrV(v="gone"), w.MissingV()),
        (w.StrV(v="o"), w.OpaqueV(type="Foo", repr="<Foo>")),
    ])
    values = decoded(result(node, [data, grad, ints]))["x"]
    t = values["t"]
    assert isinstance(t, v.Tensor) and t.shape == (2, 2) and t.requires_grad
    assert t.data.tolist() == [[0, 1], [2, 3]] and t.grad.data.tolist() == [[1, 1], [1, 1]]
    assert math.isnan(values["n"]) and values["inf"] == -math.inf
    assert values["xs"] == (3, None, True) and values[5] == ["five"]
    assert values["a"].kind == "ndarray" and values["a"].data.tolist() == [[1, 2, 3]]
    assert values["meta"].data is None and values["meta"].numel == 1_000_000
    assert values["gone"] is v.MISSING and values["o"] == v.Opaque("Foo", "<Foo>")


def test_probe_results_round_trip() -> None:
    weight = np.zeros((1, 2), dtype="<f4").tobytes()
    error = w.ErrorV("ValueError", "bad", [w.FrameV(3, "f", "raise ValueError('bad')")])
    module = w.ModuleV(type="Linear", n_params=3, n_trainable=3, children=[],
                       params=[("weight", [1, 2]), ("bias", [1])], training=False,
                       state={"weight": tensor(shape=[1, 2], blob=0)})
    message = w.pack(w.Result(status="ok", values={
        "call:0": w.CalledV(results=[w.IntV(v=1), w.RaisedV(error=error)],
                            args=[[tensor(blob=None)], [tensor(blob=None)]],
                            kwargs=[[("dim", w.IntV(v=1))], [("dim", w.IntV(v=1))]]),
        "module:1": w.BuiltV(module=module),
        "module:2": w.BuiltV(module=w.RaisedV(error=error), output=w.NoneV()),
    }), [weight])
    values = decoded(message)
    called = values["call:0"]
    assert called.results[0] == 1 and called.results[1] == v.Raised(v.ErrorInfo(
        "ValueError", "bad", [v.Frame(3, "f", "raise ValueError('bad')")]))
    assert called.args[0][0].shape == (2, 2) and called.args[0][0].data is None
    assert called.kwargs == [[("dim", 1)], [("dim", 1)]]
    built = values["module:1"]
    assert built.output is v.MISSING and built.module.params == [("weight", (1, 2)),
                                                                  ("bias", (1,))]
    assert built.module.state["weight"].data.shape == (1, 2) and not built.module.training
    assert isinstance(values["module:2"].module, v.Raised) and values["module:2"].output is None


def test_a_judges_metrics_round_trip() -> None:
    message = w.pack(w.Measured(metrics={"metric:0": w.FloatV(v=0.25)}))
    header, blobs = w.unpack(message, w.Measured, LIMIT)
    assert w.values_of(header, blobs) == {"metric:0": 0.25}


def test_error_info_formats_like_the_learners_file() -> None:
    info = w.error_info(w.ErrorV("RuntimeError", "shape mismatch", [
        w.FrameV(4, "", "y = x @ w"), w.FrameV(2, "helper", "return a")]))
    assert info.line == 2
    assert info.format() == (
        "Traceback (your code):\n  line 4, in <module>\n    y = x @ w\n"
        "  line 2, in helper\n    return a\nRuntimeError: shape mismatch"
    )


def raised(error: w.ErrorV) -> bytes:
    return result(w.RaisedV(error=error))


def test_an_errors_columns_repeats_and_operands_round_trip() -> None:
    operands = [w.OperandV(text="preds.argmax(dim=0)", type="Tensor", shape=[10], dtype="int64",
                           device="cpu"),
                w.OperandV(text="preds", type="Tensor", shape=[64, 10], dtype="float32",
                           within="preds.argmax(dim=0)"),
                w.OperandV(text="xs", type="list", items=4, of="Tensor", shape=[2, 2]),
                w.OperandV(text="self.fc1", type="Linear", detail="in_features=784")]
    error = w.ErrorV("RuntimeError", "size", [w.FrameV(4, "", "c = preds.argmax(dim=0).eq(labels)",
                                                       4, 34, repeats=2, hidden=7)],
                     "preds.argmax(dim=0).eq(labels)", operands)
    info = decoded(raised(error))["x"].error
    assert info.frames == [v.Frame(4, "", "c = preds.argmax(dim=0).eq(labels)", 4, 34, 2, 7)]
    assert info.expression == "preds.argmax(dim=0).eq(labels)"
    assert info.operands == [
        v.Operand("preds.argmax(dim=0)", "Tensor", (10,), "int64", "cpu"),
        v.Operand("preds", "Tensor", (64, 10), "float32", within="preds.argmax(dim=0)"),
        v.Operand("xs", "list", (2, 2), items=4, of="Tensor"),
        v.Operand("self.fc1", "Linear", detail="in_features=784")]


def test_escape_codes_in_an_error_are_gone_once_decoded() -> None:
    error = w.ErrorV("\x1b[1mValueError", "\x1b[31mred\x1b[0m", [w.FrameV(1, "f\x1b[2J", "x\x07")],
                     operands=[w.OperandV(text="a\x1b[0m", type="Tensor", shape=[1])])
    info = decoded(raised(error))["x"].error
    assert (info.type, info.message, info.frames[0].name, info.frames[0].text) == (
        "ValueError", "red", "f", "x")
    assert info.operands[0].text == "a"


@pytest.mark.parametrize("error, refused", [
    (w.ErrorV("E", "m", [w.FrameV(1)] * (w.MAX_FRAMES + 1)), "length <= 64"),
    (w.ErrorV("E", "m", operands=[w.OperandV(text="a", type="int")] * (w.MAX_OPERANDS + 1)),
     "length <= 8"),
    (w.ErrorV("E", "m" * 8001), "length <= 8000"),
    (w.ErrorV("E", "m", [w.FrameV(1, "", "x" * 1001)]), "length <= 1000"),
    (w.ErrorV("E", "m", [w.FrameV(1, col=-1)]), ">= 0"),
    (w.ErrorV("E", "m", [w.FrameV(1, repeats=-5)]), ">= 0"),
    (w.ErrorV("E", "m", operands=[w.OperandV(text="t", type="Tensor", shape=[1] * 9)]),
     "length <= 8"),
    (w.ErrorV("E", "m", operands=[w.OperandV(text="t", type="Tensor", shape=[-1])]), ">= 0"),
    (w.ErrorV("E", "m", operands=[w.OperandV(text="t", type="Tensor", dtype="d" * 33)]),
     "length <= 32"),
    (w.ErrorV("E", "m", operands=[w.OperandV(text="l", type="list", items=-1)]), ">= 0"),
], ids=["frames", "operands", "message", "line", "column", "repeats", "rank", "size", "dtype",
        "items"])
def test_errors_past_the_caps_are_refused(error: w.ErrorV, refused: str) -> None:
    with pytest.raises(w.FrameError, match=refused):
        decoded(raised(error))
    status = w.pack(w.Result(status="error", error=error))
    with pytest.raises(w.FrameError, match=refused):
        w.unpack(status, w.Result, LIMIT)


# --------------------------------------------------------------------------- forged values


@pytest.mark.parametrize("node, blobs, error", [
    (tensor(dtype="object"), [b""], "not allowed"),
    (tensor(shape=[1] * 9), [b"\0" * 4], "rank above 8"),
    (tensor(shape=[-1, 2]), [b""], r"malformed message header: Expected `int` >= 0"),
    (tensor(), [b"\0" * 15], "byte length"),
    (tensor(), [b"\0" * 17], "byte length"),
    (tensor(blob=3), [b"\0" * 16], "missing blob"),
    (tensor(shape=[0, 2**62]), [b""], "tensor shape"),  # numel 0, but no array holds it
    (tensor(blob=None, grad=tensor(dtype="object", blob=None)), [], "not allowed"),
    (w.ModuleV(type="M", n_params=0, n_trainable=0, children=[], params=[], training=True,
               state={"w": tensor(shape=[1] * 9)}), [b"\0" * 4], "rank above 8"),
    (w.FloatV(v="1e400x"), [], "malformed float"),
    (w.DictV(items=[(w.ListV(items=[]), w.NoneV())]), [], "unhashable dict key"),
    (w.DictV(items=[(w.TupleV(items=[w.ListV(items=[])]), w.NoneV())]), [],
     "unhashable dict key"),
], ids=["dtype", "rank", "negative-size", "short-bytes", "long-bytes", "missing-blob",
        "shape-too-big", "grad-dtype", "module-state", "float", "list-key", "tuple-list-key"])
def test_forged_values_are_refused(node: w.AnyValue, blobs: list[bytes], error: str) -> None:
    with pytest.raises(w.FrameError, match=error):
        decoded(result(node, blobs))


@pytest.mark.parametrize("node", [
    nested(w.MAX_DEPTH + 5),
    w.DictV(items=[(w.StrV(v="k"), nested(w.MAX_DEPTH + 5))]),
    w.CalledV(results=[nested(w.MAX_DEPTH + 5)], args=[], kwargs=[]),
], ids=["lists", "dict", "called"])
def test_values_nested_past_the_cap_are_refused(node: w.AnyValue) -> None:
    assert decoded(result(nested(w.MAX_DEPTH - 2)))["x"] is not None  # the cap, not less
    with pytest.raises(w.FrameError, match="nested too deeply"):
        decoded(result(node))


def test_a_long_chain_of_gradients_is_refused_as_too_deep() -> None:
    node = tensor(blob=None)
    for _ in range(w.MAX_DEPTH + 5):
        node = tensor(blob=None, grad=node)
    with pytest.raises(w.FrameError, match="nested too deeply"):
        decoded(result(node))


def test_nesting_too_deep_for_the_parser_is_refused() -> None:
    depth = 100_000  # far past any recursion limit
    header = (b'{"type":"result","status":"ok","values":{"x":'
              + b'{"t":"list","items":[' * depth + b'{"t":"none"}' + b"]}" * depth + b"}}")
    with pytest.raises(w.FrameError, match="malformed message header"):
        decoded(raw_message(header))


# --------------------------------------------------------------------------- forged headers


@pytest.mark.parametrize("header, error", [
    (b'{"type":"result","status":3}', "Expected `str`, got `int`"),
    (b'{"type":"result","status":"ok","blobs":[-1]}', "Expected `int` >= 0"),
    (b'{"type":"result","status":"ok","blobs":["4"]}', "Expected `int`, got `str`"),
    (b'{"type":"result","status":"ok","values":{"x":{"t":"int","v":true}}}',
     "Expected `int`, got `bool`"),
    (b'{"type":"result","status":"ok","values":{"x":{"t":"pickle","v":"gASV"}}}',
     "Invalid value 'pickle'"),
    (b'{"type":"result","status":"ok","values":{"x":{"nope":1}}}', "missing required field"),
    (b'{"type":"result","status":"ok","values":{"x":{"t":"tensor","dtype":"float32",'
     b'"shape":[1],"device":"' + b"x" * 33 + b'"}}}', "length <= 32"),
    (b'{"type":"result","status":"ok","isolation":{"landlock":{"active":"yes"}}}',
     "Expected `bool`"),
    (b'{"type":"request","role":"learner","code":""}', "Invalid value 'request'"),
    (b"[1, 2]", "Expected `object`, got `array`"),
    (b"{{{", "malformed message header"),
    (b'{"type":"result","status":"ok"} trailing', "malformed message header"),
], ids=["status-int", "blob-negative", "blob-str", "int-bool", "unknown-kind", "untagged",
        "long-device", "layer-type", "wrong-message", "array", "not-json",
        "json-trailing"])
def test_headers_of_the_wrong_type_are_refused(header: bytes, error: str) -> None:
    with pytest.raises(w.FrameError, match=error):
        w.unpack(raw_message(header), w.Result, LIMIT)
    with pytest.raises(w.FrameError, match=error):
        w.read_message(io.BytesIO(raw_message(header)), w.Result, LIMIT)


def test_a_message_of_another_kind_is_refused() -> None:
    with pytest.raises(w.FrameError, match="Invalid value 'result'"):
        w.unpack(w.pack(w.Result(status="ok")), w.Request, LIMIT)


# --------------------------------------------------------------------------- framing


def test_bytes_that_are_not_a_message_are_refused() -> None:
    good = w.pack(w.Result(status="ok"))
    for junk in (b"PASSED\n" + good, b"PTT1PASSED", b"", b"PTT"):
        with pytest.raises(w.FrameError, match="does not (start with|hold) a message|closed"):
            w.read_message(io.BytesIO(junk), w.Result, LIMIT)
        with pytest.raises(w.FrameError, match="does not hold a message"):
            w.unpack(junk, w.Result, LIMIT)


def test_truncated_messages_and_trailing_bytes_are_refused() -> None:
    data = np.arange(4, dtype="<f4").tobytes()
    good = result(tensor(), [data])
    for cut in (good[:6], good[:20], good[:-1]):
        with pytest.raises(w.FrameError, match="closed in the middle"):
            w.read_message(io.BytesIO(cut), w.Result, LIMIT)
        with pytest.raises(w.FrameError, match="truncated|does not hold a message"):
            w.unpack(cut, w.Result, LIMIT)
    with pytest.raises(w.FrameError, match="unexpected bytes after the message"):
        w.unpack(good + b"x", w.Result, LIMIT)
    with pytest.raises(w.FrameError, match="unexpected bytes after the message"):
        w.unpack(good + good, w.Result, LIMIT)


def test_a_header_whose_blob_lengths_lie_is_refused() -> None:
    header = b'{"type":"result","status":"ok","blobs":[16]}'
    with pytest.raises(w.FrameError, match="truncated"):
        w.unpack(raw_message(header, b"\0" * 15), w.Result, LIMIT)
    with pytest.raises(w.FrameError, match="unexpected bytes"):
        w.unpack(raw_message(header, b"\0" * 17), w.Result, LIMIT)


def test_oversize_messages_are_refused_before_they_are_read() -> None:
    huge_header = w.MAGIC + struct.pack(">I", w.MAX_HEADER_BYTES + 1)
    with pytest.raises(w.FrameError, match="header too large"):
        w.read_message(io.BytesIO(huge_header), w.Result, LIMIT)
    with pytest.raises(w.FrameError, match="truncated"):
        w.unpack(huge_header + b"{}", w.Result, LIMIT)

    # the blobs are never read: the declared sizes alone are refused (else "closed" below)
    lying = b'{"type":"result","status":"ok","blobs":[%d]}' % (LIMIT + 1)
    with pytest.raises(w.FrameError, match="result too large"):
        w.read_message(io.BytesIO(raw_message(lying)), w.Result, LIMIT)
    split = b'{"type":"result","status":"ok","blobs":[%d, %d]}' % (LIMIT // 2, LIMIT // 2 + 1)
    with pytest.raises(w.FrameError, match="result too large"):
        w.read_message(io.BytesIO(raw_message(split)), w.Result, LIMIT)
    with pytest.raises(w.FrameError, match="result too large"):
        w.unpack(raw_message(b"{}", b"\0" * (LIMIT + w.MAX_HEADER_BYTES + 1)), w.Result, LIMIT)
    exactly = result(tensor(dtype="uint8", shape=[LIMIT]), [b"\0" * LIMIT])
    assert decoded(exactly, LIMIT)["x"].numel == LIMIT  # the cap itself is allowed
