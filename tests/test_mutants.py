"""The mutation operators on small programs: the text of each mutant, and its stable id."""

from __future__ import annotations

import ast
from collections import Counter

from tutor.core.loader import load_course
from tutor.core.mutants import MAX_MUTANTS, Mutant, mutants, select
from tutor.core.session import bundled_course_dir


def variants(source: str, prints: bool = True) -> dict[str, str]:
    """Mutant id -> the mutant's whole source."""
    return {m.id: m.source for m in mutants(source, prints=prints)}


def test_axis_arguments_swap_and_reductions_lose_their_axis() -> None:
    found = variants("import torch\ny = x.sum(dim=1)\nz = torch.cat((a, b), 1)\n"
                     "p = torch.softmax(y, dim=-1)\nq = x.flatten(start_dim=1)\n")
    assert found["line 2: dim=1 -> dim=0"].splitlines()[1] == "y = x.sum(dim=0)"
    assert found["line 2: sum: drop dim=1"].splitlines()[1] == "y = x.sum()"
    assert found["line 3: cat: dim 1 -> 0"].splitlines()[2] == "z = torch.cat((a, b), 0)"
    assert found["line 4: dim=-1 -> dim=0"].splitlines()[3] == "p = torch.softmax(y, dim=0)"
    assert found["line 5: start_dim=1 -> start_dim=0"].endswith("x.flatten(start_dim=0)\n")
    assert "line 4: softmax: drop dim=-1" not in found  # softmax is no reduction


def test_related_functions_replace_the_right_one() -> None:
    found = variants("a = x.sum()\nb = x.argmax(dim=1)\nc = torch.stack(xs)\nd = w @ v\n"
                     "e = x.to(torch.float32)\n")
    assert found["line 1: sum -> mean"] == ("a = x.mean()\nb = x.argmax(dim=1)\nc = torch.stack(xs)"
                                            "\nd = w @ v\ne = x.to(torch.float32)\n")
    assert "b = x.max(dim=1)" in found["line 2: argmax -> max"]
    assert "c = torch.cat(xs)" in found["line 3: stack -> cat"]
    assert "d = w * v" in found["line 4: @ -> *"]
    assert "torch.float64" in found["line 5: float32 -> float64"]


def test_slices_indices_and_ranges_are_one_off() -> None:
    found = variants("a = x[1:5]\nb = x[:, 0]\nc = x[-1]\nfor i in range(10):\n    pass\n"
                     "for j in range(n, m):\n    pass\nd = x[: n]\n")
    assert "a = x[2:5]" in found["line 1: x[1:5] -> x[2:5]"]
    assert "a = x[1:4]" in found["line 1: x[1:5] -> x[1:4]"]
    assert "b = x[:, 1]" in found["line 2: x[:, 0] -> x[:, 1]"]
    assert "c = x[-2]" in found["line 3: x[-1] -> x[-2]"]
    assert "range(9)" in found["line 4: range(10) -> range(9)"]
    assert "range(1, 10)" in found["line 4: range(10) -> range(1, 10)"]
    assert "range(n + 1, m)" in found["line 6: range(n, m) -> range(n + 1, m)"]
    assert "range(n, m - 1)" in found["line 6: range(n, m) -> range(n, m - 1)"]
    assert "d = x[: n - 1]" in found["line 8: x[: n] -> x[: n - 1]"]


def test_arguments_and_operands_swap_but_symmetric_ones_do_not() -> None:
    found = variants("a = x.reshape(2, 3)\nb = torch.stack((p, q), dim=1)\nc = x - m\n"
                     "d = x.transpose(0, 1)\ne = (a + b) / c\n")
    assert "a = x.reshape(3, 2)" in found["line 1: reshape(2, 3) -> reshape(3, 2)"]
    assert "torch.stack((q, p), dim=1)" in found["line 2: stack: (p, q) -> (q, p)"]
    assert "c = m - x" in found["line 3: x - m -> m - x"]
    assert "e = c / (a + b)" in found["line 5: (a + b) / c -> c / (a + b)"]
    assert not any(i.startswith("line 4: transpose(") for i in found)


def test_forgotten_calls_returns_activations_and_blocks() -> None:
    source = ("def train(model, optimizer, loss):\n"
              "    optimizer.zero_grad()\n"
              "    loss.backward()\n"
              "    model.eval()\n"
              "    with torch.no_grad():\n"
              "        out = model(x).T\n"
              "    h = F.relu(self.fc1(x))\n"
              "    self.total += loss.item()\n"
              "    return out.to(device)\n")
    found = variants(source)
    zero = found["line 2: drop optimizer.zero_grad()"]
    assert zero.splitlines()[1] == "    pass" and zero.count("\n") == source.count("\n")
    assert "    pass\n" in found["line 4: drop model.eval()"]
    assert "    if True:\n        out = model(x).T\n" in found["line 5: drop with torch.no_grad()"]
    assert "out = model(x)\n" in found["line 6: drop .T"]
    assert "h = self.fc1(x)" in found["line 7: drop F.relu()"]
    assert "    pass\n    return" in found["line 8: drop self.total += loss.item()"]
    assert "self.total += loss\n" in found["line 8: drop .item()"]
    assert found["line 9: drop return"].endswith("    pass\n")
    assert found["line 9: drop .to(device)"].endswith("    return out\n")


def test_in_place_variants_change_the_callers_tensor() -> None:
    found = variants("def f(x, image):\n    x = x / 255\n    y = image.unsqueeze(0)\n"
                     "    x.add_(1)\n    return x - y\n")
    assert "    x /= 255\n" in found["line 2: x = x / 255 -> x /= 255"]
    assert "    x = x.div_(255)\n" in found["line 2: x / 255 -> x.div_(255)"]
    assert "image.unsqueeze_(0)" in found["line 3: unsqueeze -> unsqueeze_"]
    assert "    x.add(1)\n" in found["line 4: add_ -> add"]
    assert "return x.sub_(y)" in found["line 5: x - y -> x.sub_(y)"]


def test_constants_change_but_data_and_axes_are_left_alone() -> None:
    found = variants("opt = SGD(params, lr=0.1)\nn = 5\nflag = True\nt = x.reshape(-1, 4)\n"
                     "data = torch.tensor([1, 2, 3])\ny = x.sum(dim=1)\nz = 0.0\n")
    assert "lr=0.2" in found["line 1: 0.1 -> 0.2"]
    assert "n = 6" in found["line 2: 5 -> 6"]
    assert "flag = False" in found["line 3: True -> False"]
    assert "x.reshape(0, 4)" in found["line 4: -1 -> 0"]
    assert "z = 1.0" in found["line 7: 0.0 -> 1.0"]
    assert not any(i.startswith("line 5:") for i in found), "list literals are data"
    assert "line 6: 1 -> 2" not in found, "an axis is the axis operator's"


def test_each_mutant_changes_one_place_and_keeps_the_rest_verbatim() -> None:
    source = ("import torch  # the library\n"
              "s = 'é'; y = x.sum(dim=1)   # after a two-byte character\n"
              "\n"
              "z = y  # unchanged\n")
    found = mutants(source)
    assert found
    for mutant in found:
        ast.parse(mutant.source)
        original, changed = source.splitlines(), mutant.source.splitlines()
        assert len(changed) == len(original)
        differ = [i + 1 for i, (a, b) in enumerate(zip(original, changed, strict=True)) if a != b]
        assert differ == [mutant.line]
        assert (mutant.before, mutant.after) == (original[mutant.line - 1].strip(),
                                                 changed[mutant.line - 1].strip())
    assert "s = 'é'; y = x.sum(dim=0)   # after" in variants(source)["line 2: dim=1 -> dim=0"]


def test_no_mutant_is_the_original_a_duplicate_or_unparsable() -> None:
    source = "y = torch.cat((a, a), 0)\nz = x[0:1]\n"
    found = mutants(source)
    texts = [m.source for m in found]
    assert source not in texts and len(set(texts)) == len(texts)
    assert not any(m.id.startswith("line 1: cat: (a, a)") for m in found)
    assert mutants("def broken(:\n") == []


def test_ids_are_stable_unique_and_survive_edits_below_them() -> None:
    source = "y = x.reshape(10, 10)\nz = y.sum(dim=0)\n"
    first = [m.id for m in mutants(source)]
    assert first == [m.id for m in mutants(source)]
    assert len(set(first)) == len(first)
    assert "line 1: 10 -> 11" in first and "line 1: 10 -> 11 (2)" in first
    longer = [m.id for m in mutants(source + "w = z * 2\n")]
    assert set(first) <= set(longer)


def test_prints_and_f_strings_are_left_alone_when_output_is_not_checked() -> None:
    source = "y = x.sum(dim=1)\nprint(y.sum(dim=0))\nprint(f'{y.mean(dim=0)}')\n"
    quiet = variants(source, prints=False)
    assert quiet and all(i.startswith("line 1:") for i in quiet)
    loud = variants(source, prints=True)
    assert "line 2: drop print(y.sum(dim=0))" in loud
    assert not any(i.startswith("line 3:") for i in loud), "f-string positions are unreliable"


def test_select_caps_the_count_and_tries_every_operator() -> None:
    found = [Mutant(f"line {i}: {op} {i}", op, i, "", "", "") for op in ("axis", "drop", "constant")
             for i in range(1, 21)]
    chosen = select(found, limit=9)
    assert len(chosen) == 9
    assert Counter(m.operator for m in chosen) == {"axis": 3, "drop": 3, "constant": 3}
    assert chosen == sorted(chosen, key=found.index), "in the order they were generated"
    assert select(found[:5], limit=9) == found[:5]


def test_the_courses_mutants_stay_bounded() -> None:
    course = load_course(bundled_course_dir())
    for step in course.steps():
        solution = getattr(step, "solution", None)
        if solution is not None:
            assert len(select(mutants(solution))) <= MAX_MUTANTS
