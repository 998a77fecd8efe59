"""Judging a step's checks from the values both runs brought back: pass, fail, lesson errors."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.core.checks import Outcome
from tutor.core.checks.call import Call
from tutor.core.checks.compare import Compare
from tutor.core.checks.expect import Expect
from tutor.core.checks.metric import MetricCheck
from tutor.core.checks.module import ModuleCheck
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


def test_expect_lists_every_failing_property():
    check = Expect(var="x", shape=(None, 1, 28, 28), axes=("B", "C", "H", "W"),
                   dtype="float32", requires_grad=True)
    message = failed(judge(check, {"value:x": zeros(1, 28, 28, dtype="int64")}))
    lines = message.splitlines()
    assert len(lines) == 3
    assert "`.unsqueeze(0)`" in lines[0]
    assert "Python ints make int64 tensors" in lines[1]
    assert "requires_grad=True" in lines[2]


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
    assert "not a leaf tensor" in message
    assert "zero_grad()" in message
    assert ".detach()" in message


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
    assert "`x` is a list of 3 items, expected a torch tensor" in message
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
    inputs = [[Tensor("float64", (2, 5)), Opaque("Dataset", "<Dataset of 10>")]]
    check = Call(function="f", args=(TensorArg(shape=(2, 5), dtype="float64"),
                                      ExprArg("data")))
    theirs = Called(results=[1], args=inputs, kwargs=[[("scale", 0.5)]])
    message = failed(judge(check, {"call:0": called(2)}, {"call:0": theirs}))
    assert message.startswith("For a float64 tensor of shape [2, 5], <Dataset of 10> and "
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
