"""What learner code does, read from its syntax tree without running it: the calls it makes
(imports resolved) and which names each variable is computed from. The ``source`` check kind
enforces rules with these; feedback uses them to verify a cause before naming it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Call:
    """One call in the source: its dotted name as written and with imports resolved."""

    written: tuple[str, ...]
    resolved: tuple[str, ...]
    line: int
    text: str  # as the learner wrote it: "th.stack", or "@"

    def matches(self, entry: str) -> bool:
        """``stack`` matches any call ending in ``stack``; ``torch.stack`` that dotted suffix."""
        want = tuple(entry.split("."))
        return any(name[-len(want):] == want for name in (self.written, self.resolved))


def find_calls(tree: ast.AST) -> list[Call]:
    """Every call with a dotted name (``f(...)``, ``a.b.f(...)``, ``x.sum().f(...)``) and ``@``."""
    aliases = _aliases(tree)
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            written = _dotted(node.func)
            text = ".".join(written)
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ast.MatMult):
            written, text = ("matmul",), "@"
        else:
            continue
        if written:
            resolved = aliases.get(written[0], written[:1]) + written[1:]
            calls.append(Call(written, resolved, node.lineno, text))
    return sorted(calls, key=lambda call: call.line)


def _aliases(tree: ast.AST) -> dict[str, tuple[str, ...]]:
    """Local names bound by imports, as full dotted paths: ``F`` -> torch.nn.functional."""
    names: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = tuple(alias.name.split("."))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = (*node.module.split("."), alias.name)
    return names


def _dotted(func: ast.expr) -> tuple[str, ...]:
    """``torch.nn.functional.relu`` -> its parts; stops at anything that is not a name."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return tuple(reversed(parts))


def made_from(tree: ast.AST) -> dict[str, set[str]]:
    """For each variable assigned anywhere, the names read in the values assigned to it
    (``x = y.to(device)`` -> {y, device}; tuple targets share their value's names)."""
    sources: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value:
            targets, value = [node.target], node.value
        else:
            continue
        read = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            read.add(node.target.id)
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    sources.setdefault(name.id, set()).update(read)
    return sources


def reachable(var: str, sources: dict[str, set[str]]) -> set[str]:
    """Every name ``var`` is computed from, through the variables in between."""
    seen: set[str] = set()
    todo = [var]
    while todo:
        for name in sources.get(todo.pop(), ()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen



class SourceFacts:
    """The facts of one source text, computed when first asked (a syntax error gives none)."""

    def __init__(self, source: str):
        self.source = source

    @cached_property
    def tree(self) -> ast.AST | None:
        try:
            return ast.parse(self.source)
        except SyntaxError:
            return None

    @cached_property
    def calls(self) -> list[Call]:
        return find_calls(self.tree) if self.tree is not None else []

    @cached_property
    def sources(self) -> dict[str, set[str]]:
        return made_from(self.tree) if self.tree is not None else {}

    def calls_to(self, entry: str) -> list[Call]:
        """The calls matching ``entry`` ("stack", "torch.stack", "Tensor")."""
        return [call for call in self.calls if call.matches(entry)]

    def computed_from(self, var: str) -> set[str]:
        """Every name ``var`` is computed from, through the variables in between."""
        return reachable(var, self.sources)

    @cached_property
    def bindings(self) -> dict[str, list[int]]:
        """The lines where each module-level name is bound (assigned, defined, imported)."""
        lines: dict[str, list[int]] = {}
        if self.tree is None:
            return lines
        for node in _module_level(self.tree):
            for name in _bound_names(node):
                lines.setdefault(name, []).append(node.lineno)
        return lines

    @cached_property
    def touches(self) -> dict[str, list[int]]:
        """The last line of each module-level statement that binds or changes a name
        (`losses.append(...)`, `cm[i] += 1`, `net.fc = ...`); a statement in a loop counts
        as the loop's last line, since the loop comes back to it."""
        lines: dict[str, list[int]] = {}
        if self.tree is None:
            return lines
        for node, end in _module_statements(self.tree):
            for name in {*_bound_names(node), *_changed_names(node)}:
                lines.setdefault(name, []).append(end)
        return lines

    def complete_before(self, name: str, line: int) -> bool:
        """Whether ``name`` got its last value before ``line``: nothing at or after it binds
        or changes it, and no loop running on past it does."""
        touched = self.touches.get(name, [])
        return bool(self.bindings.get(name)) and max(touched) < line

    def calls_before(self, entry: str, line: int) -> bool:
        """Whether the code calls ``entry`` on a line before ``line``."""
        return any(call.line < line for call in self.calls_to(entry))


def _module_level(tree: ast.AST) -> list[ast.stmt]:
    """The statements that run at module level, inside blocks but not inside functions."""
    found: list[ast.stmt] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                found.append(child)
                if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    todo.append(child)
    return found


# Methods that change the object they are called on (besides torch's trailing-_ ones);
# train()/eval() only switch a module's mode, which its structure does not depend on.
CHANGING_METHODS = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "sort",
    "reverse", "add_module", "register_buffer", "load_state_dict", "to", "cuda", "cpu",
    "apply", "zero_grad", "step", "add",
})


def _module_statements(tree: ast.AST) -> list[tuple[ast.stmt, int]]:
    """Module-level simple statements (blocks opened), each with the line after which it
    will not run again: its own last line, or the end of the outermost loop around it."""
    found: list[tuple[ast.stmt, int]] = []

    def visit(body: list[ast.stmt], loop_end: int | None) -> None:
        for node in body:
            end = node.end_lineno or node.lineno
            found.append((node, loop_end or end))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            inner = loop_end or (end if isinstance(node, (ast.For, ast.AsyncFor, ast.While))
                                 else None)
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, []) or [], inner)
            for handler in getattr(node, "handlers", []) or []:
                visit(handler.body, inner)

    visit(getattr(tree, "body", []), None)
    return found


def _changed_names(node: ast.stmt) -> list[str]:
    """Names a simple statement changes without rebinding: a method called on it
    (`losses.append(x)`), an item or attribute assigned (`cm[i] += 1`, `net.fc = ...`)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For,
                         ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try)):
        return []
    names = []
    targets = (node.targets if isinstance(node, ast.Assign)
               else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
    for target in targets:
        if isinstance(target, (ast.Subscript, ast.Attribute)):
            root = _root_name(target)
            if root:
                names.append(root)
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and (
                call.func.attr in CHANGING_METHODS or (call.func.attr.endswith("_")
                                                      and not call.func.attr.startswith("_"))):
            root = _root_name(call.func.value)
            if root:
                names.append(root)
    return names


def _root_name(node: ast.expr) -> str:
    """`a` for `a`, `a.b`, `a[0].c`."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
