"""Turn what the learner's and the reference's runs exported into one result per check.

Runs in the tutor's process on decoded values with numpy only, so nothing the learner's
code did to torch in its own process can change a verdict. A mistake in the lesson itself
(a reference that is missing or fails) becomes a failed check whose message starts with
"lesson error:", never a crash and never a pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutor.core import model as m
from tutor.core.feedback import (
    NAN_CAUSES,
    clip,
    conversion_hint,
    describe,
    describe_difference,
    device_problem,
    dtype_problem,
    format_number,
    format_shape,
    is_placeholder,
    join_words,
    shape_problem,
    type_name,
    unusable,
)
from tutor.core.plan import var_id
from tutor.core.source_rules import check_source
from tutor.core.verdict import CheckResult
from tutor.sandbox.frames import MISSING, Module, Raised, Tensor

STDOUT_TAIL_LINES = 5
VALUE_RTOL, VALUE_ATOL = 1e-6, 1e-9  # an ExpectCheck ``value`` is exact up to float rounding

_TYPE_WORDS = {
    "int": "an int", "float": "a float", "str": "a string", "bool": "a bool", "list": "a list",
    "tuple": "a tuple", "dict": "a dict", "tensor": "a torch tensor",
    "ndarray": "a numpy array", "module": "an nn.Module", "none": "None",
}
_REQUIRES_GRAD = {
    True: "{what} does not track gradients (requires_grad=False): create it with "
          "requires_grad=True or call .requires_grad_().",
    False: "{what} tracks gradients (requires_grad=True), expected not: use .detach(), or "
           "compute it inside `with torch.no_grad():`.",
}
_IS_LEAF = {
    True: "{what} is not a leaf tensor: it was computed from tensors that require grad, and "
          "only leaves get a .grad. Create it directly (e.g. torch.randn(..., "
          "requires_grad=True)) or use .detach().requires_grad_().",
    False: "{what} is a leaf tensor, expected the result of an operation on tensors that "
           "require grad.",
}
_GRAD = {
    True: "{grad} is None: call .backward() on a result computed from {what}, and check "
          "that {what} is a leaf with requires_grad=True whose gradient was not cleared "
          "(zero_grad() sets it to None).",
    False: "{grad} is set, expected no gradient: clear it with optimizer.zero_grad() "
           "(or {what_plain}.grad = None).",
}


class LessonError(Exception):
    """A mistake in the lesson (its reference solution or its checks), not the learner's."""


@dataclass(frozen=True)
class Run:
    """What one attempt produced, as the checks read it."""

    learner: dict[str, Any]
    reference: dict[str, Any] | None
    metrics: dict[str, Any]
    stdout: str
    source: str
    device: str

    def mine(self, key: str) -> Any:
        return self.learner.get(key, MISSING)

    def placeholder(self, name: str) -> Any:
        """The learner's value of ``name`` as a probe or an export saw it (MISSING if neither)."""
        value = self.mine(var_id(name))
        return self.mine(f"x:{name}") if value is MISSING else value

    def theirs(self, key: str, what: str) -> Any:
        """The reference's value; a missing or failed one is the lesson's fault."""
        if self.reference is None:
            raise LessonError("this check needs the reference solution, which did not run")
        value = self.reference.get(key, MISSING)
        if value is MISSING:
            raise LessonError(f"the reference solution does not define {what}")
        if isinstance(value, Raised):
            raise LessonError(f"the reference solution failed on {what}:\n{value.error.format()}")
        return value


def evaluate(
    step: m.CodeStep,
    learner: dict[str, Any],
    reference: dict[str, Any] | None,
    metrics: dict[str, Any],
    stdout: str,
    source: str,
    run_device: str,
) -> list[CheckResult]:
    """One result per check of ``step``, in order; failures carry the author's advice."""
    run = Run(learner, reference, metrics, stdout, source, run_device)
    results = []
    told: set[str] = set()  # placeholders already pointed out
    for index, check in enumerate(step.checks):
        result = _judge(check, index, run)
        waiting = [name for name in _names_read(check) if is_placeholder(run.placeholder(name))]
        if not result.passed and waiting:
            if set(waiting) <= told:  # said once is enough: the rest waits for the code
                names = join_words([f"`{name}`" for name in waiting])
                result = CheckResult(result.name, False,
                                     f"Not checked yet: {names} {_is_are(waiting)} still `...`.")
            told.update(waiting)
        results.append(result)
    return results


def _names_read(check: m.AnyCheck) -> tuple[str, ...]:
    """The learner's variables a check reads, as far as the check itself says."""
    if isinstance(check, (m.CompareCheck, m.ExpectCheck)):
        return (check.var,)
    if isinstance(check, m.MetricCheck):
        return check.learner
    return ()


def _is_are(names: list[str]) -> str:
    return "is" if len(names) == 1 else "are"


def _judge(check: m.AnyCheck, index: int, run: Run) -> CheckResult:
    try:
        problem = _JUDGES[check.kind](check, index, run)
    except LessonError as exc:
        problem = f"lesson error: {exc}"
    if problem is None:
        return CheckResult(check.title(), True, _achieved(check, index, run))
    if check.message:
        problem = f"{problem}\n{check.message}"
    return CheckResult(check.title(), False, problem)


# --------------------------------------------------------------------------- compare, expect


def _compare(check: m.CompareCheck, index: int, run: Run) -> str | None:
    what = f"`{check.var}`"
    expected = run.theirs(var_id(check.var), what)
    return describe_difference(
        run.mine(var_id(check.var)), expected,
        rtol=check.rtol, atol=check.atol, axes=check.axes, what=what,
    )


def _expect(check: m.ExpectCheck, index: int, run: Run) -> str | None:
    what = f"`{check.var}`"
    value = run.mine(var_id(check.var))
    problem = unusable(value, what)
    if problem:
        return problem
    wrong_type = _type_problem(check.type, value, what) if check.type is not None else None
    problems = [wrong_type]
    if _asks_tensor(check):
        if isinstance(value, Tensor):
            problems += _tensor_problems(check, value, what, run.device)
        elif wrong_type is None:
            problems.append(_type_problem("tensor", value, what))
    if check.value is not None and wrong_type is None:
        problems.append(
            describe_difference(value, check.value, rtol=VALUE_RTOL, atol=VALUE_ATOL, what=what)
        )
    return "\n".join(p for p in problems if p) or None


def _type_problem(wanted: str, value: Any, what: str) -> str | None:
    if type_name(value) == wanted:
        return None
    text = f"{what} is {describe(value)}, expected {_TYPE_WORDS.get(wanted, wanted)}"
    hint = conversion_hint(value, wanted)
    return f"{text}: {hint}" if hint else f"{text}."


def _asks_tensor(check: m.ExpectCheck) -> bool:
    asked = (check.shape, check.dtype, check.device, check.requires_grad, check.is_leaf,
             check.grad, check.grad_shape)
    return any(a is not None for a in asked)


def _tensor_problems(
    check: m.ExpectCheck, t: Tensor, what: str, run_device: str
) -> list[str | None]:
    grad = f"{what[:-1]}.grad`" if what.endswith("`") else f"{what}.grad"
    words = {"what": what, "grad": grad, "what_plain": what.strip("`")}
    problems: list[str | None] = []
    if check.shape is not None:
        problems.append(shape_problem(t.shape, check.shape, axes=check.axes, what=what))
    if check.dtype is not None:
        problems.append(dtype_problem(t.dtype, check.dtype, what=what, kind=t.kind))
    if check.device is not None:
        wanted = run_device if check.device == "run" else check.device
        problems.append(device_problem(t.device, wanted, what=what))
    for asked, actual, template in (
        (check.requires_grad, t.requires_grad, _REQUIRES_GRAD),
        (check.is_leaf, t.is_leaf, _IS_LEAF),
        (check.grad, t.grad is not None, _GRAD),
    ):
        if asked is not None and actual != asked:
            problems.append(template[asked].format(**words))
    if check.grad_shape is not None:
        if t.grad is None:
            problems.append(_GRAD[True].format(**words))
        else:
            problems.append(shape_problem(t.grad.shape, check.grad_shape, what=grad))
    return list(dict.fromkeys(problems))  # asking for grad and grad_shape says None once


# --------------------------------------------------------------------------- call


def _call(check: m.CallCheck, index: int, run: Run) -> str | None:
    name = f"`{check.function}`"
    expected = run.theirs(f"c:{index}", name)
    if not isinstance(expected, list):
        raise LessonError(f"the reference's {name} is {describe(expected)}, not a function")
    got = run.mine(f"c:{index}")
    problem = unusable(got, name)
    if problem:
        return problem
    if not isinstance(got, list) or len(got) != len(expected):
        return (
            f"{name} is {describe(got)}, expected a function: define it with "
            f"`def {check.function}(...):`."
        )
    shown = (run.reference or {}).get(f"c:{index}:inputs")
    for trial, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        inputs = _inputs(check, shown[trial] if _is_listing(shown, trial) else None)
        if isinstance(theirs, Raised):
            raise LessonError(f"the reference {name} raised ({inputs[0].lower()}{inputs[1:]}):"
                              f"\n{theirs.error.format('Traceback (the reference solution):')}")
        problem = describe_difference(
            mine, theirs, rtol=check.rtol, atol=check.atol, axes=check.axes,
            what=f"`{check.function}(...)`",
        )
        if problem:
            again = f" (trial {trial + 1} of {len(expected)}, new random values)" if trial else ""
            return f"{inputs}{again}: {problem}"
    return None


def _inputs(check: m.CallCheck, shown: list[str] | None) -> str:
    """"For <the arguments>", from what the reference was really called with when known."""
    if shown is not None:
        parts = list(shown)
    else:
        parts = [arg.describe() for arg in check.args]
        parts += [f"{key}={arg.describe()}" for key, arg in check.kwargs]
    return f"For {join_words(parts)}" if parts else "When called with no arguments"


def _is_listing(shown: Any, trial: int) -> bool:
    return (isinstance(shown, list) and trial < len(shown) and isinstance(shown[trial], list)
            and all(isinstance(part, str) for part in shown[trial]))


# --------------------------------------------------------------------------- module


def _module(check: m.ModuleCheck, index: int, run: Run) -> str | None:
    what = f"`{check.target}`"
    got = run.mine(f"m:{index}")
    problem = unusable(got, what)
    if problem:
        return problem
    parts = got if isinstance(got, dict) else {"module": got}
    built = parts.get("module", MISSING)
    if isinstance(built, Raised):
        return f"Building {what} raised an error:\n{built.error.format()}"
    if not isinstance(built, Module):
        return (
            f"{what} is {describe(built)}, expected an nn.Module: a class that subclasses "
            "nn.Module, or an instance of one."
        )
    needs_reference = check.like_reference or check.same_as_reference
    theirs = _reference_module(run, f"m:{index}", what) if needs_reference else None
    like = theirs["module"] if theirs is not None and check.like_reference else None
    problems = [
        _params_problem(check, built, like, what),
        _layers_problem(check, built, like, what),
        _output_problem(check, parts, theirs),
    ]
    return "\n".join(p for p in problems if p) or None


def _reference_module(run: Run, key: str, what: str) -> dict[str, Any]:
    theirs = run.theirs(key, what)
    module = theirs.get("module") if isinstance(theirs, dict) else theirs
    if isinstance(module, Raised):
        raise LessonError(f"building the reference {what} failed:\n{module.error.format()}")
    if not isinstance(module, Module):
        raise LessonError(f"the reference solution's {what} is {describe(module)}, not a module")
    return theirs


def _params_problem(
    check: m.ModuleCheck, built: Module, like: Module | None, what: str
) -> str | None:
    want = check.params if check.params is not None else (like.n_params if like else None)
    if want is None or built.n_params == want:
        return None
    return (
        f"{what} has {built.n_params:,} parameters, expected {want:,}. "
        + _per_layer_hint(built, like)
    )


def _per_layer_hint(built: Module, like: Module | None) -> str:
    mine = _per_layer(built)
    if like is not None:
        theirs = _per_layer(like)
        layers = dict.fromkeys([*theirs, *mine])
        differ = [
            f"{layer} has {mine.get(layer, 0):,} (expected {theirs.get(layer, 0):,})"
            for layer in layers
            if mine.get(layer, 0) != theirs.get(layer, 0)
        ]
        return "Per layer: " + "; ".join(differ) + "."
    if not mine:
        return (
            "It has no parameters: assign its layers to attributes of self inside __init__ "
            "(self.fc = nn.Linear(...)), after super().__init__()."
        )
    listing = ", ".join(f"{layer} {count:,}" for layer, count in mine.items())
    return (
        f"Your parameters per layer: {listing}. A Linear(i, o) has i*o + o; "
        "a Conv2d(i, o, k) has i*o*k*k + o."
    )


def _per_layer(module: Module) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, shape in module.params:
        layer = name.split(".")[0]
        counts[layer] = counts.get(layer, 0) + math.prod(shape)
    return counts


def _layers_problem(
    check: m.ModuleCheck, built: Module, like: Module | None, what: str
) -> str | None:
    if check.layers is not None:
        want = [tuple(layer) for layer in check.layers]
    elif like is not None:
        want = [tuple(layer) for layer in like.children]
    else:
        return None
    # Extra layers without parameters (nn.ReLU instead of F.relu, pooling, dropout) are a
    # matter of style, not of structure: accept them.
    wanted, weighted = {name for name, _ in want}, _per_layer(built)
    have = [tuple(layer) for layer in built.children
            if layer[0] in wanted or weighted.get(layer[0], 0) > 0]
    if have == want:
        return None
    have_types, want_types = dict(have), dict(want)
    found = [
        f"layer `{name}` ({kind}) is missing" if name not in have_types
        else f"layer `{name}` is a {have_types[name]}, expected a {kind}"
        for name, kind in want
        if have_types.get(name) != kind
    ]
    found += [f"layer `{name}` ({kind}) is not expected" for name, kind in have
              if name not in want_types]
    if not found:
        order = ", ".join(name for name, _ in have)
        found = [f"the layers are in a different order ({order}; expected "
                 f"{', '.join(name for name, _ in want)})"]
    return (
        f"{what}'s layers differ: {'; '.join(found)}. Layers are named after the attributes "
        "you assign in __init__ (self.conv1 = ...), in that order; in an nn.Sequential they "
        "are numbered 0, 1, 2... unless you name them with an OrderedDict."
    )


def _output_problem(
    check: m.ModuleCheck, got: dict[str, Any], theirs: dict[str, Any] | None
) -> str | None:
    if check.input_shape is None:
        if check.output_shape is not None or check.same_as_reference:
            raise LessonError("checking the output needs an `input` shape")
        return None
    where = f"For an input of shape {format_shape(check.input_shape)}"
    output = got.get("output")
    if isinstance(output, Raised):
        return f"{where}, the forward pass raised an error:\n{output.error.format()}"
    if not isinstance(output, Tensor):
        return (
            f"{where}, the forward pass returned {describe(output)}, expected a tensor: "
            "does forward() end with `return`?"
        )
    if check.output_shape is not None:
        problem = shape_problem(output.shape, check.output_shape, what="the output")
        if problem:
            return f"{where}: {problem}"
    if theirs is None or not check.same_as_reference:
        return None
    expected = theirs.get("output")
    if not isinstance(expected, Tensor):
        raise LessonError(f"the reference's forward pass gave {describe(expected)}, not a tensor")
    problem = describe_difference(
        output, expected, rtol=check.rtol, atol=check.atol, what="the output"
    )
    if problem is None:
        return None
    return (
        f"{where}, with the same weights as the reference: {problem} (Both models got "
        "identical weights by parameter name, so your layers need the reference's names.)"
    )


# --------------------------------------------------------------------------- metric, stdout, source


def _metric(check: m.MetricCheck, index: int, run: Run) -> str | None:
    label = check.name or f"`{check.expr}`"
    value = run.metrics.get(f"k:{index}", MISSING)
    if value is MISSING:
        return (
            f"{label} could not be measured: the judge got nothing to measure, which happens "
            "when your code stops before the end."
        )
    if isinstance(value, Raised):
        return f"Measuring {label} failed:\n{value.error.format()}"
    if isinstance(value, Tensor) and value.numel == 1 and value.data is not None:
        value = value.data.reshape(-1)[0].item()
    if isinstance(value, bool):
        if value:
            return None
        return f"Not yet: {check.name}." if check.name else f"`{check.expr}` is not true yet."
    if not isinstance(value, (int, float)):
        raise LessonError(f"{label} gave {describe(value)}; a metric must give a bool or a number")
    return _out_of_range(label, value, check.min, check.max)


def _achieved(check: m.AnyCheck, index: int, run: Run) -> str:
    """For a passed metric with a threshold, the learner's figure (their accuracy...)."""
    if not isinstance(check, m.MetricCheck) or (check.min is None and check.max is None):
        return ""
    value = run.metrics.get(f"k:{index}")
    if isinstance(value, Tensor) and value.numel == 1 and value.data is not None:
        value = value.data.reshape(-1)[0].item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return f"yours: {format_number(value)}"


def _out_of_range(label: str, value: float, low: float | None, high: float | None) -> str | None:
    if math.isnan(value):
        return f"{label} is NaN. {NAN_CAUSES}."
    if low is not None and value < low:
        return f"{label} {format_number(value)} is below the required {format_number(low)}."
    if high is not None and value > high:
        return f"{label} {format_number(value)} is above the allowed {format_number(high)}."
    return None


def _stdout(check: m.StdoutCheck, index: int, run: Run) -> str | None:
    printed = run.stdout
    if check.contains is not None:
        wanted = f"the text {check.contains!r}"
        found = check.contains in printed
    elif check.matches is not None:
        try:
            pattern = re.compile(check.matches, re.MULTILINE)
        except re.error as exc:
            raise LessonError(f"/{check.matches}/ is not a valid regex: {exc}") from None
        # An author's name for the check reads better than a regular expression.
        wanted = check.name or f"a line matching /{check.matches}/"
        found = pattern.search(printed) is not None
    else:
        raise LessonError("an output check needs `contains` or `matches`")
    if not printed.strip():  # an empty output never passes, even an empty expectation
        return f"Your code printed nothing; expected {wanted}. Show it with print(...)."
    if found:
        return None
    lines = printed.rstrip("\n").splitlines()[-STDOUT_TAIL_LINES:]
    tail = "\n".join(f"  {clip(line, 100)}" for line in lines)
    head = f"Not yet: {check.name}." if check.name else f"Your output does not contain {wanted}."
    return f"{head} The last lines you printed:\n{tail}"


def _source(check: m.SourceCheck, index: int, run: Run) -> str | None:
    result = check_source(check, run.source)
    return None if result.passed else result.message


_JUDGES: dict[str, Callable[[Any, int, Run], str | None]] = {
    "compare": _compare,
    "expect": _expect,
    "call": _call,
    "module": _module,
    "metric": _metric,
    "stdout": _stdout,
    "source": _source,
}
