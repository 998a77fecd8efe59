"""``source``: rules on the learner's source, read from its syntax tree without running it.

Matching calls in the tree, not text, means a comment or a string that mentions
``torch.stack`` does not count, while ``import torch as th`` and ``from torch import stack``
are seen through. ``a @ b`` counts as a call to ``matmul``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from tutor.core.checks.base import Check, Outcome
from tutor.core.declare import Declared
from tutor.core.feedback import Finding, join_words
from tutor.core.fields import Name
from tutor.core.source_facts import Call, find_calls, made_from, reachable


class Rules(Declared, frozen=True, kw_only=True):
    """What the source must and must not do."""

    uses: Annotated[tuple[str, ...], Meta(
        description="calls that must appear: `stack` matches any call ending in stack, "
                    "`torch.stack` that dotted suffix")] = ()
    avoids: Annotated[tuple[str, ...], Meta(description="calls that must not appear")] = ()
    no_loops: Annotated[bool, Meta(
        description="no for/while loops and no comprehensions")] = False
    calls: Annotated[dict[str, Annotated[int, Meta(ge=1)]], Meta(
        description="call -> how many times at least it must appear in the code "
                    "(`conv_out: 4` for a step that asks for four calls)")] = {}
    order: Annotated[tuple[str, ...], Meta(
        description="calls that must come in this order, each after the one before it "
                    "(`[zero_grad, backward, step]`)")] = ()
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
        parts.extend(f"calls {entry} {times} times" for entry, times in rules.calls.items())
        if rules.order:
            parts.append(f"calls {' then '.join(rules.order)}")
        parts.extend(f"makes `{var}` from {', '.join(f'`{n}`' for n in names)}"
                     for var, names in rules.made_from.items())
        return "the code " + " and ".join(parts) if parts else "source rules"

    def judge(self, index: int, outcome: Outcome) -> Finding | None:
        text = source_problem(self.rules, outcome.source)
        return Finding(text, "source") if text else None


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
        *(_too_few(entry, times, calls) for entry, times in rules.calls.items()),
        _out_of_order(rules.order, calls) if rules.order else None,
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


def _shown(entry: str) -> str:
    """How a message names a call: `@` is how a learner writes matmul."""
    return "`@` (matrix multiplication)" if entry in ("matmul", "torch.matmul") else (
        f"`{entry}(...)`")


def _out_of_order(order: tuple[str, ...], calls: list[Call]) -> str | None:
    """The first pair of calls that comes the wrong way round (by their first lines)."""
    first = {entry: min((c for c in calls if c.matches(entry)), key=lambda c: c.line,
                        default=None) for entry in order}
    present = [(entry, call) for entry, call in first.items() if call is not None]
    for (before, a), (_, b) in zip(present, present[1:], strict=False):
        if b.line < a.line:
            return (f"Line {b.line} calls `{b.text}` before line {a.line} calls `{a.text}`: "
                    f"this step needs {' then '.join(f'`{e}`' for e in order)}, in that "
                    f"order (`{before}` first).")
    return None


def _too_few(entry: str, times: int, calls: list[Call]) -> str | None:
    found = [call for call in calls if call.matches(entry)]
    if len(found) >= times:
        return None
    made = f"{len(found)} time{'s' if len(found) != 1 else ''}"
    where = f" (on {_lines(c.line for c in found)})" if found else ""
    return (f"Your code calls {_shown(entry)} {made}{where}: this step asks for at least "
            f"{times} calls.")


def _not_used(entry: str, calls: list[Call]) -> str | None:
    if any(call.matches(entry) for call in calls):
        return None
    if entry in ("matmul", "torch.matmul"):
        return ("Your code does not use `@`: this step asks you to multiply the matrices with "
                "`@` (or torch.matmul).")
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
    missing = [name for name in names if name not in reachable(var, sources)]
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
