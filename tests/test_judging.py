"""Judging a step's checks from the values both runs brought back: pass, fail, lesson errors."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.core.checks import Outcome
from tutor.core.checks.base import Advice
from tutor.core.checks.call import Call
from tutor.core.checks.compare import Compare
from tutor.core.checks.expect import Expect
from tutor.core.checks.metric import MetricCheck
from tutor.core.checks.module import ModuleCheck
from tutor.core.checks.prints import Prints
from tutor.core.checks.source import Rules, Source
from tutor.core.checks.stdout import StdoutContains, StdoutMatches
from tutor.core.declare import FieldError
from tutor.core.judging import evaluate
from tutor.core.model import CodeStep
from tutor.core.runs import CallProbe, ExprArg, Metric, ModuleProbe, TensorArg, ValueArg, ValueProbe
from tutor.core.values import (
    MISSING,
    Built,
    Called,
    ErrorInfo,
    Frame,
    Module,
    Opaque,
    Raised,
    Tensor,
)
from tutor.core.verdict import CheckResult


def tensor(values, dtype: str | None = None, **fields) -> Tensor:
    data = np.asarray(values, dtype=dtype)
    return Tensor(dtype=str(data.dtype), shape=data.shape, data=data, **fields)


def zeros(*shape: int, dtype: str = "float32", **fields) -> Tensor:
    return tensor(np.zeros(shape, dtype=dtype), **fields)


def raised(message: str = "bad input", kind: str = "ValueError") -> Raised:
    return Raised(ErrorInfo(kind, message, [Frame(3, "f", "return x / 0")]))


def step(*checks) -> CodeStep:
    return CodeStep(id="s", title="S", starter="", solution="", lesson_id="l", checks=checks)


def outcome(learner: dict | None = None, reference: dict | None = None, *,
            metrics: dict | None = None, stdout: str = "", source: str = "",
            device: str = "cpu") -> Outcome:
    return Outcome(learner=learner or {}, reference=reference, metrics=metrics or {},
                   stdout=stdout, source=source, device=device)


def judge(check, learner: dict | None = None, reference: dict | None = None,
          **context) -> CheckResult:
    results = evaluate(step(check), outcome(learner, reference, **context))
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
        Compare(var="x"),
        StdoutContains(text="done", name="prints done"),
        Source(rules=Rules(no_loops=True)),
    )
    seen = outcome({"value:x": zeros(2)}, {"value:x": zeros(2)}, stdout="done\n",
                   source="y = 1\n")
    results = evaluate(step(*checks), seen)
    assert [r.name for r in results] == [
        "`x` matches the expected value", "prints done", "the code has no Python loops",
    ]
    assert all(r.passed for r in results)


def test_a_placeholder_is_pointed_out_once_and_later_checks_wait_for_it():
    dots = Opaque("ellipsis", "Ellipsis")
    checks = (
        Expect(var="t", shape=(4,)),
        Compare(var="t"),
        MetricCheck(expr="float(t.sum())", learner=("t",), name="sum"),
        Compare(var="u"),
    )
    reference = {"value:t": zeros(4), "value:u": zeros(4)}
    learner = {"value:t": dots, "state:t": dots, "value:u": dots}
    metrics = {"metric:2": raised("`t` is still `...`", "TypeError")}
    first, second, third, fourth = evaluate(step(*checks),
                                            outcome(learner, reference, metrics=metrics))
    assert "`t` is still `...`, the starter's placeholder" in first.message
    assert second.message == third.message == "Not checked yet: `t` is still `...`."
    assert "`u` is still `...`, the starter's placeholder" in fourth.message
    assert not any(r.passed for r in (first, second, third, fourth))


def test_a_placeholder_seen_only_by_a_metric_is_found_through_its_state_probe():
    dots = Opaque("ellipsis", "Ellipsis")
    checks = (MetricCheck(expr="acc(model)", learner=("model",)), Compare(var="model"))
    learner = {"state:model": dots, "value:model": dots}
    first, second = evaluate(step(*checks), outcome(learner, {"value:model": zeros(1)}))
    assert "`model` is still `...`, the starter's placeholder" in first.message
    assert second.message == "Not checked yet: `model` is still `...`."


def test_the_authors_advice_follows_on_its_own_line():
    check = Compare(var="x", message="Remember: images are [C, H, W].")
    message = failed(judge(check, {"value:x": zeros(3)}, {"value:x": zeros(1, 3)}))
    first, advice = message.rsplit("\n", 1)
    assert "unsqueeze(0)" in first
    assert advice == "Remember: images are [C, H, W]."


def test_each_kind_asks_for_its_probes_under_the_documented_ids():
    assert Compare(var="x").probes(0) == [ValueProbe(id="value:x", name="x")]
    assert Expect(var="x").probes(4) == [ValueProbe(id="value:x", name="x")]
    metric = MetricCheck(expr="acc(model)", learner=("model",))
    assert metric.probes(3) == [ValueProbe(id="state:model", name="model", with_state=True)]
    assert metric.metrics(3) == [Metric(id="metric:3", expr="acc(model)",
                                        learner=(("model", "state:model"),))]
    arg = TensorArg(shape=(3, 4))
    call = Call(function="f", args=(arg,), kwargs=(("dim", ValueArg(1)),), trials=2)
    assert call.probes(2) == [CallProbe(id="call:2", name="f", args=(arg,),
                                        kwargs=(("dim", ValueArg(1)),), trials=2)]
    module = ModuleCheck(target="Net", input_shape=(1, 4), same_as_reference=True)
    assert module.probes(1) == [ModuleProbe(id="module:1", name="Net", input_shape=(1, 4),
                                            same_weights=True)]
    assert StdoutContains(text="x").probes(0) == [] and Source(rules=Rules()).probes(0) == []


def test_only_the_kinds_that_compare_with_the_reference_need_it():
    assert Compare(var="x").needs_reference()
    assert Call(function="f").needs_reference()
    assert MetricCheck(expr="True").needs_reference()
    assert not Expect(var="x").needs_reference()
    assert not ModuleCheck(target="Net", params=3).needs_reference()
    assert ModuleCheck(target="Net", like_reference=True).needs_reference()
    assert not StdoutContains(text="x").needs_reference()


# --------------------------------------------------------------------------- compare


def test_compare_passes_on_equal_values():
    passed(judge(Compare(var="x"), {"value:x": zeros(2, 3)}, {"value:x": zeros(2, 3)}))


def test_compare_uses_axis_names_and_tolerances():
    check = Compare(var="x", axes=("B", "C"))
    message = failed(judge(check, {"value:x": zeros(2, 3)}, {"value:x": zeros(2, 1)}))
    assert "axis 1 (C): got 3, expected 1" in message
    loose = Compare(var="x", atol=0.1)
    passed(judge(loose, {"value:x": tensor([1.05], "float32")},
                 {"value:x": tensor([1.0], "float32")}))
    assert "expected" in failed(judge(Compare(var="x"), {"value:x": tensor([1.05], "float32")},
                                      {"value:x": tensor([1.0], "float32")}))


def test_compare_rejects_a_broadcastable_shape():
    check = Compare(var="total")
    learner = {"value:total": tensor([6], "int64")}
    message = failed(judge(check, learner, {"value:total": tensor(6, "int64")}))
    assert "has shape [1], expected []" in message


def test_compare_reports_a_missing_variable():
    message = failed(judge(Compare(var="x"), {"value:x": MISSING}, {"value:x": zeros(2)}))
    assert message == "`x` is not defined: did you remove or rename it?"
    assert failed(judge(Compare(var="x"), {}, {"value:x": zeros(2)})) == message


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [(None, "did not run"), ({}, "does not define `x`"),
     ({"value:x": MISSING}, "does not define"),
     ({"value:x": raised()}, "ValueError: bad input")],
)
def test_compare_with_a_broken_reference_is_a_lesson_error(reference, fragment):
    message = failed(judge(Compare(var="x"), {"value:x": zeros(2)}, reference))
    assert message.startswith("lesson error:")
    assert fragment in message


# --------------------------------------------------------------------------- expect


def test_expect_passes_with_wildcards_and_the_run_device():
    check = Expect(var="batch", shape=(None, 1, 28, 28), dtype="float32", device="run")
    batch = zeros(64, 1, 28, 28, device="cuda:0")
    passed(judge(check, {"value:batch": batch}, device="cuda"))


def test_expect_reports_the_first_failing_property_in_the_order_they_are_fixed():
    check = Expect(var="x", shape=(None, 1, 28, 28), axes=("B", "C", "H", "W"),
                   dtype="float32", requires_grad=True)
    result = judge(check, {"value:x": zeros(1, 28, 28, dtype="int64")})
    assert result.mode == "shape" and "`.unsqueeze(0)`" in failed(result)
    assert "int64" not in result.message  # the next fix waits for this one
    result = judge(check, {"value:x": zeros(2, 1, 28, 28, dtype="int64")})
    assert result.mode == "dtype" and "integer data" in failed(result)
    result = judge(check, {"value:x": zeros(2, 1, 28, 28)})
    assert result.mode == "grad" and "requires_grad=True" in failed(result)


def test_expect_cuda_device():
    check = Expect(var="x", device="cuda")
    passed(judge(check, {"value:x": zeros(2, device="cuda:0")}))
    message = failed(judge(check, {"value:x": zeros(2)}))
    assert "is on cpu, expected cuda" in message
    assert ".to(device)" in message


def test_expect_run_device_on_cpu():
    check = Expect(var="x", device="run")
    assert "expected cpu" in failed(judge(check, {"value:x": zeros(2, device="cuda:0")}))


def test_expect_gradients():
    weight = zeros(5, 3, requires_grad=True, grad=zeros(5, 3))
    check = Expect(var="w", requires_grad=True, is_leaf=True, grad=True, grad_shape=(5, 3))
    passed(judge(check, {"value:w": weight}))
    message = failed(judge(check, {"value:w": zeros(5, 3, requires_grad=True)}))
    assert message.count("`w.grad` is None") == 1
    assert ".backward()" in message
    wrong = zeros(5, 3, requires_grad=True, grad=zeros(3, 5))
    assert "`w.grad` has shape [3, 5], expected [5, 3]" in failed(
        judge(check, {"value:w": wrong}))


def test_expect_no_gradient_and_not_a_leaf():
    check = Expect(var="y", grad=False, is_leaf=True, requires_grad=False)
    message = failed(judge(check, {"value:y": zeros(2, requires_grad=True, is_leaf=False,
                                                     grad=zeros(2))}))
    assert ".detach()" in message  # requires_grad first: it decides is_leaf and grad
    message = failed(judge(Expect(var="y", is_leaf=True), {"value:y": zeros(2, is_leaf=False)}))
    assert "not a leaf tensor" in message
    message = failed(judge(Expect(var="y", grad=False), {"value:y": zeros(2, grad=zeros(2))}))
    assert "zero_grad()" in message


def test_expect_type_with_conversion_hint():
    check = Expect(var="loss", type="float")
    passed(judge(check, {"value:loss": 0.5}))
    message = failed(judge(check, {"value:loss": tensor(0.5, "float32")}))
    assert "`loss` is a float32 tensor of shape [], expected a float" in message
    assert ".item()" in message


def test_expect_type_names_for_tensors_arrays_and_none():
    passed(judge(Expect(var="a", type="ndarray"), {"value:a": zeros(2, kind="ndarray")}))
    passed(judge(Expect(var="a", type="none"), {"value:a": None}))
    message = failed(judge(Expect(var="a", type="tensor"),
                           {"value:a": zeros(2, kind="ndarray")}))
    assert "torch.from_numpy" in message


def test_expect_tensor_properties_on_a_non_tensor():
    message = failed(judge(Expect(var="x", shape=(3,)), {"value:x": [1.0, 2.0, 3.0]}))
    assert "`x` is a list of 3 floats, expected a torch tensor" in message
    assert "torch.tensor(...)" in message


def test_expect_values():
    passed(judge(Expect(var="n", value=784), {"value:n": 784}))
    assert "`n` is 748, expected 784" in failed(judge(Expect(var="n", value=784),
                                                      {"value:n": 748}))
    passed(judge(Expect(var="p", value=0.3), {"value:p": 0.1 + 0.2}))
    assert "expected 0.3" in failed(judge(Expect(var="p", value=0.3), {"value:p": 0.31}))
    assert "'cpu'" in failed(judge(Expect(var="d", value="cuda"), {"value:d": "cpu"}))
    passed(judge(Expect(var="ok", value=False), {"value:ok": False}))


def test_expect_missing_variable():
    message = failed(judge(Expect(var="x", shape=(2,)), {}))
    assert "`x` is not defined" in message


def test_expect_needs_no_reference_even_when_it_is_broken():
    passed(judge(Expect(var="x", shape=(2,)), {"value:x": zeros(2)}, None))


# --------------------------------------------------------------------------- call


def call_check(**options) -> Call:
    return Call(function="normalize", args=(TensorArg(shape=(3, 4), dtype="float32"),),
                **options)


def called(*results, args=None) -> Called:
    return Called(results=list(results), args=args or [])


def test_call_passes_when_every_trial_matches():
    trials = [zeros(3, 4), zeros(3, 4), zeros(3, 4)]
    passed(judge(call_check(), {"call:0": called(*trials)}, {"call:0": called(*trials)}))


def test_call_reports_the_first_failing_trial_with_its_inputs():
    mine = called(zeros(3, 4), zeros(3, 4), zeros(4))
    theirs = called(zeros(3, 4), zeros(3, 4), zeros(3))
    message = failed(judge(call_check(), {"call:0": mine}, {"call:0": theirs}))
    assert message.startswith("For a float32 tensor of shape [3, 4] (trial 3 of 3")
    assert "`normalize(...)` has shape [4], expected [3]" in message
    assert "dim=0 vs dim=1" in message


def test_call_names_the_inputs_the_reference_was_really_called_with():
    inputs = [[Tensor("float64", (2, 5)), Opaque("Dataset", "<Dataset at 0x7f>", 10)]]
    check = Call(function="f", args=(TensorArg(shape=(2, 5), dtype="float64"),
                                      ExprArg("data")))
    theirs = Called(results=[1], args=inputs, kwargs=[[("scale", 0.5)]])
    message = failed(judge(check, {"call:0": called(2)}, {"call:0": theirs}))
    assert message.startswith("For a float64 tensor of shape [2, 5], a Dataset of 10 items and "
                              "scale=0.5: `f(...)` is 2, expected 1")


def test_call_on_the_first_trial_names_just_the_inputs():
    message = failed(judge(call_check(), {"call:0": called(zeros(4))},
                           {"call:0": called(zeros(3))}))
    assert message.startswith("For a float32 tensor of shape [3, 4]: ")


def test_call_shows_the_traceback_when_the_function_raises():
    mine = called(raised("division by zero", "ZeroDivisionError"))
    message = failed(judge(call_check(), {"call:0": mine}, {"call:0": called(zeros(3))}))
    assert "`normalize(...)` raised an error" in message
    assert "line 3, in f" in message
    assert "ZeroDivisionError: division by zero" in message


def test_call_missing_or_not_callable():
    theirs = {"call:0": called(zeros(3))}
    message = failed(judge(call_check(), {"call:0": MISSING}, theirs))
    assert message == "`normalize` is not defined: did you remove or rename it?"
    message = failed(judge(call_check(), {"call:0": Opaque("int", "3")}, theirs))
    assert "`normalize` is an int (3), expected a function" in message
    assert "define it with `def normalize(...):`" in message


def test_call_that_could_not_be_called_at_all_shows_why():
    message = failed(judge(call_check(), {"call:0": raised("not callable", "TypeError")},
                           {"call:0": called(zeros(3))}))
    assert message.startswith("`normalize` raised an error:")
    assert "TypeError: not callable" in message


def test_call_with_no_arguments_and_keyword_arguments():
    bare = Call(function="make")
    assert failed(judge(bare, {"call:0": called(1)}, {"call:0": called(2)})).startswith(
        "When called with no arguments: `make(...)` is 1, expected 2")
    keyed = Call(function="f", args=(ValueArg(2),), kwargs=(("dim", ValueArg(1)),))
    assert failed(judge(keyed, {"call:0": called(1)}, {"call:0": called(2)})).startswith(
        "For 2 and dim=1: ")


def test_call_reference_that_raises_is_a_lesson_error():
    message = failed(judge(call_check(), {"call:0": called(zeros(3))},
                           {"call:0": called(raised())}))
    assert message.startswith("lesson error: the reference `normalize` raised")
    assert "Traceback (the reference solution):" in message


def test_call_reference_that_is_not_a_function_is_a_lesson_error():
    message = failed(judge(call_check(), {"call:0": called(zeros(3))},
                           {"call:0": Opaque("int", "3")}))
    assert message.startswith("lesson error: the reference's `normalize` is an int")
    assert "not a function" in message


def test_call_probe_ids_follow_the_checks_index():
    checks = (Compare(var="x"), call_check())
    learner = {"value:x": zeros(1), "call:1": called(zeros(4))}
    reference = {"value:x": zeros(1), "call:1": called(zeros(3))}
    first, second = evaluate(step(*checks), outcome(learner, reference))
    assert first.passed
    assert "`normalize(...)` has shape [4], expected [3]" in second.message


# --------------------------------------------------------------------------- module


def net(children=None, params=None, n_params=None) -> Module:
    children = children if children is not None else [("fc1", "Linear"), ("fc2", "Linear")]
    params = params if params is not None else [
        ("fc1.weight", (8, 4)), ("fc1.bias", (8,)), ("fc2.weight", (2, 8)), ("fc2.bias", (2,)),
    ]
    total = n_params if n_params is not None else sum(int(np.prod(s)) for _, s in params)
    return Module("Net", total, total, children, params, True)


def test_module_passes_params_layers_and_output_shape():
    check = ModuleCheck(target="Net", params=58, layers=(("fc1", "Linear"), ("fc2", "Linear")),
                        input_shape=(5, 4), output_shape=(None, 2))
    passed(judge(check, {"module:0": Built(net(), zeros(5, 2))}))


def test_module_wrong_parameter_count_lists_layers():
    check = ModuleCheck(target="Net", params=60)
    message = failed(judge(check, {"module:0": Built(net())}))
    assert "`Net` has 58 parameters, expected 60" in message
    assert "fc1 40, fc2 18" in message


def test_module_without_parameters_says_where_layers_go():
    check = ModuleCheck(target="Net", params=58)
    message = failed(judge(check, {"module:0": Built(net(children=[], params=[]))}))
    assert "`Net` has 0 parameters, expected 58" in message
    assert "assign its layers to attributes of self inside __init__" in message


def test_module_like_reference_names_the_layer_that_differs():
    check = ModuleCheck(target="Net", like_reference=True)
    theirs = net(params=[("fc1.weight", (8, 4)), ("fc1.bias", (8,)), ("fc2.weight", (3, 8)),
                         ("fc2.bias", (3,))])
    message = failed(judge(check, {"module:0": Built(net())}, {"module:0": Built(theirs)}))
    assert "has 58 parameters, expected 67" in message
    assert "fc2 has 18 (expected 27)" in message
    assert "fc1 has" not in message


def test_module_like_reference_compares_the_layers_too():
    check = ModuleCheck(target="Net", like_reference=True)
    theirs = net(children=[("fc1", "Linear"), ("fc2", "Conv2d")])
    message = failed(judge(check, {"module:0": Built(net())}, {"module:0": Built(theirs)}))
    assert "layer `fc2` is a Linear, expected a Conv2d" in message
    passed(judge(check, {"module:0": Built(net())}, {"module:0": Built(net())}))


def test_module_layers_missing_extra_wrong_type_and_order():
    check = ModuleCheck(target="Net", layers=(("conv1", "Conv2d"), ("fc1", "Linear"),
                                              ("out", "Linear")))
    mine = net(children=[("conv1", "Linear"), ("fc1", "Linear"), ("extra", "Linear")],
               params=[("conv1.weight", (8, 4)), ("fc1.weight", (2, 8)), ("extra.weight", (2, 2))])
    message = failed(judge(check, {"module:0": Built(mine)}))
    assert "layer `conv1` is a Linear, expected a Conv2d" in message
    assert "layer `out` (Linear) is missing" in message
    assert "layer `extra` (Linear) is not expected" in message
    swapped = net(children=[("fc1", "Linear"), ("conv1", "Conv2d"), ("out", "Linear")])
    assert "different order (fc1, conv1, out; expected conv1, fc1, out)" in failed(
        judge(check, {"module:0": Built(swapped)}))


def test_module_accepts_extra_layers_without_parameters():
    """nn.ReLU() or nn.Dropout() as attributes instead of F.relu is style, not structure."""
    check = ModuleCheck(target="Net", layers=(("fc1", "Linear"), ("fc2", "Linear")))
    styled = net(children=[("fc1", "Linear"), ("act", "ReLU"), ("fc2", "Linear"),
                           ("drop", "Dropout")])
    passed(judge(check, {"module:0": Built(styled)}))


def test_module_output_shape():
    check = ModuleCheck(target="Net", input_shape=(5, 4), output_shape=(None, 2))
    message = failed(judge(check, {"module:0": Built(net(), zeros(5, 1, 2))}))
    assert message.startswith("For an input of shape [5, 4]: the output has shape [5, 1, 2]")
    assert "`.squeeze(1)`" in message


def test_module_same_as_reference_compares_outputs():
    check = ModuleCheck(target="Net", input_shape=(2, 4), same_as_reference=True)
    theirs = {"module:0": Built(net(), tensor([[1.0, 2.0], [3.0, 4.0]], "float32"))}
    good = {"module:0": Built(net(), tensor([[1.0, 2.0], [3.0, 4.0]], "float32"))}
    passed(judge(check, good, theirs))
    bad = {"module:0": Built(net(), tensor([[1.0, 2.0], [3.0, 5.0]], "float32"))}
    message = failed(judge(check, bad, theirs))
    assert "same weights as the reference" in message
    assert "First at index [1, 1]: got 5.0, expected 4.0" in message


def test_module_same_as_reference_without_a_reference_output_is_a_lesson_error():
    check = ModuleCheck(target="Net", input_shape=(2, 4), same_as_reference=True)
    message = failed(judge(check, {"module:0": Built(net(), zeros(2, 2))},
                           {"module:0": Built(net(), None)}))
    assert message.startswith("lesson error: the reference's forward pass gave")


def test_module_that_fails_to_build_or_to_run():
    check = ModuleCheck(target="Net", input_shape=(2, 4))
    message = failed(judge(check, {"module:0": Built(raised("mat1 and mat2", "RuntimeError"))}))
    assert message.startswith("Building `Net` raised an error:")
    assert "RuntimeError: mat1 and mat2" in message
    message = failed(judge(check, {"module:0": Built(net(), raised())}))
    assert "the forward pass raised an error" in message
    message = failed(judge(check, {"module:0": Built(net(), None)}))
    assert "does forward() end with `return`?" in message


def test_module_missing_or_not_a_module():
    check = ModuleCheck(target="Net", params=3)
    assert "`Net` is not defined" in failed(judge(check, {"module:0": MISSING}))
    message = failed(judge(check, {"module:0": Built(Opaque("function", "<function Net>"))}))
    assert "expected an nn.Module" in message


def test_module_without_a_reference_module_is_a_lesson_error():
    check = ModuleCheck(target="Net", like_reference=True)
    message = failed(judge(check, {"module:0": Built(net())}, {"module:0": MISSING}))
    assert message.startswith("lesson error:")
    message = failed(judge(check, {"module:0": Built(net())},
                           {"module:0": Built(raised("boom", "RuntimeError"))}))
    assert message.startswith("lesson error: building the reference `Net` failed")
    assert "RuntimeError: boom" in message


# --------------------------------------------------------------------------- metric


def test_metric_bool():
    check = MetricCheck(expr="loss_fell(losses)")
    passed(judge(check, metrics={"metric:0": True}))
    assert failed(judge(check, metrics={"metric:0": False})) == (
        "`loss_fell(losses)` is not true yet.")
    named = MetricCheck(expr="loss_fell(losses)", name="the loss went down")
    assert failed(judge(named, metrics={"metric:0": False})) == "Not yet: the loss went down."


def test_metric_range():
    check = MetricCheck(name="accuracy", expr="accuracy(model)", min=0.8)
    passed(judge(check, metrics={"metric:0": 0.85}))
    assert failed(judge(check, metrics={"metric:0": 0.62})) == (
        "accuracy 0.62 is below the required 0.8.")
    top = MetricCheck(expr="loss(model)", max=0.5)
    assert "above the allowed 0.5" in failed(judge(top, metrics={"metric:0": 0.75}))
    assert "is NaN" in failed(judge(top, metrics={"metric:0": float("nan")}))


def test_metric_from_a_one_element_tensor():
    check = MetricCheck(name="accuracy", expr="acc", min=0.5)
    passed(judge(check, metrics={"metric:0": tensor(0.75, "float32")}))
    assert "below" in failed(judge(check, metrics={"metric:0": tensor([0.25], "float32")}))


def test_metric_error_and_missing():
    check = MetricCheck(expr="accuracy(model)", learner=("model",))
    error = Raised(ErrorInfo("NameError", "your code does not define `model`"))
    message = failed(judge(check, {"state:model": zeros(1)}, metrics={"metric:0": error}))
    assert "NameError: your code does not define `model`" in message
    assert "could not be measured" in failed(judge(check, {"state:model": zeros(1)}))


def test_metric_on_a_learner_value_that_is_not_there_says_so_first():
    check = MetricCheck(expr="accuracy(model)", learner=("model",))
    message = failed(judge(check, {"state:model": MISSING}, metrics={"metric:0": 0.9}))
    assert message == "`model` is not defined: did you remove or rename it?"


def test_metric_of_an_unusable_type_is_a_lesson_error():
    check = MetricCheck(expr="'high'")
    assert failed(judge(check, metrics={"metric:0": "high"})).startswith("lesson error:")


def test_a_passed_metric_with_a_threshold_shows_the_learners_figure():
    check = MetricCheck(expr="accuracy(model)", learner=("model",), min=0.6,
                        name="test accuracy")
    result = judge(check, {"state:model": zeros(1)}, metrics={"metric:0": 0.9134})
    assert result.passed and result.message == "yours: 0.9134"


# --------------------------------------------------------------------------- stdout


def test_stdout_contains_and_matches():
    passed(judge(StdoutContains(text="loss"), stdout="epoch 1 loss 0.3\n"))
    passed(judge(StdoutMatches(pattern=r"^accuracy: 0\.\d+$"), stdout="x\naccuracy: 0.91\n"))
    failed(judge(StdoutMatches(pattern=r"^accuracy: 0\.\d+$"), stdout="accuracy: 1.0\n"))


def test_stdout_failure_shows_the_last_lines():
    printed = "".join(f"line {i}\n" for i in range(10))
    message = failed(judge(StdoutContains(text="accuracy"), stdout=printed))
    assert "does not contain the text 'accuracy'" in message
    assert "  line 9" in message
    assert "line 4" not in message


def test_stdout_nothing_printed_never_passes():
    message = failed(judge(StdoutMatches(pattern=".*"), stdout=""))
    assert "Your code printed nothing" in message


def test_stdout_bad_regex_is_refused_when_the_check_is_declared():
    """No longer a lesson error at judging time: the pattern is compiled when it loads."""
    with pytest.raises(FieldError, match="not a valid regular expression") as caught:
        StdoutMatches(pattern="((")
    assert caught.value.path == ("stdout_matches",)


# --------------------------------------------------------------------------- source


def test_source_rules_via_judging():
    check = Source(rules=Rules(uses=("torch.stack",)), message="stack adds a new axis.")
    passed(judge(check, source="import torch\ny = torch.stack(xs)\n"))
    message = failed(judge(check, source="import torch\ny = torch.cat(xs)\n"))
    assert message.endswith("\nstack adds a new axis.")
    assert "does not call `torch.stack`" in message


# --------------------------------------------------------------------------- one root cause


def evaluate_all(checks, learner, reference=None, source=""):
    step = CodeStep(id="s", title="S", starter="", solution="", checks=tuple(checks))
    return evaluate(step, Outcome(learner, reference, {}, "", source, "cpu"))


def test_a_second_check_failing_the_same_way_on_the_same_name_says_so_once():
    results = evaluate_all(
        [Compare(var="t"), Expect(var="t", shape=(2, 3))],
        {"value:t": zeros(3, 2)}, {"value:t": zeros(2, 3)})
    assert results[0].mode == "shape" and "has shape [3, 2]" in results[0].message
    assert results[1].message == "`t` has the problem reported above (shape): fix that first."


def test_a_name_computed_from_a_wrong_one_points_back_to_it():
    source = "import torch\nt = torch.ones(3)\nu = t * 2\n"
    results = evaluate_all(
        [Compare(var="t"), Compare(var="u")],
        {"value:t": tensor([1.0, 1.0, 1.0], "float32"), "value:u": tensor([2.0] * 3, "float32")},
        {"value:t": tensor([1.0, 2.0, 3.0], "float32"),
         "value:u": tensor([2.0, 4.0, 6.0], "float32")},
        source)
    assert not results[0].passed
    assert results[1].message == ("`u` is computed from `t`, which is not right yet (see above): "
                                  "fix that first, then check again.")


def test_independent_names_are_each_reported():
    results = evaluate_all(
        [Compare(var="t"), Compare(var="u")],
        {"value:t": zeros(3), "value:u": zeros(2)},
        {"value:t": zeros(4), "value:u": zeros(3)},
        "t = a\nu = b\n")
    assert "`t` has shape [3]" in results[0].message
    assert "`u` has shape [2]" in results[1].message


def test_advice_is_shown_only_for_the_failure_it_was_written_for():
    check = Compare(var="t", advice=(
        Advice(when="shape", say="Keep the batch axis."),
        Advice(when="values", say="Sum over dim=1."),
        Advice(when="any", say="See the explanation."),
    ))
    shape = judge(check, {"value:t": zeros(2)}, {"value:t": zeros(3)})
    assert "Keep the batch axis." in shape.message and "Sum over dim=1." not in shape.message
    assert "See the explanation." in shape.message
    assert shape.diagnosis and "Keep the batch axis." not in shape.diagnosis
    values = judge(check, {"value:t": tensor([1.0, 2.0], "float32")},
                   {"value:t": tensor([1.0, 3.0], "float32")})
    assert "Sum over dim=1." in values.message and "Keep the batch axis." not in values.message


def test_advice_for_one_exception_type():
    check = Call(function="f", advice=(Advice(when="raises", error="TypeError", say="Call it."),))
    expected = Called(results=[1])
    wrong_type = judge(check, {"call:0": Called(results=[raised(kind="TypeError")])},
                       {"call:0": expected})
    assert wrong_type.mode == "raises" and "Call it." in wrong_type.message
    other = judge(check, {"call:0": Called(results=[raised(kind="ValueError")])},
                  {"call:0": expected})
    assert "Call it." not in other.message


def test_advice_with_an_error_type_needs_when_raises():
    with pytest.raises(FieldError, match="use it with when: raises"):
        Advice(when="values", error="TypeError", say="x")


def test_a_call_that_changes_its_input_in_place_fails_unless_allowed():
    mine = Called(results=[zeros(3)], mutated=[["x"]])
    theirs = Called(results=[zeros(3)])
    message = failed(judge(Call(function="f"), {"call:0": mine}, {"call:0": theirs}))
    assert "changes its input `x` in place" in message
    passed(judge(Call(function="f", may_modify_inputs=True), {"call:0": mine},
                 {"call:0": theirs}))


def test_a_call_that_returns_the_same_result_for_every_input_is_caught():
    first, second = tensor([1.0, 2.0], "float32"), tensor([3.0, 4.0], "float32")
    theirs = Called(results=[first, second])
    mine = Called(results=[first, first])  # computed once, from a fixed tensor
    message = failed(judge(Call(function="f", trials=2), {"call:0": mine}, {"call:0": theirs}))
    assert "returns the same result for each of the 2 inputs the check tried" in message
    numbers = failed(judge(Call(function="g", trials=2), {"call:0": Called(results=[5, 5])},
                           {"call:0": Called(results=[5, 7])}))
    assert "returns the same result for each of the 2 inputs" in numbers


def test_small_results_that_happen_to_match_another_input_accuse_no_one():
    # argmax() without dim: its counts vary with the input, and may equal another trial's
    mine, theirs = Called(results=[3, 5, 2]), Called(results=[5, 4, 6])
    message = failed(judge(Call(function="count", trials=3), {"call:0": mine},
                           {"call:0": theirs}))
    assert "same result" not in message and "another" not in message
    assert "is 3, expected 5" in message


def test_items_in_another_order_are_named():
    got = [tensor([1.0, 2.0], "float32"), 2, 6]
    expected = [2, tensor([1.0, 2.0], "float32"), 6]
    message = failed(judge(Compare(var="info"), {"value:info": tuple(got)},
                           {"value:info": tuple(expected)}))
    assert "has the right items in another order: items 0 and 1 are swapped" in message


def test_a_one_element_tensor_result_passes_unless_the_check_insists_on_a_number():
    theirs = Called(results=[5])
    mine = Called(results=[tensor(5, "int64")])
    passed(judge(Call(function="f"), {"call:0": mine}, {"call:0": theirs}))
    message = failed(judge(Call(function="f", exact_types=True), {"call:0": mine},
                           {"call:0": theirs}))
    assert "a one-element tensor holding 5" in message


def test_a_dict_may_hold_extra_keys_when_the_check_allows_it():
    reference = {"value:row": {"epoch": 1, "loss": 0.5}}
    learner = {"value:row": {"epoch": 1, "loss": 0.5, "epoch duration": 3.2}}
    assert "unexpected key 'epoch duration'" in failed(judge(Compare(var="row"), learner,
                                                             reference))
    passed(judge(Compare(var="row", extra_keys=True), learner, reference))


# --------------------------------------------------------------------------- prints


@pytest.mark.parametrize("line", [
    "epoch 1 total_correct: 5586 loss: 123.4",
    "epoch = 1 , total_correct = 5586 , loss = 123.4",
    "Epoch: 1 | Total Correct: 5586 | loss: tensor(123.4000, grad_fn=<AddBackward0>)",
    "loss 123.4 epoch 1 total_correct 5586",
])
def test_labelled_numbers_are_read_in_any_format(line):
    check = Prints(labels=("epoch", "total_correct", "loss"), like_reference=True)
    reference = "epoch 1 total_correct: 5586 loss: 123.4\n"
    step = CodeStep(id="s", title="S", starter="", solution="", checks=(check,))
    outcome = Outcome({}, {}, {}, line + "\n", "", "cpu", reference_stdout=reference)
    (result,) = evaluate(step, outcome)
    passed(result)


def test_a_missing_label_shows_the_line_that_was_expected():
    check = Prints(labels=("epoch", "total_correct", "loss"), like_reference=True)
    step = CodeStep(id="s", title="S", starter="", solution="", checks=(check,))
    outcome = Outcome({}, {}, {}, "epoch 1 loss 123.4\n", "", "cpu",
                      reference_stdout="epoch 0 total_correct: 4511 loss: 340.2\n"
                                       "epoch 1 total_correct: 5586 loss: 123.4\n")
    (result,) = evaluate(step, outcome)
    message = failed(result)
    assert "Expected 2 lines with `epoch`, `total_correct` and `loss`" in message
    assert "no line of your output shows them" in message
    assert "a line like `epoch: 0 total_correct: 4511 loss: 340.2`" in message
    assert "  epoch 1 loss 123.4" in message


def test_numbers_unlike_the_reference_are_named():
    check = Prints(labels=("epoch", "loss"), like_reference=True)
    step = CodeStep(id="s", title="S", starter="", solution="", checks=(check,))
    outcome = Outcome({}, {}, {}, "epoch 0 loss 9.5\n", "", "cpu",
                      reference_stdout="epoch 0 loss 2.5\n")
    (result,) = evaluate(step, outcome)
    assert "Line 1 of yours with `epoch` and `loss` shows loss 9.5 where the reference shows " \
           "2.5" in failed(result)


# --------------------------------------------------------------------------- source hints


def source_judge(check, learner, reference, source):
    step = CodeStep(id="s", title="S", starter="", solution="", checks=(check,))
    (result,) = evaluate(step, Outcome(learner, reference, {}, "", source, "cpu"))
    return result


def test_a_result_thrown_away_is_named_with_its_line():
    x = np.arange(1.0, 9.0, dtype="float32").reshape(2, 4)
    source = "images = load()\nimages.div(255)\n"
    result = source_judge(Compare(var="images"), {"value:images": tensor(x)},
                          {"value:images": tensor(x / 255)}, source)
    assert ("Line 2: `images.div(255)` returns a new tensor and leaves `images` as it was, and "
            "the result is thrown away: keep it, `images = images.div(255)`.") in result.message


def test_an_in_place_change_is_named_when_the_name_it_changes_fails():
    source = "import torch\nt = torch.tensor([1., 2.])\ndoubled = t.mul_(2)\n"
    result = source_judge(Compare(var="t"), {"value:t": tensor([2.0, 4.0], "float32")},
                          {"value:t": tensor([1.0, 2.0], "float32")}, source)
    assert "Line 3: `t.mul_(2)` changes `t` in place" in result.message
    assert "use `t.mul(...)`" in result.message


def test_a_function_that_never_reads_an_argument_is_told_so():
    source = "def pick(images, labels, k):\n    return images[labels == 1]\n"
    result = source_judge(Call(function="pick"), {"call:0": called(zeros(2))},
                          {"call:0": called(zeros(3))}, source)
    assert "`pick` never uses its argument `k`" in result.message


def test_a_reduction_without_dim_is_asked_about():
    source = "def center(x):\n    return x - x.mean()\n"
    x = np.arange(6.0, dtype="float32").reshape(2, 3)
    result = source_judge(Call(function="center"), {"call:0": called(tensor(x - x.mean()))},
                          {"call:0": called(tensor(x - x.mean(axis=0)))}, source)
    assert "Line 2: `x.mean()` has no `dim`" in result.message


def test_arange_stopping_before_its_end_is_said_when_the_last_values_are_missing():
    source = "import torch\nt = torch.arange(2, 8, 2)\n"
    result = source_judge(Compare(var="t"), {"value:t": tensor([2, 4, 6], "int64")},
                          {"value:t": tensor([2, 4, 6, 8], "int64")}, source)
    assert "Your values are the first 3 of the 4 expected ones" in result.message
    assert "Line 2: `torch.arange(2, 8, 2)` stops before its end value" in result.message
    assert "one batch" not in result.message


def test_no_source_hint_when_the_code_does_not_show_one():
    source = "import torch\nt = torch.tensor([1., 3.])\n"
    result = source_judge(Compare(var="t"), {"value:t": tensor([1.0, 3.0], "float32")},
                          {"value:t": tensor([1.0, 2.0], "float32")}, source)
    assert "Line" not in result.message


# --------------------------------------------------------------------------- what the code shows


def standardize_result(source: str) -> str:
    x = np.arange(1.0, 13.0, dtype="float32").reshape(3, 4)
    mine = x - x.mean(0) / x.std(0)
    theirs = (x - x.mean(0)) / x.std(0)
    return failed(source_judge(Compare(var="z"), {"value:z": tensor(mine)},
                               {"value:z": tensor(theirs)}, source))


def test_a_division_done_before_a_subtraction_is_named():
    message = standardize_result("z = x - x.mean(dim=0) / x.std(dim=0)\n")
    assert ("Line 1: `/` is applied before `-`, so `x - x.mean(dim=0) / x.std(dim=0)` divides "
            "only `x.mean(dim=0)` by `x.std(dim=0)`") in message
    assert "`(x - x.mean(dim=0)) / x.std(dim=0)`" in message


def test_a_division_in_parentheses_is_the_learners_choice():
    assert "is applied before" not in standardize_result("z = x - (x.mean(dim=0) / x.std(dim=0))\n")


def test_a_method_named_but_not_called_is_pointed_out():
    source = "net = make()\nnet.eval\nout = net(x)\n"
    result = source_judge(Compare(var="out"), {"value:out": tensor([1.0, 2.0])},
                          {"value:out": tensor([1.0, 3.0])}, source)
    assert "Line 2: `net.eval` names the method without calling it" in failed(result)


def test_a_bool_compared_with_the_text_true_is_pointed_out():
    source = "ok = torch.cuda.is_available()\nname = 'cuda' if ok == 'True' else 'cpu'\n"
    result = source_judge(Compare(var="name"), {"value:name": "cpu"}, {"value:name": "cuda"},
                          source)
    assert "compares with the text 'True', which no bool equals" in failed(result)


def test_a_return_inside_a_loop_is_pointed_out():
    source = ("def get_runs(params):\n    runs = []\n    for v in params:\n"
              "        runs.append(v)\n        return runs\n")
    mine, theirs = Called(results=[[1]]), Called(results=[[1, 2]])
    result = source_judge(Call(function="get_runs", trials=1), {"call:0": mine},
                          {"call:0": theirs}, source)
    assert "Line 5: this `return` is inside the loop of line 3" in failed(result)


def test_none_from_a_grad_or_a_method_that_changes_its_object_is_explained():
    source = "g1 = w.grad\nlosses = losses.append(1.0)\n"
    grad = source_judge(Compare(var="g1"), {"value:g1": None}, {"value:g1": tensor([1.0])},
                        source)
    assert "`.grad` is None until backward() has run" in failed(grad)
    appended = source_judge(Compare(var="losses"), {"value:losses": None},
                            {"value:losses": [1.0]}, source)
    assert "`losses.append(1.0)` changes its object and returns None" in failed(appended)


def test_a_running_total_built_in_place_is_not_blamed():
    source = "total = 0\nfor b in batches:\n    total += b.sum()\n"
    result = source_judge(Compare(var="total"), {"value:total": 3.0}, {"value:total": 4.0},
                          source)
    assert "in place" not in failed(result)


def test_an_in_place_result_used_as_a_new_tensor_is_blamed():
    source = "t = torch.tensor([1., 2.])\ndoubled = t.mul_(2)\n"
    result = source_judge(Compare(var="t"), {"value:t": tensor([2.0, 4.0])},
                          {"value:t": tensor([1.0, 2.0])}, source)
    assert "`t.mul_(2)` changes `t` in place" in failed(result)


def test_a_reduction_in_a_later_print_is_not_blamed_for_a_value():
    source = "out = net(x) * 3\nprint((out - ref).abs().max())\n"
    result = source_judge(Compare(var="out"), {"value:out": tensor([[1.0, 2.0]])},
                          {"value:out": tensor([[1.0, 3.0]])}, source)
    assert "has no `dim`" not in failed(result)


def test_a_sum_of_everything_is_not_questioned_where_one_number_is_wanted():
    source = "def total(t):\n    return t.sum() * 2\n"
    result = source_judge(Call(function="total", trials=1), {"call:0": Called(results=[6.0])},
                          {"call:0": Called(results=[3.0])}, source)
    assert "has no `dim`" not in failed(result)
    argmax = "def best(t):\n    return t.argmax()\n"
    result = source_judge(Call(function="best", trials=1), {"call:0": Called(results=[7])},
                          {"call:0": Called(results=[2])}, argmax)
    assert "`t.argmax()` has no `dim`" in failed(result)


def test_a_value_that_belongs_to_another_name_is_named():
    g1, g2 = tensor([1.0, 2.0]), tensor([3.0, 4.0])
    results = evaluate(step(Compare(var="g1"), Compare(var="g2")),
                       outcome({"value:g1": g1, "value:g2": g1},
                               {"value:g1": g1, "value:g2": g2}))
    assert "`g2` holds the value expected for `g1`." in failed(results[1])


def test_the_same_error_is_shown_once_across_checks():
    error = Raised(ErrorInfo("TypeError", "bad", [Frame(2, "f", "return x + 'a'")]))
    results = evaluate(step(Call(function="f", trials=1), Call(function="g", trials=1)),
                       outcome({"call:0": Called(results=[error]),
                                "call:1": Called(results=[error])},
                               {"call:0": Called(results=[1]), "call:1": Called(results=[2])}))
    assert "Traceback" in failed(results[0])
    assert "raised the same TypeError as above" in failed(results[1])
    assert "Traceback" not in failed(results[1])


def test_values_computed_from_a_wrong_module_wait_for_it():
    mine = Built(module=Module("Sequential", 10, 10, [("0", "Linear")], [("0.weight", (2, 2))],
                               True))
    theirs = Built(module=Module("Sequential", 10, 10, [("0", "Conv2d")],
                                 [("0.weight", (2, 2))], True))
    source = "net = build()\nout = net(x)\n"
    s = step(ModuleCheck(target="net", layers=(("0", "Conv2d"),)), Compare(var="out"))
    results = evaluate(s, Outcome({"module:0": mine, "value:out": tensor([1.0])},
                                  {"module:0": theirs, "value:out": tensor([2.0])}, {}, "",
                                  source, "cpu"))
    assert "`out` is computed from `net`, which is not right yet" in failed(results[1])


def test_gradients_are_not_judged_when_the_code_stopped_before_backward():
    source = "w = torch.ones(2, requires_grad=True)\nloss = (w * x).sum()\nboom()\nloss.backward()\n"
    s = step(Expect(var="w", grad_shape=(2,)))
    results = evaluate(s, outcome({"value:w": tensor([1.0, 1.0], requires_grad=True)},
                                  source=source), stopped="your code stopped", stop_line=3)
    assert failed(results[0]).startswith("Not checked")


def test_a_value_still_being_built_in_a_loop_is_not_judged_after_an_error():
    source = "losses = []\nfor b in range(3):\n    losses.append(step(b))\n    boom(b)\n"
    s = step(Compare(var="losses"))
    results = evaluate(s, outcome({"value:losses": [1.0]}, {"value:losses": [1.0, 2.0, 3.0]},
                                  source=source), stopped="your code stopped", stop_line=4)
    assert failed(results[0]).startswith("Not checked")


def test_a_total_that_is_not_reset_each_epoch_is_named_from_the_printed_lines():
    check = Prints(labels=("epoch", "total_correct"), lines=2, like_reference=True)
    reference = "epoch 0 total_correct 3776\nepoch 1 total_correct 5435\n"
    mine = "epoch: 0 total_correct: 3776\nepoch: 1 total_correct: 9211\n"
    results = evaluate(step(check), Outcome({}, {}, {}, mine, "", "cpu",
                                            reference_stdout=reference))
    assert "is the sum of the reference's lines 1 to 2: is the total reset" in failed(results[0])


def test_a_print_inside_the_batch_loop_is_named_from_the_number_of_lines():
    check = Prints(labels=("epoch", "total_correct"), lines=2, like_reference=True)
    reference = "epoch 0 total_correct 3776\nepoch 1 total_correct 5435\n"
    mine = "".join(f"epoch 0 total_correct {k}\n" for k in range(30))
    results = evaluate(step(check), Outcome({}, {}, {}, mine, "", "cpu",
                                            reference_stdout=reference))
    assert "Your output has 30 such lines where the reference's has 2" in failed(results[0])


def test_a_call_may_allow_extra_keys_in_a_dict_result():
    theirs = Called(results=[{"run": 1, "loss": 0.5}])
    mine = Called(results=[{"run": 1, "loss": 0.5, "duration": 3.2}])
    strict = judge(Call(function="row", trials=1), {"call:0": mine}, {"call:0": theirs})
    assert "duration" in failed(strict)
    passed(judge(Call(function="row", trials=1, extra_keys=True), {"call:0": mine},
                 {"call:0": theirs}))


def test_layer_types_are_checked_in_order_whatever_the_names():
    def built(*children):
        params = [(f"{name}.weight", (2, 2)) for name, kind in children if kind != "ReLU"]
        return Built(module=Module("Sequential", 4 * len(params), 4 * len(params),
                                   list(children), params, True))
    check = ModuleCheck(target="net", layer_types=("Conv2d", "BatchNorm2d", "Linear"))
    good = built(("a", "Conv2d"), ("r", "ReLU"), ("b", "BatchNorm2d"), ("c", "Linear"))
    passed(judge(check, {"module:0": good}))
    swapped = built(("a", "Conv2d"), ("b", "Linear"), ("c", "BatchNorm2d"))
    assert ("layer `b` is a Linear, expected a BatchNorm2d (layer 2 of the expected ones"
            in failed(judge(check, {"module:0": swapped})))


def test_an_index_that_repeats_in_a_tensor_of_indices_is_pointed_out():
    source = "def count(labels):\n    counts = torch.zeros(10)\n    counts[labels] += 1\n" \
             "    return counts\n"
    result = source_judge(Call(function="count", trials=1),
                          {"call:0": Called(results=[tensor([1.0, 1.0])])},
                          {"call:0": Called(results=[tensor([1.0, 3.0])])}, source)
    assert "`counts[labels] += 1` adds once for each distinct index" in failed(result)
    loop = "def count(labels):\n    counts = torch.zeros(10)\n    for k in labels:\n" \
           "        counts[k] += 1\n    return counts\n"
    result = source_judge(Call(function="count", trials=1),
                          {"call:0": Called(results=[tensor([1.0, 1.0])])},
                          {"call:0": Called(results=[tensor([1.0, 3.0])])}, loop)
    assert "distinct index" not in failed(result)


def test_the_largest_values_compared_with_labels_point_at_their_positions():
    source = "def hits(preds, labels):\n    return preds.max(dim=1)[0].eq(labels).sum().item()\n"
    result = source_judge(Call(function="hits", trials=1), {"call:0": Called(results=[0])},
                          {"call:0": Called(results=[4])}, source)
    assert "`preds.max(dim=1)[0]` is the largest values themselves" in failed(result)
    assert "`preds.max(dim=1)[1]`" in failed(result)


def test_a_misspelt_init_is_named_when_a_module_has_no_parameters():
    source = "class Network(nn.Module):\n    def __int__(self):\n        super().__init__()\n"
    mine = Built(module=Module("Network", 0, 0, [], [], True))
    theirs = Built(module=Module("Network", 10, 10, [("fc", "Linear")], [("fc.weight", (2, 5))],
                                 True))
    result = source_judge(ModuleCheck(target="Network", like_reference=True),
                          {"module:0": mine}, {"module:0": theirs}, source)
    assert "`Network` defines `__int__`, which Python never calls" in failed(result)


def test_parameter_tensors_counted_instead_of_their_numbers_are_named():
    source = "def count_params(model):\n    return len(list(model.parameters()))\n"
    result = source_judge(Call(function="count_params", trials=1),
                          {"call:0": Called(results=[2])}, {"call:0": Called(results=[84])},
                          source)
    assert "counts the parameter tensors (one per weight, one per bias)" in failed(result)
    rows = "def count_params(model):\n    return sum(len(p) for p in model.parameters())\n"
    result = source_judge(Call(function="count_params", trials=1),
                          {"call:0": Called(results=[42])}, {"call:0": Called(results=[84])},
                          rows)
    assert "`len(p)` is the length of the first axis only" in failed(result)


def test_a_network_without_any_activation_is_named():
    source = ("class Network(nn.Module):\n    def forward(self, t):\n"
              "        return self.out(self.fc1(t))\n")
    mine = Built(module=Module("Network", 10, 10, [("fc1", "Linear")], [("fc1.weight", (2, 5))],
                               True), output=tensor([[1.0, 2.0]]))
    theirs = Built(module=Module("Network", 10, 10, [("fc1", "Linear")],
                                 [("fc1.weight", (2, 5))], True), output=tensor([[1.0, 0.0]]))
    check = ModuleCheck(target="Network", input_shape=(1, 5), same_as_reference=True)
    message = failed(source_judge(check, {"module:0": mine}, {"module:0": theirs}, source))
    assert "`Network` applies no activation anywhere" in message
    with_relu = source.replace("self.out(self.fc1(t))", "self.out(F.relu(self.fc1(t)))")
    message = failed(source_judge(check, {"module:0": mine}, {"module:0": theirs}, with_relu))
    assert "no activation" not in message
