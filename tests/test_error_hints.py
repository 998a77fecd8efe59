"""Errors made better than Python's, never worse.

First each hint rule on its own (``tutor.core.error_hints``), on errors as the worker reports
them (the messages are torch's and Python's own): it names the cause when the learner's source
shows it, asks a question when it cannot see it, and says nothing when the cause does not
hold. Then end to end with a real warm worker: the operands of the failing expression with
their shapes, Python's caret and suggestions, recursion collapsed, escape codes gone, "jump to
error" inside the learner's functions, and for each mistake, that following the advice makes
the same code run.
"""

from __future__ import annotations

import linecache
import re
import textwrap

import pytest
from conftest import FIXTURE_COURSE

from tutor.core import error_hints
from tutor.core import model as m
from tutor.core.checker import Checker
from tutor.core.error_text import operands_text
from tutor.core.loader import load_course
from tutor.core.run_feedback import error_line, failure_text, syntax_error_text
from tutor.core.runs import CallProbe, Limits, RunRequest, RunResult, TensorArg
from tutor.core.values import Called, ErrorInfo, Frame, Operand, Raised

FILENAME = "/work/step.py"
LIMITS = Limits(timeout_s=30)
slow = pytest.mark.slow


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def error(kind: str, message: str, text: str = "", line: int = 1, name: str = "",
          operands: list[Operand] | None = None, expression: str = "") -> ErrorInfo:
    frames = [Frame(line, name, text)] if text else []
    return ErrorInfo(kind, message, frames, expression, operands or [])


def tensor(text: str, *shape: int, within: str = "", dtype: str = "float32") -> Operand:
    return Operand(text, "Tensor", tuple(shape), dtype, "cpu", within=within)


# --------------------------------------------------------------------------- each rule

MISSPELT = code("""
    class Net:
        def __int__(self, n):
            self.n = n

    net = Net(3)
""")


def test_a_misspelt_init_is_named_with_its_line() -> None:
    said = error_hints.hint(error("TypeError", "Net() takes no arguments", "net = Net(3)", 5),
                            MISSPELT)
    assert said == ("`Net` has no `__init__`: the method on line 2 is spelled `__int__`, so "
                    "Python never calls it. Rename it `__init__` (two underscores on each side).")


def test_a_misspelt_init_in_a_module_shows_as_a_missing_layer() -> None:
    source = code("""
        from torch import nn
        class Net(nn.Module):
            def _init_(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)
            def forward(self, x):
                return self.fc(x)
    """)
    missing_fc = error("AttributeError", "'Net' object has no attribute 'fc'", "return self.fc(x)")
    assert "spelled `_init_`" in (error_hints.hint(missing_fc, source) or "")
    other = error("AttributeError", "'Net' object has no attribute 'fc2'", "return self.fc2(x)")
    assert error_hints.hint(other, source) is None  # `_init_` never sets fc2: another cause


def test_init_advice_is_a_question_without_the_source_and_silent_when_init_is_right() -> None:
    takes_none = error("TypeError", "Net() takes no arguments", "net = Net(3)")
    assert (error_hints.hint(takes_none) or "").startswith("Did you spell `__init__`")
    right = code("""
        class Net:
            def __init__(self):
                pass
        net = Net(3)
    """)
    too_many = error("TypeError", "Net.__init__() takes 1 positional argument but 2 were given",
                     "net = Net(3)", 4)
    assert error_hints.hint(too_many, right) is None
    no_init = code("""
        class Net:
            def forward(self, x):
                return x
        net = Net(3)
    """)
    assert "defines no `__init__`" in (error_hints.hint(takes_none, no_init) or "")


def test_a_class_used_without_parentheses() -> None:
    source = code("""
        from torch import nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
        model = Net
        params = list(model.parameters())
    """)
    missing_self = "Module.parameters() missing 1 required positional argument: 'self'"
    said = error_hints.hint(error("TypeError", missing_self, "params = list(model.parameters())",
                                  6), source)
    assert said == ("`model` is the class `Net` itself, not an object made from it (line 5: "
                    "`model = Net`): write `model = Net()`.")
    direct = code("""
        from torch import nn
        class Net(nn.Module):
            pass
        params = list(Net.parameters())
    """)
    said = error_hints.hint(error("TypeError", missing_self, "params = list(Net.parameters())",
                                  4), direct)
    assert "make an object first (`model = Net()`)" in (said or "")
    assert (error_hints.hint(error("TypeError", missing_self, "x")) or "").startswith("Did you")


def test_a_loss_class_called_on_tensors_is_found_whatever_its_message() -> None:
    source = code("""
        import torch
        from torch import nn
        loss_fn = nn.CrossEntropyLoss
        loss = loss_fn(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]))
    """)
    ambiguous = error("RuntimeError", "Boolean value of Tensor with more than one value is "
                      "ambiguous", "loss = loss_fn(torch.randn(4, 3), ...)", 4)
    assert "write `loss_fn = nn.CrossEntropyLoss()`" in (error_hints.hint(ambiguous, source) or "")
    made = source.replace("nn.CrossEntropyLoss\n", "nn.CrossEntropyLoss()\n")
    assert error_hints.hint(ambiguous, made) is None
    tensor_named_like_a_class = "import torch\nWeights = torch.ones(2)\nW = Weights\ny = W(3)\n"
    not_callable = error("TypeError", "'Tensor' object is not callable", "y = W(3)", 4)
    assert error_hints.hint(not_callable, tensor_named_like_a_class) is None


def test_a_transform_passed_without_parentheses() -> None:
    source = code("""
        from torchvision import datasets, transforms
        train = datasets.FashionMNIST(DATA_DIR, transform=transforms.ToTensor)
        image, label = train[0]
    """)
    raised = error("TypeError", "ToTensor.__init__() takes 1 positional argument but 2 were "
                   "given", "image, label = train[0]", 3)
    assert error_hints.hint(raised, source) == (
        "`transforms.ToTensor` on line 2 is passed without `()`: a transform is an object made "
        "from its class, so write `transforms.ToTensor()`.")
    assert (error_hints.hint(raised) or "").startswith("Was `ToTensor` passed without `()`?")
    fixed = source.replace("ToTensor)", "ToTensor())")
    assert "Was `ToTensor` passed" in (error_hints.hint(raised, fixed) or "")  # not seen: ask


def test_a_list_of_tensors_given_to_torch_tensor() -> None:
    listed = Operand("xs", "list", (2,), "float32", "cpu", items=4, of="Tensor")
    raised = error("ValueError", "only one element tensors can be converted to Python scalars",
                   "t = torch.tensor(xs)", 3, operands=[listed], expression="torch.tensor(xs)")
    said = error_hints.hint(raised) or ""
    assert "use `torch.stack(xs)`" in said and "a list of 4 tensors" in said
    unseen = error("ValueError", "only one element tensors can be converted to Python scalars",
                   "t = make(xs)")
    assert (error_hints.hint(unseen) or "").startswith("Did you pass a list of tensors")


def test_no_gpu_advises_device_and_names_the_line_that_asks_for_cuda() -> None:
    message = ("Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU "
               "and installed a driver from http://www.nvidia.com/Download/index.aspx")
    said = error_hints.hint(error("RuntimeError", message, "x = torch.ones(2).cuda()", 7))
    assert said is not None and said.startswith("Line 7 puts something on the GPU (`cuda`)")
    assert "use `.to(device)`" in said
    other = error_hints.hint(error("AssertionError", "Torch not compiled with CUDA enabled",
                                   "y = model(x)"))
    assert other is not None and "Line" not in other and "`.to(device)`" in other


def test_unpickling_a_whole_model_advises_a_state_dict_never_weights_only_false() -> None:
    message = ("Weights only load failed. This file can still be loaded, to do so you have two "
               "options, \x1b[1mdo those steps only if you trust the source of the checkpoint"
               "\x1b[0m. \n\t(1) Re-running `torch.load` with `weights_only` set to `False` will "
               "likely succeed\n\tWeightsUnpickler error: Unsupported global: GLOBAL "
               "__main__.Net was not an allowed global by default. Please use "
               "`torch.serialization.add_safe_globals([__main__.Net])`.\n\nCheck the docs.")
    source = code("""
        import torch
        torch.save(net, "net.pt")
        net2 = torch.load("net.pt")
    """)
    raised = error("UnpicklingError", message, 'net2 = torch.load("net.pt")', 3)
    said = raised.format(source=source)
    assert "Line 2 saves the whole `net`" in said
    assert "`torch.save(net.state_dict(), path)`" in said
    assert "weights_only" not in said and "add_safe_globals" not in said and "\x1b" not in said
    assert "UnpicklingError: Weights only load failed. Unsupported global: GLOBAL __main__.Net" \
           " was not an allowed global by default." in said


def test_a_download_without_network_points_at_the_data_provided() -> None:
    source = code("""
        from torchvision import datasets
        train = datasets.FashionMNIST("data", train=True, download=True)
    """)
    raised = error("RuntimeError", "Error downloading train-images-idx3-ubyte.gz",
                   'train = datasets.FashionMNIST("data", train=True, download=True)', 2)
    said = error_hints.hint(raised, source)
    assert said is not None and said.startswith("There is no network here, so line 2 cannot")
    assert "`root=DATA_DIR, download=False`" in said
    url = error("URLError", "<urlopen error [Errno 101] Network is unreachable>", "get()")
    assert "not available here" in (error_hints.hint(url) or "")
    assert error_hints.hint(error("RuntimeError", "Error opening file", "f()")) is None


def test_backward_without_a_graph_names_the_no_grad_block_or_the_detach() -> None:
    message = "element 0 of tensors does not require grad and does not have a grad_fn"
    in_block = code("""
        import torch
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            out = x * 2
        loss = out.sum()
        loss.backward()
    """)
    said = error_hints.hint(error("RuntimeError", message, "loss.backward()", 6), in_block)
    assert said == ("`out` is computed on line 4, inside `with torch.no_grad():`, where "
                    "autograd records nothing: compute it outside that block (keep `no_grad` "
                    "for evaluation only).")
    detached = in_block.replace("with torch.no_grad():\n    out = x * 2",
                                "out = (x * 2).detach()")
    said = error_hints.hint(error("RuntimeError", message, "loss.backward()", 5), detached)
    assert said is not None and said.startswith("`out` is made with `.detach()` on line 3")
    asked = error_hints.hint(error("RuntimeError", message, "loss.backward()"))
    assert (asked or "").startswith("Was `loss` computed inside a `torch.no_grad()` block")


def test_a_state_dict_of_other_sizes_names_the_layer_and_both_shapes() -> None:
    message = ("Error(s) in loading state_dict for Net:\n\tsize mismatch for fc1.weight: copying "
               "a param with shape torch.Size([120, 400]) from checkpoint, the shape in current "
               "model is torch.Size([120, 256]).")
    said = error_hints.hint(error("RuntimeError", message, "net.load_state_dict(state)"))
    assert said == ("The saved weights come from a model with other layer sizes: `fc1.weight` is "
                    "[120, 400] in the saved weights but [120, 256] in this model. Build the "
                    "model with the sizes it had when it was saved (layer `fc1`), or save the "
                    "weights again from the model as it is now.")


def test_argmax_over_the_wrong_axis_is_named_only_when_the_shapes_say_so() -> None:
    operands = [tensor("preds.argmax(dim=0)", 10, dtype="int64"),
                tensor("preds", 64, 10, within="preds.argmax(dim=0)"),
                tensor("labels", 64, dtype="int64")]
    message = ("The size of tensor a (10) must match the size of tensor b (64) at non-singleton "
               "dimension 0")
    raised = error("RuntimeError", message, "correct = preds.argmax(dim=0).eq(labels).sum()", 4,
                   operands=operands, expression="preds.argmax(dim=0).eq(labels)")
    assert error_hints.hint(raised) == (
        "`preds.argmax(dim=0)` takes the largest value down each of the 10 columns; "
        "`preds.argmax(dim=1)` gives one class for each of the 64 rows, like `labels`.")
    other = [operands[0], operands[1], tensor("labels", 32, dtype="int64")]
    assert error_hints.hint(error("RuntimeError", message, "x", operands=other)) is None


def test_a_layer_given_unflattened_images_is_told_to_flatten() -> None:
    operands = [Operand("self.fc1", "Linear", detail="in_features=784, out_features=100, "
                        "bias=True"), tensor("x", 64, 1, 28, 28)]
    raised = error("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (1792x28 and "
                   "784x100)", "return self.fc1(x)", 7, "forward", operands, "self.fc1(x)")
    assert error_hints.hint(raised) == (
        "`self.fc1` expects inputs whose last axis has 784 values (its `in_features`), but `x` "
        "is [64, 1, 28, 28]: flatten each example first, `x.flatten(1)`, to make it [64, 784].")
    wrong_size = [operands[0], tensor("x", 64, 500)]
    said = error_hints.hint(error("RuntimeError", "mat1 and mat2 shapes cannot be multiplied "
                                  "(64x500 and 784x100)", "y", operands=wrong_size))
    assert said is not None and "make `in_features` 500" in said and "flatten" not in said


def test_matmul_suggests_a_transpose_only_when_it_fits() -> None:
    message = "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"
    fits = error("RuntimeError", message, "y = x @ w", 4, operands=[
        tensor("x", 2, 3), tensor("w", 2, 3)], expression="x @ w")
    said = error_hints.hint(fits) or ""
    assert "`x @ w.T` would fit ([2, 3] @ [3, 2])" in said
    nothing_fits = error("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (2x3 and "
                         "4x5)", "y = x @ w", 4, operands=[tensor("x", 2, 3), tensor("w", 4, 5)],
                         expression="x @ w")
    said = error_hints.hint(nothing_fits) or ""
    assert said.startswith("For `x @ w`, the last size of `x` (3)") and ".T" not in said


def test_view_and_cat_errors_are_explained_with_the_operands() -> None:
    viewed = error("RuntimeError", "shape '[4, -1]' is invalid for input of size 6",
                   "y = x.view(4, -1)", operands=[tensor("x", 2, 3)], expression="x.view(4, -1)")
    assert (error_hints.hint(viewed) or "").startswith("`x` holds 6 values ([2, 3]), and the "
                                                       "shape [4, -1] cannot hold")
    joined = error("RuntimeError", "Sizes of tensors must match except in dimension 1. Expected "
                   "size 2 but got size 3 for tensor number 1 in the list.", "y = torch.cat(..)",
                   operands=[tensor("a", 2, 3), tensor("b", 3, 3)])
    said = error_hints.hint(joined) or ""
    assert "`a` is [2, 3] and `b` is [3, 3]" in said
    assert "Joining along axis 0 (`dim=0`) would fit, giving [5, 3]" in said


def test_recursion_and_missing_imports() -> None:
    frames = [Frame(3, "", "f(1)"), Frame(2, "f", "return f(n + 1)", repeats=996)]
    deep = ErrorInfo("RecursionError", "maximum recursion depth exceeded", frames)
    assert (error_hints.hint(deep) or "").startswith("`f` calls itself over and over (line 2)")
    shallow = ErrorInfo("RecursionError", "maximum recursion depth exceeded", frames[:1])
    assert error_hints.hint(shallow) is None
    assert error_hints.hint(error("NameError", "name 'nn' is not defined", "nn.Linear(2, 2)")) \
        == "Add `import torch.nn as nn` at the top of your file."
    assert error_hints.hint(error("NameError", "name 'nnn' is not defined", "nnn")) is None


def test_an_error_no_rule_knows_gets_no_hint() -> None:
    assert error_hints.hint(error("ZeroDivisionError", "division by zero", "1 / 0")) is None
    assert error_hints.hint(error("KeyError", "'x'", "d['x']"), "d = {}\nd['x']\n") is None


# --------------------------------------------------------------------------- rendering


def test_the_operands_are_listed_under_the_failing_expression() -> None:
    operands = [tensor("preds.argmax(dim=0)", 10, dtype="int64"),
                tensor("preds", 64, 10, within="preds.argmax(dim=0)"),
                tensor("labels", 64, dtype="int64")]
    raised = error("RuntimeError", "The size of tensor a (10) must match the size of tensor b "
                   "(64) at non-singleton dimension 0", "c = preds.argmax(dim=0).eq(labels)", 4,
                   operands=operands, expression="preds.argmax(dim=0).eq(labels)")
    assert operands_text(raised) == (
        "In `preds.argmax(dim=0).eq(labels)` (line 4):\n"
        "  `preds.argmax(dim=0)` is [10] (`preds` is [64, 10])\n"
        "  `labels` is [64]")


def test_dtypes_and_devices_are_shown_when_they_are_the_point() -> None:
    operands = [Operand("x", "Tensor", (2, 3), "float32", "cuda:0"),
                Operand("w", "Tensor", (3, 2), "float64", "cpu")]
    raised = error("RuntimeError", "Expected all tensors to be on the same device", "y = x @ w",
                   operands=operands, expression="x @ w")
    assert "`x` is [2, 3] float32 on cuda:0" in (operands_text(raised) or "")
    scalars = error("TypeError", "bad", "f(n)", operands=[Operand("n", "int")])
    assert operands_text(scalars) is None  # nothing with a shape: nothing to add


def test_a_runtime_syntax_error_keeps_the_caret_and_names_the_indentation() -> None:
    source = code("""
        def f(x):
            y = x + 1
        return y
    """)
    raised = ErrorInfo("SyntaxError", "'return' outside function",
                       [Frame(3, "", "return y", 0, 8)])
    assert raised.format(source=source) == (
        "Python cannot read line 3: 'return' outside function\n    return y\n    ^^^^^^^^\n\n"
        "Indentation is the likely cause: line 3 is not indented under `def f(x):` (line 1), "
        "so Python reads it as outside the function. Indent it by 4 more spaces, like the "
        "lines of the body.")
    alone = ErrorInfo("SyntaxError", "'return' outside function", [Frame(1, "", "return 1")])
    assert "Indentation" not in alone.format(source="return 1\n")  # no body above: no guess


@pytest.mark.parametrize("source, words", [
    ("def f(x):\nreturn x\n", "The lines after line 1 are its body and must be indented"),
    ("x = 1\n    y = 2\n", "Line 2 is indented more than the line before it"),
    ("if x:\n    y = 1\n  z = 2\n", "Line 3 is indented by 2 spaces"),
    ("t = (1,\n", None),
])
def test_syntax_errors_found_before_running(source: str, words: str | None) -> None:
    import ast

    with pytest.raises(SyntaxError) as caught:
        ast.parse(source)
    said = syntax_error_text(caught.value, source)
    assert said.startswith(f"Python cannot read line {caught.value.lineno}: ")
    assert re.search(r"\n    [^\n]*\n +\^", said) or source == "t = (1,\n"
    if words is None:
        assert "\n\n" not in said
    else:
        assert words in said


def test_escape_codes_and_carriage_returns_never_reach_the_learner() -> None:
    raised = ErrorInfo("ValueError", "\x1b[31mred\x1b[0m \x1b]0;title\x07bad\x07\n10%\r100%",
                       [Frame(1, "", "raise \x1b[2JValueError()")])
    said = raised.format()
    assert "\x1b" not in said and "\x07" not in said and "\r" not in said
    assert said.endswith("ValueError: red bad\n100%") and "raise ValueError()" in said


# --------------------------------------------------------------------------- end to end


def run(runner, source: str, probes: tuple = ()) -> RunResult:
    request = RunRequest(role="learner", code=source, filename=FILENAME, probes=probes,
                         limits=LIMITS)
    handle = runner.start(request)
    try:
        return handle.wait()
    finally:
        handle.close()


def learner_reads(result: RunResult, source: str) -> str:
    assert result.status == "error" and result.error is not None, result
    return failure_text(result, LIMITS, source)


MISTAKES = {
    "argmax": (code("""
        import torch
        preds = torch.randn(64, 10)
        labels = torch.randint(0, 10, (64,))
        correct = preds.argmax(dim=0).eq(labels).sum()
    """), ["  `preds.argmax(dim=0)` is [10] (`preds` is [64, 10])\n  `labels` is [64]",
           "`preds.argmax(dim=1)` gives one class for each of the 64 rows"],
        ("argmax(dim=0)", "argmax(dim=1)")),
    "flatten": (code("""
        import torch
        from torch import nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 10)
            def forward(self, x):
                return self.fc1(x)
        out = Net()(torch.rand(64, 1, 28, 28))
    """), ["  `self.fc1` is Linear(in_features=784, out_features=10, bias=True)\n"
           "  `x` is [64, 1, 28, 28]", "flatten each example first, `x.flatten(1)`"],
        ("self.fc1(x)", "self.fc1(x.flatten(1))")),
    "stack": (code("""
        import torch
        xs = [torch.ones(2, 2) for _ in range(4)]
        t = torch.tensor(xs)
    """), ["`xs` is a list of 4 tensors, each [2, 2]", "use `torch.stack(xs)`"],
        ("torch.tensor(xs)", "torch.stack(xs)")),
    "init": (MISSPELT, ["spelled `__int__`", "Rename it `__init__`"],
             ("__int__", "__init__")),
    "class": (code("""
        import torch
        from torch import nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)
        model = Net
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """), ["write `model = Net()`"], ("model = Net\n", "model = Net()\n")),
    "no_grad": (code("""
        import torch
        w = torch.ones(3, requires_grad=True)
        with torch.no_grad():
            loss = (w * 2).sum()
        loss.backward()
    """), ["`loss` is computed on line 4, inside `with torch.no_grad():`"],
        ("with torch.no_grad():\n    loss", "if True:\n    loss")),
    "state_dict": (code("""
        from torch import nn
        saved = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2)).state_dict()
        model = nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 2))
        model.load_state_dict(saved)
    """), ["`0.weight` is [8, 4] in the saved weights but [6, 4] in this model", "layers `0`, `1`"],
        ("Linear(4, 6), nn.Linear(6, 2)", "Linear(4, 8), nn.Linear(8, 2)")),
    "unpickling": (code("""
        import torch
        from torch import nn
        model = nn.Linear(2, 2)
        torch.save(model, "model.pt")
        again = torch.load("model.pt")
    """), ["Line 4 saves the whole `model`", "`torch.save(model.state_dict(), path)`"],
        ('torch.save(model, "model.pt")\nagain = torch.load("model.pt")',
         'torch.save(model.state_dict(), "model.pt")\nagain = nn.Linear(2, 2)\n'
         'again.load_state_dict(torch.load("model.pt"))')),
    "layer_class": (code("""
        from torch import nn
        net = nn.Sequential(nn.Linear(2, 2), nn.ReLU, nn.Linear(2, 1))
    """), ["`nn.ReLU` is the layer's class, not a layer", "`nn.ReLU()`"],
        ("nn.ReLU,", "nn.ReLU(),")),
    "layer_function": (code("""
        from torch import nn
        import torch.nn.functional as F
        net = nn.Sequential(
            nn.Linear(2, 2),
            F.relu,
            nn.Linear(2, 1),
        )
    """), ["`F.relu` is a function, not a layer: use the layer `nn.ReLU()`."],
        ("F.relu,", "nn.ReLU(),")),
    "layer_pairs": (code("""
        from collections import OrderedDict
        from torch import nn
        net = nn.Sequential([("fc", nn.Linear(2, 2)), ("relu", nn.ReLU())])
    """), ['`nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("relu", nn.ReLU())]))`'],
        ('[("fc", nn.Linear(2, 2)), ("relu", nn.ReLU())])',
         'OrderedDict([("fc", nn.Linear(2, 2)), ("relu", nn.ReLU())]))')),
    "layer_list": (code("""
        from torch import nn
        layers = [nn.Linear(2, 2), nn.ReLU()]
        net = nn.Sequential(layers)
    """), ["unpack it, `nn.Sequential(*layers)`"], ("(layers)", "(*layers)")),
    "batch_norm": (code("""
        import torch
        from torch import nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 6, 5)
                self.bn1 = nn.BatchNorm2d(12)
            def forward(self, t):
                return self.bn1(self.conv1(t))
        out = Net()(torch.rand(2, 1, 28, 28))
    """), ["`self.bn1` is `BatchNorm2d(12)`, made for 12 channels, but 6 come in: make it "
           "`BatchNorm2d(6)`"], ("BatchNorm2d(12)", "BatchNorm2d(6)")),
    "batch_norm_inside": (code("""
        import torch
        from torch import nn
        net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.BatchNorm2d(12))
        out = net(torch.rand(2, 1, 28, 28))
    """), ["The `BatchNorm2d(12)` layer was made for 12 channels, but 6 come in"],
        ("BatchNorm2d(12)", "BatchNorm2d(6)")),
    "next": (code("""
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        loader = DataLoader(TensorDataset(torch.ones(4, 2)), batch_size=2)
        (images,) = next(loader)
    """), ["`next(iter(loader))`"], ("next(loader)", "next(iter(loader))")),
    "cat": (code("""
        import torch
        def merge(b1, b2):
            return torch.cat(b1, b2)
        both = merge(torch.ones(2, 3), torch.ones(2, 3))
    """), ["put them in parentheses, `torch.cat((b1, b2))`"], ("cat(b1, b2)", "cat((b1, b2))")),
    "parameter": (code("""
        import torch
        from torch import nn
        fc = nn.Linear(3, 2)
        fc.weight = torch.ones(2, 3)
    """), ["wrap it, `fc.weight = nn.Parameter(torch.ones(2, 3))`"],
        ("= torch.ones(2, 3)", "= nn.Parameter(torch.ones(2, 3))")),
    "loaded": (code("""
        import torch
        from torch import nn
        torch.save(nn.Linear(2, 2).state_dict(), "network.pt")
        loaded = torch.load("network.pt")
        out = loaded(torch.ones(1, 2))
    """), ['`loaded.load_state_dict(torch.load("network.pt"))`'],
        ('loaded = torch.load("network.pt")',
         'loaded = nn.Linear(2, 2)\nloaded.load_state_dict(torch.load("network.pt"))')),
    "method": (code("""
        import torch
        from torch import nn
        network = nn.Linear(2, 2)
        optimizer = torch.optim.Adam(network.parameters, lr=0.01)
    """), ["call it, `network.parameters()`"], ("parameters,", "parameters(),")),
    "backward_of_item": (code("""
        import torch
        w = torch.ones(2, requires_grad=True)
        loss = (w * 2).sum().item()
        loss.backward()
    """), ["line 3 makes it with `.item()`"], ("sum().item()", "sum()")),
    "relu_layer_applied": (code("""
        import torch
        from torch import nn
        import torch.nn.functional as F
        x = torch.ones(1, 1, 4, 4)
        t = F.max_pool2d(nn.ReLU(x), 2, 2)
    """), ["use the function, `F.relu(x)`"], ("nn.ReLU(x)", "F.relu(x)")),
    "matvec": (code("""
        import torch
        w, x = torch.ones(5, 3), torch.ones(5)
        z = w @ x
    """), ["multiply the other way round, `x @ w` (which gives [3])"], ("w @ x", "x @ w")),
    "times_for_matmul": (code("""
        import torch
        w, x = torch.ones(5, 3), torch.ones(5)
        z = x * w
    """), ["write `x @ w` (which gives [3])"], ("x * w", "x @ w")),
    "bce": (code("""
        import torch
        import torch.nn.functional as F
        z, y = torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0])
        loss = F.binary_cross_entropy(z, y)
    """), ["`F.binary_cross_entropy_with_logits(z, y)`"],
        ("binary_cross_entropy(", "binary_cross_entropy_with_logits(")),
    "cross_entropy_swapped": (code("""
        import torch
        import torch.nn.functional as F
        preds, labels = torch.randn(4, 10), torch.tensor([1, 2, 3, 4])
        loss = F.cross_entropy(labels, preds)
    """), ["`F.cross_entropy(preds, labels)`"], ("(labels, preds)", "(preds, labels)")),
    "copy": (code("""
        import torch
        w = torch.ones(3, requires_grad=True)
        w.sum().backward()
        g = w.grad.copy()
    """), ["`w.grad.clone()`"], ("copy()", "clone()")),
    "zero_grad": (code("""
        import torch
        w = torch.ones(3, requires_grad=True)
        optimizer = torch.optim.SGD([w], lr=0.1)
        loss = (w * 2).sum()
        loss.zero_grad()
    """), ["`optimizer.zero_grad()`"], ("loss.zero_grad()", "optimizer.zero_grad()")),
    "load_state_dict": (code("""
        import torch
        from torch import nn
        model = nn.Linear(2, 2)
        loaded = model.load_state_dict(nn.Linear(2, 2).state_dict())
        out = loaded(torch.ones(1, 2))
    """), ["so call `model(...)`"], ("out = loaded(", "out = model(")),
    "move_not_kept": (code("""
        import torch
        from torch import nn
        net = nn.Linear(2, 2).to("meta")
        images = torch.ones(1, 2)
        images.to("meta")
        out = net(images)
    """), ['keep the copy, `images = images.to("meta")`'],
        ('\nimages.to("meta")', '\nimages = images.to("meta")')),
    "flatten_batch": (code("""
        import torch
        from torch import nn
        fc1 = nn.Linear(192, 120)
        t = torch.ones(3, 12, 4, 4)
        t = t.flatten()
        t = fc1(t)
    """), ["keep it with `t.flatten(start_dim=1)`"], ("flatten()", "flatten(start_dim=1)")),
    "reshape_batch": (code("""
        import torch
        from torch import nn
        fc1 = nn.Linear(192, 120)
        t = torch.ones(3, 12, 4, 4)
        t = t.reshape(t.shape[1], -1)
        t = fc1(t)
    """), ["keep the batch axis first, `t.reshape(t.shape[0], -1)`"],
        ("shape[1]", "shape[0]")),
    "unpack_loader": (code("""
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        data = TensorDataset(torch.ones(5, 2), torch.zeros(5))
        loader = DataLoader(data, batch_size=2)
        images, labels = loader
    """), ["`images, labels = next(iter(loader))`"], ("= loader", "= next(iter(loader))")),
    "for": (code("""
        def repeat(f, repeats=3):
            for _ in repeats:
                f()
        repeat(lambda: None)
    """), ["loop over `range(repeats)`"], ("in repeats", "in range(repeats)")),
}


@slow
@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_is_named_and_the_advice_makes_the_code_run(warm_runner,
                                                                  mistake: str) -> None:
    source, fragments, (wrong, right) = MISTAKES[mistake]
    said = learner_reads(run(warm_runner, source), source)
    for fragment in fragments:
        assert fragment in said, said
    assert "\x1b" not in said and "weights_only" not in said
    fixed = source.replace(wrong, right)
    assert fixed != source
    result = run(warm_runner, fixed)
    assert result.ok, (mistake, result.status, result.error)


@slow
def test_a_gpu_asked_for_where_there_is_none(warm_runner) -> None:
    source = "import torch\nx = torch.ones(2).cuda()\n"
    result = run(warm_runner, source)
    if result.ok:
        pytest.skip("this machine has a CUDA GPU")
    said = learner_reads(result, source)
    assert "Line 2 puts something on the GPU (`cuda`)" in said and "`.to(device)`" in said
    assert run(warm_runner, source.replace(".cuda()", ".to(device)")).ok


@slow
def test_a_transform_without_parentheses_end_to_end(warm_runner) -> None:
    pytest.importorskip("torchvision")
    source = code("""
        from PIL import Image
        from torchvision import transforms
        to_tensor = transforms.Compose([transforms.ToTensor])
        x = to_tensor(Image.new("L", (28, 28)))
    """)
    said = learner_reads(run(warm_runner, source), source)
    assert "`transforms.ToTensor` on line 3 is passed without `()`" in said
    assert run(warm_runner, source.replace("ToTensor]", "ToTensor()]")).ok


@slow
def test_operands_are_found_without_running_the_learners_code_again(warm_runner) -> None:
    source = code("""
        import torch
        class Box:
            @property
            def weights(self):
                print("property ran")
                return torch.ones(3, 2)
        def features(x):
            print("features ran")
            return x * 2
        x = torch.ones(4, 5)
        y = features(x) @ Box().weights
    """)
    result = run(warm_runner, source)
    said = learner_reads(result, source)
    assert result.stdout.count("property ran") == 1 and result.stdout.count("features ran") == 1
    assert "In `features(x) @ Box().weights` (line 11):\n  `x` is [4, 5] (in `features(x)`)" \
        in said
    assert "Box().weights`" not in said.split("(line 11):")[1]  # a property is never read


@slow
def test_syntax_errors_python_finds_while_compiling_keep_the_caret(warm_runner) -> None:
    source = "def f(x):\n    y = x + 1\nreturn y\n"
    said = learner_reads(run(warm_runner, source), source)
    assert said.startswith("Python cannot read line 3: 'return' outside function\n"
                           "    return y\n    ^^^^^^^^\n\nIndentation is the likely cause")


@slow
def test_python_suggestions_recursion_and_escapes(warm_runner) -> None:
    typo = "total = 1\nprint(totl)\n"
    said = learner_reads(run(warm_runner, typo), typo)
    assert said.endswith("NameError: name 'totl' is not defined. Did you mean: 'total'?")
    assert "    print(totl)\n          ^^^^" in said
    deep = "def f(n):\n    return f(n + 1)\nf(1)\n"
    result = run(warm_runner, deep)
    assert result.error is not None and len(result.error.frames) == 4
    assert result.error.frames[-1].repeats > 900
    said = learner_reads(result, deep)
    assert "  [the line above repeated" in said and "`f` calls itself over and over" in said
    mutual = "def f(n):\n    return g(n)\ndef g(n):\n    return f(n)\nf(1)\n"
    result = run(warm_runner, mutual)
    assert result.error is not None and len(result.error.frames) <= 64
    assert any(frame.hidden > 500 for frame in result.error.frames)
    assert "more lines of your code left out here" in learner_reads(result, mutual)
    colour = "raise ValueError('\\x1b[31mred\\x1b[0m and plain')\n"
    said = learner_reads(run(warm_runner, colour), colour)
    assert said.endswith("ValueError: red and plain") and "\x1b" not in said


@slow
def test_an_error_inside_a_learners_function_called_by_a_check(warm_runner) -> None:
    source = code("""
        import torch

        def row_sums(x):
            ones = torch.ones(3)
            return x @ ones
    """)
    probe = CallProbe(id="call:0", name="row_sums", args=(TensorArg(shape=(3, 4)),), trials=1)
    result = run(warm_runner, source, (probe,))
    called = result.values["call:0"]
    assert isinstance(called, Called) and isinstance(called.results[0], Raised)
    raised = called.results[0].error
    assert raised.line == 5 and error_line(result.values) == 5
    assert raised.frames[-1].name == "row_sums"
    assert "  `x` is [3, 4]\n  `ones` is [3]" in raised.format()
    course = load_course(FIXTURE_COURSE)
    step = course.step("basics.call")
    assert isinstance(step, m.CodeStep)
    verdict = Checker(warm_runner).check(step, source, FILENAME)
    assert not verdict.passed and verdict.line == 5


# --------------------------------------------------------------------------- calls


def test_numbers_without_a_list_are_put_in_one() -> None:
    said = error_hints.hint(error("TypeError", "tensor() takes 1 positional argument but 4 "
                                  "were given", "t = torch.tensor(2, 4, 6, 8)", 2))
    assert said is not None and "`torch.tensor([2, 4, 6, 8])`" in said


def test_a_property_called_like_a_function() -> None:
    source = "import torch\nt = torch.ones(2, 3)\nrank = t.ndim()\n"
    said = error_hints.hint(error("TypeError", "'int' object is not callable",
                                  "rank = t.ndim()", 3), source)
    assert said == ("`t.ndim` is a value, not a function: drop the parentheses, `t.ndim` "
                    "instead of `t.ndim()`.")
    other = "import torch\nf = 3\nrank = f()\n"
    assert error_hints.hint(error("TypeError", "'int' object is not callable", "rank = f()", 3),
                            other) is None


def test_an_in_place_op_whose_result_does_not_fit_the_dtype() -> None:
    source = "images = images.div_(255)\n"
    said = error_hints.hint(error(
        "RuntimeError", "result type Float can't be cast to the desired output type Byte",
        "images = images.div_(255)", 1), source)
    assert said is not None
    assert "`images.div_(255)` works in place, so its result must fit `images`'s own dtype " \
           "(Byte)" in said and "`images.div(...)`" in said


def test_numpy_astype_on_a_tensor() -> None:
    wrong = error("AttributeError", "'Tensor' object has no attribute 'astype'. Did you mean: "
                  "'dtype'?", "x = t.astype('float32')", 1)
    said = error_hints.hint(wrong)
    assert said is not None and "`.astype` is numpy's" in said
    assert "dtype" not in error_hints.clean_message(wrong)


# --------------------------------------------------------------------------- course steps


def python_error(source: str) -> ErrorInfo:
    """What the worker reports when ``source`` raises, from a real run of plain Python here
    (the worker's own fact gathering, ``tutor.sandbox.explain``): the message is Python's."""
    from tutor.sandbox import explain, wire

    linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
    try:
        exec(compile(source, FILENAME, "exec"), {"__name__": "__main__"})
    except Exception as exc:
        return wire.error_info(explain.error(exc, FILENAME))
    finally:
        linecache.cache.pop(FILENAME, None)
    raise AssertionError("the code ran without an error")


def runs(source: str) -> bool:
    exec(compile(source, FILENAME, "exec"), {"__name__": "__main__"})
    return True


NO_DRIVER = ("Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU "
             "and installed a driver from http://www.nvidia.com/Download/index.aspx")
TIMING = code("""
    import torch
    def time_forward(network, batch, dev, repeats=5):
        network(batch)
        torch.cuda.synchronize()
""")


def test_synchronize_without_a_gpu_is_called_only_on_a_gpu() -> None:
    frames = [Frame(5, "", "time_forward(network, batch, device)"),
              Frame(4, "time_forward", "torch.cuda.synchronize()", 0, 24)]
    raised = ErrorInfo("RuntimeError", NO_DRIVER, frames, "torch.cuda.synchronize()")
    assert error_hints.hint(raised, TIMING) == (
        "`torch.cuda.synchronize()` waits for an NVIDIA GPU to finish its work, and this "
        "machine has none: call it only when the code runs on a GPU, `if dev.type == "
        "\"cuda\": torch.cuda.synchronize()`.")
    said = error_hints.hint(raised) or ""  # without the source: the tutor's own `device`
    assert "`if device.type == \"cuda\": torch.cuda.synchronize()`" in said
    assert ".to(device)" not in said
    uncompiled = error("AssertionError", "Torch not compiled with CUDA enabled",
                       "name = torch.cuda.get_device_name(0)",
                       expression="torch.cuda.get_device_name(0)")
    assert error_hints.hint(uncompiled) == (
        "`torch.cuda.get_device_name(...)` needs an NVIDIA GPU, and this machine has none: "
        "call it only when there is one, under `if torch.cuda.is_available():`.")


def test_a_cuda_call_hint_needs_a_gpu_error_and_a_torch_cuda_call() -> None:
    moved = error("RuntimeError", NO_DRIVER, "x = torch.ones(2).cuda()", 7,
                  expression="torch.ones(2).cuda()")
    assert "`.to(device)`" in (error_hints.hint(moved) or "")  # moving: the other advice
    recorded = error("RuntimeError", NO_DRIVER, "start.record()", expression="start.record()")
    assert "synchronize" not in (error_hints.hint(recorded) or "")
    other = error("RuntimeError", "CUDA error: an illegal memory access was encountered",
                  "torch.cuda.synchronize()", expression="torch.cuda.synchronize()")
    assert error_hints.hint(other) is None


def test_a_loop_over_a_number_is_told_to_use_range() -> None:
    source = "def repeat(f, repeats=3):\n    for _ in repeats:\n        f()\nrepeat(print)\n"
    raised = python_error(source)
    assert raised.message == "'int' object is not iterable" and raised.expression == ""
    assert error_hints.hint(raised, source) == (
        "`repeats` is a number (an `int`), and `for` needs something to go through: to repeat "
        "that many times, loop over `range(repeats)`.")
    assert runs(source.replace("in repeats", "in range(repeats)"))
    by_length = "xs = [4, 5]\nfor i in len(xs):\n    print(xs[i])\n"
    said = error_hints.hint(python_error(by_length), by_length) or ""
    assert "loop over `range(len(xs))` for the positions, or over `xs` itself" in said
    assert runs(by_length.replace("in len(xs)", "in range(len(xs))"))


@pytest.mark.parametrize("source", [
    "for _ in 2.5:\n    pass\n",  # a float: range() would not take it either
    "def f(n):\n    return n\nfor _ in f(3):\n    pass\n",  # a call: what it returns is unseen
    "n = 3\nxs = [x for x in n]\n",  # not a for statement
])
def test_a_loop_near_miss_gets_no_range_advice(source: str) -> None:
    assert "range(" not in (error_hints.hint(python_error(source), source) or "")


def test_a_loop_over_an_object_whose_own_iteration_failed_is_not_called_a_number() -> None:
    source = "loader = DataLoader(data)\nfor x in loader:\n    pass\n"
    raised = error("TypeError", "'int' object is not iterable", "for x in loader:", 2)
    assert error_hints.hint(raised, source) is None
    assert "`loader` is a number" in (error_hints.hint(raised) or "")  # no source: the line


RUNS = code("""
    from collections import OrderedDict, namedtuple
    from itertools import product
    params = OrderedDict(lr=[0.01, 0.001], batch_size=[10, 100])
    Run = namedtuple("Run", params.keys())
    runs = []
    for v in product(*params.values()):
        runs.append(Run(v))
""")


def test_a_tuple_passed_whole_is_unpacked() -> None:
    raised = python_error(RUNS)
    assert raised.message == "Run.__new__() missing 1 required positional argument: 'batch_size'"
    assert error_hints.hint(raised, RUNS) == (
        "`Run(v)` passes the tuple `v` (2 items) as one argument, so `batch_size` gets no "
        "value: unpack it into 2 arguments, `Run(*v)`.")
    assert runs(RUNS.replace("Run(v)", "Run(*v)"))
    values = "from collections import namedtuple\nRun = namedtuple('Run', 'lr batch_size')\n" \
             "params = {'lr': 0.1, 'batch_size': 10}\nrun = Run(params.values())\n"
    assert error_hints.hint(python_error(values), values) == (
        "`params.values()` is passed as one argument, so `batch_size` gets no value: did you "
        "mean to unpack it, `Run(*params.values())`?")
    assert runs(values.replace("Run(params", "Run(*params"))


@pytest.mark.parametrize("source", [
    RUNS.replace("for v in", "for v in [(1, 2, 3)] or"),  # 3 items where 2 fit: no unpacking
    RUNS.replace("Run(v)", "Run(v, **{})"),  # not one bare argument
    "def f(a, b):\n    return a\nf([1])\n",  # one item: unpacking leaves `b` without a value
])
def test_an_argument_that_unpacking_would_not_fit_gets_no_unpacking_advice(source: str) -> None:
    assert "(*" not in (error_hints.hint(python_error(source), source) or "")


def test_product_given_the_dict_values_whole_is_given_each_list() -> None:
    source = RUNS.replace("product(*params", "product(params").replace("Run(v)", "Run(*v)")
    said = error_hints.hint(python_error(source), source)
    assert said == (
        "`product(params.values())` is given one argument, so each `v` it makes holds one item "
        "(a whole list) and `Run(*v)` passes only that: give `product` each list as its own "
        "argument, `product(*params.values())`.")
    assert runs(source.replace("product(params", "product(*params"))
    one_line = source.replace("runs = []\nfor v in product(params.values()):\n"
                              "    runs.append(Run(*v))\n",
                              "runs = [Run(*v) for v in product(params.values())]\n")
    raised = python_error(one_line)
    assert "`product(*params.values())`" in (error_hints.hint(raised) or "")  # the line shows it
    starred = source.replace("product(params.values())", "[([0.1],)]")
    assert "product" not in (error_hints.hint(python_error(starred), starred) or "")


BUILDER = code("""
    from collections import OrderedDict
    class RunBuilder:
        def get_runs(self, params):
            return list(params)
    params = OrderedDict(lr=[0.01])
    runs = RunBuilder.get_runs(params)
""")


def test_what_python_does_with_a_method_called_on_the_class_or_an_object() -> None:
    # Without `self`, called on the class: a plain function, it works.
    assert runs(BUILDER.replace("get_runs(self, params)", "get_runs(params)"))
    # With `self`, called on the class: the argument fills `self`.
    raised = python_error(BUILDER)
    assert raised.message == "RunBuilder.get_runs() missing 1 required positional argument: " \
                             "'params'"
    assert error_hints.hint(raised, BUILDER) == (
        "`RunBuilder.get_runs(...)` calls the method on the class `RunBuilder` itself, not on "
        "an object, so your first argument, `params`, goes into `self`, and `params` gets no "
        "value (line 3: `def get_runs(self, params):`). Either put `@staticmethod` above it "
        "and drop `self` (`def get_runs(params):`), or call it on an object: "
        "`RunBuilder().get_runs(params)`.")
    assert runs(BUILDER.replace("    def get_runs(self, params)",
                                "    @staticmethod\n    def get_runs(params)"))
    assert runs(BUILDER.replace("RunBuilder.get_runs", "RunBuilder().get_runs"))
    assert (error_hints.hint(raised) or "").startswith("Does `def get_runs` take `self` first?")


def test_a_method_without_self_called_on_an_object() -> None:
    source = BUILDER.replace("get_runs(self, params)", "get_runs(params)").replace(
        "RunBuilder.get_runs", "RunBuilder().get_runs")
    raised = python_error(source)
    assert raised.message == "RunBuilder.get_runs() takes 1 positional argument but 2 were given"
    assert error_hints.hint(raised, source) == (
        "Did you forget `self`? `def get_runs(params):` (line 3) has no `self`, but a method "
        "called on an object gets the object first, before your 1 argument (2 in all): make "
        "`self` its first parameter, `def get_runs(self, params):`, or put `@staticmethod` "
        "above it if it needs no object.")
    assert runs(source.replace("    def get_runs(params)",
                               "    @staticmethod\n    def get_runs(params)"))
    assert runs(source.replace("def get_runs(params)", "def get_runs(self, params)"))


@pytest.mark.parametrize("wrong, right", [
    # already static: the fix is to drop `self`, not to add @staticmethod
    ("    def get_runs(self, params)", "    @staticmethod\n    def get_runs(self, params)"),
    # too many arguments to a method that has `self`: not a missing `self`
    ("RunBuilder.get_runs(params)", "RunBuilder().get_runs(params, 2)"),
])
def test_a_method_near_miss_gets_no_self_advice(wrong: str, right: str) -> None:
    source = BUILDER.replace(wrong, right)
    said = error_hints.hint(python_error(source), source) or ""
    assert "`self`" not in said and "staticmethod" not in said


def test_a_parent_init_is_given_what_it_needs() -> None:
    source = code("""
        class Layer:
            def __init__(self, name):
                self.name = name
        class Dense(Layer):
            def __init__(self, name, size):
                super().__init__()
                self.size = size
        d = Dense("fc", 3)
    """)
    said = error_hints.hint(python_error(source), source)
    assert said == ("`super().__init__(...)` runs `Layer.__init__`, which needs `name`: pass on "
                    "what this `__init__` was given, `super().__init__(name)`.")
    assert runs(source.replace("super().__init__()", "super().__init__(name)"))
    other = source.replace("def __init__(self, name, size)", "def __init__(self, size)") \
        .replace('Dense("fc", 3)', "Dense(3)")
    said = error_hints.hint(python_error(other), other) or ""
    assert said.endswith("which needs `name`: pass it on in that call.")  # no `name` to pass


SEQUENTIAL = "torch.nn.modules.activation.ReLU is not a Module subclass"


@pytest.mark.parametrize("message, line, said", [
    (SEQUENTIAL, "net = nn.Sequential(nn.Linear(2, 2), nn.ReLU)",
     "`nn.ReLU` is the layer's class, not a layer: a layer is an object made from it, "
     "`nn.ReLU()`."),
    ("torch.nn.modules.linear.Linear is not a Module subclass", "net = nn.Sequential(nn.Linear)",
     "`nn.Linear` is the layer's class, not a layer: a layer is an object made from it, "
     "`nn.Linear()` with its arguments."),
    ("torch.nn.functional.relu is not a Module subclass", "net = nn.Sequential(F.relu)",
     "`F.relu` is a function, not a layer: use the layer `nn.ReLU()`."),
    ("torch.nn.functional.softmax is not a Module subclass", "net = nn.Sequential(F.softmax)",
     "`F.softmax` is a function, not a layer: use the layer `nn.Softmax(dim=...)` with its "
     "arguments."),
    ("torch.nn.functional.boolean_dispatch.<locals>.fn is not a Module subclass",
     "net = nn.Sequential(F.max_pool2d)",
     "`F.max_pool2d` is a function, not a layer: use the layer `nn.MaxPool2d(...)` with its "
     "arguments."),
    ("torch._VariableFunctionsClass.relu is not a Module subclass",
     "net = nn.Sequential(torch.relu)",
     "`torch.relu` is a function, not a layer: use the layer `nn.ReLU()`."),
    ("torch.nn.functional.hardtanh is not a Module subclass", "net = nn.Sequential(F.hardtanh)",
     "`F.hardtanh` is a function, not a layer: use the layer class of `torch.nn` that does the "
     "same (made with `()`), or call `F.hardtanh` in a module's `forward`."),
    ("list is not a Module subclass",
     'net = nn.Sequential([("fc", nn.Linear(2, 2)), ("relu", nn.ReLU())])',
     "`nn.Sequential` takes named layers only in an `OrderedDict`: wrap the (name, layer) "
     'pairs, `nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("relu", nn.ReLU())]))`, '
     "with `from collections import OrderedDict`."),
    ("tuple is not a Module subclass", 'net = nn.Sequential(("fc", nn.Linear(2, 2)))',
     "`nn.Sequential` takes named layers only in an `OrderedDict`: wrap the (name, layer) "
     'pairs, `nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2))]))`, with '
     "`from collections import OrderedDict`."),
    ("list is not a Module subclass", "net = nn.Sequential([nn.Linear(2, 2), nn.ReLU()])",
     "`nn.Sequential` takes the layers one by one, not in a list: drop the brackets, "
     "`nn.Sequential(nn.Linear(2, 2), nn.ReLU())`."),
])
def test_what_nn_sequential_is_given_instead_of_layers(message: str, line: str,
                                                       said: str) -> None:
    expression = line.removeprefix("net = ")
    assert error_hints.hint(error("TypeError", message, line, expression=expression)) == said


def test_a_list_of_layers_or_of_pairs_by_name_is_told_apart_by_its_items() -> None:
    layers = Operand("layers", "list", items=2)
    raised = error("TypeError", "list is not a Module subclass", "net = nn.Sequential(layers)",
                   operands=[layers], expression="nn.Sequential(layers)")
    assert (error_hints.hint(raised) or "").endswith("unpack it, `nn.Sequential(*layers)`.")
    pairs = Operand("layers", "list", items=2, of="tuple")
    raised = error("TypeError", "list is not a Module subclass", "net = nn.Sequential(layers)",
                   operands=[pairs], expression="nn.Sequential(layers)")
    assert "`nn.Sequential(OrderedDict(layers))`" in (error_hints.hint(raised) or "")
    starred = error("TypeError", "tuple is not a Module subclass",
                    "net = nn.Sequential(*layers)", operands=[pairs],
                    expression="nn.Sequential(*layers)")
    assert "`nn.Sequential(OrderedDict(layers))`" in (error_hints.hint(starred) or "")


def test_a_class_named_by_a_variable_is_made_where_the_variable_is_set() -> None:
    source = "from torch import nn\nact = nn.ReLU\nnet = nn.Sequential(nn.Linear(2, 2), act)\n"
    raised = error("TypeError", SEQUENTIAL, "net = nn.Sequential(nn.Linear(2, 2), act)", 3,
                   expression="nn.Sequential(nn.Linear(2, 2), act)")
    assert error_hints.hint(raised, source) == (
        "`act` is the class `nn.ReLU` itself, not a layer (line 2: `act = nn.ReLU`): write "
        "`act = nn.ReLU()`.")


@pytest.mark.parametrize("message, line", [
    ("torch.FloatTensor is not a Module subclass", "net = nn.Sequential(torch.ones(2))"),
    ("__main__.<lambda> is not a Module subclass", "net = nn.Sequential(lambda x: x)"),
    ("list is not a Module subclass", "blocks = nn.ModuleList([[nn.ReLU()]])"),
    ("tuple is not a Module subclass", "net = nn.Sequential(nn.ReLU(), (nn.Tanh(), 2))"),
    ("list is not a Module subclass", "net = nn.Sequential(*layers)"),
])
def test_what_is_not_a_layer_near_miss_gets_no_advice(message: str, line: str) -> None:
    raised = error("TypeError", message, line, expression=line.split(" = ", 1)[1])
    assert error_hints.hint(raised) is None


def test_a_batch_norm_for_other_channels_is_given_the_channels_that_come_in() -> None:
    norm = Operand("self.bn1", "BatchNorm2d", detail="12, eps=1e-05, momentum=0.1, "
                   "affine=True, track_running_stats=True")
    raised = error("RuntimeError", "running_mean should contain 6 elements not 12",
                   "return self.bn1(self.conv1(t))", 9, "forward",
                   [norm, tensor("self.conv1(t)", 2, 6, 24, 24)], "self.bn1(self.conv1(t))")
    assert error_hints.hint(raised) == (
        "`self.bn1` is `BatchNorm2d(12)`, made for 12 channels, but 6 come in: make it "
        "`BatchNorm2d(6)` (its number must match the channels of the layer before it).")
    source = "net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(12))\nout = net(x)\n"
    inside = error("RuntimeError", "running_mean should contain 6 elements not 12",
                   "out = net(x)", 2, expression="net(x)")
    assert error_hints.hint(inside, source) == (
        "The `BatchNorm1d(12)` layer was made for 12 features, but 6 come in: make it "
        "`BatchNorm1d(6)` (its number must match the features of the layer before it).")
    weight = error("RuntimeError", "weight should contain 6 elements not 12", "out = f(x)")
    assert error_hints.hint(weight) is None  # not only BatchNorm's message


def test_next_on_a_data_loader_makes_an_iterator() -> None:
    raised = error("TypeError", "'DataLoader' object is not an iterator",
                   "images, labels = next(loader)", operands=[Operand("loader", "DataLoader")],
                   expression="next(loader)")
    assert error_hints.hint(raised) == (
        "`loader` is a `DataLoader`: `for` can go through it, but `next` needs an iterator, so "
        "make one first, `next(iter(loader))` (each `iter(...)` starts again from the "
        "beginning).")
    number = error("TypeError", "'int' object is not an iterator", "x = next(n)",
                   expression="next(n)")
    assert error_hints.hint(number) is None  # iter(n) would fail too


def test_tensors_given_to_cat_one_by_one_go_in_a_tuple() -> None:
    message = "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"
    raised = error("TypeError", message, "return torch.cat(b1, b2, dim=0)",
                   operands=[tensor("b1", 2, 3), tensor("b2", 2, 3)],
                   expression="torch.cat(b1, b2, dim=0)")
    assert error_hints.hint(raised) == (
        "`torch.cat` takes the tensors as one argument, a tuple or a list: put them in "
        "parentheses, `torch.cat((b1, b2), dim=0)`.")
    one = error("TypeError", message, "return torch.cat(b1)", operands=[tensor("b1", 2, 3)],
                expression="torch.cat(b1)")
    assert error_hints.hint(one) is None  # one tensor: a tuple of it would join nothing


def test_a_plain_tensor_set_as_a_parameter_is_wrapped() -> None:
    raised = error("TypeError", "cannot assign 'torch.FloatTensor' as parameter 'weight' "
                   "(torch.nn.Parameter or None expected)", "fc.weight = W",
                   expression="fc.weight")
    assert error_hints.hint(raised) == (
        "`fc.weight` must hold an `nn.Parameter` (a tensor the module trains), and `W` is a "
        "plain tensor: wrap it, `fc.weight = nn.Parameter(W)`.")
    number = error("TypeError", "cannot assign 'int' as parameter 'weight' (torch.nn.Parameter "
                   "or None expected)", "fc.weight = 3", expression="fc.weight")
    assert error_hints.hint(number) is None


def test_loaded_weights_called_like_a_model() -> None:
    source = 'loaded = torch.load("network.pt")\nout = loaded(x)\n'
    raised = error("TypeError", "'collections.OrderedDict' object is not callable",
                   "out = loaded(x)", 2, expression="loaded(x)")
    assert error_hints.hint(raised, source) == (
        "`loaded` is what `torch.load` returned on line 1: the saved weights (a `state_dict`, "
        "a dictionary of tensors), not a model. Make `loaded` the model first (from its class, "
        "as when it was saved), then load the weights into it: "
        "`loaded.load_state_dict(torch.load(\"network.pt\"))`.")
    built = 'loaded = dict(a=1)\nout = loaded(x)\n'
    assert error_hints.hint(raised, built) is None


@slow
def test_synchronize_where_there_is_no_gpu_end_to_end(warm_runner) -> None:
    source = code("""
        import torch
        def time_it(device):
            torch.cuda.synchronize()
            return 0.0
        seconds = time_it(device)
    """)
    result = run(warm_runner, source)
    if result.ok:
        pytest.skip("this machine has a CUDA GPU")
    said = learner_reads(result, source)
    assert "call it only when the code runs on a GPU, `if device.type == \"cuda\": " \
           "torch.cuda.synchronize()`" in said and ".to(device)" not in said
    fixed = source.replace("    torch.cuda", "    if device.type == \"cuda\":\n        torch.cuda")
    assert run(warm_runner, fixed).ok


def test_a_method_used_without_parentheses_is_called() -> None:
    source = code("""
        class Model:
            def parameters(self):
                return [1, 2]
        def count(model):
            return sum(1 for p in model.parameters)
        total = count(Model())
    """)
    raised = python_error(source)
    assert raised.message == "'method' object is not iterable"
    assert error_hints.hint(raised, source) == (
        "`model.parameters` is the method itself: call it, `model.parameters()`, to get what "
        "it gives.")
    assert runs(source.replace("model.parameters)", "model.parameters())"))
    adam = error("TypeError", "'method' object is not iterable",
                 "optimizer = torch.optim.Adam(network.parameters, lr=0.01)",
                 expression="torch.optim.Adam(network.parameters, lr=0.01)")
    assert "`network.parameters()`" in (error_hints.hint(adam) or "")
    other = "class A:\n    def run(self):\n        pass\nfor x in A().run:\n    pass\n"
    assert error_hints.hint(python_error(other), other) is None  # `run` gives no items


def test_a_function_without_return_is_named_where_its_none_is_used() -> None:
    source = code("""
        def make_batch(n):
            batch = [0] * n
        image = make_batch(4)[1]
    """)
    said = error_hints.hint(python_error(source), source)
    assert said == ("`make_batch` (line 1) has no `return`, so `make_batch(4)` gives None: end "
                    "it with `return` and its result.")
    assert runs(source.replace("batch = [0] * n", "batch = [0] * n\n    return batch"))
    by_name = code("""
        def get_runs(params):
            runs = list(params)
        runs = get_runs([1, 2])
        for run in runs:
            print(run)
    """)
    assert "`get_runs` (line 1) has no `return`" in (
        error_hints.hint(python_error(by_name), by_name) or "")
    returns_sometimes = source.replace("batch = [0] * n", "if n > 9:\n        return [0] * n")
    assert error_hints.hint(python_error(returns_sometimes), returns_sometimes) is None


def test_str_that_prints_is_told_to_return() -> None:
    source = code("""
        class Layer:
            def __init__(self, n):
                self.n = n
            def __str__(self):
                print(f"Layer({self.n})")
        text = str(Layer(3))
    """)
    said = error_hints.hint(python_error(source), source)
    assert said == ("`__str__` (line 4) prints its text but returns nothing: Python needs the "
                    "text back, so `return` the string instead of printing it.")
    assert runs(source.replace('print(f"Layer', 'return (f"Layer'))
    returns = source.replace('print(f"Layer({self.n})")', "return None")
    assert error_hints.hint(python_error(returns), returns) is None  # it returns: no guess


def test_a_dataset_without_len_is_given_one() -> None:
    source = code("""
        class ImageDataset:
            def __init__(self, images):
                self.images = images
            def __length__(self):
                return len(self.images)
        n = len(ImageDataset([1, 2]))
    """)
    said = error_hints.hint(python_error(source), source)
    assert said == ("`ImageDataset` has no `__len__`: the method on line 4 is spelled "
                    "`__length__`, so `len(...)` never calls it. Rename it `__len__`.")
    assert runs(source.replace("__length__", "__len__"))
    none = source.replace("__length__", "size")
    assert (error_hints.hint(python_error(none), none) or "").startswith(
        "`ImageDataset` defines no `__len__`")
    builtin = "n = len(print)\n"
    assert error_hints.hint(python_error(builtin), builtin) is None


def test_backward_on_a_number_made_by_item() -> None:
    source = "loss = model_loss(x).item()\nloss.backward()\n"
    raised = error("AttributeError", "'float' object has no attribute 'backward'",
                   "loss.backward()", 2, expression="loss.backward")
    assert error_hints.hint(raised, source) == (
        "`loss` is a Python number: line 1 makes it with `.item()`, which keeps nothing for "
        "autograd. Keep the tensor for `.backward()` (drop `.item()` there), and use `.item()` "
        "only to print or record the value.")
    assert error_hints.hint(raised, "loss = 3.0\nloss.backward()\n") is None


def test_a_forgotten_self_is_named_even_when_a_check_made_the_call() -> None:
    source = code("""
        class Lizard:
            def __init__(name):
                pass
    """)
    raised = ErrorInfo("TypeError", "Lizard.__init__() takes 1 positional argument but 2 were "
                       "given")  # raised in the check's own call: none of the learner's lines
    assert error_hints.hint(raised, source) == (
        "Did you forget `self`? `def __init__(name):` (line 2) has no `self`, but a method "
        "called on an object gets the object first, before your 1 argument (2 in all): make "
        "`self` its first parameter, `def __init__(self, name):`.")
    assert error_hints.hint(raised) is None  # no line and no source: nothing seen
    two = "class A:\n    def __init__(self, a):\n        pass\nA(1, 2)\n"
    assert error_hints.hint(python_error(two), two) is None  # `self` is there: too many


def test_super_without_parentheses_and_self_passed_twice() -> None:
    source = code("""
        class Layer:
            def __init__(self, name):
                self.name = name
        class Dense(Layer):
            def __init__(self, name, size):
                super.__init__(name)
        d = Dense("fc", 3)
    """)
    said = error_hints.hint(python_error(source), source)
    assert said == ("`super` needs its parentheses: `super()` finds the parent class for this "
                    "object, so write `super().__init__(name)`.")
    assert runs(source.replace("super.", "super()."))
    twice = source.replace("super.__init__(name)", "super().__init__(self, name)")
    said = error_hints.hint(python_error(twice), twice)
    assert said == ("`super().__init__(...)` passes `self` for you: drop it from the arguments, "
                    "`super().__init__(name)`.")
    assert runs(twice.replace("(self, name)\n", "(name)\n"))
    extra = source.replace("super.__init__(name)", "super().__init__(name, size)")
    assert "self" not in (error_hints.hint(python_error(extra), extra) or "")


def test_an_object_without_call_is_given_one() -> None:
    source = code("""
        class Scale:
            def __init__(self, factor):
                self.factor = factor
            def forward(self, x):
                return x * self.factor
            def call(self, x):
                return self.forward(x)
        y = Scale(2)(3)
    """)
    said = error_hints.hint(python_error(source), source)
    assert said == ("`Scale` has no `__call__`: the method on line 6 is spelled `call`, so "
                    "calling an object, `obj(...)`, never runs it. Rename it `__call__`.")
    assert runs(source.replace("def call", "def __call__"))
    none = source.replace("    def call(self, x):\n        return self.forward(x)\n", "")
    said = error_hints.hint(python_error(none), none) or ""
    assert said.endswith("add `def __call__(self, x):` returning `self.forward(x)`.")
    based = none.replace("class Scale:", "class Base:\n    pass\nclass Scale(Base):")
    assert error_hints.hint(python_error(based), based) is None  # a base may have one


def test_the_learners_own_argument_names_in_another_order() -> None:
    source = code("""
        def get_num_correct(preds, labels):
            return sum(p == l for p, l in zip(preds.split(), labels))
        preds, labels = "1 2", [1, 2]
        n = get_num_correct(labels, preds)
    """)
    raised = python_error(source)
    assert raised.frames[-1].name == "get_num_correct"
    assert error_hints.hint(raised, source) == (
        "`get_num_correct(labels, preds)` passes its arguments in another order than "
        "`def get_num_correct(preds, labels):` (line 1) takes them: write "
        "`get_num_correct(preds, labels)`.")
    assert runs(source.replace("(labels, preds)", "(preds, labels)"))
    other = source.replace("get_num_correct(labels, preds)", "get_num_correct(labels, 3)")
    assert error_hints.hint(python_error(other), other) is None


def test_a_str_that_falls_back_to_a_printing_repr() -> None:
    source = code("""
        class Layer:
            def __repr__(self):
                print("Layer()")
        print(Layer())
    """)
    raised = python_error(source)
    assert raised.message == "__str__ returned non-string (type NoneType)"
    assert error_hints.hint(raised, source) == (
        "`__repr__` (line 2) prints its text but returns nothing: Python needs the text back, "
        "so `return` the string instead of printing it.")


def test_a_data_set_or_loader_unpacked_whole() -> None:
    source = "train_set = torchvision.datasets.FashionMNIST(root)\nimage, label = train_set\n"
    raised = error("ValueError", "too many values to unpack (expected 2)",
                   "image, label = train_set", 2, expression="image, label")
    assert error_hints.hint(raised, source) == (
        "`train_set` is the whole data set, and unpacking it takes all its items apart: take "
        "one example by its index, `image, label = train_set[0]`.")
    loader = "loader = DataLoader(data, batch_size=64)\nimages, labels = loader\n"
    raised = error("ValueError", "too many values to unpack (expected 2)",
                   "images, labels = loader", 2, expression="images, labels")
    assert "`images, labels = next(iter(loader))`" in (error_hints.hint(raised, loader) or "")
    pairs = "pairs = [1, 2, 3]\na, b = pairs\n"
    assert error_hints.hint(python_error(pairs), pairs) is None


@pytest.mark.parametrize("message, line, operands, said", [
    ("size mismatch, got input (5), mat (5x3), vec (5)", "z = w @ x",
     [tensor("w", 5, 3), tensor("x", 5)],
     "`w @ x` needs `x` to have 3 values, the columns of `w` [5, 3], and it has 5: multiply "
     "the other way round, `x @ w` (which gives [3])."),
    ("The size of tensor a (5) must match the size of tensor b (3) at non-singleton dimension "
     "1", "z = x * w", [tensor("x", 5), tensor("w", 5, 3)],
     "`*` multiplies element by element, lining up the last axes (5 against 3): for the matrix "
     "product (`@`), which sums over the 5, write `x @ w` (which gives [3]); to multiply each "
     "row of `w` by one value of `x`, `x[:, None] * w`."),
    ("all elements of input should be between 0 and 1", "loss = F.binary_cross_entropy(z, y)",
     [tensor("z", 3), tensor("y", 3)],
     "`F.binary_cross_entropy` takes probabilities, between 0 and 1, and `z` has values outside "
     "them: turn them into probabilities with `torch.sigmoid(z)` first, or use "
     "`F.binary_cross_entropy_with_logits(z, y)`, which does that for you."),
    ("\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'",
     "loss = F.cross_entropy(labels, preds)",
     [tensor("labels", 4, dtype="int64"), tensor("preds", 4, 10)],
     "The arguments are the other way round: `F.cross_entropy` takes the scores first, then "
     "the labels, `F.cross_entropy(preds, labels)`."),
    ("'Tensor' object has no attribute 'copy'. Did you mean: 'copy_'?", "g = w.grad.copy()",
     [tensor("w", 4, within="w.grad")],
     "A tensor is copied with `.clone()`: `w.grad.clone()` (`.copy_(other)` copies another "
     "tensor's values into this one)."),
    ("'NoneType' object has no attribute 'clone'", "grad = network.weight.grad.clone()",
     [tensor("network.weight", 2, 2, within="network.weight.grad")],
     "`network.weight.grad` is None: a gradient is there only after `.backward()` has run, and "
     "`zero_grad()` empties it again. Read it after `loss.backward()` (and before the next "
     "`zero_grad()`)."),
    ("max_pool2d(): argument 'input' (position 1) must be Tensor, not ReLU",
     "t = F.max_pool2d(nn.ReLU(self.conv1(t)), 2, 2)", [],
     "`nn.ReLU(self.conv1(t))` makes a ReLU layer (taking `self.conv1(t)` as a setting) instead "
     "of applying it: use the function, `torch.relu(self.conv1(t))`, or make the layer once and "
     "call it, `nn.ReLU()(self.conv1(t))`."),
])
def test_tensor_mistakes_named_from_the_operands(message: str, line: str,
                                                 operands: list[Operand], said: str) -> None:
    expression = line.split(" = ", 1)[1].removesuffix("()")
    assert error_hints.hint(error("RuntimeError", message, line, operands=operands,
                                  expression=expression)) == said


@pytest.mark.parametrize("message, line, operands", [
    ("size mismatch, got input (3), mat (3x3), vec (3)", "z = w @ x",  # square: order unseen
     [tensor("w", 3, 3), tensor("x", 3)]),
    ("The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension "
     "1", "z = x * w", [tensor("x", 4), tensor("w", 5, 3)]),  # no product fits either
    ("\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'",
     "loss = F.cross_entropy(preds, labels)",  # in order: the scores are ints, not swapped
     [tensor("preds", 4, 10, dtype="int64"), tensor("labels", 4, dtype="int64")]),
    ("'NoneType' object has no attribute 'clone'", "grad = network.weight.clone()", []),
    ("'Tensor' object has no attribute 'zero_grads'", "loss.zero_grads()", []),
])
def test_tensor_mistake_near_misses_get_no_advice(message: str, line: str,
                                                  operands: list[Operand]) -> None:
    expression = line.split(" = ", 1)[-1].removesuffix("()")
    assert error_hints.hint(error("RuntimeError", message, line, operands=operands,
                                  expression=expression)) is None


def test_zero_grad_is_the_optimizers() -> None:
    source = "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nloss.zero_grad()\n"
    raised = error("AttributeError", "'Tensor' object has no attribute 'zero_grad'",
                   "loss.zero_grad()", 2, operands=[tensor("loss")],
                   expression="loss.zero_grad")
    assert error_hints.hint(raised, source) == (
        "`zero_grad()` belongs to the optimizer (or the model), not to a tensor: "
        "`opt.zero_grad()` clears the gradients of every weight it updates.")


def test_what_load_state_dict_returns_is_not_the_model() -> None:
    source = "loaded = model.load_state_dict(state)\nout = loaded(x)\n"
    raised = error("TypeError", "'_IncompatibleKeys' object is not callable", "out = loaded(x)",
                   2, expression="loaded(x)")
    assert error_hints.hint(raised, source) == (
        "`loaded` is what `load_state_dict` returned on line 1, a note of missing and "
        "unexpected keys, not a model: it loads the weights into `model` itself, so call "
        "`model(...)`.")


def test_a_move_whose_copy_is_dropped() -> None:
    source = "images.to(device)\nnet.to(device)\npreds = net(images)\n"
    operands = [Operand("net", "Linear"), tensor("images", 8, 2)]
    raised = error("RuntimeError", "Tensor on device meta is not on the expected device cpu!",
                   "preds = net(images)", 3, operands=operands, expression="net(images)")
    assert error_hints.hint(raised, source) == (
        "Line 1: `images.to(device)` returns a moved copy and leaves `images` where it was: "
        "keep the copy, `images = images.to(device)`.")
    kept = "images = images.to(device)\nnet.to(device)\npreds = net(images)\n"
    assert error_hints.hint(raised, kept) is None  # a module's .to moves it in place


def test_a_flatten_that_takes_the_batch_axis_too() -> None:
    source = "t = t.flatten()\nt = fc1(t)\n"
    operands = [Operand("fc1", "Linear", detail="in_features=192, out_features=120, bias=True"),
                tensor("t", 576)]
    raised = error("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (1x576 and "
                   "192x120)", "t = fc1(t)", 2, operands=operands, expression="fc1(t)")
    assert error_hints.hint(raised, source) == (
        "`t` is [576], one axis: its batch axis is gone, and `fc1` takes a batch of rows of 192 "
        "values. `t.flatten()` on line 1 flattens the batch axis too: keep it with "
        "`t.flatten(start_dim=1)`.")
    odd = [operands[0], tensor("t", 500)]
    said = error_hints.hint(error("RuntimeError", "mat1 and mat2 shapes cannot be multiplied "
                                  "(1x500 and 192x120)", "t = fc1(t)", 2, operands=odd,
                                  expression="fc1(t)"), source) or ""
    assert "start_dim" not in said  # 500 values are no whole number of rows of 192


def test_a_reshape_whose_rows_are_not_the_batch() -> None:
    source = "t = t.reshape(t.shape[1], -1)\nt = fc1(t)\n"
    operands = [Operand("fc1", "Linear", detail="in_features=192, out_features=120, bias=True"),
                tensor("t", 12, 48)]
    raised = error("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (12x48 and "
                   "192x120)", "t = fc1(t)", 2, operands=operands, expression="fc1(t)")
    assert error_hints.hint(raised, source) == (
        "`t` is [12, 48]: line 1 makes its first axis `t.shape[1]` long, and the batch axis is "
        "axis 0: keep the batch axis first, `t.reshape(t.shape[0], -1)`, so each row holds one "
        "example.")
    batch_first = "t = t.reshape(t.shape[0], -1)\nt = fc1(t)\n"
    said = error_hints.hint(raised, batch_first) or ""
    assert said.startswith("`fc1` expects inputs whose last axis has 192 values")  # as before


def test_bincount_without_minlength_is_named_with_the_length_it_needs() -> None:
    source = ("import torch\ncounts = torch.zeros(10, dtype=torch.int64)\n"
              "labels = torch.tensor([0, 3, 8])\ncounts += torch.bincount(labels)\n")
    said = error_hints.hint(python_error(source), source)
    assert said is not None and "pass `minlength=10`" in said and "(9 here)" in said
    assert runs(source.replace("bincount(labels)", "bincount(labels, minlength=10)"))


def test_sizes_read_in_the_wrong_byte_order_are_shown_the_right_way_round() -> None:
    source = ("import torch\nsizes = [int.from_bytes((n).to_bytes(4, 'big'), 'little') "
              "for n in (2, 3)]\nvalues = torch.zeros(6)\nvalues.reshape(sizes)\n")
    said = error_hints.hint(python_error(source), source)
    assert said is not None and "these sizes are [2, 3]" in said and "big-endian" in said
    near = "import torch\ntorch.zeros(6).reshape(4, 2)\n"
    assert "big-endian" not in (error_hints.hint(python_error(near), near) or "")


def test_an_empty_buffer_is_named_as_a_slice_past_the_end() -> None:
    source = ("import torch\ndata = bytes(8)\n"
              "values = torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8)\n")
    said = error_hints.hint(python_error(source), source)
    assert said is not None and "`bytearray(data[16:])` is empty (0 bytes)" in said


def test_a_size_read_from_its_lowest_byte_only_is_named() -> None:
    source = ("import torch\ndata = (65658).to_bytes(4, 'big')\nsizes = [2, data[3]]\n"
              "torch.zeros(2 * 65658).reshape(sizes)\n")
    said = error_hints.hint(python_error(source), source)
    assert said is not None and "would have to be 65,658, whose lowest byte is 122" in said


def test_arguments_swapped_for_a_function_the_step_gives_are_named() -> None:
    given = Operand("get_num_correct", "function", detail="preds, labels")
    wrong = error("IndexError", "Dimension out of range (expected to be in range of [-1, 0], "
                  "but got 1)", "total += get_num_correct(labels, preds)", 28,
                  operands=[given, tensor("labels", 100, dtype="int64"), tensor("preds", 100, 10)])
    said = error_hints.hint(wrong, "total += get_num_correct(labels, preds)\n")
    assert said is not None and "`get_num_correct(labels, preds)` passes its arguments in " \
        "another order" in said and "write `get_num_correct(preds, labels)`" in said
    right = error("IndexError", "Dimension out of range", "total += get_num_correct(preds, "
                  "labels)", 28, operands=[given])
    assert "another order" not in (error_hints.hint(right, "") or "")


def test_the_worker_reads_a_functions_parameters_without_calling_it() -> None:
    from tutor.sandbox import explain, wire

    given: dict = {"__name__": "__main__"}  # the step's setup defines the function
    exec(compile("def get_num_correct(preds, labels):\n    return preds.argmax(dim=1)\n",
                 "<setup>", "exec"), given)
    source = "labels, preds = [1], [[0.1, 0.9]]\nget_num_correct(labels, preds)\n"
    linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
    try:
        exec(compile(source, FILENAME, "exec"), given)
    except AttributeError as exc:
        info = wire.error_info(explain.error(exc, FILENAME))
    finally:
        linecache.cache.pop(FILENAME, None)
    functions = [o for o in info.operands if o.type == "function"]
    assert functions and functions[0].detail == "preds, labels"
    assert "get_num_correct" not in (operands_text(info) or "")  # shown to hints only


def test_a_batch_reshaped_the_wrong_way_round_is_told_to_put_the_batch_first() -> None:
    """`t.reshape(192, -1)` gives [192, 3]: making in_features 3 would not pass the step."""
    operands = [Operand("self.fc1", "Linear", detail="in_features=192, out_features=120, "
                        "bias=True"), tensor("t", 192, 3)]
    raised = error("RuntimeError", "mat1 and mat2 shapes cannot be multiplied (192x3 and "
                   "192x120)", "t = F.relu(self.fc1(t))", 21, "forward", operands, "self.fc1(t)")
    said = error_hints.hint(raised)
    assert said == (
        "`self.fc1` expects inputs whose last axis has 192 values (its `in_features`), but `t` "
        "is [192, 3]: it holds 576 values, 192 for each of 3 examples, so put the batch first: "
        "`.reshape(-1, 192)` gives [3, 192] (-1 is computed from the rest).")
