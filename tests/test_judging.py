"""Judging a step's checks from the values both runs exported: pass, fail, and lesson errors."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.core import model as m
from tutor.core.judging import evaluate
from tutor.core.verdict import CheckResult
from tutor.sandbox.frames import MISSING, ErrorInfo, Module, Opaque, Raised, Tensor


def tensor(values, dtype: str | None = None, **fields) -> Tensor:
    data = np.asarray(values, dtype=dtype)
    return Tensor(dtype=str(data.dtype), shape=data.shape, data=data, **fields)


def zeros(*shape: int, dtype: str = "float32", **fields) -> Tensor:
    return tensor(np.zeros(shape, dtype=dtype), **fields)


def raised(message: str = "bad input", kind: str = "ValueError") -> Raised:
    return Raised(ErrorInfo(kind, message, [{"line": 3, "name": "f", "text": "return x / 0"}]))


def judge(
    check: m.Check,
    learner: dict | None = None,
    reference: dict | None = None,
    *,
    metrics: dict | None = None,
    stdout: str = "",
    source: str = "",
    device: str = "cpu",
) -> CheckResult:
    step = m.CodeStep(id="s", title="S", lesson_id="l", checks=(check,))
    results = evaluate(step, learner or {}, reference, metrics or {}, stdout, source, device)
    assert len(results) == 1
    return results[0]


def failed(result: CheckResult) -> str:
    assert not result.passed, "expected the check to fail"
    assert result.message
    return result.message


def passed(result: CheckResult) -> None:
    assert result.passed, result.message
    assert result.message == "" or result.message.startswith("yours: ")


# --------------------------------------------------------------------------- every step


def test_one_result_per_check_in_order_named_by_title():
    checks = (
        m.CompareCheck(var="x"),
        m.StdoutCheck(contains="done", name="prints done"),
        m.SourceCheck(no_loops=True),
    )
    step = m.CodeStep(id="s", title="S", lesson_id="l", checks=checks)
    reference = {"v:x": zeros(2)}
    results = evaluate(step, {"v:x": zeros(2)}, reference, {}, "done\n", "y = 1\n", "cpu")
    assert [r.name for r in results] == [
        "`x` matches the expected value", "prints done", "the code has no Python loops",
    ]
    assert all(r.passed for r in results)


def test_a_placeholder_is_pointed_out_once_and_later_checks_wait_for_it():
    dots = Opaque("ellipsis", "Ellipsis")
    checks = (
        m.ExpectCheck(var="t", shape=(4,)),
        m.CompareCheck(var="t"),
        m.MetricCheck(expr="float(t.sum())", learner=("t",), name="sum"),
        m.CompareCheck(var="u"),
    )
    step = m.CodeStep(id="s", title="S", lesson_id="l", checks=checks)
    reference = {"v:t": zeros(4), "v:u": zeros(4)}
    learner = {"v:t": dots, "x:t": dots, "v:u": dots}
    metrics = {"k:2": raised("`t` is still `...`", "TypeError")}
    first, second, third, fourth = evaluate(step, learner, reference, metrics, "", "", "cpu")
    assert "`t` is still `...`, the starter's placeholder" in first.message
    assert second.message == third.message == "Not checked yet: `t` is still `...`."
    assert "`u` is still `...`, the starter's placeholder" in fourth.message
    assert not any(r.passed for r in (first, second, third, fourth))


def test_the_authors_advice_follows_on_its_own_line():
    check = m.CompareCheck(var="x", message="Remember: images are [C, H, W].")
    message = failed(judge(check, {"v:x": zeros(3)}, {"v:x": zeros(1, 3)}))
    first, advice = message.rsplit("\n", 1)
    assert "unsqueeze(0)" in first
    assert advice == "Remember: images are [C, H, W]."


# --------------------------------------------------------------------------- compare


def test_compare_passes_on_equal_values():
    passed(judge(m.CompareCheck(var="x"), {"v:x": zeros(2, 3)}, {"v:x": zeros(2, 3)}))


def test_compare_uses_axis_names_and_tolerances():
    check = m.CompareCheck(var="x", axes=("B", "C"))
    message = failed(judge(check, {"v:x": zeros(2, 3)}, {"v:x": zeros(2, 1)}))
    assert "axis 1 (C): got 3, expected 1" in message
    loose = m.CompareCheck(var="x", atol=0.1)
    passed(judge(loose, {"v:x": tensor([1.05], "float32")}, {"v:x": tensor([1.0], "float32")}))


def test_compare_rejects_a_broadcastable_shape():
    check = m.CompareCheck(var="total")
    learner = {"v:total": tensor([6], "int64")}
    message = failed(judge(check, learner, {"v:total": tensor(6, "int64")}))
    assert "has shape [1], expected []" in message


def test_compare_reports_a_missing_variable():
    message = failed(judge(m.CompareCheck(var="x"), {"v:x": MISSING}, {"v:x": zeros(2)}))
    assert message == "`x` is not defined: did you remove or rename it?"


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [(None, "did not run"), ({}, "does not define `x`"), ({"v:x": MISSING}, "does not define"),
     ({"v:x": raised()}, "ValueError: bad input")],
)
def test_compare_with_a_broken_reference_is_a_lesson_error(reference, fragment):
    message = failed(judge(m.CompareCheck(var="x"), {"v:x": zeros(2)}, reference))
    assert message.startswith("lesson error:")
    assert fragment in message


# --------------------------------------------------------------------------- expect


def test_expect_passes_with_wildcards_and_the_run_device():
    check = m.ExpectCheck(var="batch", shape=(None, 1, 28, 28), dtype="float32", device="run")
    batch = zeros(64, 1, 28, 28, device="cuda:0")
    passed(judge(check, {"v:batch": batch}, device="cuda"))


def test_expect_lists_every_failing_property():
    check = m.ExpectCheck(var="x", shape=(None, 1, 28, 28), axes=("B", "C", "H", "W"),
                          dtype="float32", requires_grad=True)
    message = failed(judge(check, {"v:x": zeros(1, 28, 28, dtype="int64")}))
    lines = message.splitlines()
    assert len(lines) == 3
    assert "`.unsqueeze(0)`" in lines[0]
    assert "Python ints make int64 tensors" in lines[1]
    assert "requires_grad=True" in lines[2]


def test_expect_cuda_device():
    check = m.ExpectCheck(var="x", device="cuda")
    passed(judge(check, {"v:x": zeros(2, device="cuda:0")}))
    message = failed(judge(check, {"v:x": zeros(2)}))
    assert "is on cpu, expected cuda" in message
    assert ".to(device)" in message


def test_expect_run_device_on_cpu():
    check = m.ExpectCheck(var="x", device="run")
    assert "expected cpu" in failed(judge(check, {"v:x": zeros(2, device="cuda:0")}))


def test_expect_gradients():
    weight = zeros(5, 3, requires_grad=True, grad=zeros(5, 3))
    check = m.ExpectCheck(var="w", requires_grad=True, is_leaf=True, grad=True, grad_shape=(5, 3))
    passed(judge(check, {"v:w": weight}))
    message = failed(judge(check, {"v:w": zeros(5, 3, requires_grad=True)}))
    assert message.count("`w.grad` is None") == 1
    assert ".backward()" in message
    wrong = zeros(5, 3, requires_grad=True, grad=zeros(3, 5))
    assert "`w.grad` has shape [3, 5], expected [5, 3]" in failed(judge(check, {"v:w": wrong}))


def test_expect_no_gradient_and_not_a_leaf():
    check = m.ExpectCheck(var="y", grad=False, is_leaf=True, requires_grad=False)
    message = failed(judge(check, {"v:y": zeros(2, requires_grad=True, is_leaf=False,
                                                 grad=zeros(2))}))
    assert "not a leaf tensor" in message
    assert "zero_grad()" in message
    assert ".detach()" in message


def test_expect_type_with_conversion_hint():
    check = m.ExpectCheck(var="loss", type="float")
    passed(judge(check, {"v:loss": 0.5}))
    message = failed(judge(check, {"v:loss": tensor(0.5, "float32")}))
    assert "`loss` is a float32 tensor of shape [], expected a float" in message
    assert ".item()" in message


def test_expect_type_names_for_tensors_arrays_and_none():
    passed(judge(m.ExpectCheck(var="a", type="ndarray"), {"v:a": zeros(2, kind="ndarray")}))
    passed(judge(m.ExpectCheck(var="a", type="none"), {"v:a": None}))
    message = failed(judge(m.ExpectCheck(var="a", type="tensor"), {"v:a": zeros(2, kind="ndarray")}))
    assert "torch.from_numpy" in message


def test_expect_tensor_properties_on_a_non_tensor():
    message = failed(judge(m.ExpectCheck(var="x", shape=(3,)), {"v:x": [1.0, 2.0, 3.0]}))
    assert "`x` is a list of 3 items, expected a torch tensor" in message
    assert "torch.tensor(...)" in message


def test_expect_values():
    passed(judge(m.ExpectCheck(var="n", value=784), {"v:n": 784}))
    assert "`n` is 748, expected 784" in failed(judge(m.ExpectCheck(var="n", value=784),
                                                      {"v:n": 748}))
    passed(judge(m.ExpectCheck(var="p", value=0.3), {"v:p": 0.1 + 0.2}))
    assert "expected 0.3" in failed(judge(m.ExpectCheck(var="p", value=0.3), {"v:p": 0.31}))
    assert "'cpu'" in failed(judge(m.ExpectCheck(var="d", value="cuda"), {"v:d": "cpu"}))
    passed(judge(m.ExpectCheck(var="ok", value=False), {"v:ok": False}))


def test_expect_missing_variable():
    message = failed(judge(m.ExpectCheck(var="x", shape=(2,)), {}))
    assert "`x` is not defined" in message


# --------------------------------------------------------------------------- call


def call_check(**options) -> m.CallCheck:
    arg = m.ArgSpec(tensor={"shape": [3, 4], "dtype": "float32"})
    return m.CallCheck(function="normalize", args=(arg,), **options)


def test_call_passes_when_every_trial_matches():
    trials = [zeros(3, 4), zeros(3, 4), zeros(3, 4)]
    passed(judge(call_check(), {"c:0": trials}, {"c:0": list(trials)}))


def test_call_reports_the_first_failing_trial_with_its_inputs():
    mine = [zeros(3, 4), zeros(3, 4), zeros(4)]
    theirs = [zeros(3, 4), zeros(3, 4), zeros(3)]
    message = failed(judge(call_check(), {"c:0": mine}, {"c:0": theirs}))
    assert message.startswith("For a float32 tensor of shape [3, 4] (trial 3 of 3")
    assert "`normalize(...)` has shape [4], expected [3]" in message
    assert "dim=0 vs dim=1" in message


def test_call_on_the_first_trial_names_just_the_inputs():
    message = failed(judge(call_check(), {"c:0": [zeros(4)]}, {"c:0": [zeros(3)]}))
    assert message.startswith("For a float32 tensor of shape [3, 4]: ")


def test_call_shows_the_traceback_when_the_function_raises():
    message = failed(judge(call_check(), {"c:0": [raised("division by zero",
                                                             "ZeroDivisionError")]},
                           {"c:0": [zeros(3)]}))
    assert "`normalize(...)` raised an error" in message
    assert "line 3, in f" in message
    assert "ZeroDivisionError: division by zero" in message


def test_call_missing_or_not_callable():
    message = failed(judge(call_check(), {"c:0": MISSING}, {"c:0": [zeros(3)]}))
    assert message == "`normalize` is not defined: did you remove or rename it?"
    message = failed(judge(call_check(), {"c:0": Opaque("int", "3")}, {"c:0": [zeros(3)]}))
    assert "expected a function: define it with `def normalize(...):`" in message


def test_call_with_no_arguments_and_keyword_arguments():
    bare = m.CallCheck(function="make")
    assert failed(judge(bare, {"c:0": [1]}, {"c:0": [2]})).startswith(
        "When called with no arguments: `make(...)` is 1, expected 2")
    keyed = m.CallCheck(function="f", args=(m.ArgSpec(value=2),),
                        kwargs=(("dim", m.ArgSpec(value=1)),))
    assert failed(judge(keyed, {"c:0": [1]}, {"c:0": [2]})).startswith("For 2 and dim=1: ")


def test_call_reference_that_raises_is_a_lesson_error():
    message = failed(judge(call_check(), {"c:0": [zeros(3)]}, {"c:0": [raised()]}))
    assert message.startswith("lesson error: the reference `normalize` raised")


# --------------------------------------------------------------------------- module


def net(children=None, params=None, n_params=None) -> Module:
    children = children if children is not None else [("fc1", "Linear"), ("fc2", "Linear")]
    params = params if params is not None else [
        ("fc1.weight", (8, 4)), ("fc1.bias", (8,)), ("fc2.weight", (2, 8)), ("fc2.bias", (2,)),
    ]
    total = n_params if n_params is not None else sum(int(np.prod(s)) for _, s in params)
    return Module("Net", total, total, children, params, True)


def test_module_passes_params_layers_and_output_shape():
    check = m.ModuleCheck(target="Net", params=58, layers=(("fc1", "Linear"), ("fc2", "Linear")),
                          input_shape=(5, 4), output_shape=(None, 2))
    passed(judge(check, {"m:0": {"module": net(), "output": zeros(5, 2)}}))


def test_module_wrong_parameter_count_lists_layers():
    check = m.ModuleCheck(target="Net", params=60)
    message = failed(judge(check, {"m:0": {"module": net()}}))
    assert "`Net` has 58 parameters, expected 60" in message
    assert "fc1 40, fc2 18" in message


def test_module_like_reference_names_the_layer_that_differs():
    check = m.ModuleCheck(target="Net", like_reference=True)
    theirs = net(params=[("fc1.weight", (8, 4)), ("fc1.bias", (8,)), ("fc2.weight", (3, 8)),
                         ("fc2.bias", (3,))])
    message = failed(judge(check, {"m:0": {"module": net()}}, {"m:0": {"module": theirs}}))
    assert "has 58 parameters, expected 67" in message
    assert "fc2 has 18 (expected 27)" in message
    assert "fc1 has" not in message


def test_module_layers_missing_extra_wrong_type_and_order():
    check = m.ModuleCheck(target="Net", layers=(("conv1", "Conv2d"), ("fc1", "Linear"),
                                                ("out", "Linear")))
    mine = net(children=[("conv1", "Linear"), ("fc1", "Linear"), ("extra", "Linear")],
               params=[("conv1.weight", (8, 4)), ("fc1.weight", (2, 8)), ("extra.weight", (2, 2))])
    message = failed(judge(check, {"m:0": {"module": mine}}))
    assert "layer `conv1` is a Linear, expected a Conv2d" in message
    assert "layer `out` (Linear) is missing" in message
    assert "layer `extra` (Linear) is not expected" in message
    swapped = net(children=[("fc1", "Linear"), ("conv1", "Conv2d"), ("out", "Linear")])
    assert "different order (fc1, conv1, out; expected conv1, fc1, out)" in failed(
        judge(check, {"m:0": {"module": swapped}}))


def test_module_accepts_extra_layers_without_parameters():
    """nn.ReLU() or nn.Dropout() as attributes instead of F.relu is style, not structure."""
    check = m.ModuleCheck(target="Net", layers=(("fc1", "Linear"), ("fc2", "Linear")))
    styled = net(children=[("fc1", "Linear"), ("act", "ReLU"), ("fc2", "Linear"),
                           ("drop", "Dropout")])
    passed(judge(check, {"m:0": {"module": styled}}))


def test_module_output_shape():
    check = m.ModuleCheck(target="Net", input_shape=(5, 4), output_shape=(None, 2))
    message = failed(judge(check, {"m:0": {"module": net(), "output": zeros(5, 1, 2)}}))
    assert message.startswith("For an input of shape [5, 4]: the output has shape [5, 1, 2]")
    assert "`.squeeze(1)`" in message


def test_module_same_as_reference_compares_outputs():
    check = m.ModuleCheck(target="Net", input_shape=(2, 4), same_as_reference=True)
    theirs = {"m:0": {"module": net(), "output": tensor([[1.0, 2.0], [3.0, 4.0]], "float32")}}
    good = {"m:0": {"module": net(), "output": tensor([[1.0, 2.0], [3.0, 4.0]], "float32")}}
    passed(judge(check, good, theirs))
    bad = {"m:0": {"module": net(), "output": tensor([[1.0, 2.0], [3.0, 5.0]], "float32")}}
    message = failed(judge(check, bad, theirs))
    assert "same weights as the reference" in message
    assert "First at index [1, 1]: got 5.0, expected 4.0" in message


def test_module_that_fails_to_build_or_to_run():
    check = m.ModuleCheck(target="Net", input_shape=(2, 4))
    message = failed(judge(check, {"m:0": {"module": raised("mat1 and mat2", "RuntimeError")}}))
    assert message.startswith("Building `Net` raised an error:")
    assert "RuntimeError: mat1 and mat2" in message
    message = failed(judge(check, {"m:0": {"module": net(), "output": raised()}}))
    assert "the forward pass raised an error" in message
    message = failed(judge(check, {"m:0": {"module": net(), "output": None}}))
    assert "does forward() end with `return`?" in message


def test_module_missing_or_not_a_module():
    check = m.ModuleCheck(target="Net", params=3)
    assert "`Net` is not defined" in failed(judge(check, {"m:0": MISSING}))
    message = failed(judge(check, {"m:0": {"module": Opaque("function", "<function Net>")}}))
    assert "expected an nn.Module" in message


def test_module_without_a_reference_module_is_a_lesson_error():
    check = m.ModuleCheck(target="Net", like_reference=True)
    message = failed(judge(check, {"m:0": {"module": net()}}, {"m:0": MISSING}))
    assert message.startswith("lesson error:")


# --------------------------------------------------------------------------- metric


def test_metric_bool():
    check = m.MetricCheck(expr="loss_fell(losses)")
    passed(judge(check, metrics={"k:0": True}))
    assert failed(judge(check, metrics={"k:0": False})) == "`loss_fell(losses)` is not true yet."
    named = m.MetricCheck(expr="loss_fell(losses)", name="the loss went down")
    assert failed(judge(named, metrics={"k:0": False})) == "Not yet: the loss went down."


def test_metric_range():
    check = m.MetricCheck(name="accuracy", expr="accuracy(model)", min=0.8)
    passed(judge(check, metrics={"k:0": 0.85}))
    assert failed(judge(check, metrics={"k:0": 0.62})) == (
        "accuracy 0.62 is below the required 0.8.")
    top = m.MetricCheck(expr="loss(model)", max=0.5)
    assert "above the allowed 0.5" in failed(judge(top, metrics={"k:0": 0.75}))
    assert "is NaN" in failed(judge(top, metrics={"k:0": float("nan")}))


def test_metric_from_a_one_element_tensor():
    check = m.MetricCheck(name="accuracy", expr="acc", min=0.5)
    passed(judge(check, metrics={"k:0": tensor(0.75, "float32")}))
    assert "below" in failed(judge(check, metrics={"k:0": tensor([0.25], "float32")}))


def test_metric_error_and_missing():
    check = m.MetricCheck(expr="accuracy(model)", learner=("model",))
    error = Raised(ErrorInfo("NameError", "your code does not define `model`"))
    message = failed(judge(check, metrics={"k:0": error}))
    assert "NameError: your code does not define `model`" in message
    assert "could not be measured" in failed(judge(check, metrics={}))


def test_metric_of_an_unusable_type_is_a_lesson_error():
    check = m.MetricCheck(expr="'high'")
    assert failed(judge(check, metrics={"k:0": "high"})).startswith("lesson error:")


# --------------------------------------------------------------------------- stdout


def test_stdout_contains_and_matches():
    passed(judge(m.StdoutCheck(contains="loss"), stdout="epoch 1 loss 0.3\n"))
    passed(judge(m.StdoutCheck(matches=r"^accuracy: 0\.\d+$"), stdout="x\naccuracy: 0.91\n"))


def test_stdout_failure_shows_the_last_lines():
    printed = "".join(f"line {i}\n" for i in range(10))
    message = failed(judge(m.StdoutCheck(contains="accuracy"), stdout=printed))
    assert "does not contain the text 'accuracy'" in message
    assert "  line 9" in message
    assert "line 4" not in message


def test_stdout_nothing_printed_never_passes():
    message = failed(judge(m.StdoutCheck(matches=".*"), stdout=""))
    assert "Your code printed nothing" in message


def test_stdout_bad_regex_is_a_lesson_error():
    assert failed(judge(m.StdoutCheck(matches="(("), stdout="x")).startswith("lesson error:")


# --------------------------------------------------------------------------- source


def test_source_rules_via_judging():
    check = m.SourceCheck(uses=("torch.stack",), message="stack adds a new axis.")
    passed(judge(check, source="import torch\ny = torch.stack(xs)\n"))
    message = failed(judge(check, source="import torch\ny = torch.cat(xs)\n"))
    assert message.endswith("\nstack adds a new axis.")
    assert "does not call `torch.stack`" in message


def test_a_passed_metric_with_a_threshold_shows_the_learners_figure():
    check = m.MetricCheck(expr="accuracy(model)", learner=("model",), min=0.6,
                          name="test accuracy")
    result = judge(check, metrics={"k:0": 0.9134})
    assert result.passed and result.message == "yours: 0.9134"
