"""The ``source`` check: calls matched in the syntax tree, with line numbers and what to change."""

from __future__ import annotations

import ast
import textwrap

from tutor.core.checks.source import Rules, Source, find_calls, made_from, source_problem


def problem(source: str, **rules) -> str | None:
    return source_problem(Rules(**rules), textwrap.dedent(source))


def test_uses_matches_a_dotted_call():
    assert problem("import torch\nx = torch.stack([a, b])\n", uses=("torch.stack",)) is None
    assert Source(rules=Rules(uses=("torch.stack",))).title() == "the code uses torch.stack"


def test_the_title_lists_every_rule_and_a_name_replaces_it():
    rules = Rules(uses=("stack",), avoids=("cat", "hstack"), no_loops=True,
                  made_from={"x": ("device",)})
    assert Source(rules=rules).title() == (
        "the code uses stack and does not use cat, hstack and has no Python loops and "
        "makes `x` from `device`")
    assert Source(rules=rules, name="stack, no loops").title() == "stack, no loops"
    assert Source(rules=Rules()).title() == "source rules"


def test_uses_sees_through_import_aliases():
    assert problem("import torch as th\nx = th.stack(xs)\n", uses=("torch.stack",)) is None
    assert problem("from torch import stack\nx = stack(xs)\n", uses=("torch.stack",)) is None
    source = "import torch.nn.functional as F\ny = F.relu(x)\n"
    assert problem(source, uses=("torch.nn.functional.relu",)) is None
    assert problem(source, uses=("F.relu",)) is None


def test_a_bare_name_matches_functions_and_methods():
    assert problem("y = x.sum(dim=1).mean()\n", uses=("sum", "mean")) is None
    assert problem("y = t.stack(xs)\n", uses=("stack",)) is None
    assert problem("import torch.nn as nn\nfc = nn.Linear(3, 4)\n", uses=("nn.Linear",)) is None


def test_a_name_must_match_whole_parts():
    message = problem("import torch\ny = torch.hstack(xs)\n", uses=("stack",))
    assert message == ("Your code does not call `stack`: this step asks you to use "
                       "`stack(...)`.")


def test_a_mention_in_a_comment_or_string_does_not_count():
    message = problem(
        """
        import torch
        # torch.stack would be nice
        note = "torch.stack(xs)"
        y = torch.cat(xs)
        """,
        uses=("torch.stack",),
    )
    assert message is not None
    assert "Your code does not call `torch.stack`" in message


def test_the_same_function_from_another_library_is_pointed_at():
    message = problem("import numpy as np\ny = np.stack(xs)\n", uses=("torch.stack",))
    assert message is not None
    assert "Line 2 calls `np.stack`, but this step asks for `torch.stack`" in message


def test_avoids_reports_every_line():
    message = problem(
        """
        import torch
        a = torch.cat(xs)
        b = a + 1
        c = torch.cat([a, b])
        """,
        avoids=("cat",),
    )
    assert message is not None
    assert "`torch.cat` is used on lines 3 and 5" in message
    assert "without `cat`" in message


def test_avoids_passes_when_absent():
    assert problem("y = x.sum()\n", avoids=("torch.cat",)) is None


def test_the_matmul_operator_counts_as_matmul():
    assert problem("y = a @ b\n", uses=("matmul",)) is None
    message = problem("y = a @ b\n", avoids=("matmul",))
    assert message is not None and "`@` is used on line 1" in message
    assert "`@` is used on line 2" in problem("y = a\ny @= b\n", avoids=("matmul",))


def test_no_loops_reports_loops_and_comprehensions_with_lines():
    message = problem(
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
    assert message is not None
    assert "A for loop, a list comprehension and a while loop on lines 3, 5 and 6" in message
    assert "whole tensors" in message


def test_no_loops_passes_for_vectorised_code():
    assert problem("y = (x * w).sum(dim=1) + b\n", no_loops=True) is None


def test_all_rules_are_reported_together():
    message = problem("y = [torch.cat(p) for p in parts]\n", uses=("stack",),
                      avoids=("cat",), no_loops=True)
    assert message is not None
    assert len(message.splitlines()) == 3


def test_a_syntax_error_fails_with_its_line():
    message = problem("x = (\n", no_loops=True)
    assert message is not None
    assert "syntax error on line 1" in message


def test_made_from_follows_values_through_variables():
    rules = {"made_from": {"x": ("device",)}}
    for good in ("x = torch.ones(2, 3, device=device)\n",
                 "x = torch.ones(2, 3).to(device)\n",
                 "x = torch.ones(2, 3)\nx = x.to(device)\n",
                 "d = device\ny = torch.ones(2, 3, device=d)\nx = y\n",
                 "x: torch.Tensor = torch.ones(2, 3, device=device)\n"):
        assert problem(good, **rules) is None, good


def test_made_from_names_what_is_missing():
    message = problem("print(device)\nx = torch.ones(2, 3)\n", made_from={"x": ("device",)})
    assert message == "`x` is computed without `device`: use it where you create `x`."
    message = problem("x = torch.ones(2)\n", made_from={"x": ("device", "dtype")})
    assert message == ("`x` is computed without `device` and `dtype`: use them where you "
                       "create `x`.")


def test_made_from_explains_a_to_call_whose_copy_is_dropped():
    message = problem("x = torch.ones(2, 3)\nx.to(device)\n", made_from={"x": ("device",)})
    assert message == ("Line 2: `x.to(...)` returns a moved copy and leaves `x` where "
                       "it was: keep the copy, `x = x.to(device)`.")


def test_made_from_asks_for_a_missing_variable():
    message = problem("y = torch.ones(2, device=device)\n", made_from={"x": ("device",)})
    assert message is not None and "does not assign `x`" in message


def test_find_calls_resolves_imports_in_source_order():
    tree = ast.parse("import torch as th\nfrom torch.nn import functional as F\n"
                     "y = F.relu(th.ones(2))\nz = y @ y\n")
    calls = [(call.line, call.text, ".".join(call.resolved)) for call in find_calls(tree)]
    assert calls == [(3, "F.relu", "torch.nn.functional.relu"), (3, "th.ones", "torch.ones"),
                     (4, "@", "matmul")]


def test_made_from_maps_each_variable_to_the_names_it_reads():
    tree = ast.parse("a, b = f(x), y\nc = a\nc += z\nif (d := b + 1):\n    pass\n")
    assert made_from(tree) == {"a": {"f", "x", "y"}, "b": {"f", "x", "y"}, "c": {"a", "z", "c"},
                               "d": {"b"}}


def test_calls_counts_how_often_a_function_is_called():
    once = "def conv_out(w):\n    return w // 2\nsizes = [conv_out(28)]\n"
    assert problem(once, calls={"conv_out": 4}) == (
        "Your code calls `conv_out(...)` 1 time (on line 3): this step asks for at least 4 "
        "calls.")
    four = "sizes = [conv_out(28), conv_out(24), conv_out(12), conv_out(8)]\n"
    assert problem(four, calls={"conv_out": 4}) is None


def test_a_missing_matmul_is_asked_for_as_the_operator():
    assert problem("y = torch.mm(W, x)\n", uses=("matmul",)) == (
        "Your code does not use `@`: this step asks you to multiply the matrices with `@` (or "
        "torch.matmul).")


def test_order_names_the_first_pair_that_comes_the_wrong_way_round():
    loop = ("for images, labels in loader:\n    loss = F.cross_entropy(net(images), labels)\n"
            "    loss.backward()\n    optimizer.zero_grad()\n    optimizer.step()\n")
    assert problem(loop, order=("zero_grad", "backward", "step")) == (
        "Line 3 calls `loss.backward` before line 4 calls `optimizer.zero_grad`: this step "
        "needs `zero_grad` then `backward` then `step`, in that order (`zero_grad` first).")
    right = loop.replace("    loss.backward()\n    optimizer.zero_grad()\n",
                         "    optimizer.zero_grad()\n    loss.backward()\n")
    assert problem(right, order=("zero_grad", "backward", "step")) is None
