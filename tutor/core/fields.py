"""Field types shared by the lesson format's declarations; each carries its JSON Schema."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

MAX_RANK = 8

Id = Annotated[str, Meta(
    pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80,
    description="lowercase letters, digits, '.', '_' and '-'; stable once published"
)]
Name = Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                           description="a Python variable name")]
Markdown = Annotated[str, Meta(description="Markdown")]
Code = Annotated[str, Meta(description="Python source")]
Size = Annotated[int, Meta(ge=0)]
Shape = Annotated[tuple[Size | None, ...], Meta(
    max_length=MAX_RANK, description="the size of each axis; null matches any size"
)]
ExactShape = Annotated[tuple[Size, ...], Meta(max_length=MAX_RANK,
                                              description="the size of each axis")]
Axes = Annotated[tuple[str, ...], Meta(
    max_length=MAX_RANK, description="axis names used in messages, e.g. [B, C, H, W]"
)]
Rtol = Annotated[float, Meta(
    ge=0, description="relative tolerance: values match when |got - expected| <= atol + "
                      "rtol x |expected|")]
Atol = Annotated[float, Meta(ge=0, description="absolute tolerance (see rtol)")]
ExactTypes = Annotated[bool, Meta(
    description="refuse a one-element tensor where the reference has a Python number "
                "(by default its value decides)")]
ExtraKeys = Annotated[bool, Meta(
    description="a dict may hold keys beyond the reference's (extra fields a learner logs)")]
DType = Literal[
    "float16", "float32", "float64", "bfloat16", "complex64", "complex128",
    "int8", "int16", "int32", "int64", "uint8", "bool",
]
ITEM_BYTES: dict[str, int] = {
    "float16": 2, "float32": 4, "float64": 8, "bfloat16": 4, "complex64": 8, "complex128": 16,
    "int8": 1, "int16": 2, "int32": 4, "int64": 8, "uint8": 1, "bool": 1,
}  # as each travels back from a worker (bfloat16 as float32)
