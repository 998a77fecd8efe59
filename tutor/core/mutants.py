"""Wrong variants of a reference solution, to measure how strong a step's checks are.

Each operator rewrites one place in the solution the way a learner gets it wrong: the other
axis, ``mean`` for ``sum``, an off-by-one slice, a dropped ``zero_grad()``... A step whose
checks let such a mutant pass has a blind spot. Only that place is replaced in the text, so
the rest keeps its formatting and line numbers, and each mutant has an id
(``line 4: dim=1 -> dim=0``) that stays the same from run to run, for an author to list a
truly equivalent one in the step (``equivalent_mutants``). Standard library only.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from tutor.core.source_map import SourceMap

MAX_MUTANTS = 40  # per step: a course's run stays within minutes

Edit = tuple[int, int, str]  # byte offsets [start, end) in the source, and the new text


@dataclass(frozen=True)
class Mutant:
    """One wrong variant: ``source`` is the whole program, ``after`` its changed line."""

    id: str  # "line 4: dim=1 -> dim=0", stable across runs
    operator: str  # "axis", "rename", "off-by-one", "swap", "drop", "in-place", "constant"
    line: int  # 1-based, in the solution
    before: str  # the solution's line, stripped
    after: str  # the same line in the mutant, stripped
    source: str


@dataclass(frozen=True)
class _Candidate:
    operator: str
    description: str
    edits: tuple[Edit, ...]


class _Source(SourceMap):
    """The solution, with what finding mutants needs on top."""

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def nodes(self, *kinds: type[ast.AST]) -> list:
        """Every node of these kinds, in source order."""
        found = [n for n in ast.walk(self.tree) if isinstance(n, kinds) and hasattr(n, "lineno")]
        return sorted(found, key=lambda n: (n.lineno, n.col_offset))

    def local(self, node: ast.AST, edits: Iterable[Edit]) -> str:
        """``node``'s text with ``edits`` (inside it) applied."""
        base = self.start(node)
        return _apply(self.seg(node).encode(), [(s - base, e - base, t) for s, e, t in edits])

    def change(self, operator: str, node: ast.AST, edits: Iterable[Edit],
               description: str = "") -> _Candidate:
        """A candidate described as ``node``'s text before -> after (unless described)."""
        edits = tuple(edits)
        if not description:
            description = f"{_short(self.seg(node))} -> {_short(self.local(node, edits))}"
        return _Candidate(operator, description, edits)


def mutants(source: str, prints: bool = True) -> list[Mutant]:
    """Every mutant of ``source`` that parses and differs from it, in a stable order.

    ``prints=False`` leaves ``print(...)`` calls alone (for steps that do not check output).
    """
    try:
        src = _Source(source)
    except SyntaxError:
        return []
    shielded = [(src.start(n), src.end(n)) for n in src.nodes(ast.JoinedStr)]  # positions inside
    if not prints:  # f-strings are unreliable before Python 3.12
        shielded += [(src.start(n), src.end(n)) for n in src.nodes(ast.Call)
                     if isinstance(n.func, ast.Name) and n.func.id == "print"]
    found: list[Mutant] = []
    seen_text = {source}
    seen_id: dict[str, int] = {}
    for name, operator in OPERATORS:
        for candidate in operator(src):
            if any(s < end and e > start for s, e, _ in candidate.edits
                   for start, end in shielded):
                continue
            text = _apply(src.data, candidate.edits)
            if text in seen_text or not _parses(text):
                continue
            seen_text.add(text)
            line = src.line_of(min(s for s, _, _ in candidate.edits))
            ident = f"line {line}: {candidate.description}"
            seen_id[ident] = count = seen_id.get(ident, 0) + 1
            if count > 1:
                ident += f" ({count})"
            found.append(Mutant(ident, name, line, _line(source, line), _line(text, line), text))
    return found


def select(found: list[Mutant], limit: int = MAX_MUTANTS) -> list[Mutant]:
    """At most ``limit`` mutants, taken in turn from each operator so every kind is tried."""
    by_operator: dict[str, list[Mutant]] = {}
    for mutant in found:
        by_operator.setdefault(mutant.operator, []).append(mutant)
    queues = list(by_operator.values())
    chosen: list[Mutant] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    order = {m.id: i for i, m in enumerate(found)}
    return sorted(chosen, key=lambda m: order[m.id])


# --------------------------------------------------------------------------- operators

DIM_KEYWORDS = {"dim", "axis", "start_dim", "end_dim"}
DIM_FUNCTIONS = {  # whose first argument (or second, as torch.f(t, ...)) is an axis
    "sum", "mean", "argmax", "argmin", "max", "min", "softmax", "log_softmax", "cumsum",
    "prod", "std", "var", "unsqueeze", "squeeze", "cat", "stack", "concat", "all", "any",
    "logsumexp", "flatten", "size", "count_nonzero",
}
REDUCTIONS = {"sum", "mean", "argmax", "argmin", "max", "min", "std", "var", "prod", "all",
              "any", "count_nonzero"}
MODULES = {"torch", "F", "np", "numpy", "nn", "functional"}
RENAMES = {
    "sum": "mean", "mean": "sum", "argmax": "max", "max": "argmax", "argmin": "min",
    "min": "argmin", "stack": "cat", "cat": "stack", "concat": "stack",
    "softmax": "log_softmax", "log_softmax": "softmax", "squeeze": "unsqueeze",
    "unsqueeze": "squeeze", "zeros": "ones", "ones": "zeros", "zeros_like": "ones_like",
    "ones_like": "zeros_like", "rand": "randn", "randn": "rand", "eval": "train",
    "train": "eval", "matmul": "mul", "mm": "mul", "std": "var", "var": "std",
    "cross_entropy": "nll_loss", "nll_loss": "cross_entropy",
    "CrossEntropyLoss": "NLLLoss", "NLLLoss": "CrossEntropyLoss",
    "float32": "float64", "float64": "float32", "int64": "int32", "int32": "int64",
    "long": "int", "float": "double", "double": "float",
    "max_pool2d": "avg_pool2d", "avg_pool2d": "max_pool2d",
    "MaxPool2d": "AvgPool2d", "AvgPool2d": "MaxPool2d",
}
SYMMETRIC = {"transpose", "swapaxes", "swapdims", "add", "mul", "eq", "ne", "maximum",
             "minimum", "equal", "allclose", "isclose", "print", "zip", "max", "min", "dot",
             "product", "hypot", "isinstance", "getattr", "setattr", "range"}
SHAPED = {"reshape", "view", "permute", "expand", "repeat", "zeros", "ones", "rand", "randn",
          "empty", "stack", "cat", "concat"}  # a tuple argument whose order matters
DROP_METHODS = {"item", "tolist", "numpy", "float", "double", "long", "int", "half", "bool",
                "to", "cpu", "cuda", "detach", "clone", "contiguous", "flatten", "squeeze",
                "unsqueeze", "t", "sum", "mean", "argmax", "softmax", "eval", "train",
                "requires_grad_"}
WRAPPERS = {"relu", "sigmoid", "tanh", "softmax", "log_softmax", "max_pool2d", "avg_pool2d",
            "dropout", "flatten", "abs", "exp", "log", "sqrt"}
INPLACE = {"add", "sub", "mul", "div", "clamp", "clip", "relu", "sigmoid", "tanh",
           "unsqueeze", "squeeze", "t", "transpose", "abs", "exp", "log", "sqrt", "pow", "neg",
           "round", "floor", "ceil", "masked_fill"}
INPLACE_OPS: dict[type[ast.operator], tuple[str, str]] = {
    ast.Add: ("+", "add_"), ast.Sub: ("-", "sub_"), ast.Mult: ("*", "mul_"),
    ast.Div: ("/", "div_"),
}
ORDERED_OPS: dict[type[ast.operator], str] = {
    ast.Sub: "-", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.MatMult: "@",
}
ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)
ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
              ast.MatMult)


def axis(src: _Source) -> Iterator[_Candidate]:
    """The other axis (``dim=1`` -> ``dim=0``), or none at all for a reduction."""
    for call in src.nodes(ast.Call):
        name = _callee(call)
        for kw in call.keywords:
            value = _int(kw.value)
            if kw.arg in DIM_KEYWORDS and value is not None:
                other = _other_axis(value)
                yield src.change("axis", call, [_edit(src, kw.value, str(other))],
                                 f"{kw.arg}={value} -> {kw.arg}={other}")
                if name in REDUCTIONS and kw.arg in ("dim", "axis"):
                    yield src.change("axis", call, [_remove_arg(src, call, kw)],
                                     f"{name}: drop {kw.arg}={value}")
        index = _axis_position(call)
        if name in DIM_FUNCTIONS and len(call.args) > index:
            value = _int(call.args[index])
            if value is None:
                continue
            other = _other_axis(value)
            yield src.change("axis", call, [_edit(src, call.args[index], str(other))],
                             f"{name}: dim {value} -> {other}")
            if name in REDUCTIONS:
                yield src.change("axis", call, [_remove_arg(src, call, call.args[index])],
                                 f"{name}: drop dim {value}")


def rename(src: _Source) -> Iterator[_Candidate]:
    """A related function in place of the right one: ``mean`` for ``sum``, ``cat`` for
    ``stack``, ``@`` as ``*``."""
    for node in src.nodes(ast.Attribute, ast.BinOp):
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.MatMult):
                yield src.change("rename", node, [_operator_edit(src, node, "@", "*")],
                                 "@ -> *")
            continue
        new = RENAMES.get(node.attr)
        if new is None or not isinstance(node.ctx, ast.Load):
            continue
        end = src.end(node)
        yield src.change("rename", node, [(end - len(node.attr.encode()), end, new)],
                         f"{node.attr} -> {new}")


def off_by_one(src: _Source) -> Iterator[_Candidate]:
    """Slices, indices and ranges one off."""
    for node in src.nodes(ast.Subscript, ast.Call):
        if isinstance(node, ast.Call):
            yield from _range(src, node)
            continue
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for part in parts:
            if isinstance(part, ast.Slice):
                if part.lower is not None:
                    yield src.change("off-by-one", node, [_edit(src, part.lower,
                                                                _plus(src, part.lower, 1))])
                if part.upper is not None:
                    yield src.change("off-by-one", node, [_edit(src, part.upper,
                                                                _plus(src, part.upper, -1))])
                continue
            value = _int(part)
            if value is not None:
                yield src.change("off-by-one", node,
                                 [_edit(src, part, str(value + 1 if value >= 0 else value - 1))])


def _range(src: _Source, call: ast.Call) -> Iterator[_Candidate]:
    if not (isinstance(call.func, ast.Name) and call.func.id == "range"):
        return
    args = call.args
    if len(args) == 1:
        yield src.change("off-by-one", call, [_edit(src, args[0], _plus(src, args[0], -1))])
        yield src.change("off-by-one", call, [(src.start(args[0]), src.start(args[0]), "1, ")])
    elif len(args) in (2, 3):
        yield src.change("off-by-one", call, [_edit(src, args[0], _plus(src, args[0], 1))])
        yield src.change("off-by-one", call, [_edit(src, args[1], _plus(src, args[1], -1))])


def swap(src: _Source) -> Iterator[_Candidate]:
    """Arguments or operands in the wrong order: ``reshape(a, b)`` -> ``reshape(b, a)``,
    ``a - b`` -> ``b - a``."""
    for node in src.nodes(ast.Call, ast.BinOp):
        if isinstance(node, ast.BinOp):
            if type(node.op) in ORDERED_OPS:
                op = ORDERED_OPS[type(node.op)]
                text = f"{_operand(src, node.right)} {op} {_operand(src, node.left)}"
                yield src.change("swap", node, [_edit(src, node, text)])
            continue
        name = _callee(node)
        if name in SYMMETRIC or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        yield from _swapped(src, node, node.args, f"{name}({{}})")
        if name in SHAPED:
            for arg in node.args:
                if isinstance(arg, (ast.Tuple, ast.List)):
                    yield from _swapped(src, node, arg.elts, "({})", f"{name}: ")


def _swapped(src: _Source, node: ast.Call, items: list[ast.expr], pattern: str,
             prefix: str = "") -> Iterator[_Candidate]:
    """Each pair of neighbours swapped; ``pattern`` shows the items (``reshape({})``)."""
    texts = [src.seg(item) for item in items]
    for i in range(len(items) - 1):
        if texts[i] == texts[i + 1] or isinstance(items[i], ast.Starred) \
                or isinstance(items[i + 1], ast.Starred):
            continue
        swapped = [*texts[:i], texts[i + 1], texts[i], *texts[i + 2:]]
        before, after = (pattern.format(", ".join(_short(t, 20) for t in shown))
                         for shown in (texts, swapped))
        yield src.change("swap", node, [_edit(src, items[i], texts[i + 1]),
                                        _edit(src, items[i + 1], texts[i])],
                         f"{prefix}{before} -> {after}")


def drop(src: _Source) -> Iterator[_Candidate]:
    """A forgotten step: a call statement (``optimizer.zero_grad()``), a ``return``, a
    stored attribute or a running total, ``.item()`` or ``.to(device)``, an activation,
    ``.T``, a ``with torch.no_grad()``."""
    for node in src.nodes(ast.stmt, ast.Call, ast.Attribute):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            yield src.change("drop", node, [_edit(src, node, "pass")],
                             f"drop {_call_text(src, node.value)}")
        elif isinstance(node, ast.Return) and node.value is not None:
            yield src.change("drop", node, [_edit(src, node, "pass")], "drop return")
        elif isinstance(node, ast.AugAssign) or (
                isinstance(node, ast.Assign)
                and all(isinstance(t, ast.Attribute) for t in node.targets)):
            yield src.change("drop", node, [_edit(src, node, "pass")],
                             f"drop {_short(src.seg(node), 40)}")
        elif isinstance(node, ast.With) and not any(i.optional_vars for i in node.items):
            header = (src.start(node), src.end(node.items[-1].context_expr), "if True")
            items = ", ".join(src.seg(i.context_expr) for i in node.items)
            yield src.change("drop", node, [header], f"drop with {_short(items, 40)}")
        elif isinstance(node, ast.Call):
            yield from _dropped_call(src, node)
        elif (isinstance(node, ast.Attribute) and node.attr in ("T", "mT")
              and isinstance(node.ctx, ast.Load)):
            yield src.change("drop", node, [_edit(src, node, _operand(src, node.value))],
                             f"drop .{node.attr}")


def _dropped_call(src: _Source, call: ast.Call) -> Iterator[_Candidate]:
    func = call.func
    if isinstance(src.parents.get(call), ast.Expr):
        return  # the whole statement is dropped above
    if (isinstance(func, ast.Attribute) and func.attr in DROP_METHODS
            and not _is_module(func.value)):
        arguments = ", ".join(_short(src.seg(a), 20) for a in [*call.args, *call.keywords])
        yield src.change("drop", call, [_edit(src, call, _operand(src, func.value))],
                         f"drop .{func.attr}({arguments})")
    elif _callee(call) in WRAPPERS and call.args and (
            isinstance(func, ast.Name) or _is_module(getattr(func, "value", None))):
        yield src.change("drop", call, [_edit(src, call, _operand(src, call.args[0]))],
                         f"drop {src.seg(func)}()")


def inplace(src: _Source) -> Iterator[_Candidate]:
    """An in-place variant (``x.div_(255)``, ``x /= 255``, ``unsqueeze_``) that changes the
    caller's tensor, or an in-place op made out-of-place."""
    for node in src.nodes(ast.BinOp, ast.Assign, ast.Call):
        if isinstance(node, ast.BinOp):
            if type(node.op) in INPLACE_OPS and isinstance(node.left, (ast.Name, ast.Attribute, ast.Subscript)) \
                    and not _is_module(node.left):
                method = INPLACE_OPS[type(node.op)][1]
                text = f"{src.seg(node.left)}.{method}({src.seg(node.right)})"
                yield src.change("in-place", node, [_edit(src, node, text)])
        elif isinstance(node, ast.Assign):
            target, value = node.targets[0], node.value
            if (len(node.targets) == 1 and isinstance(target, ast.Name)
                    and isinstance(value, ast.BinOp) and type(value.op) in INPLACE_OPS
                    and isinstance(value.left, ast.Name) and value.left.id == target.id):
                op = INPLACE_OPS[type(value.op)][0]
                text = f"{target.id} {op}= {src.seg(value.right)}"
                yield src.change("in-place", node, [_edit(src, node, text)])
        elif isinstance(node.func, ast.Attribute) and not _is_module(node.func.value):
            attr = node.func.attr
            new = attr + "_" if attr in INPLACE else attr[:-1] if attr[:-1] in INPLACE else ""
            if new and attr.endswith("_") != new.endswith("_"):
                end = src.end(node.func)
                yield src.change("in-place", node, [(end - len(attr.encode()), end, new)],
                                 f"{attr} -> {new}")


def constant(src: _Source) -> Iterator[_Candidate]:
    """A number one more (an integer), twice as large (a float), or a flipped bool."""
    for node in src.nodes(ast.Constant, ast.UnaryOp):
        value: object = None
        if isinstance(node, ast.UnaryOp):
            number = _numeric(node.operand)
            if isinstance(node.op, ast.USub) and number is not None:
                value = -number
        elif not isinstance(src.parents.get(node), ast.UnaryOp):
            value = node.value if isinstance(node.value, bool) else _numeric(node)
        if value is None:
            continue
        if _left_to_others(src, node):
            continue
        new = _changed(value)
        yield src.change("constant", node, [_edit(src, node, repr(new))],
                         f"{src.seg(node)} -> {new!r}")


def _changed(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    assert isinstance(value, float)
    return value * 2 if value else 1.0


def _left_to_others(src: _Source, node: ast.AST) -> bool:
    """Constants that other operators mutate better (axes, slices, ranges) or that are data
    (the elements of a list literal)."""
    parent = src.parents.get(node)
    if isinstance(parent, ast.keyword) and parent.arg in DIM_KEYWORDS:
        return True
    if isinstance(parent, ast.Call):
        if _callee(parent) == "range":
            return True
        index = _axis_position(parent)
        if _callee(parent) in DIM_FUNCTIONS and index < len(parent.args) \
                and parent.args[index] is node:
            return True
    while isinstance(parent, (ast.Tuple, ast.List, ast.Slice, ast.UnaryOp)):
        if isinstance(parent, (ast.List, ast.Slice)):
            return True
        node, parent = parent, src.parents.get(parent)
    return isinstance(parent, ast.Subscript) and parent.slice is node


OPERATORS: tuple[tuple[str, Callable[[_Source], Iterator[_Candidate]]], ...] = (
    ("axis", axis), ("rename", rename), ("off-by-one", off_by_one), ("swap", swap),
    ("drop", drop), ("in-place", inplace), ("constant", constant),
)


# --------------------------------------------------------------------------- helpers


def _apply(data: bytes, edits: Iterable[Edit]) -> str:
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text.encode() + data[end:]
    return data.decode()


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def _line(text: str, number: int) -> str:
    lines = text.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def _short(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _edit(src: _Source, node: ast.AST, text: str) -> Edit:
    return (src.start(node), src.end(node), text)


def _int(node: ast.AST) -> int | None:
    """The value of an integer literal such as ``1`` or ``-1``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _numeric(node: ast.AST) -> int | float | None:
    """The value of a number literal (not a bool)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    return None


def _other_axis(value: int) -> int:
    return 1 if value == 0 else 0


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _dotted(node: ast.AST | None) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_module(node: ast.AST | None) -> bool:
    """Whether ``node`` names a module (``torch``, ``F``, ``torch.nn.functional``)."""
    dotted = _dotted(node)
    return bool(dotted) and dotted.split(".")[0] in MODULES


def _axis_position(call: ast.Call) -> int:
    """Where the axis goes: ``t.sum(1)`` first, ``torch.sum(t, 1)`` second."""
    func = call.func
    return 0 if isinstance(func, ast.Attribute) and not _is_module(func.value) else 1


def _remove_arg(src: _Source, call: ast.Call, arg: ast.AST) -> Edit:
    """An edit removing one argument and its comma."""
    items = sorted([*call.args, *call.keywords], key=src.start)
    i = next(i for i, item in enumerate(items) if item is arg)
    if i > 0:
        return (src.end(items[i - 1]), src.end(arg), "")
    if i + 1 < len(items):
        return (src.start(arg), src.start(items[i + 1]), "")
    return _edit(src, arg, "")


def _plus(src: _Source, node: ast.expr, step: int) -> str:
    """``node`` plus ``step`` as text: ``5`` -> ``6``, ``n`` -> ``n + 1``."""
    value = _int(node)
    if value is not None:
        return str(value + step)
    text = src.seg(node)
    safe = isinstance(node, (*ATOMS, ast.UnaryOp)) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, ARITHMETIC))
    return f"{text if safe else f'({text})'} {'+' if step > 0 else '-'} {abs(step)}"


def _operand(src: _Source, node: ast.expr) -> str:
    """``node``'s text, in parentheses unless it is an atom."""
    text = src.seg(node)
    return text if isinstance(node, ATOMS) else f"({text})"


def _operator_edit(src: _Source, node: ast.BinOp, old: str, new: str) -> Edit:
    """Replace the operator token between the operands (parentheses may sit around it)."""
    gap_start, gap_end = src.end(node.left), src.start(node.right)
    gap = src.data[gap_start:gap_end].decode()
    at = gap_start + len(gap[:gap.index(old)].encode())
    return (at, at + len(old.encode()), new)


def _call_text(src: _Source, call: ast.Call) -> str:
    text = _short(src.seg(call), 60)
    return text if not text.endswith("...") else f"{_short(src.seg(call.func), 50)}(...)"
