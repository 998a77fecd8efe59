"""Verified repairs: edits of the learner's code, taken from the reference solution, that a
run has shown to make a failing check pass.

Values alone often cannot name a mistake that the source shows plainly: `shuffle=False`
where the reference has `shuffle=True`, `range(1, 1001)` for `range(1000)`, a
`torch.manual_seed(0)` missing or called too late. This module lines the learner's syntax
tree up with the reference's (calls by callee name and order; statements block by block, by
what they bind or call) and turns the differences into a few ranked candidate edits. The
checker runs each as a learner run; an edit is told only once a run has shown what it does,
in words that claim no more than that run ("this check passes", "all checks pass").

Only the learner's text is edited (never the step's setup), each edit is made in the text
so the rest keeps its lines, and a candidate that does not parse is dropped. Standard
library only, like ``tutor.core.mutants``.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from tutor.core.feedback import join_words
from tutor.core.runs import RunHandle, RunResult
from tutor.core.source_map import SourceMap
from tutor.core.verdict import CheckResult, Verdict

MAX_CANDIDATES = 6  # runs per failing check: a few tenths of a second each on a warm runner
SHORT = 40  # characters: a longer expression is named by its callee instead of quoted

Span = tuple[int, int, str]  # byte offsets [start, end) in the learner's source, new text
Pairs = list[tuple[int, int]]  # matched statements: (index in ours, index in theirs)
Block = tuple[list[ast.stmt], list[ast.stmt], Pairs]  # a block of each, and their pairs

# The kinds of edit, the likeliest mistakes first: a literal argument that differs, one the
# learner left out, a call statement missing or misplaced, then the rest.
RANKS = {"keyword": 0, "added keyword": 1, "argument": 2, "insert": 3, "move": 4,
         "constant": 5, "expression": 6, "removed keyword": 7, "remove": 8, "statement": 9}
STATEMENT = 80  # characters: a matched line of theirs short enough to offer whole


@dataclass(frozen=True)
class Candidate:
    """One edit of the learner's code: the whole program after it, and how to say it."""

    kind: str  # a key of RANKS
    lines: tuple[int, ...]  # the learner's lines it changes (several: one edit, repeated)
    what: str  # "with `shuffle=True` instead of `shuffle=False` in `DataLoader(...)`"
    source: str

    @property
    def where(self) -> str:
        if len(self.lines) == 1:
            return f"Line {self.lines[0]}"
        return "Lines " + join_words(str(n) for n in self.lines)


@dataclass(frozen=True)
class Verified:
    """A candidate whose run made failing checks pass and broke none that passed."""

    candidate: Candidate
    fixed: tuple[int, ...]  # the indexes of the checks that failed and pass with the edit
    everything: bool  # every check of the step passed

    def sentence(self) -> str:
        others = len(self.fixed) - 1
        claim = ("all checks pass" if self.everything else "this check passes" if not others
                 else f"this check and {others} other failing check{'s' * (others > 1)} pass")
        return f"{self.candidate.where}: {self.candidate.what}, {claim}."


def candidates(code: str, solution: str, setup: str = "",
               limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """At most ``limit`` edits of ``code`` toward ``solution``, likeliest first; each parses
    and gives a program of its own."""
    try:
        mine, ref = _Code(code), _Code(solution)
    except SyntaxError:
        return []
    given = _parse(setup)
    known = _Known(mine.tree, ref.tree, given)
    modules = _imported(given)
    blocks = list(_blocks(mine.tree.body, ref.tree.body))
    by_call = list(_call_edits(mine, ref, blocks, known, modules))
    edited = {line for edit in by_call for line in edit.lines}
    edits = [*by_call, *_statement_edits(mine, ref, blocks, known, edited)]
    ordered = sorted(_with_repeats(edits), key=lambda e: (RANKS[e.kind], -len(e.lines), e.lines))
    found: list[Candidate] = []
    seen = {code}
    for edit in ordered:
        text = _apply(mine.data, edit.spans)
        if text in seen or _parse(text) is None:
            continue
        seen.add(text)
        found.append(Candidate(edit.kind, edit.lines, edit.what, text))
        if len(found) == limit:
            break
    return found


# --------------------------------------------------------------------------- verifying

Start = Callable[[Candidate], RunHandle]
Judge = Callable[[Candidate, RunResult], "list[CheckResult] | None"]  # None: not judged


def verify(found: Sequence[Candidate], start: Start, judge: Judge,
           checks: list[CheckResult], errored: bool, budget_s: float, jobs: int,
           stop: Callable[[], None]) -> Verified | None:
    """Run the candidates, ``jobs`` at a time, in their order; the first that helps wins.

    ``checks`` are the learner's results; ``errored``: their code raised, so only an edit
    after which every check passes counts. ``stop`` cancels every run ``start`` made: it is
    called when ``budget_s`` has passed, so a slow machine waits no longer than that.
    """
    timer = threading.Timer(budget_s, stop)
    timer.daemon = True
    timer.start()
    waiting = list(found)
    running: list[tuple[Candidate, RunHandle]] = []
    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs) and timer.is_alive():
                candidate = waiting.pop(0)
                running.append((candidate, start(candidate)))
            if not running:
                return None
            candidate, handle = running[0]
            result = handle.wait()
            running.pop(0)
            handle.close()
            if result.status == "cancelled":
                return None
            verified = _verified(candidate, checks, judge(candidate, result), errored)
            if verified is not None:
                return verified
        return None
    finally:
        timer.cancel()
        for _, handle in running:
            handle.cancel()
            handle.close()


def _verified(candidate: Candidate, before: list[CheckResult],
              after: list[CheckResult] | None, errored: bool) -> Verified | None:
    if not after or (before and len(after) != len(before)):
        return None
    failed = tuple(i for i, result in enumerate(before) if not result.passed)
    if all(result.passed for result in after):
        return Verified(candidate, failed, True)
    if errored or any(b.passed and not a.passed for b, a in zip(before, after, strict=True)):
        return None
    fixed = tuple(i for i in failed if after[i].passed)
    return Verified(candidate, fixed, False) if fixed else None


def attach(verdict: Verdict, verified: Verified) -> None:
    """Say the repair where the learner reads about the failure it fixes: after the error
    it removes, or after the diagnosis (before the author's advice) of the first check."""
    sentence = verified.sentence()
    verdict.repair = sentence
    if verdict.error or not verified.fixed:
        verdict.error = f"{(verdict.error or '').rstrip()}\n\n{sentence}".lstrip()
        return
    result = verdict.checks[verified.fixed[0]]
    old = result.diagnosis
    result.diagnosis = f"{old}\n{sentence}" if old else sentence
    if old and result.message.startswith(old):
        result.message = result.diagnosis + result.message[len(old):]
    else:
        result.message = f"{result.message}\n{sentence}".lstrip()


# --------------------------------------------------------------------------- the source


class _Code(SourceMap):
    """A program (the learner's or the reference), with what placing edits needs on top."""

    def indent(self, stmt: ast.stmt) -> str | None:
        """The whitespace before ``stmt`` on its line; None when other code precedes it."""
        before = self.data[self.starts[stmt.lineno - 1]:self.start(stmt)].decode()
        return before if not before.strip() else None

    def after_line(self, lineno: int) -> int:
        """The offset where the line after ``lineno`` starts (the end of the text)."""
        return self.starts[lineno] if lineno < len(self.starts) else len(self.data)

    def changed(self, node: ast.AST, spans: Iterable[Span]) -> str:
        """``node``'s text with ``spans`` (inside it) applied."""
        base = self.start(node)
        return _apply(self.seg(node).encode(), [(s - base, e - base, t) for s, e, t in spans])


@dataclass(frozen=True)
class _Edit:
    """An edit before it is made: its spans of the learner's text, and how to say it."""

    kind: str
    spans: tuple[Span, ...]
    what: str
    lines: tuple[int, ...]


class _Known:
    """Which names an expression taken from the reference may use in the learner's code:
    theirs, the setup's, builtins, and those the worker defines (``DATA_DIR``: used by the
    reference without being bound in it or the setup). Others would only raise NameError."""

    def __init__(self, mine: ast.AST, ref: ast.AST, setup: ast.AST | None):
        given = _bound(setup) if setup is not None else set()
        worker = _loaded(ref) - _bound(ref) - given
        self.names = _bound(mine) | given | worker | set(dir(builtins))
        self.values = _assigned_once(mine)

    def portable(self, *nodes: ast.AST) -> bool:
        return all(_loaded(node) - _bound(node) <= self.names for node in nodes)

    def same(self, ours: ast.AST, theirs: ast.AST) -> bool:
        """The same code, or a name of ours that holds it (``transform=t`` after
        ``t = transforms.ToTensor()``): replacing it would change nothing."""
        if isinstance(ours, ast.Name) and ours.id in self.values:
            ours = self.values[ours.id]
        return _same(ours, theirs)


# --------------------------------------------------------------------------- calls


def _call_edits(mine: _Code, ref: _Code, blocks: list[Block], known: _Known,
                modules: set[str]) -> Iterator[_Edit]:
    """Argument differences between calls that correspond: by callee name, in order, within
    each pair of matched statements first (``train_set = FashionMNIST(...)`` with theirs),
    then among the calls of a block left over (in statements matched to none, say)."""
    key_m = _call_keyer(modules | _imported(mine.tree))
    key_r = _call_keyer(modules | _imported(ref.tree))
    for ours, theirs, pairs in blocks:
        left_m: list[ast.Call] = []
        left_r: list[ast.Call] = []
        for i, j in pairs:
            paired, rest_m, rest_r = _matched(_own_calls(ours[i]), _own_calls(theirs[j]),
                                              key_m, key_r)
            for m, r in paired:
                yield from _argument_edits(mine, ref, m, r, known)
            left_m += rest_m
            left_r += rest_r
        left_m += [c for i in _unpaired(ours, pairs, 0) for c in _calls(ours[i])]
        left_r += [c for j in _unpaired(theirs, pairs, 1) for c in _calls(theirs[j])]
        paired, _, _ = _matched(_in_order(left_m), _in_order(left_r), key_m, key_r)
        for m, r in paired:
            yield from _argument_edits(mine, ref, m, r, known)


CallKey = Callable[[ast.Call], str]


def _matched(ours: list[ast.Call], theirs: list[ast.Call], key_m: CallKey, key_r: CallKey
             ) -> tuple[list[tuple[ast.Call, ast.Call]], list[ast.Call], list[ast.Call]]:
    """Calls paired by callee name in order, and those of each side left unpaired."""
    keys_m, keys_r = [key_m(c) for c in ours], [key_r(c) for c in theirs]
    matcher = difflib.SequenceMatcher(None, keys_m, keys_r, autojunk=False)
    paired = [(ours[a + k], theirs[b + k]) for a, b, size in matcher.get_matching_blocks()
              for k in range(size) if keys_m[a + k]]
    used = {id(c) for pair in paired for c in pair}
    return (paired, [c for c in ours if id(c) not in used],
            [c for c in theirs if id(c) not in used])


def _own_calls(stmt: ast.stmt) -> list[ast.Call]:
    """The calls of a statement outside its inner blocks (those are matched on their own)."""
    found: list[ast.Call] = []
    todo: list[ast.AST] = [stmt]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.stmt):
                todo.append(child)
                if isinstance(child, ast.Call):
                    found.append(child)
    return _in_order(found)


def _unpaired(block: list[ast.stmt], pairs: Pairs, side: int) -> list[int]:
    paired = {pair[side] for pair in pairs}
    return [i for i in range(len(block)) if i not in paired]


def _argument_edits(mine: _Code, ref: _Code, m: ast.Call, r: ast.Call,
                    known: _Known) -> Iterator[_Edit]:
    """Our call ``m`` given the arguments of their ``r``, one difference at a time."""
    name, line = _call_name(mine, m), (m.lineno,)
    ours = {k.arg: k for k in m.keywords}
    theirs = {k.arg: k for k in r.keywords}
    for kw in m.keywords:
        other = theirs.get(kw.arg)
        if other is None:
            # a variable passed is meant; a literal may be a default misremembered. With
            # fewer positionals than theirs, it may stand for one of them.
            if _literal(kw.value) and len(m.args) >= len(r.args):
                yield _Edit("removed keyword", (_removal(mine, m, kw),),
                            f"without `{mine.seg(kw)}` in `{name}`", line)
        elif not known.same(kw.value, other.value) and known.portable(other.value):
            kind = "keyword" if _literal(other.value) else "expression"
            yield _Edit(kind, (_replace(mine, kw.value, ref.seg(other.value)),),
                        f"with `{kw.arg}={ref.seg(other.value)}` instead of "
                        f"`{kw.arg}={mine.seg(kw.value)}` in `{name}`", line)
    if len(m.args) <= len(r.args):  # else one of ours may hold it already
        for kw in r.keywords:
            if kw.arg not in ours and known.portable(kw.value):
                yield _Edit("added keyword", (_addition(mine, m, ref.seg(kw)),),
                            f"with `{ref.seg(kw)}` added to `{name}`", line)
    if len(m.args) == len(r.args):
        yield from _positional_edits(mine, ref, m, r, known)
    elif ours.keys() == theirs.keys() and known.portable(*r.args):
        span = _positionals(mine, m, [ref.seg(arg) for arg in r.args])
        kind = "argument" if all(_literal(arg) for arg in r.args) else "expression"
        yield _Edit(kind, (span,), _instead(mine, m, (span,)), line)


def _positional_edits(mine: _Code, ref: _Code, m: ast.Call, r: ast.Call,
                      known: _Known) -> Iterator[_Edit]:
    for old, new in zip(m.args, r.args, strict=True):
        nested = isinstance(old, ast.Call) and isinstance(new, ast.Call) and (
            _callee(old) == _callee(new))  # its own arguments are compared as a call
        if known.same(old, new) or nested or not known.portable(new):
            continue
        span = _replace(mine, old, ref.seg(new))
        yield _Edit("argument" if _literal(new) else "expression", (span,),
                    _instead(mine, m, (span,), old), (m.lineno,))


def _instead(mine: _Code, call: ast.Call, spans: tuple[Span, ...],
             part: ast.AST | None = None) -> str:
    """"with `range(1000)` instead of `range(1, 1001)`", or for a long call the part that
    changes and the callee."""
    before, after = mine.seg(call), mine.changed(call, spans)
    if len(after) <= SHORT and "\n" not in before:
        return f"with `{after}` instead of `{before}`"
    old = mine.seg(part) if part is not None else ", ".join(mine.seg(a) for a in call.args)
    new = spans[0][2]
    if not old:
        return f"with `{new}` added to `{_call_name(mine, call)}`"
    return f"with `{new}` instead of `{old}` in `{_call_name(mine, call)}`"


def _calls(tree: ast.AST) -> list[ast.Call]:
    """Every call in a tree, in source order."""
    return _in_order([n for n in ast.walk(tree) if isinstance(n, ast.Call)])


def _in_order(calls: list[ast.Call]) -> list[ast.Call]:
    """Source order, an outer call before the calls inside it (they start together)."""
    return sorted(calls, key=lambda c: (c.lineno, c.col_offset, -(c.end_lineno or 0),
                                        -(c.end_col_offset or 0)))


def _call_keyer(modules: set[str]) -> CallKey:
    """The callee's name; ``.name`` for a method, so ``x.sum()`` never pairs with
    ``torch.sum(x)`` (their arguments do not line up); "" pairs with nothing."""

    def key(call: ast.Call) -> str:
        func = call.func
        if _unusual(call):
            return ""
        if isinstance(func, ast.Name):
            return func.id
        if not isinstance(func, ast.Attribute):
            return ""
        root: ast.expr = func
        while isinstance(root, ast.Attribute):
            root = root.value
        module = isinstance(root, ast.Name) and root.id in modules
        return func.attr if module else f".{func.attr}"

    return key


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _call_name(code: _Code, call: ast.Call) -> str:
    """``DataLoader(...)``, ``nn.MaxPool2d(...)``: the callee as written when short."""
    written = code.seg(call.func)
    short = len(written) <= 30 and "\n" not in written
    return f"{written if short else _callee(call)}(...)"


def _unusual(call: ast.Call) -> bool:
    """``f(*args)`` or ``f(**options)``: their arguments cannot be lined up."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords)


def _replace(code: _Code, node: ast.AST, text: str) -> Span:
    return (code.start(node), code.end(node), text)


def _arguments(call: ast.Call) -> list[ast.expr | ast.keyword]:
    items: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    return sorted(items, key=lambda a: (a.lineno, a.col_offset))


def _opening(code: _Code, call: ast.Call) -> int:
    """The offset just after the call's ``(``."""
    return code.data.index(b"(", code.end(call.func)) + 1


def _addition(code: _Code, call: ast.Call, text: str) -> Span:
    """An argument added after the last one."""
    items = _arguments(call)
    if not items:
        at = _opening(code, call)
        return (at, at, text)
    at = code.end(items[-1])
    return (at, at, f", {text}")


def _removal(code: _Code, call: ast.Call, arg: ast.expr | ast.keyword) -> Span:
    """An argument removed with its comma."""
    items = _arguments(call)
    i = items.index(arg)
    if i > 0:
        return (code.end(items[i - 1]), code.end(arg), "")
    if i + 1 < len(items):
        return (code.start(arg), code.start(items[i + 1]), "")
    return _replace(code, arg, "")


def _positionals(code: _Code, call: ast.Call, texts: list[str]) -> Span:
    """The call's positional arguments replaced by ``texts`` (its keywords kept)."""
    joined = ", ".join(texts)
    if not call.args:
        at = _opening(code, call)
        return (at, at, joined + (", " if call.keywords else ""))
    start = code.start(call.args[0])
    if texts:
        return (start, code.end(call.args[-1]), joined)
    return (start, code.start(call.keywords[0]) if call.keywords else code.end(call.args[-1]), "")


# --------------------------------------------------------------------------- statements


def _statement_edits(mine: _Code, ref: _Code, blocks: list[Block], known: _Known,
                     edited: set[int]) -> Iterator[_Edit]:
    """Per pair of matched blocks: literals that differ in matched statements, a call
    statement of theirs missing (inserted) or elsewhere (moved), one of ours they lack."""
    ours_call, theirs_call = _called(mine.tree), _called(ref.tree)
    # A call of ours that no statement of theirs matches, in whichever block: it may belong
    # in another one (`zero_grad()` before the loop where theirs is inside it).
    unmatched = [ours[i] for ours, _, pairs in blocks for i in _unpaired(ours, pairs, 0)
                 if _call_statement(ours[i])]
    for ours, theirs, pairs in blocks:
        for i, j in pairs:
            literals = list(_differing_literals(ours[i], theirs[j]))
            if len(literals) > 1:  # `4:23, 4:23` for `4:24, 4:24`: each alone fixes half
                together = _constants(mine, ref, ours[i], literals)
                if together is not None:
                    yield together
            for old, new in literals:
                yield _constant(mine, ref, old, new)
            # The whole line only where no smaller edit says what differs on it.
            whole = None if literals or ours[i].lineno in edited else _whole_statement(
                mine, ref, ours[i], theirs[j], known)
            if whole is not None:
                yield whole
        spare = _unpaired(ours, pairs, 0)
        missing = _unpaired(theirs, pairs, 1)
        keys = [_key(stmt) for stmt in theirs]
        for j in missing:
            stmt, key = theirs[j], keys[j]
            if not _call_statement(stmt) or stmt.lineno != stmt.end_lineno \
                    or key == "call print" or not known.portable(stmt):
                continue
            moved = next((ours[i] for i in spare if _key(ours[i]) == key), None) or next(
                (other for other in unmatched if _key(other) == key), None)
            # Not one of a run of like calls (``sizes.append`` four times), nor a call ours
            # makes elsewhere (in a loop, say): adding one of those is seldom the fix.
            if moved is None and (keys.count(key) > 1 or _callee_text(stmt) in ours_call):
                continue
            edit = _placed(mine, ours, pairs, j, ref.seg(stmt), moved)
            if edit is not None:
                yield edit
        for i in spare:
            stmt = ours[i]
            if _call_statement(stmt) and _callee_text(stmt) not in theirs_call | {"print"}:
                yield _Edit("remove", (_replace(mine, stmt, "pass"),),
                            f"without `{_short(mine.seg(stmt))}`", (stmt.lineno,))


def _whole_statement(mine: _Code, ref: _Code, ours: ast.stmt, theirs: ast.stmt,
                     known: _Known) -> _Edit | None:
    """A matched one-line statement of ours replaced by theirs, the last resort when no
    smaller edit helps (`x @ (W.T + b)` for `x @ W.T + b`, `test_set[0]` for `train_set[0]`)."""
    simple = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)
    if not (isinstance(ours, simple) and isinstance(theirs, simple)) or _same(ours, theirs):
        return None
    if _called(ours) & _called(theirs):
        return None  # a call both make: its arguments are the call edits' to compare
    text, old = ref.seg(theirs), mine.seg(ours)
    if "\n" in text or "\n" in old or len(text) > STATEMENT or not known.portable(theirs):
        return None
    return _Edit("statement", (_replace(mine, ours, text),),
                 f"with `{text}` instead of `{_short(old, STATEMENT)}`", (ours.lineno,))


def _blocks(ours: list[ast.stmt], theirs: list[ast.stmt]) -> Iterator[Block]:
    """Matched blocks, outermost first, with the statements matched in each: the module,
    then the bodies of matched ``def``, ``for``, ``with``... statements."""
    matcher = difflib.SequenceMatcher(None, [_key(s) for s in ours], [_key(s) for s in theirs],
                                      autojunk=False)
    pairs = [(a + k, b + k) for a, b, size in matcher.get_matching_blocks() for k in range(size)]
    yield ours, theirs, pairs
    for i, j in pairs:
        for name in ("body", "orelse", "finalbody"):
            inner_m, inner_r = getattr(ours[i], name, None), getattr(theirs[j], name, None)
            if isinstance(inner_m, list) and isinstance(inner_r, list) and inner_m and inner_r:
                yield from _blocks(inner_m, inner_r)


def _key(stmt: ast.stmt) -> str:
    """What a statement is about, for matching: the names it binds, the call it makes."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return f"call {ast.unparse(stmt.value.func)}"
    if isinstance(stmt, ast.Assign):
        return "= " + " = ".join(ast.unparse(t) for t in stmt.targets)
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return f"= {ast.unparse(stmt.target)}"
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return f"def {stmt.name}"
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return f"for {ast.unparse(stmt.target)}"
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return "with " + ", ".join(ast.unparse(i.context_expr) for i in stmt.items)
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return "import " + ", ".join(a.asname or a.name for a in stmt.names)
    return type(stmt).__name__


def _call_statement(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)


def _callee_text(stmt: ast.stmt) -> str:
    """``torch.manual_seed`` for the statement ``torch.manual_seed(0)``."""
    assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
    return ast.unparse(stmt.value.func)


def _called(tree: ast.AST) -> set[str]:
    """Every callee a program names, as written: ``torch.manual_seed``, ``W.t_``."""
    return {ast.unparse(call.func) for call in _calls(tree)}


def _placed(mine: _Code, ours: list[ast.stmt], pairs: Pairs, j: int, text: str,
            moved: ast.stmt | None) -> _Edit | None:
    """Their statement ``j`` put where it belongs among ours: above the statement matched to
    the next one of theirs, else below the one matched to the previous; ``moved`` (ours,
    elsewhere) is taken from where it is."""
    later = [i for i, jj in pairs if jj > j]
    earlier = [i for i, jj in pairs if jj < j]
    if not later and not earlier:
        return None
    above = bool(later)
    anchor = ours[later[0]] if above else ours[earlier[-1]]
    indent = mine.indent(anchor)
    if indent is None:
        return None
    at = mine.starts[anchor.lineno - 1] if above else mine.after_line(anchor.end_lineno or 0)
    newline = "" if above or mine.data[:at].endswith(b"\n") else "\n"
    spans: list[Span] = [(at, at, f"{newline}{indent}{text}\n")]
    side = "above" if above else "below"
    if moved is None:
        return _Edit("insert", tuple(spans), f"with `{text}` added {side} it", (anchor.lineno,))
    spans.append(_replace(mine, moved, "pass"))
    where = f"{side} line {anchor.lineno}"
    around_anchor, around_moved = _loops(mine, anchor), _loops(mine, moved)
    if [loop for loop in around_anchor if loop not in around_moved]:
        where = f"into the loop, {where}"  # the point of most such moves: once per batch
    elif [loop for loop in around_moved if loop not in around_anchor]:
        where = f"out of the loop, {where}"
    return _Edit("move", tuple(spans), f"with `{_short(mine.seg(moved))}` moved {where}",
                 (moved.lineno,))


def _loops(code: _Code, node: ast.AST) -> list[ast.AST]:
    """The ``for`` and ``while`` statements around ``node``, innermost first."""
    found: list[ast.AST] = []
    parent = code.parents.get(node)
    while parent is not None:
        if isinstance(parent, (ast.For, ast.While, ast.AsyncFor)):
            found.append(parent)
        parent = code.parents.get(parent)
    return found


def _differing_literals(a: ast.AST, b: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    """Pairs of literals that differ where two trees have the same shape. Calls are left to
    ``_call_edits``, inner statements to their own blocks."""
    if isinstance(a, ast.Call) or isinstance(b, ast.Call):
        return
    if isinstance(a, ast.expr) and isinstance(b, ast.expr) and _literal(a) and _literal(b):
        if _same(a, b):
            return
        if isinstance(a, (ast.Tuple, ast.List)) and isinstance(b, (ast.Tuple, ast.List)) \
                and len(a.elts) == len(b.elts):
            for p, q in zip(a.elts, b.elts, strict=True):
                yield from _differing_literals(p, q)
        else:
            yield a, b
        return
    if type(a) is not type(b):
        return
    for name in a._fields:
        x, y = getattr(a, name, None), getattr(b, name, None)
        if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for p, q in zip(x, y, strict=True):
                if isinstance(p, ast.AST) and isinstance(q, ast.AST) \
                        and not isinstance(p, ast.stmt):
                    yield from _differing_literals(p, q)
        elif isinstance(x, ast.AST) and isinstance(y, ast.AST) and not isinstance(x, ast.stmt):
            yield from _differing_literals(x, y)


def _constants(mine: _Code, ref: _Code, stmt: ast.stmt,
               literals: list[tuple[ast.expr, ast.expr]]) -> _Edit | None:
    """Every literal of a statement that differs from theirs replaced at once, shown in the
    statement's value (or the statement) where that reads on one short line."""
    spans = tuple(_replace(mine, old, ref.seg(new)) for old, new in literals)
    shown: ast.AST = getattr(stmt, "value", None) or stmt
    text = mine.seg(shown)
    if "\n" in text or len(text) > STATEMENT:
        return None
    return _Edit("constant", spans, f"with `{mine.changed(shown, spans)}` instead of `{text}`",
                 (stmt.lineno,))


def _constant(mine: _Code, ref: _Code, old: ast.expr, new: ast.expr) -> _Edit:
    """A literal of ours replaced by theirs, shown in the expression around it."""
    span = _replace(mine, old, ref.seg(new))
    shown: ast.AST = old
    parent = mine.parents.get(old)
    while isinstance(parent, ast.expr) and not isinstance(parent, ast.Call) \
            and len(mine.seg(parent)) <= SHORT and "\n" not in mine.seg(parent):
        shown, parent = parent, mine.parents.get(parent)
    return _Edit("constant", (span,),
                 f"with `{mine.changed(shown, [span])}` instead of `{mine.seg(shown)}`",
                 (old.lineno,))


# --------------------------------------------------------------------------- helpers


def _with_repeats(edits: list[_Edit]) -> list[_Edit]:
    """Each edit, and before them, one edit per change made in several places (``s=2``
    added to each of two ``conv_out`` calls): a mistake made twice needs both fixed."""
    groups: dict[tuple[str, str], list[_Edit]] = {}
    for edit in edits:
        groups.setdefault((edit.kind, edit.what), []).append(edit)
    repeated = []
    for (kind, what), group in groups.items():
        spans = sorted(s for e in group for s in e.spans)
        apart = all(x[1] <= y[0] for x, y in zip(spans, spans[1:], strict=False))
        if len(group) > 1 and apart:
            lines = tuple(sorted({n for e in group for n in e.lines}))
            repeated.append(_Edit(kind, tuple(spans), what, lines))
    return repeated + edits


def _literal(node: ast.AST) -> bool:
    """A number, string, bool or None (``-1`` too), or a tuple or list of them."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _literal(node.operand)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_literal(e) for e in node.elts)
    return isinstance(node, ast.Constant) and node.value is not Ellipsis


def _assigned_once(tree: ast.AST) -> dict[str, ast.expr]:
    """The names bound once in a program, by a plain ``name = value``, and their values."""
    counts: dict[str, int] = {}
    for name in _bound_list(tree):
        counts[name] = counts.get(name, 0) + 1
    return {node.targets[0].id: node.value for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and counts.get(node.targets[0].id) == 1}


def _same(a: ast.AST, b: ast.AST) -> bool:
    """The same code, however spaced (``1`` and ``1.0`` differ: their dumps do)."""
    return ast.dump(a) == ast.dump(b)


def _bound(tree: ast.AST) -> set[str]:
    """Every name a tree binds: assigned, a parameter, defined, imported, caught."""
    return set(_bound_list(tree))


def _bound_list(tree: ast.AST) -> Iterator[str]:
    """Each binding of a name in a tree, so a name bound twice comes twice."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            yield node.id
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                               ast.ExceptHandler)) and node.name:
            yield node.name
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from ((a.asname or a.name).split(".")[0] for a in node.names)


def _loaded(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _imported(tree: ast.AST | None) -> set[str]:
    """The names imports bind (``torch``, ``nn``, ``F``)."""
    if tree is None:
        return set()
    return {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}


def _parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _apply(data: bytes, spans: Iterable[Span]) -> str:
    for start, end, text in sorted(spans, reverse=True):
        data = data[:start] + text.encode() + data[end:]
    return data.decode()


def _short(text: str, width: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."
