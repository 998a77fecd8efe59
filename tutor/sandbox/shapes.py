"""Shapes at a glance: after the learner's code ran, what its names hold (a tensor's shape
and dtype, a module's parameter count) and, for the modules the step's checks run, one
forward pass layer by layer (like torchinfo), sent to the tutor as one framed message.

The names come from the code's syntax tree, read after the run: the module-level
assignments (also inside ``if``/``for``/``with``/``try``, not inside functions or classes),
each name at its last such line, with the value it holds at the end. That costs a parse of
the learner's file and nothing while the code runs, where ``sys.settrace`` would slow every
line of a training loop; the price is that a name assigned twice is shown once, at its last
line.

Nothing here may change a verdict or make a run worse: it runs after the probes, keeps the
random number generators as they were, hides what a forward pass prints, stops a forward
pass after ``FORWARD_S`` seconds, and any failure leaves the shapes out.
"""

from __future__ import annotations

import ast
import contextlib
import io
import signal
from collections.abc import Iterator
from typing import Any

from tutor.sandbox import wire as w

FORWARD_S = 2.0  # wall-clock seconds one table's forward pass may take


def shapes(torch: Any, code: str, ns: dict[str, Any], device: Any,
           layer_inputs: list[tuple[str, list[int]]], before_line: int | None = None) -> w.Shapes:
    """The message: ``code``'s names as ``ns`` holds them (only lines before ``before_line``,
    where the code raised), and a layer table for each module named in ``layer_inputs``."""
    named = [item for item in _named(torch, code, ns, before_line) if item is not None]
    tables = []
    with _rng_kept(torch):
        for name, shape in layer_inputs[: w.SHAPED_TABLES]:
            table = _guarded(lambda n=name, s=shape: layer_table(torch, ns, n, s, device))
            if table is not None:
                tables.append(table)
    return w.Shapes(names=named[: w.SHAPED_NAMES], more=max(0, len(named) - w.SHAPED_NAMES),
                    tables=tables)


def assigned(code: str) -> dict[str, int]:
    """Each name assigned at module level, and the last line that assigns it."""
    lines: dict[str, int] = {}
    for node in _module_level(ast.parse(code).body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = [node.target]
        for target in targets:
            for name in _names(target):
                lines.pop(name, None)  # in line order, at its last line
                lines[name] = node.lineno
    return dict(sorted(lines.items(), key=lambda item: item[1]))


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _module_level(getattr(node, field, []) or [])
        for handler in getattr(node, "handlers", []) or []:
            yield from _module_level(handler.body)


def _names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for item in target.elts:
            yield from _names(item)
    elif isinstance(target, ast.Starred):
        yield from _names(target.value)


def _named(torch: Any, code: str, ns: dict[str, Any],
           before_line: int | None) -> Iterator[w.NamedShape | None]:
    for name, line in assigned(code).items():
        if before_line is not None and line >= before_line:
            continue
        value = ns.get(name)
        yield _guarded(lambda n=name, ln=line, v=value: _named_shape(torch, n, ln, v))


def _named_shape(torch: Any, name: str, line: int, value: Any) -> w.NamedShape | None:
    if isinstance(value, torch.Tensor):
        shape = _shape(torch, value)
        if shape is None:
            return None
        return w.NamedShape(line=line, name=name[:200], type="Tensor", shape=shape,
                            dtype=str(torch.Tensor.dtype.__get__(value)).removeprefix("torch.")[:32])
    if isinstance(value, torch.nn.Module):
        return w.NamedShape(line=line, name=name[:200], type=type(value).__name__[:200],
                            params=_params(value))
    return None


def layer_table(torch: Any, ns: dict[str, Any], name: str, shape: list[int],
                device: Any) -> w.LayerTable | None:
    """``name``'s module (an instance, or a class called with no arguments) run once on a
    random input of ``shape``, with a forward hook on each direct child."""
    target = ns.get(name)
    if isinstance(target, type) and issubclass(target, torch.nn.Module):
        with contextlib.redirect_stdout(io.StringIO()), _deadline(FORWARD_S):
            target = target().to(device)
    if not isinstance(target, torch.nn.Module):
        return None
    module = target
    children = list(module.named_children())
    layers = {child_name: w.LayerShape(name=child_name[:200], type=type(child).__name__[:200],
                                       params=_params(child), calls=0)
              for child_name, child in children[: w.SHAPED_LAYERS]}
    hooks = [child.register_forward_hook(_hook(torch, layers[child_name]))
             for child_name, child in children[: w.SHAPED_LAYERS]]
    table = w.LayerTable(name=name[:200], type=type(module).__name__[:200], input=list(shape),
                         params=_params(module), more=max(0, len(children) - w.SHAPED_LAYERS))
    first = next(iter(module.parameters()), None)
    x = torch.randn(*shape).to(first.device if first is not None else device)
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), _deadline(FORWARD_S):
            out = module(x)
        table.output = _first_shape(torch, out)
    except Exception as exc:
        table.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        for hook in hooks:
            hook.remove()
        module.train(was_training)
    table.layers = list(layers.values())
    return table


def _hook(torch: Any, layer: w.LayerShape) -> Any:
    def hook(_module: Any, inputs: Any, output: Any) -> None:
        layer.calls += 1
        if layer.calls == 1:  # a layer used twice: the shapes of its first use
            layer.input = _first_shape(torch, inputs)
            layer.output = _first_shape(torch, output)

    return hook


def _first_shape(torch: Any, value: Any) -> list[int] | None:
    """The shape of ``value``, or of the first tensor in a tuple, list or dict of them."""
    if isinstance(value, torch.Tensor):
        return _shape(torch, value)
    items = value.values() if isinstance(value, dict) else value
    if isinstance(items, (tuple, list)) or isinstance(value, dict):
        for item in list(items)[:8]:
            if isinstance(item, torch.Tensor):
                return _shape(torch, item)
    return None


def _shape(torch: Any, t: Any) -> list[int] | None:
    """Read through the base class: a Tensor subclass may lie through its methods."""
    shape = [int(n) for n in torch.Tensor.shape.__get__(t)]
    return shape if len(shape) <= w.MAX_RANK else None


def _params(module: Any) -> int:
    return sum(int(p.numel()) for p in module.parameters())


def _guarded(fn: Any) -> Any:
    """Learner code (a ``__init__``, a ``forward``, a property) may raise anything."""
    try:
        return fn()
    except Exception:
        return None


@contextlib.contextmanager
def _rng_kept(torch: Any) -> Iterator[None]:
    """Building and running a module here draws random numbers the code's own run must
    not miss (a check of the same module afterwards, a reference that never does this)."""
    state = torch.random.get_rng_state()
    try:
        yield
    finally:
        torch.random.set_rng_state(state)


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Stop a forward pass that takes too long (a learner's loop): it would only be shown."""
    def stop(_signum: int, _frame: Any) -> None:
        raise _TooSlow(f"took longer than {seconds:g} s")

    try:
        previous = signal.signal(signal.SIGALRM, stop)
    except ValueError:  # not the main thread: no deadline
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
