"""Causes read from the learner's source, said only when the code shows them.

A check found that a value is wrong; these look in the code for what commonly makes it so, and
say what they see, with the line: a result thrown away (`x.div(255)` on its own line), a
value changed in place (`t.mul_(2)`), a reduction without `dim`, `torch.arange` stopping
before its end, a function that never reads one of its arguments. Each is a fact about the
code, worded as such; whether it is *the* cause is left as a question when it may not be.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from tutor.core.source_facts import SourceFacts

# Tensor methods that return a new tensor and leave their own tensor as it was.
OUT_OF_PLACE = frozenset({
    "add", "sub", "mul", "div", "pow", "neg", "abs", "sqrt", "exp", "log", "clamp", "round",
    "float", "double", "half", "long", "int", "bool", "to", "cpu", "cuda", "detach", "clone",
    "unsqueeze", "squeeze", "reshape", "view", "flatten", "permute", "transpose", "t",
    "contiguous", "softmax", "log_softmax", "relu", "sigmoid", "tanh", "normalize", "expand",
})
# What .to()/.cuda()/.float() do to a module: move or convert it in place (and return it).
MODULE_IN_PLACE = frozenset({"to", "cuda", "cpu", "float", "double", "half"})
# Methods called for what they do, not for a result: a bare `net.eval` does nothing.
CALLED_FOR_EFFECT = frozenset({
    "eval", "train", "zero_grad", "step", "backward", "append", "extend", "clear", "sort",
    "reverse", "update", "begin_run", "end_run", "begin_epoch", "end_epoch", "manual_seed",
    "synchronize", "close", "flush", "reset_parameters",
})
REDUCTIONS = ("sum", "mean", "max", "min", "argmax", "argmin", "std", "var", "prod", "median")
IN_PLACE_OPS = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=",
                ast.Pow: "**=", ast.FloorDiv: "//="}


def hints(facts: SourceFacts, names: Iterable[str], function: str = "",
          missing_end: bool = False, one_number: bool = False,
          got_none: bool = False, mode: str = "values", per_axis: bool = False) -> list[str]:
    """What the code shows about ``names`` (and the names they are computed from), or about
    the body of ``function``; ``missing_end``: the values lack their last items;
    ``one_number``: one number is expected, so a reduction of the whole tensor may be meant;
    ``got_none``: the value is None, so what made it None is looked for; ``mode``: how the
    value failed (an error is explained by a result thrown away, not by a missing dim);
    ``per_axis``: the values are off by one number per row or column, as a reduction over
    everything where one per axis was wanted makes them."""
    if facts.tree is None:
        return []
    wanted = set(names)
    for name in list(wanted):
        wanted |= facts.computed_from(name)
    scope = _function(facts.tree, function) if function else facts.tree
    if scope is None:
        return []
    # In a function only its parameters are shared with the caller: a local running total
    # changed in place (`total += x`) harms no one.
    shared = _unassigned_parameters(scope) if function else set()
    # Outside a function, what computes the checked names (and the functions it calls), not
    # a print or a comparison further down.
    computing = scope if function else _computing(facts.tree, wanted)
    if mode == "raises":  # a `.to(device)` thrown away, say, explains a device error
        return _dropped_results(scope, wanted if not function else None)
    if mode in ("params", "layers"):  # a module built wrong: is its __init__ ever run?
        return _misspelt_init(facts.tree)
    found = [*_dropped_results(scope, wanted if not function else None),
             *_in_place(scope, wanted if not function else None, shared),
             *_uncalled_methods(scope, wanted if not function else None),
             *_reductions_without_dim(computing, one_number or not (
                 per_axis or mode in ("shape", "output"))),
             *_division_first(computing, facts.source.splitlines()),
             *_bool_as_text(computing), *_return_in_loop(computing),
             *_repeated_index(computing), *_max_values_compared(computing),
             *_parameters_counted(computing), *_no_activation(computing)]
    if function and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        found += _unused_parameters(scope)
    if missing_end:
        found += _arange_end(scope)
    if got_none:
        found += _none_makers(computing if not function else scope)
    return list(dict.fromkeys(found))


def _computing(tree: ast.AST, names: set[str]) -> ast.Module:
    """The module-level statements that bind one of ``names``, and the functions and classes
    they use."""
    body = getattr(tree, "body", [])
    chosen = [s for s in body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                    ast.ClassDef)) and _binds(s, names)]
    used = {n.id for s in chosen for n in ast.walk(s) if isinstance(n, ast.Name)} | names
    defined = [s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                 ast.ClassDef)) and s.name in used]
    return ast.Module(body=[*defined, *chosen], type_ignores=[])


def _binds(statement: ast.stmt, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in names
               for n in ast.walk(statement))


def _function(tree: ast.AST, name: str) -> ast.AST | None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def _dropped_results(scope: ast.AST, names: set[str] | None) -> list[str]:
    """`x.div(255)` on a line of its own: the new tensor is thrown away."""
    found = []
    modules = _made_from_classes(scope)
    for node in ast.walk(scope):
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name) and call.func.attr in OUT_OF_PLACE):
            continue
        target = call.func.value.id
        if (names is not None and target not in names) or (
                target in modules and call.func.attr in MODULE_IN_PLACE):
            continue
        text = ast.unparse(call)
        found.append(f"Line {call.lineno}: `{text}` returns a new tensor and leaves `{target}` "
                     f"as it was, and the result is thrown away: keep it, "
                     f"`{target} = {text}`.")
    return found


def _made_from_classes(scope: ast.AST) -> set[str]:
    """Names bound to an instance of a class (`net = Network()`): modules, which `.to()`
    moves in place, unlike a tensor (`torch.Tensor(...)` makes a tensor)."""
    found = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name[:1].isupper() and not name.endswith("Tensor"):
                found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return found


def _uncalled_methods(scope: ast.AST, names: set[str] | None) -> list[str]:
    """`net.eval` on a line of its own: the method is named, never called."""
    found = []
    for node in ast.walk(scope):
        value = node.value if isinstance(node, ast.Expr) else None
        if isinstance(value, ast.Attribute) and value.attr in CALLED_FOR_EFFECT and (
                names is None or (isinstance(value.value, ast.Name)
                                  and value.value.id in names)):
            text = ast.unparse(value)
            found.append(f"Line {value.lineno}: `{text}` names the method without calling it, "
                         f"so nothing happens: write `{text}()`.")
    return found


def _unassigned_parameters(scope: ast.AST) -> set[str]:
    """The parameters a function never rebinds: they still are the caller's objects."""
    if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return set()
    params = {a.arg for a in [*scope.args.posonlyargs, *scope.args.args,
                              *scope.args.kwonlyargs]}
    rebound = {n.id for n in ast.walk(scope)
               if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return params - rebound


def _in_place(scope: ast.AST, names: set[str] | None, params: set[str]) -> list[str]:
    """`doubled = t.mul_(2)` or `x -= 1` on an argument: a tensor changes that should not.

    An in-place change is named only where it surprises: its result is used as if it were
    a new tensor, or it changes a function's argument, or a name that shares its tensor with
    another one (`b = a`). A running total built in place (`total += x`, `cm.index_put_(...)`
    on its own line) is how code is meant to work."""
    found = []
    statements = {id(n.value) for n in ast.walk(scope) if isinstance(n, ast.Expr)}
    shared = params | _aliases(scope)
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
                node.func.value, ast.Name) and node.func.attr.endswith("_") and not (
                node.func.attr.startswith("_")):
            target, text = node.func.value.id, ast.unparse(node)
            used = id(node) not in statements
            if (names is None or target in names) and (used or target in shared):
                found.append(f"Line {node.lineno}: `{text}` changes `{target}` in place "
                             f"(methods whose name ends in _ work in place): if `{target}` "
                             f"should keep its values, use `{target}.{node.func.attr[:-1]}"
                             "(...)`, which returns a new tensor.")
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and type(
                node.op) in IN_PLACE_OPS:
            target = node.target.id
            if (names is not None and target not in names) or target not in shared:
                continue
            op = IN_PLACE_OPS[type(node.op)]
            found.append(f"Line {node.lineno}: `{target} {op} ...` changes the tensor `{target}` "
                         f"refers to in place, also for whoever else holds it: write "
                         f"`{target} = {target} {op[:-1]} ...` to make a new one.")
    return found


def _aliases(scope: ast.AST) -> set[str]:
    """Names that share their object with another name: both sides of `b = a`."""
    found: set[str] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            found.add(node.value.id)
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return found


def _reductions_without_dim(scope: ast.AST, only_indices: bool) -> list[str]:
    """`x.mean()`: one number for the whole tensor, where one per row or column may be meant.
    Said when an axis is missing from the result; otherwise (``only_indices``: one number is
    the goal, or the shape is right and the values are not) only argmax/argmin are said: a
    mean of everything may be the intent, a flat index of the whole tensor hardly ever is."""
    found = []
    for node in ast.walk(scope):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in REDUCTIONS and not node.args
                and not any(k.arg in ("dim", "axis") for k in node.keywords)):
            continue
        if only_indices and node.func.attr not in ("argmax", "argmin"):
            continue
        receiver = node.func.value
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute) and (
                receiver.func.attr in ("eq", "ne")):
            continue  # counting matches over everything is what `.eq(...).sum()` is for
        text = ast.unparse(node)
        found.append(f"Line {node.lineno}: `{text}` has no `dim`, so it works on the whole "
                     "tensor at once (one number): did you mean one per row or per column "
                     "(dim=...)?")
    return found


def _division_first(scope: ast.AST, lines: list[str]) -> list[str]:
    """`x - m / s`: the division happens first, which standardizing code rarely means."""
    found = []
    for node in ast.walk(scope):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Add))
                and isinstance(node.right, ast.BinOp)
                and isinstance(node.right.op, (ast.Div, ast.FloorDiv))
                and node.right.lineno == node.lineno and node.left.end_lineno == node.lineno
                and node.left.end_col_offset is not None):
            continue
        text = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
        if "(" in text[node.left.end_col_offset:node.right.col_offset]:
            continue  # `x - (m / s)`: the learner chose that order
        op = "-" if isinstance(node.op, ast.Sub) else "+"
        div = "//" if isinstance(node.right.op, ast.FloorDiv) else "/"
        left, top, bottom = (ast.unparse(n) for n in (node.left, node.right.left,
                                                       node.right.right))
        found.append(f"Line {node.lineno}: `{div}` is applied before `{op}`, so "
                     f"`{ast.unparse(node)}` divides only `{top}` by `{bottom}`; to divide "
                     f"the whole `{left} {op} {top}`, write `({left} {op} {top}) {div} "
                     f"{bottom}`.")
    return found


RETURNS_NONE = frozenset({"append", "extend", "insert", "sort", "reverse", "update", "clear",
                          "shuffle", "backward", "step", "zero_grad"})


def _none_makers(scope: ast.AST) -> list[str]:
    """Assignments whose value is None: a `.grad` before backward(), a method that changes
    its object and returns None (`x = x.append(1)`), print()."""
    found = []
    for node in ast.walk(scope):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        value, target = node.value, ast.unparse(node.targets[0])
        text = ast.unparse(value)
        if isinstance(value, ast.Attribute) and value.attr == "grad":
            found.append(f"Line {node.lineno}: `{target} = {text}`: `.grad` is None until "
                         "backward() has run (and zero_grad() sets it back to None): call "
                         "backward() first, and take a .clone() to keep a copy.")
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and (
                value.func.attr in RETURNS_NONE):
            found.append(f"Line {node.lineno}: `{text}` changes its object and returns None, "
                         f"so `{target}` is None: call it on its own line and keep using the "
                         "object.")
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and (
                value.func.id == "print"):
            found.append(f"Line {node.lineno}: print() shows a value and returns None, so "
                         f"`{target}` is None: assign the value itself, then print it.")
    return found


INIT_TYPOS = frozenset({"__int__", "__inti__", "__innit__", "_init_", "__init", "init__",
                        "__initi__", "__iniit__", "__intit__", "__ini__", "init", "__Init__"})


def _misspelt_init(tree: ast.AST) -> list[str]:
    """A class method named almost `__init__`: Python never calls it, so nothing it builds
    exists."""
    return [f"Line {node.lineno}: `{cls.name}` defines `{node.name}`, which Python never "
            f"calls: is `__init__` spelled right (two underscores on each side)?"
            for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
            for node in cls.body if isinstance(node, ast.FunctionDef)
            and node.name in INIT_TYPOS]


def _repeated_index(scope: ast.AST) -> list[str]:
    """`counts[labels] += 1` with a tensor of indices: an index that repeats adds once."""
    # An index from `for k in labels` or `zip(...)`/`range(...)` is one number a pass; a
    # batch unpacked from a loader (`for images, labels in loader`) is a tensor of them.
    loop_names = {n.id for loop in ast.walk(scope) if isinstance(loop, (ast.For,
                                                                       ast.comprehension))
                  and (isinstance(loop.target, ast.Name) or (
                      isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name)
                      and loop.iter.func.id in ("zip", "range")))
                  for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    found = []
    for node in ast.walk(scope):
        if not (isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript)):
            continue
        index = node.target.slice
        names = [index] if isinstance(index, ast.Name) else (
            index.elts if isinstance(index, ast.Tuple) else [])
        if names and all(isinstance(n, ast.Name) and n.id not in loop_names for n in names):
            text = ast.unparse(node)
            target = ast.unparse(node.target.value)
            found.append(f"Line {node.lineno}: `{text}` adds once for each distinct index, "
                         f"even where an index repeats in `{ast.unparse(index)}`: count with "
                         f"`torch.bincount(...)`, or `{target}.index_put_(..., accumulate="
                         "True)`.")
    return found


def _parameters_counted(scope: ast.AST) -> list[str]:
    """`len(list(model.parameters()))` or `len(p)`: tensors or rows counted, not numbers."""
    found = []
    params = {t.id for g in ast.walk(scope) if isinstance(g, (ast.comprehension, ast.For))
              and ".parameters()" in ast.unparse(g.iter)
              for t in ast.walk(g.target) if isinstance(t, ast.Name)}
    for node in ast.walk(scope):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "len" and node.args):
            continue
        inner = ast.unparse(node.args[0])
        if ".parameters()" in inner:
            found.append(f"Line {node.lineno}: `{ast.unparse(node)}` counts the parameter "
                         "tensors (one per weight, one per bias), not the numbers in them: "
                         "`sum(p.numel() for p in model.parameters())`.")
        elif isinstance(node.args[0], ast.Name) and node.args[0].id in params:
            found.append(f"Line {node.lineno}: `{ast.unparse(node)}` is the length of the first "
                         f"axis only; `{inner}.numel()` is the number of values in it.")
    return found


ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "elu", "selu", "silu", "softplus",
               "leaky_relu", "relu6", "mish", "hardtanh", "prelu")


def _no_activation(scope: ast.AST) -> list[str]:
    """A network class whose code applies no activation at all: its layers then compose
    into one linear map, whatever their number."""
    classes = [c for c in ast.walk(scope) if isinstance(c, ast.ClassDef) and any(
        isinstance(f, ast.FunctionDef) and f.name == "forward" for f in c.body)]
    if not classes:
        return []
    names = {ast.unparse(n.func).rsplit(".", 1)[-1].lower() for n in ast.walk(scope)
             if isinstance(n, ast.Call)}
    if names & set(ACTIVATIONS):
        return []
    return [f"`{c.name}` applies no activation anywhere (no relu, such as "
            "`F.relu(self.conv1(t))`): without one between them, its layers act like a "
            "single linear layer." for c in classes]


def _max_values_compared(scope: ast.AST) -> list[str]:
    """`preds.max(dim=1)[0].eq(labels)`: the largest values, compared with class numbers."""
    found = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call) and isinstance(
                node.value.func, ast.Attribute) and node.value.func.attr == "max" and (
                isinstance(node.slice, ast.Constant) and node.slice.value == 0):
            text = ast.unparse(node)
            found.append(f"Line {node.lineno}: `{text}` is the largest values themselves; "
                         f"their positions, the predicted classes, are `{text[:-3]}[1]` "
                         f"(or `.argmax(...)`).")
    return found


def _bool_as_text(scope: ast.AST) -> list[str]:
    """`ok == "True"`: a bool is never equal to the text "True"."""
    found = []
    for node in ast.walk(scope):
        if not isinstance(node, ast.Compare):
            continue
        for op, right in zip(node.ops, node.comparators, strict=False):
            if isinstance(op, (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)) and isinstance(
                    right, ast.Constant) and right.value in ("True", "False"):
                left = ast.unparse(node.left)
                found.append(f"Line {node.lineno}: `{ast.unparse(node)}` compares with the text "
                             f"{right.value!r}, which no bool equals: test the value itself "
                             f"(`if {left}:` or `if not {left}:`).")
    return found


def _return_in_loop(scope: ast.AST) -> list[str]:
    """A `return` straight in a loop's body: the function ends during the first pass."""
    found = []
    for loop in ast.walk(scope):
        if isinstance(loop, (ast.For, ast.While)):
            for statement in loop.body:
                if isinstance(statement, ast.Return):
                    found.append(f"Line {statement.lineno}: this `return` is inside the loop "
                                 f"of line {loop.lineno}, so the function returns during the "
                                 "first pass: move it out of the loop (one indent less).")
    return found


def _unused_parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    read = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
    params = [a.arg for a in [*function.args.posonlyargs, *function.args.args,
                              *function.args.kwonlyargs] if a.arg not in ("self", "cls")]
    return [f"`{function.name}` never uses its argument `{p}`: the result cannot depend on it."
            for p in params if p not in read]


def _arange_end(scope: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name in ("arange", "range"):
                found.append(f"Line {node.lineno}: `{ast.unparse(node)}` stops before its end "
                             "value: the end itself is not included.")
    return found
