"""Verified repairs: candidate edits taken from the reference solution (pure AST, fast), the
way they are run and judged (fake runs), and end to end on real workers, where a repair is
told only when a run of the edited code made a check pass."""

from __future__ import annotations

import ast
import threading
import time

import pytest

from tutor.core import repairs
from tutor.core.checker import Checker
from tutor.core.checks.compare import Compare
from tutor.core.model import CodeStep, Reject
from tutor.core.repairs import Candidate, Verified, attach, candidates, verify
from tutor.core.runs import RunResult
from tutor.core.validate import mutate_step, validate_step
from tutor.core.verdict import CheckResult, Verdict

LOADER = """\
import torch
from torch.utils.data import DataLoader

torch.manual_seed(0)
loader = DataLoader(ds, batch_size=10, shuffle=True)
first = next(iter(loader))[0]
"""


def only(code: str, solution: str, setup: str = "") -> Candidate:
    found = candidates(code, solution, setup)
    assert len(found) == 1, [c.what for c in found]
    return found[0]


def sentence(candidate: Candidate) -> str:
    return f"{candidate.where}: {candidate.what}"


# --------------------------------------------------------------------------- candidates


def test_a_keyword_that_differs_takes_the_references_value() -> None:
    code = LOADER.replace("shuffle=True", "shuffle=False")
    found = only(code, LOADER, setup="ds = list(range(100))\n")
    assert sentence(found) == ("Line 5: with `shuffle=True` instead of `shuffle=False` in "
                               "`DataLoader(...)`")
    assert found.source == LOADER and found.kind == "keyword"


def test_a_range_with_other_arguments_is_replaced_whole() -> None:
    found = only("xs = list(range(1, 1001))\n", "xs = list(range(1000))\n")
    assert sentence(found) == "Line 1: with `range(1000)` instead of `range(1, 1001)`"
    assert found.source == "xs = list(range(1000))\n"


def test_a_missing_seed_is_inserted_above_the_line_that_follows_it_in_the_reference() -> None:
    code = LOADER.replace("torch.manual_seed(0)\n", "")
    found = only(code, LOADER)
    assert sentence(found) == "Line 4: with `torch.manual_seed(0)` added above it"
    assert found.kind == "insert" and found.source == LOADER


def test_a_seed_called_too_late_is_moved_up() -> None:
    late = LOADER.replace("torch.manual_seed(0)\n", "") + "torch.manual_seed(0)\n"
    found = only(late, LOADER)
    assert found.kind == "move"
    assert sentence(found) == "Line 6: with `torch.manual_seed(0)` moved above line 4"
    tree = ast.parse(found.source)
    assert ast.unparse(tree.body[2]) == "torch.manual_seed(0)"  # before the loader now


def test_a_missing_call_is_inserted_with_the_indentation_of_its_block() -> None:
    solution = ("for x in batches:\n    optimizer.zero_grad()\n    loss = model(x)\n"
                "    loss.backward()\n    optimizer.step()\n")
    code = solution.replace("    optimizer.zero_grad()\n", "")
    found = only(code, solution, setup="batches, optimizer, model = [], None, None\n")
    assert sentence(found) == "Line 2: with `optimizer.zero_grad()` added above it"
    assert found.source == solution


def test_other_axes_and_flags_inside_calls() -> None:
    assert sentence(only("m = t.sum(dim=0)\n", "m = t.sum(dim=1)\n")) == (
        "Line 1: with `dim=1` instead of `dim=0` in `t.sum(...)`")
    assert sentence(only("s = t.std(unbiased=False)\n", "s = t.std()\n")) == (
        "Line 1: without `unbiased=False` in `t.std(...)`")
    assert sentence(only("p = nn.MaxPool2d(2)\n", "p = nn.MaxPool2d(2, stride=2)\n")) == (
        "Line 1: with `stride=2` added to `nn.MaxPool2d(...)`")
    assert sentence(only("torch.manual_seed(50)\n", "torch.manual_seed(0)\n")) == (
        "Line 1: with `torch.manual_seed(0)` instead of `torch.manual_seed(50)`")


def test_a_literal_in_a_matched_statement_is_shown_in_its_expression() -> None:
    found = only("col = x[:, 0]\n", "col = x[:, 1]\n", setup="x = None\n")
    assert sentence(found) == "Line 1: with `x[:, 1]` instead of `x[:, 0]`"


def test_a_learner_call_the_reference_never_makes_is_dropped() -> None:
    solution = "def f(x, W):\n    return x @ W.T\n"
    code = "def f(x, W):\n    W.t_()\n    return x @ W.T\n"
    found = only(code, solution)
    assert sentence(found) == "Line 2: without `W.t_()`"
    assert found.source == "def f(x, W):\n    pass\n    return x @ W.T\n"


def test_the_same_edit_in_several_places_comes_first_as_one() -> None:
    solution = ("def f(n, k, s=1):\n    return n\n\nsizes = [28]\n"
                + "sizes.append(f(sizes[-1], k=5))\nsizes.append(f(sizes[-1], k=2, s=2))\n" * 2)
    found = candidates(solution.replace(", s=2", ""), solution)
    assert [sentence(c) for c in found] == [
        "Lines 6 and 8: with `s=2` added to `f(...)`",
        "Line 6: with `s=2` added to `f(...)`",
        "Line 8: with `s=2` added to `f(...)`",
    ]


def test_calls_pair_within_the_statements_that_bind_the_same_names() -> None:
    """The test set's ``train=True`` is the mistake, even though the train set's call comes
    first in the learner's code and the reference has other calls in between."""
    solution = ("train_set = FashionMNIST(root=DATA_DIR, train=True, transform=ToTensor())\n"
                "test_set = FashionMNIST(root=DATA_DIR, train=False, transform=ToTensor())\n")
    code = ("t = ToTensor()\ntrain_set = FashionMNIST(root=DATA_DIR, train=True, transform=t)\n"
            "test_set = FashionMNIST(root=DATA_DIR, train=True, transform=t)\n")
    found = only(code, solution, setup="from torchvision.datasets import FashionMNIST\n"
                                       "from torchvision.transforms import ToTensor\n")
    assert sentence(found) == ("Line 3: with `train=False` instead of `train=True` in "
                               "`FashionMNIST(...)`")


def test_edits_that_would_use_names_the_learner_never_defined_are_not_proposed() -> None:
    solution = "subset = Subset(ds, range(10))\nloader = DataLoader(subset, batch_size=2)\n"
    code = "loader = DataLoader(ds, batch_size=2)\n"
    assert candidates(code, solution, setup="ds = []\n") == []  # `subset` is theirs only


def test_names_the_worker_gives_may_be_used() -> None:
    found = only('s = FashionMNIST(root="./data")\n', "s = FashionMNIST(root=DATA_DIR)\n")
    assert found.what == 'with `root=DATA_DIR` instead of `root="./data"` in `FashionMNIST(...)`'


def test_no_edit_where_nothing_lines_up_or_the_code_cannot_be_read() -> None:
    assert candidates(LOADER, LOADER) == []
    assert candidates("loader = (\n", LOADER) == []
    assert candidates("x = 1\n", "def f():\n    return 2\n") == []


def test_methods_and_module_functions_of_the_same_name_do_not_pair() -> None:
    assert candidates("m = t.sum(1)\n", "import torch\nm = torch.sum(t, 0)\n") == []


def test_every_candidate_parses_differs_and_stays_within_the_cap() -> None:
    solution = "\n".join(f"x{i} = f(a={i}, b={i}, c={i})" for i in range(6)) + "\n"
    code = "\n".join(f"x{i} = f(a={i + 1}, b={i + 2}, c={i + 3})" for i in range(6)) + "\n"
    found = candidates(code, solution, setup="def f(a, b, c):\n    return a\n")
    assert len(found) == repairs.MAX_CANDIDATES
    assert len({c.source for c in found}) == len(found)
    for candidate in found:
        ast.parse(candidate.source)
        assert candidate.source != code


def test_the_setup_is_never_edited_only_read_for_names() -> None:
    setup = "ds = list(range(100))\nshuffle_default = True\n"
    code = LOADER.replace("shuffle=True", "shuffle=False")
    for candidate in candidates(code, LOADER, setup):
        assert setup not in candidate.source
        assert candidate.source.splitlines()[:4] == code.splitlines()[:4]


# --------------------------------------------------------------------------- verifying


class FakeRun:
    """A run that ends after ``seconds`` with ``status``, or when cancelled."""

    def __init__(self, status: str = "ok", seconds: float = 0.0):
        self.status, self.seconds = status, seconds
        self.cancelled = threading.Event()
        self.closed = False

    def wait(self) -> RunResult:
        if self.cancelled.wait(self.seconds):
            return RunResult("cancelled")
        return RunResult(self.status)  # type: ignore[arg-type]

    def judge(self, learner: RunResult) -> dict:
        return {}

    def cancel(self) -> None:
        self.cancelled.set()

    def close(self) -> None:
        self.closed = True


def edit(n: int) -> Candidate:
    return Candidate("keyword", (n,), f"with edit {n}", f"x = {n}\n")


def check(passed: bool, name: str = "c") -> CheckResult:
    return CheckResult(name, passed, "" if passed else "wrong", "values",
                       "" if passed else "wrong")


def run_verify(found: list[Candidate], outcomes: dict[int, list[bool] | None],
               before: list[CheckResult], errored: bool = False, jobs: int = 2,
               budget_s: float = 5.0, seconds: float = 0.0
               ) -> tuple[Verified | None, list[int], list[FakeRun]]:
    started: list[int] = []
    runs: list[FakeRun] = []

    def start(candidate: Candidate) -> FakeRun:
        started.append(candidate.lines[0])
        runs.append(FakeRun(seconds=seconds))
        return runs[-1]

    def judge(candidate: Candidate, result: RunResult) -> list[CheckResult] | None:
        passed = outcomes.get(candidate.lines[0])
        return None if passed is None else [check(p) for p in passed]

    def stop() -> None:
        for run in runs:
            run.cancel()

    found_ = verify(found, start, judge, before, errored, budget_s, jobs, stop)  # type: ignore[arg-type]
    return found_, started, runs


def test_the_first_candidate_that_helps_wins_and_the_rest_are_not_run() -> None:
    found, started, runs = run_verify([edit(1), edit(2), edit(3), edit(4)],
                                      {1: [False, False], 2: [True, True], 3: [True, True]},
                                      [check(False), check(False)], jobs=1)
    assert found is not None and found.candidate.lines == (2,) and found.everything
    assert started == [1, 2]
    assert all(run.closed for run in runs)


def test_an_edit_that_breaks_a_passing_check_does_not_count() -> None:
    found, _, _ = run_verify([edit(1), edit(2)], {1: [True, False], 2: [True, True, False]},
                             [check(False), check(True)])
    assert found is None
    found, _, _ = run_verify([edit(1)], {1: [True, True, False]},
                             [check(False), check(True), check(False)])
    assert found is not None and found.fixed == (0,) and not found.everything
    assert found.sentence() == "Line 1: with edit 1, this check passes."


def test_after_an_error_only_an_edit_after_which_everything_passes_counts() -> None:
    found, _, _ = run_verify([edit(1), edit(2)], {1: [True, False], 2: [True, True]},
                             [check(False), check(False)], errored=True)
    assert found is not None and found.candidate.lines == (2,)
    assert found.sentence() == "Line 2: with edit 2, all checks pass."


def test_a_run_that_did_not_finish_well_counts_for_nothing() -> None:
    found, _, _ = run_verify([edit(1)], {1: None}, [check(False)])
    assert found is None


def test_the_budget_stops_the_runs_still_going() -> None:
    began = time.monotonic()
    found, started, runs = run_verify([edit(1), edit(2), edit(3)], {1: [True]},
                                      [check(False)], jobs=2, budget_s=0.3, seconds=30)
    assert found is None and time.monotonic() - began < 15  # the runs would take 30 s each
    assert started == [1, 2]  # the third never started: the budget was spent
    assert all(run.cancelled.is_set() and run.closed for run in runs)


def test_the_repair_is_said_after_the_diagnosis_and_before_the_advice() -> None:
    verdict = Verdict("s", False, [check(True, "a"), CheckResult(
        "b", False, "`b` is wrong.\nAuthor: mind the seed.", "values", "`b` is wrong."),
        check(False, "c")])
    attach(verdict, Verified(edit(5), (1, 2), False))
    said = "Line 5: with edit 5, this check and 1 other failing check pass."
    assert verdict.repair == said
    assert verdict.checks[1].message == f"`b` is wrong.\n{said}\nAuthor: mind the seed."
    assert verdict.checks[1].diagnosis == f"`b` is wrong.\n{said}"
    assert verdict.checks[2].message == "wrong"


def test_a_repair_of_an_error_is_said_after_the_error() -> None:
    verdict = Verdict("s", False, error="Traceback...\nTypeError: no\n")
    attach(verdict, Verified(edit(2), (), True))
    assert verdict.error == "Traceback...\nTypeError: no\n\nLine 2: with edit 2, all checks pass."


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def checker(warm_runner) -> Checker:
    return Checker(warm_runner, device="cpu")


DATASET = "import torch\nds = torch.utils.data.TensorDataset(torch.arange(100.0))\n"


def step(solution: str, *checks: Compare, setup: str = "") -> CodeStep:
    return CodeStep(id="s", title="S", starter="t = ...\n", solution=solution, setup=setup,
                    checks=tuple(checks or (Compare(var="first"),)))


@pytest.mark.slow
def test_an_unshuffled_loader_gets_its_verified_repair(checker) -> None:
    s = step(LOADER, setup=DATASET)
    verdict = checker.check(s, LOADER.replace("shuffle=True", "shuffle=False"), "mine.py")
    assert not verdict.passed
    said = ("Line 5: with `shuffle=True` instead of `shuffle=False` in `DataLoader(...)`, "
            "all checks pass.")
    assert verdict.repair == said
    assert said in verdict.checks[0].message and said in verdict.checks[0].diagnosis


@pytest.mark.slow
def test_a_missing_seed_gets_its_verified_repair(checker) -> None:
    s = step(LOADER, setup=DATASET)
    verdict = checker.check(s, LOADER.replace("torch.manual_seed(0)\n", ""), "mine.py")
    assert verdict.repair == "Line 4: with `torch.manual_seed(0)` added above it, all checks pass."


@pytest.mark.slow
def test_a_range_off_by_one_gets_its_verified_repair(checker) -> None:
    s = step("import torch\nfirst = torch.tensor(list(range(1000))).float().mean()\n")
    code = "import torch\nfirst = torch.tensor(list(range(1, 1001))).float().mean()\n"
    verdict = checker.check(s, code, "mine.py")
    assert verdict.repair == ("Line 2: with `range(1000)` instead of `range(1, 1001)`, "
                              "all checks pass.")


@pytest.mark.slow
def test_an_error_one_edit_removes_gets_the_repair_after_the_error(checker) -> None:
    s = step(LOADER, setup=DATASET)
    code = LOADER.replace("next(iter(loader))", "next(loader)")
    verdict = checker.check(s, code, "mine.py")
    assert verdict.error and "not an iterator" in verdict.error
    assert verdict.error.endswith(
        "Line 6: with `next(iter(loader))` instead of `next(loader)`, all checks pass.")


@pytest.mark.slow
def test_an_edit_that_fixes_one_check_of_two_says_so_on_that_check(checker) -> None:
    solution = LOADER + "n = len(loader)\n"
    s = step(solution, Compare(var="first"), Compare(var="n"), setup=DATASET)
    code = solution.replace("shuffle=True", "shuffle=False").replace("len(loader)", "7")
    verdict = checker.check(s, code, "mine.py")
    assert verdict.repair.endswith("in `DataLoader(...)`, this check passes.")
    assert verdict.repair in verdict.checks[0].message
    assert verdict.repair not in verdict.checks[1].message


@pytest.mark.slow
def test_a_mistake_no_single_edit_fixes_gets_no_repair(checker) -> None:
    s = step(LOADER, setup=DATASET)
    code = LOADER.replace("batch_size=10, shuffle=True", "batch_size=5, shuffle=False")
    verdict = checker.check(s, code, "mine.py")
    assert not verdict.passed and verdict.repair == ""
    assert "Line 5: with" not in verdict.checks[0].message


@pytest.mark.slow
def test_repairs_can_be_turned_off(warm_runner) -> None:
    s = step(LOADER, setup=DATASET)
    code = LOADER.replace("shuffle=True", "shuffle=False")
    verdict = Checker(warm_runner, repairs=False).check(s, code, "mine.py")
    assert not verdict.passed and verdict.repair == ""


@pytest.mark.slow
def test_authors_see_repairs_in_validate_but_mutants_run_without_them(warm_runner) -> None:
    solution = "total = sum(range(10))\n"
    said = "Line 1: with `range(10)` instead of `range(1, 11)`, all checks pass."
    s = CodeStep(id="s", title="S", starter="total = ...\n", solution=solution,
                 checks=(Compare(var="total"),),
                 rejects=(Reject(code="total = sum(range(1, 11))\n", feedback=said),))
    checker = Checker(warm_runner)
    report = validate_step(s, checker)
    assert report.ok, [a.problem for a in report.attempts]
    mutation = mutate_step(s, checker, report)
    killed = [r for r in mutation.results if r.status == "killed"]
    assert killed and not any("checks pass" in r.feedback for r in killed)


def test_a_short_line_no_smaller_edit_explains_is_offered_whole_as_a_last_resort() -> None:
    solution = "def by_hand(x, W, b):\n    return x @ W.T + b\n"
    code = "def by_hand(x, W, b):\n    return x @ (W.T + b)\n"
    found = only(code, solution)
    assert found.kind == "statement" and found.source == solution
    assert sentence(found) == "Line 2: with `return x @ W.T + b` instead of `return x @ (W.T + b)`"
    # a line whose call differs in its arguments gets those edits, not the whole line
    assert all(c.kind != "statement" for c in candidates(
        LOADER.replace("shuffle=True", "shuffle=False"), LOADER, "ds = list(range(100))\n"))


def test_a_call_in_the_wrong_block_is_moved_into_the_loop() -> None:
    solution = ("losses = []\nfor x in batches:\n    opt.zero_grad()\n    loss = f(x)\n"
                "    loss.backward()\n")
    code = ("losses = []\nopt.zero_grad()\nfor x in batches:\n    loss = f(x)\n"
            "    loss.backward()\n")
    found = candidates(code, solution, setup="batches = []\nopt = None\nf = None\n")
    moved = [c for c in found if c.kind == "move"]
    assert moved and sentence(moved[0]) == (
        "Line 2: with `opt.zero_grad()` moved into the loop, above line 4")
    assert "    opt.zero_grad()\n    loss = f(x)" in moved[0].source


def test_a_call_repeated_in_a_loop_is_moved_out_of_it() -> None:
    solution = "torch.manual_seed(0)\nxs = []\nfor i in range(3):\n    xs.append(torch.rand(1))\n"
    code = "xs = []\nfor i in range(3):\n    torch.manual_seed(0)\n    xs.append(torch.rand(1))\n"
    found = candidates(code, solution, setup="import torch\n")
    moved = [c for c in found if c.kind == "move"]
    assert moved and sentence(moved[0]) == (
        "Line 3: with `torch.manual_seed(0)` moved out of the loop, above line 1")


@pytest.mark.slow
def test_a_metric_is_judged_again_for_each_repair(checker) -> None:
    """A metric is decided by a judge run: each candidate gets one, so a repair that makes
    it pass can say so, and one that does not is never said to."""
    from tutor.core.checks.metric import MetricCheck
    solution = "import torch\nt = torch.tensor([2, 4, 6, 8])\ndoubled = t * 2\n"
    wanted = MetricCheck(expr="doubled.tolist() == [4, 8, 12, 16]", learner=("doubled",))
    s = CodeStep(id="s", title="S", starter="t = ...\n", solution=solution, checks=(wanted,))
    verdict = checker.check(s, solution.replace("t * 2", "t + 2"), "mine.py")
    assert not verdict.passed
    assert verdict.repair == ("Line 3: with `doubled = t * 2` instead of `doubled = t + 2`, "
                              "all checks pass.")
    never = MetricCheck(expr="doubled.tolist() == [0]", learner=("doubled",))
    s = CodeStep(id="s", title="S", starter="t = ...\n", solution=solution, checks=(never,))
    verdict = checker.check(s, solution.replace("t * 2", "t + 2"), "mine.py")
    assert not verdict.passed and not verdict.repair


def test_literals_that_differ_twice_in_a_statement_are_also_offered_together() -> None:
    solution = "def crop(batch):\n    return batch[:, :, 4:24, 4:24]\n"
    code = solution.replace("4:24, 4:24", "4:23, 4:23")
    found = candidates(code, solution)
    assert sentence(found[0]) == (
        "Line 2: with `batch[:, :, 4:24, 4:24]` instead of `batch[:, :, 4:23, 4:23]`")
    assert found[0].source == solution
    assert len(found) == 3  # and each alone, for a learner who got one of them right
