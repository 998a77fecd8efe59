"""The feedback engine end to end, on real workers: partial verdicts after an error, calls
that change their inputs or return another input's result, per-trial sizes and values, inputs
described as a person would, and the untouched starter said once."""

from __future__ import annotations

import pytest

from tutor.core.checker import UNTOUCHED, Checker
from tutor.core.checks.call import Call
from tutor.core.checks.compare import Compare
from tutor.core.checks.stdout import StdoutContains
from tutor.core.loader import build_check
from tutor.core.model import CodeStep
from tutor.core.runs import ExprArg, TensorArg
from tutor.core.verdict import Verdict

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checker(warm_runner) -> Checker:
    return Checker(warm_runner, device="cpu")


def step(solution: str, *checks, starter: str = "t = ...\n", setup: str = "") -> CodeStep:
    return CodeStep(id="s", title="S", starter=starter, solution=solution, setup=setup,
                    checks=tuple(checks))


def check(checker: Checker, the_step: CodeStep, code: str) -> Verdict:
    return checker.check(the_step, code, "mine.py")


def test_an_error_still_reports_the_checks_on_what_was_made_before_it(checker) -> None:
    s = step("import torch\nt = torch.ones(3)\nu = t * 2\nprint('done')\n",
             Compare(var="t"), Compare(var="u"), StdoutContains(text="done"))
    verdict = check(checker, s, "import torch\nt = torch.zeros(3)\nu = t.bad()\n")
    assert not verdict.passed
    assert verdict.error and "AttributeError" in verdict.error
    first, second, third = verdict.checks
    assert not first.passed and "First at index [0]: got 0.0, expected 1.0" in first.message
    assert second.message.startswith("Not checked: your code stopped with an error at line 3")
    assert third.message.startswith("Not checked")


def test_a_name_rebound_after_the_error_line_is_not_judged_early(checker) -> None:
    s = step("t = 1\nt = t + 1\n", Compare(var="t"))
    verdict = check(checker, s, "t = 1\nx = undefined_name\nt = t + 1\n")
    (result,) = verdict.checks
    assert result.message.startswith("Not checked: your code stopped with an error at line 2")


def test_a_function_that_changes_its_input_in_place_is_caught(checker) -> None:
    s = step("def add_batch_axis(x):\n    return x.unsqueeze(0)\n",
             Call(function="add_batch_axis", args=(TensorArg(shape=(3, 5)),)))
    verdict = check(checker, s, "def add_batch_axis(x):\n    x.unsqueeze_(0)\n    return x\n")
    assert "changes its input `x` in place" in verdict.checks[0].message
    assert check(checker, s, s.solution).passed


def test_a_function_that_ignores_its_input_is_told_so(checker) -> None:
    s = step("def double(x):\n    return x * 2\n",
             Call(function="double", args=(TensorArg(shape=(4,)),), trials=3))
    code = "import torch\nFIXED = torch.randn(4)\ndef double(x):\n    return FIXED * 2\n"
    message = check(checker, s, code).checks[0].message
    assert message.startswith("`double(...)` returns the same result for each of the 3 inputs")
    assert "`double` never uses its argument `x`" in message


def test_a_missing_return_is_not_taken_for_an_ignored_input(checker) -> None:
    s = step("def double(x):\n    return x * 2\n",
             Call(function="double", args=(TensorArg(shape=(4,)),), trials=3))
    message = check(checker, s, "def double(x):\n    x * 2\n").checks[0].message
    assert "did you forget to `return` it" in message
    assert "same result" not in message


def test_sizes_vary_per_trial_and_a_batch_of_one_is_tried(checker) -> None:
    call = build_check({"call": "first_axis", "sizes": {"B": [1, 5]},
                        "args": [{"tensor": {"shape": ["B", 3]}}], "trials": 2})
    s = step("def first_axis(x):\n    return x.shape[0]\n", call)
    assert check(checker, s, s.solution).passed
    verdict = check(checker, s, "def first_axis(x):\n    return x.squeeze().shape[0]\n")
    message = verdict.checks[0].message
    assert message.startswith("For a float32 tensor of shape [1, 3]: ")


def test_choose_gives_each_trial_its_value(checker) -> None:
    call = build_check({"call": "scale", "args": [{"choose": [2, 3]}], "trials": 2})
    s = step("def scale(k):\n    return k * 10\n", call)
    assert check(checker, s, s.solution).passed
    verdict = check(checker, s, "def scale(k):\n    return k * 10 if k < 3 else k\n")
    assert verdict.checks[0].message.startswith("For 3 (trial 2 of 2")


def test_inputs_are_described_as_a_person_would(checker) -> None:
    setup = ("import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n"
             "data = TensorDataset(torch.zeros(100, 1, 28, 28), torch.zeros(100))\n"
             "loader = DataLoader(data, batch_size=10)\n")
    s = step("def count(dl):\n    return len(dl)\n",
             Call(function="count", args=(ExprArg("loader"),), trials=1), setup=setup)
    message = check(checker, s, "def count(dl):\n    return 0\n").checks[0].message
    assert message.startswith("For a DataLoader over 100 items in batches of 10: ")
    named = Call(function="count", args=(ExprArg("loader", shown_as="the training loader"),),
                 trials=1)
    message = check(checker, step(s.solution, named, setup=setup),
                    "def count(dl):\n    return 0\n").checks[0].message
    assert message.startswith("For the training loader: ")


def test_the_untouched_starter_gets_one_line(checker) -> None:
    s = step("t = 1\n", Compare(var="t"), Compare(var="t"), starter="import torch\nt = ...\n")
    verdict = check(checker, s, "import torch\nt = ...\n")
    assert verdict.error == UNTOUCHED and verdict.checks == [] and verdict.line == 2
    edited = check(checker, s, "import torch\nt = ...  # todo\nu = 1\n")
    assert edited.error is None and edited.checks  # changed: checked as usual


@pytest.mark.parametrize(("solution", "mistake", "says", "fixed"), [
    ("import torch\nx = torch.arange(6.).reshape(2, 3)\nt = x\n",
     "import torch\nx = torch.arange(6.).reshape(2, 3)\nt = x.T\n",
     "use `.T`", "import torch\nx = torch.arange(6.).reshape(2, 3)\nt = x.T.T\n"),
    ("import torch\nx = torch.rand(3, 5, 5)\nt = x.unsqueeze(0)\n",
     "import torch\nx = torch.rand(3, 5, 5)\nt = x\n",
     "`.unsqueeze(0)`", "import torch\nx = torch.rand(3, 5, 5)\nt = x.unsqueeze(0)\n"),
    ("import torch\nx = torch.rand(4, 6)\nt = x.mean(dim=1)\n",
     "import torch\nx = torch.rand(4, 6)\nt = x\n",
     "add `.mean(dim=1)`", "import torch\nx = torch.rand(4, 6)\nt = x.mean(dim=1)\n"),
    ("import torch\nx = torch.rand(10, 3)\nt = x.std(dim=0, unbiased=False)\n",
     "import torch\nx = torch.rand(10, 3)\nt = x.std(dim=0)\n",
     "pass unbiased=False", "import torch\nx = torch.rand(10, 3)\nt = x.std(dim=0, unbiased=False)\n"),
    ("import torch\nx = torch.randint(0, 256, (2, 4)).float()\nt = x / 255\n",
     "import torch\nx = torch.randint(0, 256, (2, 4)).float()\nt = x\n",
     "divide by 255", "import torch\nx = torch.randint(0, 256, (2, 4)).float()\nt = x / 255\n"),
])
def test_following_the_advice_passes(checker, solution, mistake, says, fixed) -> None:
    s = step(solution, Compare(var="t"))
    verdict = check(checker, s, mistake)
    assert says in verdict.checks[0].message
    assert check(checker, s, fixed).passed
