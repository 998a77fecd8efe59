"""An error from the learner's code as they read it: better than Python's own traceback,
never worse.

It keeps what Python gives (the learner's lines, the carets under the expression that
failed, "Did you mean ...?"), collapses recursion, drops terminal escape codes, and adds the
shapes of the failing expression's operands (the worker's facts, ``values.Operand``) and, for
the errors beginners meet most, one sentence with the usual cause and its fix
(``tutor.core.error_hints``).
"""

from __future__ import annotations

import re

from tutor.core import error_hints
from tutor.core.values import ErrorInfo, Frame, Operand, plain_text

SCALARS = ("int", "float", "bool", "str", "complex")
SYNTAX = ("SyntaxError", "IndentationError", "TabError")
# Errors whose cause is not in the operands' shapes: listing them would only distract.
NOT_ABOUT_SHAPES = re.compile(r"does not require grad|NVIDIA driver|compiled with CUDA|"
                              r"Weights only load|loading state_dict|Error downloading|"
                              r"urlopen error|Network is unreachable")
DTYPE_WORDS = re.compile(r"dtype|scalar type|\b(?:Float|Double|Long|Half|Byte|Bool|Int|Char|Short)\b"
                         r"|\b(?:float|int|uint|bfloat|complex)\d+\b")
DEVICE_WORDS = re.compile(r"device|cuda|cpu|mps", re.IGNORECASE)


def render(error: ErrorInfo, heading: str = "Traceback (your code):", source: str = "",
           hints: bool = True) -> str:
    """The traceback, the operands' shapes and (with ``hints``) the hint, as paragraphs."""
    parts = [syntax_text(error) if is_syntax(error) else traceback_text(error, heading)]
    shapes = operands_text(error)
    if shapes:
        parts.append(shapes)
    hint = error_hints.hint(error, source) if hints else None
    if hint:
        parts.append(hint)
    return plain_text("\n\n".join(parts))


def is_syntax(error: ErrorInfo) -> bool:
    """Python could not read the learner's file (one frame: the line it stopped at)."""
    return error.type in SYNTAX and len(error.frames) == 1 and not error.frames[0].name


def syntax_text(error: ErrorInfo) -> str:
    """"Python cannot read line N: ...", the line, and a caret where Python points."""
    frame = error.frames[0]
    said = f"Python cannot read line {frame.line}: {error.message}"
    if frame.text:
        said += f"\n    {frame.text}"
        if frame.col is not None and 0 <= frame.col <= len(frame.text):
            end = frame.end_col if frame.end_col and frame.end_col > frame.col else frame.col + 1
            said += "\n    " + " " * frame.col + "^" * max(1, min(end, len(frame.text)) - frame.col)
    return said


def traceback_text(error: ErrorInfo, heading: str = "Traceback (your code):") -> str:
    """The learner's frames, carets under the part of a line that failed, and the message."""
    lines = [heading] if error.frames else []
    for frame in error.frames:
        lines.append(f"  line {frame.line}, in {frame.name or '<module>'}")
        if frame.text:
            lines.append(f"    {frame.text}")
            caret = _caret(frame)
            if caret:
                lines.append(f"    {caret}")
        if frame.repeats:
            lines.append(f"  [the line above repeated {_times(frame.repeats)}]")
        if frame.hidden:
            lines.append(f"  [{frame.hidden} more lines of your code left out here]")
    message = error_hints.clean_message(error)
    lines.append(f"{error.type}: {message}" if message else error.type)
    return "\n".join(lines)


def _caret(frame: Frame) -> str:
    """``^^^`` under the expression that failed, unless it is the whole line (as Python)."""
    col, end, text = frame.col, frame.end_col, frame.text
    if col is None or end is None or not 0 <= col < end <= len(text):
        return ""
    if col == 0 and end == len(text):
        return ""
    return " " * col + "^" * (end - col)


def _times(n: int) -> str:
    return "once more" if n == 1 else f"{n} more times"


# --------------------------------------------------------------------------- operands


def operands_text(error: ErrorInfo) -> str | None:
    """What each operand of the failing expression was, when one of them is a tensor (or an
    array, or a list of them): "`preds.argmax(dim=0)` is [10]; `labels` is [64]"."""
    operands = [o for o in error.operands if _worth_showing(o)]
    if not any(o.shape is not None for o in operands) or NOT_ABOUT_SHAPES.search(error.message):
        return None
    tensors = [o for o in operands if o.shape is not None and o.dtype and not o.within]
    dtypes = len({o.dtype for o in tensors}) > 1 or bool(DTYPE_WORDS.search(error.message))
    devices = len({o.device for o in tensors}) > 1 or bool(DEVICE_WORDS.search(error.message))
    where = f" (line {error.line})" if error.line is not None else ""
    lines = [f"In `{error.expression}`{where}:" if error.expression else "The operands:"]
    shown = {o.text for o in operands if not o.within}
    for operand in operands:
        said = f"  `{operand.text}` is {describe(operand, dtypes, devices)}"
        if operand.within in shown:
            continue  # said with the operand it is part of
        if operand.within:  # part of an operand that could not be re-evaluated (a call)
            said += f" (in `{operand.within}`)"
        inner = [o for o in operands if o.within == operand.text and not operand.within]
        if inner:
            said += " (" + "; ".join(f"`{o.text}` is {describe(o, dtypes, devices)}"
                                     for o in inner) + ")"
        lines.append(said)
    return "\n".join(lines)


def _worth_showing(operand: Operand) -> bool:
    return operand.type not in (*SCALARS, "function")  # a function's parameters are for hints


def describe(operand: Operand, dtypes: bool = False, devices: bool = False) -> str:
    """One operand in a few words: "[64, 10]", "[2, 3] float32 on cuda:0", "a list of 4
    tensors, each [2, 2]", "Linear(in_features=50, out_features=10, bias=True)"."""
    if operand.type in ("Tensor", "ndarray") and operand.shape is not None:
        said = shape_text(operand.shape)
        if operand.type == "ndarray":
            said = f"a numpy array {said}"
        if dtypes and operand.dtype:
            said += f" {operand.dtype}"
        if devices and operand.device:
            said += f" on {operand.device}"
        return said
    if operand.items is not None:
        return _sequence(operand, dtypes)
    if operand.detail:
        return f"{operand.type}({operand.detail})"
    if operand.type == "NoneType":
        return "None"
    return f"{_article(operand.type)} `{operand.type}`"


def _sequence(operand: Operand, dtypes: bool) -> str:
    kind = {"list": "list", "tuple": "tuple", "Size": "torch.Size"}.get(operand.type,
                                                                        operand.type)
    if operand.items == 0:
        return f"an empty {kind}"
    if not operand.of:
        return f"{_article(kind)} {kind} of {operand.items} items"
    noun = {"Tensor": "tensor", "ndarray": "numpy array"}.get(operand.of, operand.of)
    said = f"{_article(kind)} {kind} of {operand.items} {noun}{'s' if operand.items != 1 else ''}"
    if operand.shape is not None:
        each = shape_text(operand.shape)
        if dtypes and operand.dtype:
            each += f" {operand.dtype}"
        said += f", each {each}" if operand.items != 1 else f" {each}"
    return said


def shape_text(shape: tuple[int, ...]) -> str:
    """``[64, 10]``; a 0-d tensor is ``[] (a single number)``."""
    return "[" + ", ".join(str(n) for n in shape) + "]" + ("" if shape else " (a single number)")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"
