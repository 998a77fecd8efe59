"""Say why a dtype or a device differs, naming a cause only when the learner's code shows it."""

from __future__ import annotations

from tutor.core.feedback.findings import NO_CLUES, Clues

CASTS = {
    "float32": ".float()", "float64": ".double()", "float16": ".half()",
    "bfloat16": ".bfloat16()", "int64": ".long()", "int32": ".int()", "int16": ".short()",
    "int8": ".char()", "uint8": ".byte()", "bool": ".bool()",
}


def dtype_problem(got: str, expected: str, *, what: str = "`x`", kind: str = "tensor",
                  clues: Clues = NO_CLUES) -> str | None:
    """A dtype difference with the conversion a beginner needs."""
    if got == expected:
        return None
    return f"{what} has dtype {got}, expected {expected}: {_hint(got, expected, kind, clues)}."


def _hint(got: str, want: str, kind: str, clues: Clues) -> str:
    if kind == "ndarray":
        return f"convert with .astype(np.{want})"
    cast = CASTS.get(want, f".to(torch.{want})")
    if got == "float32" and not want.startswith("float") and clues.calls("torch.Tensor"):
        return (f"your code calls torch.Tensor(...), which always makes float32, while "
                f"torch.tensor(...) keeps the type of the data: use torch.tensor(...) or call "
                f"{cast}")
    if want.startswith("float") and got in ("int64", "int32"):
        return (f"integer data (Python ints like 1 rather than 1.0) makes integer tensors: pass "
                f"dtype=torch.{want}, write the numbers as floats, or call {cast}")
    if want == "float32" and got == "float64":
        if clues.calls("from_numpy") or clues.calls("as_tensor"):
            return ("your code converts a numpy array, and numpy's default float64 is kept: "
                    "call .float() on the result (or pass dtype=torch.float32 to "
                    "torch.as_tensor/torch.tensor)")
        if clues.calls("double"):
            return "your code calls .double(): use .float(), or drop the .double()"
        return ("float64 is numpy's default (torch.from_numpy keeps it) and what "
                "dtype=torch.float64 or .double() give: use .float() or dtype=torch.float32")
    if got == "bool":
        return f"a comparison (==, <, >) gives a bool tensor: call {cast}"
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
        hint = ("move it to the GPU with .to(device) (the `device` variable holds the device "
                "this check runs on), or create it there with device=device")
    elif got.startswith("cuda") and expected == "cpu":
        hint = "bring it back with .cpu() (numpy and plotting need CPU tensors)"
    elif got == "meta":
        hint = "a meta tensor has a shape but no values: create it on a real device"
    else:
        hint = "move it with .to(device)"
    return f"{text}: {hint}."
