"""``source``: rules on the learner's source, read from its syntax tree without running it.

Matching calls in the tree, not text, means a comment or a string that mentions
``torch.stack`` does not count, while ``import torch as th`` and ``from torch import stack``
are seen through. ``a @ b`` counts as a call to ``matmul``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, Outcome
from tutor.core.declare import Declared
from tutor.core.feedback import join_words
from tutor.core.fields import Name


class Rules(Declared, frozen=True, kw_only=True):
    """What the source must and must not do."""

    uses: Annotated[tuple[str, ...], Meta(
        description="calls that must appear: `stack` matches any call ending in stack, "
                    "`torch.stack` that dotted suffix")] = ()
    avoids: Annotated[tuple[str, ...], Meta(description="calls that must not appear")] = ()
    no_loops: Annotated[bool, Meta(
        description="no for/while loops and no comprehensions")] = False
    made_from: Annotated[dict[Name, tuple[Name, ...]], Meta(
        description="variable -> names its value must be computed from (through other "
                    "variables too): catches a tensor made without `device=device`")] = {}


class Source(Check, frozen=True, kw_only=True):
    """Checked without running: calls that must (not) appear; no `for`/`while` loops or
    comprehensions; `made_from`: the value of `x` must be computed from `device` (through
    other variables too), which catches a tensor created without `device=device`, the one
    mistake a CPU-only run cannot see."""

    key: ClassVar[str] = "source"
    summary: ClassVar[str] = "the source follows the rules (checked without running it)"
    example: ClassVar[str] = ("source: {uses: [torch.stack], avoids: [cat], no_loops: true, "
                              "made_from: {x: [device]}}")

    rules: Rules = msgspec.field(name="source")

    def default_title(self) -> str:
        rules = self.rules
        parts = [f"uses {', '.join(rules.uses)}"] if rules.uses else []
        if rules.avoids:
            parts.append(f"does not use {', '.join(rules.avoids)}")
        if rules.no_loops:
            parts.append("has no Python loops")
        parts.extend(f"makes `{var}` from {', '.join(f'`{n}`' for n in names)}"
                     for var, names in rules.made_from.items())
        return "the code " + " and ".join(parts) if parts else "source rules"

    def judge(self, index: int, outcome: Outcome) -> str | None:
        return source_problem(self.rules, outcome.source)


def source_problem(rules: Rules, source: str) -> str | None:
    """What breaks ``rules`` in ``source``, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"Your code has a syntax error on line {exc.lineno}: {exc.msg}"
    calls = find_calls(tree)
    problems = [
        *(_not_used(entry, calls) for entry in rules.uses),
        *(_used(entry, calls) for entry in rules.avoids),
        _loops(tree) if rules.no_loops else None,
        *(_not_made_from(var, names, tree) for var, names in rules.made_from.items()),
    ]
    return "\n".join(p for p in problems if p) or None


LOOPS: dict[type, str] = {
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
}


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


def _not_used(entry: str, calls: list[Call]) -> str | None:
    if any(call.matches(entry) for call in calls):
        return None
    last = entry.rsplit(".", 1)[-1]
    near = next((call for call in calls if call.written[-1] == last), None)
    if near is not None:
        return (
            f"Line {near.line} calls `{near.text}`, but this step asks for `{entry}`: "
            f"call `{entry}(...)` instead."
        )
    return f"Your code does not call `{entry}`: this step asks you to use `{entry}(...)`."


def _used(entry: str, calls: list[Call]) -> str | None:
    hits = [call for call in calls if call.matches(entry)]
    if not hits:
        return None
    where = _lines(call.line for call in hits)
    return (
        f"`{hits[0].text}` is used on {where}: this step asks you to solve it without "
        f"`{entry}`, so rewrite that part another way."
    )


def _not_made_from(var: str, names: tuple[str, ...], tree: ast.AST) -> str | None:
    sources = made_from(tree)
    if var not in sources:
        return f"Your code does not assign `{var}`: this step asks you to create it."
    missing = [name for name in names if name not in _reachable(var, sources)]
    if not missing:
        return None
    for node in ast.walk(tree):  # `x.to(device)` alone: a copy that is thrown away
        if (isinstance(node, ast.Expr) and isinstance(call := node.value, ast.Call)
                and isinstance(call.func, ast.Attribute) and call.func.attr == "to"
                and isinstance(call.func.value, ast.Name) and call.func.value.id == var):
            return (f"Line {node.lineno}: `{var}.to(...)` returns a moved copy and leaves "
                    f"`{var}` where it was: keep the copy, `{var} = {ast.unparse(call)}`.")
    return (f"`{var}` is computed without {join_words([f'`{n}`' for n in missing])}: "
            f"use {'it' if len(missing) == 1 else 'them'} where you create `{var}`.")


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


def _reachable(var: str, sources: dict[str, set[str]]) -> set[str]:
    """Every name ``var`` is computed from, through the variables in between."""
    seen: set[str] = set()
    todo = [var]
    while todo:
        for name in sources.get(todo.pop(), ()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def _loops(tree: ast.AST) -> str | None:
    found = sorted(
        (node.lineno, LOOPS[type(node)]) for node in ast.walk(tree)
        if type(node) in LOOPS and isinstance(node, (ast.stmt, ast.expr))
    )
    if not found:
        return None
    kinds = list(dict.fromkeys(kind for _, kind in found))
    return (
        f"{join_words(kinds).capitalize()} on {_lines(line for line, _ in found)}: this step asks "
        "for no Python loops. Work on whole tensors instead (broadcasting, indexing, and "
        "reductions like .sum(dim=...)): it is shorter and much faster."
    )


def _lines(numbers: Iterable[int]) -> str:
    unique = sorted(set(numbers))
    noun = "line" if len(unique) == 1 else "lines"
    return f"{noun} {join_words(str(n) for n in unique)}"
