"""Source rules: calls matched in the syntax tree, with line numbers and what to change."""

from __future__ import annotations

import textwrap

from tutor.core.model import SourceCheck
from tutor.core.source_rules import check_source


def run(source: str, **rules):
    return check_source(SourceCheck(**rules), textwrap.dedent(source))


def test_uses_matches_a_dotted_call():
    result = run("import torch\nx = torch.stack([a, b])\n", uses=("torch.stack",))
    assert result.passed
    assert result.message == ""
    assert result.name == "the code uses torch.stack"


def test_uses_sees_through_import_aliases():
    assert run("import torch as th\nx = th.stack(xs)\n", uses=("torch.stack",)).passed
    assert run("from torch import stack\nx = stack(xs)\n", uses=("torch.stack",)).passed
    source = "import torch.nn.functional as F\ny = F.relu(x)\n"
    assert run(source, uses=("torch.nn.functional.relu",)).passed
    assert run(source, uses=("F.relu",)).passed


def test_a_bare_name_matches_functions_and_methods():
    assert run("y = x.sum(dim=1).mean()\n", uses=("sum", "mean")).passed
    assert run("y = t.stack(xs)\n", uses=("stack",)).passed
    assert run("import torch.nn as nn\nfc = nn.Linear(3, 4)\n", uses=("nn.Linear",)).passed


def test_a_name_must_match_whole_parts():
    result = run("import torch\ny = torch.hstack(xs)\n", uses=("stack",))
    assert not result.passed


def test_a_mention_in_a_comment_or_string_does_not_count():
    result = run(
        """
        import torch
        # torch.stack would be nice
        note = "torch.stack(xs)"
        y = torch.cat(xs)
        """,
        uses=("torch.stack",),
    )
    assert not result.passed
    assert "Your code does not call `torch.stack`" in result.message


def test_the_same_function_from_another_library_is_pointed_at():
    result = run("import numpy as np\ny = np.stack(xs)\n", uses=("torch.stack",))
    assert not result.passed
    assert "Line 2 calls `np.stack`, but this step asks for `torch.stack`" in result.message


def test_avoids_reports_every_line():
    result = run(
        """
        import torch
        a = torch.cat(xs)
        b = a + 1
        c = torch.cat([a, b])
        """,
        avoids=("cat",),
    )
    assert not result.passed
    assert "`torch.cat` is used on lines 3 and 5" in result.message
    assert "without `cat`" in result.message


def test_avoids_passes_when_absent():
    assert run("y = x.sum()\n", avoids=("torch.cat",)).passed


def test_the_matmul_operator_counts_as_matmul():
    assert run("y = a @ b\n", uses=("matmul",)).passed
    result = run("y = a @ b\n", avoids=("matmul",))
    assert "`@` is used on line 1" in result.message


def test_no_loops_reports_loops_and_comprehensions_with_lines():
    result = run(
        """
        total = 0
        for v in values:
            total += v
        squares = [v * v for v in values]
        while total > 0:
            total -= 1
        """,
        no_loops=True,
    )
    assert not result.passed
    assert "A for loop, a list comprehension and a while loop on lines 3, 5 and 6" in (
        result.message
    )
    assert "whole tensors" in result.message


def test_no_loops_passes_for_vectorised_code():
    assert run("y = (x * w).sum(dim=1) + b\n", no_loops=True).passed


def test_all_rules_are_reported_together():
    result = run("y = [torch.cat(p) for p in parts]\n", uses=("stack",), avoids=("cat",),
                 no_loops=True)
    assert len(result.message.splitlines()) == 3


def test_a_syntax_error_fails_with_its_line():
    result = run("x = (\n", no_loops=True)
    assert not result.passed
    assert "syntax error on line 1" in result.message


def test_made_from_follows_values_through_variables():
    made = {"made_from": (("x", ("device",)),)}
    for good in ("x = torch.ones(2, 3, device=device)\n",
                 "x = torch.ones(2, 3).to(device)\n",
                 "x = torch.ones(2, 3)\nx = x.to(device)\n",
                 "d = device\ny = torch.ones(2, 3, device=d)\nx = y\n",
                 "x: torch.Tensor = torch.ones(2, 3, device=device)\n"):
        assert run(good, **made).passed, good


def test_made_from_names_what_is_missing():
    result = run("print(device)\nx = torch.ones(2, 3)\n", made_from=(("x", ("device",)),))
    assert not result.passed
    assert result.message == (
        "`x` is computed without `device`: use it where you create `x`.")


def test_made_from_explains_a_to_call_whose_copy_is_dropped():
    result = run("x = torch.ones(2, 3)\nx.to(device)\n", made_from=(("x", ("device",)),))
    assert result.message == ("Line 2: `x.to(...)` returns a moved copy and leaves `x` where "
                              "it was: keep the copy, `x = x.to(device)`.")


def test_made_from_asks_for_a_missing_variable():
    result = run("y = torch.ones(2, device=device)\n", made_from=(("x", ("device",)),))
    assert not result.passed and "does not assign `x`" in result.message
