"""The wire format: round trips, and every forged or malformed message is refused."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from tutor.sandbox import frames


def tensor_node(dtype: str = "float32", shape: list | None = None, blob: int | None = 0) -> dict:
    return {"t": "tensor", "dtype": dtype, "shape": shape if shape is not None else [2, 2],
            "device": "cpu", "blob": blob}


def test_round_trip_of_nested_values() -> None:
    data = np.arange(4, dtype="<f4").tobytes()
    header = {"exports": {"v:x": {"t": "dict", "items": [
        [{"t": "str", "v": "t"}, tensor_node()],
        [{"t": "str", "v": "n"}, {"t": "float", "v": "nan"}],
        [{"t": "str", "v": "xs"}, {"t": "tuple", "items": [{"t": "int", "v": 3}, {"t": "none"}]}],
    ]}}}
    message = frames.pack(header, [data])
    parsed, blobs = frames.read_message(io.BytesIO(message))
    value = frames.decode_value(parsed["exports"]["v:x"], blobs)
    assert value["t"].shape == (2, 2) and value["t"].data.tolist() == [[0, 1], [2, 3]]
    assert np.isnan(value["n"]) and value["xs"] == (3, None)
    assert frames.unpack(message)[0]["exports"] == header["exports"]


@pytest.mark.parametrize(
    "node, blobs, error",
    [
        (tensor_node(dtype="object"), [b""], "not allowed"),
        (tensor_node(shape=[-1, 2]), [b""], "non-negative"),
        (tensor_node(shape=[1] * 9), [b""], "rank"),
        (tensor_node(), [b"\0" * 15], "byte length"),
        (tensor_node(blob=3), [b"\0" * 16], "missing blob"),
        ({"t": "pickle", "v": "gASV"}, [], "unknown value kind"),
        ({"t": "int", "v": True}, [], "malformed int"),
        ({"t": "float", "v": "1e400x"}, [], "malformed float"),
        ({"nope": 1}, [], "malformed value"),
    ],
)
def test_forged_values_are_refused(node: dict, blobs: list[bytes], error: str) -> None:
    with pytest.raises(frames.FrameError, match=error):
        frames.decode_value(node, blobs)


def test_deep_nesting_is_refused() -> None:
    node: dict = {"t": "none"}
    for _ in range(frames.MAX_DEPTH + 5):
        node = {"t": "list", "items": [node]}
    with pytest.raises(frames.FrameError, match="deeply"):
        frames.decode_value(node, [])


def test_malformed_messages_are_refused() -> None:
    good = frames.pack({"status": "ok"})
    with pytest.raises(frames.FrameError, match="does not start"):
        frames.read_message(io.BytesIO(b"PASSED\n" + good))
    with pytest.raises(frames.FrameError, match="closed"):
        frames.read_message(io.BytesIO(good[:-2]))
    with pytest.raises(frames.FrameError, match="after the message"):
        frames.unpack(good + b"x")
    huge = frames.MAGIC + struct.pack(">I", frames.MAX_HEADER_BYTES + 1)
    with pytest.raises(frames.FrameError, match="too large"):
        frames.read_message(io.BytesIO(huge))
    not_json = frames.MAGIC + struct.pack(">I", 3) + b"{{{"
    with pytest.raises(frames.FrameError, match="not JSON"):
        frames.read_message(io.BytesIO(not_json))
    lying = json.dumps({"blobs": [frames.MAX_MESSAGE_BYTES + 1]}).encode()
    with pytest.raises(frames.FrameError, match="too large"):
        frames.read_message(io.BytesIO(frames.MAGIC + struct.pack(">I", len(lying)) + lying))


def test_error_info_formats_like_the_learners_file() -> None:
    info = frames.ErrorInfo("RuntimeError", "shape mismatch", [
        {"line": 4, "name": "", "text": "y = x @ w"},
        {"line": 2, "name": "helper", "text": "return a"},
    ])
    assert info.format() == (
        "Traceback (your code):\n  line 4, in <module>\n    y = x @ w\n"
        "  line 2, in helper\n    return a\nRuntimeError: shape mismatch"
    )
