"""The facts about an exception that the worker gathers and the tutor puts into words.

- Python's own "Did you mean: ...?" (Python 3.10 and 3.11 add it only when they print a
  traceback, not to the message);
- the learner's frames, with the columns of the expression that failed, recursion collapsed
  as Python collapses it, and the middle of a very deep traceback left out;
- the operands of the expression that failed on the learner's last line: each one's type,
  shape, dtype and device, never the values it holds.

Finding the operands runs none of the learner's code and changes nothing. It reads names
from the frame, attributes stored on objects (never a property, a method or ``__getattr__``;
an ``nn.Module``'s layers and parameters from its own dictionaries), items of lists, tuples
and dicts, and re-does the torch operations the line had already done before it failed (an
allowlist: ``argmax``, ``view``, ``cat``, a ``Linear`` layer...) on meta tensors, which carry
a shape and a dtype but no data: nothing is computed, allocated, drawn at random or moved.
What it cannot re-do it leaves out, and shows the names the call was made on instead.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import itertools
import linecache
import os
import re
import sys
import types
from dataclasses import dataclass
from typing import Any

from tutor.sandbox import wire as w

MAX_MESSAGE = 4000  # characters of the exception's message
MAX_TEXT = 500  # characters of a line or an operand's source
SHOWN_REPEATS = 3  # identical frames shown before "repeated N more times", as Python does
HEAD_FRAMES = 10  # of a traceback too deep to send whole: its first frames, then its last
MAX_DEPTH = 24  # nesting of an expression re-evaluated
MAX_ITEMS = 64  # items of a list or tuple looked at
SUGGESTION = re.compile(r"\. Did you mean: '[^'\n]{1,100}'\?(?=\n)")
SUGGESTING = (NameError, AttributeError, ImportError)
UNEXPLAINED = (NameError, ImportError, RecursionError, MemoryError, SyntaxError)


def error(exc: BaseException, filename: str) -> w.ErrorV:
    """``exc`` as facts: its type, message (with Python's suggestion), the learner's frames in
    ``filename`` and the operands of the expression that failed on the last of them."""
    seen = learner_frames(exc, filename)
    expression, operands = "", list[w.OperandV]()
    if seen and not isinstance(exc, UNEXPLAINED):
        with contextlib.suppress(Exception):  # facts to add, never a reason to fail
            expression, operands = explain_operands(seen[-1], filename)
    message = _message(exc)[:MAX_MESSAGE] + suggestion(exc)
    return w.ErrorV(type(exc).__name__[:200], message, wire_frames(seen),
                    expression[:MAX_TEXT], operands[: w.MAX_OPERANDS])


def syntax_error(exc: SyntaxError) -> w.ErrorV:
    """A syntax error in the learner's file: its line, and the columns Python points at."""
    raw = exc.text or linecache.getline(str(exc.filename), exc.lineno or 0)  # compile()'s
    raw = raw.rstrip("\r\n")  # own errors ('return' outside function) come without the line
    text = raw.strip()[:MAX_TEXT]
    indent = len(raw) - len(raw.lstrip())
    col: int | None = None
    end_col: int | None = None
    if exc.offset and exc.offset - 1 - indent < len(text):  # 1-based, in characters
        col = max(0, exc.offset - 1 - indent)
        end = exc.end_offset if exc.end_lineno in (None, exc.lineno) else None  # past the end
        end_col = min(len(text), max(col + 1, end - 1 - indent) if end and end > 0 else col + 1)
    return w.ErrorV(type(exc).__name__[:200], str(exc.msg)[:MAX_MESSAGE],
                    [w.FrameV(exc.lineno, "", text, col, end_col)])


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a learner's exception whose __str__ raises
        return f"<{type(exc).__name__} that cannot be printed>"


def suggestion(exc: BaseException) -> str:
    """Python's ". Did you mean: 'x'?" for a misspelt name or attribute, as Python prints it
    (3.10 and 3.11 compute it only while printing a traceback); "" when it has none."""
    if not isinstance(exc, SUGGESTING):
        return ""
    printed = io.StringIO()
    stderr = sys.stderr
    sys.stderr = printed
    try:
        sys.__excepthook__(type(exc), exc, exc.__traceback__)
    except Exception:
        return ""
    finally:
        sys.stderr = stderr
    found = SUGGESTION.search(printed.getvalue())
    return found.group(0) if found else ""


# --------------------------------------------------------------------------- frames


@dataclass
class Seen:
    """One frame of the learner's code in a traceback, with the frame itself."""

    frame: types.FrameType
    line: int
    name: str
    text: str
    positions: tuple[int, int, int, int] | None  # lines and byte columns of the failed part
    col: int | None  # ... as characters into ``text``, where it lies on that one line
    end_col: int | None


def learner_frames(exc: BaseException, filename: str) -> list[Seen]:
    """The frames of ``exc``'s traceback that run the learner's file, outermost first."""
    seen = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            seen.append(_seen(tb, filename))
        tb = tb.tb_next
    return seen


def _seen(tb: types.TracebackType, filename: str) -> Seen:
    code = tb.tb_frame.f_code
    line = tb.tb_lineno or 0
    raw = linecache.getline(filename, line).rstrip("\r\n")
    text = raw.strip()
    positions = _positions(code, tb.tb_lasti)
    col = end_col = None
    if positions is not None and positions[0] == positions[1] == line:
        indent = len(raw) - len(raw.lstrip())
        encoded = raw.encode("utf-8")
        col = len(encoded[: positions[2]].decode("utf-8", "replace")) - indent
        end_col = len(encoded[: positions[3]].decode("utf-8", "replace")) - indent
        if not 0 <= col < end_col <= len(text):
            col = end_col = None
    name = "" if code.co_name == "<module>" else code.co_name
    return Seen(tb.tb_frame, line, name, text, positions, col, end_col)


def _positions(code: types.CodeType, lasti: int) -> tuple[int, int, int, int] | None:
    """Where the instruction that raised lies in the source (Python 3.11 and later)."""
    if lasti < 0 or not hasattr(code, "co_positions"):
        return None
    found = next(itertools.islice(code.co_positions(), lasti // 2, None), None)
    if found is None or None in found:
        return None
    start, end, col, end_col = found
    return int(start), int(end), int(col), int(end_col)


def wire_frames(seen: list[Seen]) -> list[w.FrameV]:
    """Frames for the wire: a run of identical frames (recursion) as three and a count, and
    of a traceback still too deep, the first few and the last, with how many are left out."""
    frames: list[w.FrameV] = []
    for _key, group in itertools.groupby(seen, lambda s: (s.line, s.name, s.col, s.end_col)):
        run = list(group)
        for s in run[:SHOWN_REPEATS]:
            fits = s.end_col is not None and s.end_col <= MAX_TEXT
            frames.append(w.FrameV(s.line, s.name[:200], s.text[:MAX_TEXT],
                                   s.col if fits else None, s.end_col if fits else None))
        frames[-1].repeats = max(0, len(run) - SHOWN_REPEATS)
    if len(frames) > w.MAX_FRAMES:
        left_out = len(frames) - w.MAX_FRAMES
        frames[HEAD_FRAMES - 1].hidden = left_out
        frames = frames[:HEAD_FRAMES] + frames[HEAD_FRAMES + left_out:]
    return frames


# --------------------------------------------------------------------------- operands


def explain_operands(last: Seen, filename: str) -> tuple[str, list[w.OperandV]]:
    """The failing expression on the learner's last line and what its operands were."""
    torch = sys.modules.get("torch")
    if last.positions is None:
        return "", []
    source = "".join(linecache.getlines(filename))
    node = _node_at(_tree(source), last.positions)
    if node is None:
        return "", []
    evaluator = Evaluator(torch, last.frame)
    operands = Operands(evaluator, source)
    for part in _parts(node, evaluator):
        operands.add(part)
    return ast.get_source_segment(source, node) or "", operands.found


_TREES: dict[str, ast.Module | None] = {}


def _tree(source: str) -> ast.Module | None:
    if source not in _TREES:
        try:
            _TREES[source] = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            _TREES[source] = None
    return _TREES[source]


def _node_at(tree: ast.Module | None, positions: tuple[int, int, int, int]) -> ast.AST | None:
    """The expression (or augmented assignment) that spans exactly ``positions``."""
    if tree is None:
        return None
    line, end_line, col, end_col = positions
    statement = None
    for node in ast.walk(tree):
        if (getattr(node, "lineno", None), getattr(node, "end_lineno", None),
                getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)) \
                != (line, end_line, col, end_col):
            continue
        if isinstance(node, ast.expr):
            return node
        if isinstance(node, ast.AugAssign):
            statement = node
    return statement


def _parts(node: ast.AST, evaluator: Evaluator) -> list[ast.expr]:
    """The operands of a failing expression, as the learner wrote them."""
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.AugAssign):
        return [node.target, node.value]
    if isinstance(node, ast.Compare):
        return [node.left, *node.comparators]
    if isinstance(node, ast.Subscript):
        return [node.value, node.slice]
    if isinstance(node, (ast.Attribute, ast.Starred)):
        return [node.value]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if not isinstance(node, ast.Call):
        return []
    callee = _callee(node.func, evaluator)
    parts = [callee] if callee is not None else []
    for arg in node.args:
        arg = arg.value if isinstance(arg, ast.Starred) else arg
        parts.extend(arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg])
    return parts + [keyword.value for keyword in node.keywords]


def _callee(func: ast.expr, evaluator: Evaluator) -> ast.expr | None:
    """What a call was made on that is worth showing: the tensor of a method call
    (``preds`` in ``preds.eq(labels)``; ``model(x)`` in ``model(x).eq(labels)``, whose names
    are shown then), the layer called (``self.fc1`` in ``self.fc1(x)``), or the function of
    Python's called, whose parameter names the hints compare with the arguments."""
    if isinstance(func, ast.Attribute):
        try:
            if isinstance(evaluator.eval(func.value), Fake):
                return func.value
        except Unknown:
            return func.value
    with contextlib.suppress(Unknown):
        callee = evaluator.eval(func)
        if evaluator.is_module(callee) or isinstance(callee, types.FunctionType):
            return func  # a layer's settings; a plain function's parameters (for hints)
    return None


class Operands:
    """Collects what each operand is, falling back to the names inside one it cannot
    re-evaluate (a call of the learner's own function, say)."""

    def __init__(self, evaluator: Evaluator, source: str):
        self.evaluator = evaluator
        self.source = source
        self.found: list[w.OperandV] = []
        self.texts: set[str] = set()

    def add(self, node: ast.expr, within: str = "", depth: int = 0) -> None:
        if depth > 4 or len(self.found) >= w.MAX_OPERANDS or not any(
                isinstance(n, ast.Name) for n in ast.walk(node)):
            return  # a literal needs no explaining
        text = (ast.get_source_segment(self.source, node) or "")[:MAX_TEXT]
        if not text or text in self.texts:
            return
        try:
            value = self.evaluator.eval(node)
        except Unknown:
            for inner in _inner(node, self.evaluator):
                self.add(inner, within or text, depth + 1)
            return
        described = self.evaluator.describe(text, value, within)
        if described is not None:
            self.texts.add(text)
            self.found.append(described)
            root = _root(node)
            if root is not None and root is not node and isinstance(value, Fake):
                self.add(root, text, depth + 1)


def _inner(node: ast.expr, evaluator: Evaluator) -> list[ast.expr]:
    """The parts of an expression that could not be re-evaluated whole."""
    if isinstance(node, ast.Call):
        callee = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        args = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
        return [callee, *args, *(k.value for k in node.keywords)]
    if isinstance(node, (ast.List, ast.Tuple)):
        return list(node.elts)
    return _parts(node, evaluator) if isinstance(node, (ast.BinOp, ast.Subscript,
                                                          ast.Attribute)) else []


def _root(node: ast.expr) -> ast.expr | None:
    """The name a chain of calls, attributes and subscripts starts from: ``preds`` in
    ``preds.argmax(dim=0)``, ``out`` in ``out[:, 0].sum()``."""
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not _dotted(node):
            node = node.value
        else:
            return node if _dotted(node) else None


def _dotted(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


# --------------------------------------------------------------------------- re-evaluation


class Unknown(Exception):
    """A part of the expression that cannot be re-evaluated without running code."""


@dataclass
class Fake:
    """A tensor as a meta tensor (shape and dtype, no data) and the device it was on."""

    meta: Any
    device: str


# Tensor methods and torch functions that only compute a result from their inputs: on meta
# tensors they give the result's shape and dtype and nothing else.
PURE = frozenset((
    "abs", "add", "all", "amax", "amin", "any", "argmax", "argmin", "argsort", "bmm", "bool",
    "ceil", "clamp", "clip", "clone", "contiguous", "cos", "cumsum", "detach", "diag", "div",
    "dot", "double", "eq", "exp", "expand", "expand_as", "flatten", "flip", "float", "floor",
    "gather", "ge", "gt", "half", "int", "le", "log", "log_softmax", "logsumexp", "long", "lt",
    "masked_fill", "matmul", "max", "mean", "min", "mm", "movedim", "mul", "mv", "narrow",
    "ne", "neg", "norm", "outer", "permute", "pow", "prod", "relu", "repeat", "reshape",
    "reshape_as", "round", "rsqrt", "select", "sigmoid", "sin", "size", "softmax", "sort",
    "sqrt", "square", "squeeze", "std", "sub", "sum", "swapaxes", "t", "tanh", "tile", "topk",
    "transpose", "tril", "triu", "type_as", "unflatten", "unsqueeze", "var", "view", "view_as",
    "where", "dim", "numel", "nelement",
))
CREATION = frozenset((  # called again with device="meta": no memory, no random numbers drawn
    "zeros", "ones", "empty", "full", "arange", "eye", "linspace", "rand", "randn", "randint",
    "randperm",
))
TORCH_ONLY = frozenset((
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "einsum", "zeros_like",
    "ones_like", "full_like", "empty_like", "broadcast_tensors",
))
FUNCTIONAL = frozenset((
    "relu", "softmax", "log_softmax", "sigmoid", "tanh", "gelu", "leaky_relu", "linear",
    "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "cross_entropy", "nll_loss", "mse_loss",
    "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "flatten", "pad",
))
SAME_SHAPE_LAYERS = ("ReLU", "Sigmoid", "Tanh", "GELU", "LeakyReLU", "ELU", "Softmax",
                     "LogSoftmax", "Dropout", "Dropout2d", "Identity", "BatchNorm1d",
                     "BatchNorm2d", "LayerNorm")
PLAIN = (int, float, bool, str, type(None), type(Ellipsis), slice)


class Evaluator:
    """Re-evaluates parts of a failing expression from a frame's variables, without running
    any of the learner's code (see the module's docstring for what it reads)."""

    def __init__(self, torch: Any, frame: types.FrameType):
        self.torch = torch
        self.scopes = (frame.f_locals, frame.f_globals, frame.f_builtins)

    # ----------------------------------------------------------------- expressions
    def eval(self, node: ast.AST, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise Unknown
        depth += 1
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.eval(node.value, depth), node.attr)
        if isinstance(node, ast.Subscript):
            return self._item(self.eval(node.value, depth), self._index(node.slice, depth))
        if isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) <= MAX_ITEMS:
            items = [self.eval(e, depth) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._binary(ast.Mult(), self.eval(node.operand, depth), -1)
        if isinstance(node, ast.BinOp):
            return self._binary(node.op, self.eval(node.left, depth),
                                self.eval(node.right, depth))
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        raise Unknown

    def _name(self, name: str) -> Any:
        for scope in self.scopes:
            if type(scope) is dict and name in scope:
                return self.admit(scope[name])
        raise Unknown

    def attribute(self, obj: Any, name: str) -> Any:
        """An attribute stored on ``obj``; a tensor's shape, dtype, device and transposes."""
        if isinstance(obj, Fake):
            return self._tensor_attribute(obj, name)
        if name.startswith("__"):
            raise Unknown
        missing = object()
        found = inspect.getattr_static(obj, name, missing)
        if found is missing and self.is_module(obj):
            for store in ("_parameters", "_buffers", "_modules"):
                held = inspect.getattr_static(obj, store, None)
                if type(held) is dict and name in held:
                    return self.admit(held[name])
        if found is missing:
            raise Unknown
        if not isinstance(obj, types.ModuleType) and hasattr(type(found), "__get__"):
            raise Unknown  # a property, a method, a descriptor: reading it runs code
        return self.admit(found)

    def _tensor_attribute(self, obj: Fake, name: str) -> Any:
        if name in ("shape", "dtype", "ndim"):
            return getattr(obj.meta, name)
        if name in ("T", "mT"):
            return Fake(getattr(obj.meta, name), obj.device)
        if name == "data":
            return obj
        if name == "device" and self.torch is not None:
            return self.torch.device(obj.device)
        raise Unknown

    def _index(self, node: ast.expr, depth: int) -> Any:
        if isinstance(node, ast.Slice):
            parts = [None if n is None else self.eval(n, depth) for n in
                     (node.lower, node.upper, node.step)]
            if not all(p is None or type(p) is int for p in parts):
                raise Unknown
            return slice(*parts)
        if isinstance(node, ast.Tuple):
            return tuple(self._index(e, depth) for e in node.elts)
        index = self.eval(node, depth)
        if type(index) in (int, bool, type(None), type(Ellipsis), str) or isinstance(index, Fake):
            return index
        raise Unknown

    def _item(self, obj: Any, index: Any) -> Any:
        try:
            if isinstance(obj, Fake):
                return self._wrap(obj.meta[self._unwrap(index)], obj.device)
            if (type(obj) in (list, tuple) or self._is_size(obj)) and type(index) in (int, slice):
                return self.admit(obj[index])
            if type(obj) is dict and type(index) in (str, int):
                return self.admit(obj[index])
        except (IndexError, KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise Unknown from exc
        raise Unknown

    def _binary(self, op: ast.operator, left: Any, right: Any) -> Any:
        if not (isinstance(left, Fake) or isinstance(right, Fake)):
            return _small_arithmetic(op, left, right)
        device = (left if isinstance(left, Fake) else right).device
        if not all(isinstance(x, Fake) or type(x) in (int, float, bool) for x in (left, right)):
            raise Unknown
        a, b = self._unwrap(left), self._unwrap(right)
        operations = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                      ast.Div: lambda: a / b, ast.MatMult: lambda: a @ b,
                      ast.Pow: lambda: a**b, ast.FloorDiv: lambda: a // b}
        if type(op) not in operations:
            raise Unknown
        return self._attempt(operations[type(op)], device)

    # ----------------------------------------------------------------- calls
    def _call(self, node: ast.Call, depth: int) -> Any:
        func = node.func
        args = [self.eval(a, depth) for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(node.args) or any(k.arg is None for k in node.keywords):
            raise Unknown
        kwargs = {str(k.arg): self.eval(k.value, depth) for k in node.keywords}
        if isinstance(func, ast.Attribute):
            receiver = self.eval(func.value, depth)
            if isinstance(receiver, Fake):
                return self._method(receiver, func.attr, args, kwargs)
        callee = self.eval(func, depth)
        if self.is_module(callee):
            if kwargs or len(args) != 1 or not isinstance(args[0], Fake):
                raise Unknown
            return self._layer(callee, args[0])
        return self._function(callee, args, kwargs)

    def _method(self, tensor: Fake, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        torch = self.torch
        if name in ("cpu", "cuda", "to") and torch is not None:
            return self._moved(tensor, name, args, kwargs)
        if name not in PURE or torch is None:
            raise Unknown
        method = inspect.getattr_static(torch.Tensor, name, None)
        if method is None:
            raise Unknown
        device = tensor.device
        return self._attempt(lambda: method(tensor.meta, *self._unwrap(args),
                                            **self._unwrap(kwargs)), device)

    def _moved(self, tensor: Fake, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        torch = self.torch
        device, meta = tensor.device, tensor.meta
        if name != "to":
            return Fake(meta, "cpu" if name == "cpu" else "cuda")
        for arg in [*args, *kwargs.values()]:
            if isinstance(arg, Fake):
                device, meta = arg.device, meta.to(arg.meta.dtype)
            elif isinstance(arg, torch.dtype):
                meta = meta.to(arg)
            elif isinstance(arg, (str, torch.device)):
                device = str(torch.device(arg))
            elif type(arg) is not bool:
                raise Unknown
        return Fake(meta, device)

    def _function(self, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if self.torch is None or not self._torch_function(fn):
            raise Unknown
        if fn.__name__ in CREATION:
            return self._created(fn, args, kwargs)
        inputs = [*args, *kwargs.values()]
        inputs += [self._admit_quietly(x) for a in args if type(a) in (list, tuple)
                   for x in a[:MAX_ITEMS]]
        fakes = [a for a in inputs if isinstance(a, Fake)]
        if not fakes:
            raise Unknown
        return self._attempt(lambda: fn(*self._unwrap(args), **self._unwrap(kwargs)),
                             fakes[0].device)

    def _created(self, fn: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
        torch = self.torch
        device = kwargs.pop("device", "cpu")
        if not isinstance(device, (str, torch.device)) or "out" in kwargs:
            raise Unknown
        device = self._attempt(lambda: str(torch.device(device)), "")
        return self._attempt(lambda: fn(*self._unwrap(args), **self._unwrap(kwargs),
                                        device="meta"), device)

    def _torch_function(self, fn: Any) -> bool:
        """Whether ``fn`` is torch's own pure function (not one the learner put in its place)."""
        torch = self.torch
        functional = sys.modules.get("torch.nn.functional")
        name = getattr(fn, "__name__", None)
        if not isinstance(name, str):
            return False
        candidates = []
        if name in PURE or name in TORCH_ONLY or name in CREATION:
            candidates.append(inspect.getattr_static(torch, name, None))
        if functional is not None and name in FUNCTIONAL:
            candidates.append(inspect.getattr_static(functional, name, None))
        if not any(fn is c for c in candidates if c is not None):
            return False
        if isinstance(fn, types.BuiltinFunctionType):
            return True
        folder = os.path.dirname(getattr(torch, "__file__", "") or "")
        code = getattr(fn, "__code__", None)
        return bool(folder) and code is not None and code.co_filename.startswith(folder)

    def _layer(self, layer: Any, x: Fake) -> Any:
        """A layer of torch's own, applied to ``x`` as its forward would, on meta tensors."""
        torch = self.torch
        nn, functional = torch.nn, torch.nn.functional
        kind = type(layer)
        if getattr(nn, kind.__name__, None) is not kind:
            raise Unknown  # the learner's own module, or a subclass of torch's
        read = self.attribute
        name = kind.__name__
        if name == "Sequential":
            modules = inspect.getattr_static(layer, "_modules", None)
            if type(modules) is not dict:
                raise Unknown
            for child in modules.values():
                x = self._layer(child, x)
            return x
        if name in SAME_SHAPE_LAYERS:
            return x
        if name == "Flatten":
            return self._attempt(lambda: x.meta.flatten(read(layer, "start_dim"),
                                                        read(layer, "end_dim")), x.device)
        if name == "Linear":
            weight, bias = read(layer, "weight"), read(layer, "bias")
            return self._attempt(lambda: functional.linear(
                x.meta, self._unwrap(weight), self._unwrap(bias)), x.device)
        if name in ("Conv1d", "Conv2d") and read(layer, "padding_mode") == "zeros":
            conv = functional.conv1d if name == "Conv1d" else functional.conv2d
            weight, bias = read(layer, "weight"), read(layer, "bias")
            settings = [read(layer, k) for k in ("stride", "padding", "dilation", "groups")]
            return self._attempt(lambda: conv(x.meta, self._unwrap(weight), self._unwrap(bias),
                                              *settings), x.device)
        if name in ("MaxPool2d", "AvgPool2d"):
            size, stride, padding = (read(layer, k) for k in ("kernel_size", "stride", "padding"))
            pool = functional.max_pool2d if name == "MaxPool2d" else functional.avg_pool2d
            ceil = read(layer, "ceil_mode")
            return self._attempt(lambda: pool(x.meta, size, stride, padding, ceil_mode=ceil),
                                 x.device)
        raise Unknown

    # ----------------------------------------------------------------- values
    def admit(self, value: Any) -> Any:
        """A value read from the learner's variables: a tensor becomes a ``Fake``."""
        torch = self.torch
        if torch is not None and self._trusted_tensor(value):
            try:
                return Fake(torch.empty(tuple(value.shape), dtype=value.dtype, device="meta"),
                            str(value.device))
            except Exception as exc:  # sparse, nested, quantized: not re-done on meta
                raise Unknown from exc
        return value

    def _trusted_tensor(self, value: Any) -> bool:
        """A tensor of torch's own classes (a Parameter too), whose attributes run no
        Python code of anyone else's."""
        torch = self.torch
        kind = type(value)
        return issubclass(kind, torch.Tensor) and all(
            c is object or str(_MODULE_OF.__get__(c)).startswith("torch") for c in kind.__mro__)

    def is_module(self, value: Any) -> bool:
        return self.torch is not None and issubclass(type(value), self.torch.nn.Module)

    def _is_size(self, value: Any) -> bool:
        return self.torch is not None and type(value) is self.torch.Size

    def _unwrap(self, value: Any) -> Any:
        """The meta tensors inside arguments; lists of real tensors become meta too."""
        if isinstance(value, Fake):
            return value.meta
        if type(value) in (list, tuple):
            if len(value) > MAX_ITEMS:
                raise Unknown
            return type(value)(self._unwrap(self.admit(v)) for v in value)
        if type(value) is dict:
            return {k: self._unwrap(v) for k, v in value.items()}
        torch = self.torch
        if type(value) in PLAIN or (torch is not None and (
                isinstance(value, (torch.dtype, torch.device)) or self._is_size(value))):
            return value
        raise Unknown

    def _attempt(self, compute: Any, device: str) -> Any:
        try:
            return self._wrap(compute(), device)
        except Unknown:
            raise
        except Exception as exc:  # the part fails on meta too: nothing to say about it
            raise Unknown from exc

    def _wrap(self, value: Any, device: str) -> Any:
        torch = self.torch
        if torch is not None and isinstance(value, torch.Tensor):
            return Fake(value, device)
        if isinstance(value, tuple) and not self._is_size(value):
            return tuple(self._wrap(v, device) for v in value)
        return value

    # ----------------------------------------------------------------- facts
    def describe(self, text: str, value: Any, within: str = "") -> w.OperandV | None:
        """What ``value`` is, for the wire; None for what is not worth showing (a module of
        Python's, a function, a class)."""
        if isinstance(value, Fake):
            return w.OperandV(text=text, type="Tensor", shape=list(value.meta.shape),
                              dtype=_dtype(value.meta.dtype), device=value.device[:32],
                              within=within)
        if isinstance(value, types.FunctionType):  # its parameters, read without a call
            code = value.__code__
            names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
            return w.OperandV(text=text, type="function", detail=", ".join(names)[:200],
                              within=within)
        if isinstance(value, (types.ModuleType, type, types.BuiltinFunctionType,
                              types.MethodType)):
            return None
        kind = _type_name(value)
        if self.is_module(value):
            return w.OperandV(text=text, type=kind, detail=self._layer_detail(value),
                              within=within)
        if type(value) in (list, tuple) or self._is_size(value):
            return self._sequence(text, value, within)
        if type(value) is dict:
            return w.OperandV(text=text, type="dict", items=len(value), within=within)
        numpy = sys.modules.get("numpy")
        if numpy is not None and type(value) is numpy.ndarray:
            return w.OperandV(text=text, type="ndarray", shape=list(value.shape)[: w.MAX_RANK],
                              dtype=str(value.dtype)[:32], within=within)
        return w.OperandV(text=text, type=kind, within=within)

    def _sequence(self, text: str, value: Any, within: str) -> w.OperandV:
        kind = "Size" if self._is_size(value) else type(value).__name__
        items = [self._admit_quietly(v) for v in list(value)[:MAX_ITEMS]]
        kinds = {("Tensor" if isinstance(v, Fake) else _type_name(v)) for v in items}
        shapes = {tuple(v.meta.shape) for v in items if isinstance(v, Fake)}
        dtypes = {_dtype(v.meta.dtype) for v in items if isinstance(v, Fake)}
        devices = {v.device[:32] for v in items if isinstance(v, Fake)}
        shared = len(kinds) == 1 and len(items) == len(value)
        shape = list(next(iter(shapes))) if shared and len(shapes) == 1 else None
        return w.OperandV(text=text, type=kind, items=len(value),
                          of=next(iter(kinds)) if shared else "", shape=shape,
                          dtype=_only(dtypes) if shape is not None else "",
                          device=_only(devices) if shape is not None else "", within=within)

    def _admit_quietly(self, value: Any) -> Any:
        try:
            return self.admit(value)
        except Unknown:
            return value

    def _layer_detail(self, layer: Any) -> str:
        """A torch layer's own settings, as its ``extra_repr`` gives them."""
        kind = type(layer)
        if getattr(self.torch.nn, kind.__name__, None) is not kind:
            return ""
        try:
            return str(kind.extra_repr(layer))[:MAX_TEXT]
        except Exception:
            return ""


_MODULE_OF = type.__dict__["__module__"]  # a class's module, without a metaclass's say


def _only(texts: set[str]) -> str:
    return next(iter(texts)) if len(texts) == 1 else ""


def _dtype(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")[:32]


def _type_name(value: Any) -> str:
    """The name of ``value``'s class, read without running a metaclass's code."""
    name = type.__dict__["__name__"].__get__(type(value))
    return str(name)[:200]


def _small_arithmetic(op: ast.operator, left: Any, right: Any) -> int:
    """``+``, ``-``, ``*`` and ``//`` on two modest ints (a size computed in an argument)."""
    if type(left) is not int or type(right) is not int or max(abs(left), abs(right)) >= 2**40:
        raise Unknown
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.FloorDiv) and right:
        return left // right
    raise Unknown
