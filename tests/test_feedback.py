"""Feedback on decoded values: every kind of difference, and the fix each message suggests."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.core.feedback import (
    Clues,
    describe,
    describe_difference,
    device_problem,
    devices_match,
    dtype_problem,
    format_number,
    shape_problem,
)
from tutor.core.values import MISSING, ErrorInfo, Frame, Module, Opaque, Raised, Tensor


def tensor(values, dtype: str | None = None, **fields) -> Tensor:
    data = np.asarray(values, dtype=dtype)
    return Tensor(dtype=str(data.dtype), shape=data.shape, data=data, **fields)


def zeros(*shape: int, dtype: str = "float32", **fields) -> Tensor:
    return tensor(np.zeros(shape, dtype=dtype), **fields)


def diff(got, expected, **options) -> str:
    message = describe_difference(got, expected, **options)
    assert message is not None, "expected a difference"
    return message


# --------------------------------------------------------------------------- equal values


def test_equal_tensors_match():
    assert describe_difference(zeros(2, 3), zeros(2, 3)) is None


def test_values_within_tolerance_match_and_just_outside_do_not():
    base = tensor([1.0, 2.0], "float32")
    assert describe_difference(tensor([1.0, 2.0005], "float32"), base, rtol=0, atol=1e-3) is None
    assert describe_difference(tensor([1.0, 2.002], "float32"), base, rtol=0, atol=1e-3)


def test_float16_honours_the_tolerance():
    got, expected = tensor([1.0], "float16"), tensor([1.0009765625], "float16")
    assert describe_difference(got, expected, rtol=0, atol=1e-3) is None
    assert describe_difference(got, expected, rtol=0, atol=1e-4)


def test_requires_grad_and_grad_are_not_compared():
    got = zeros(3, requires_grad=True, is_leaf=False, grad=zeros(3))
    assert describe_difference(got, zeros(3)) is None


def test_meta_tensors_compare_by_shape_dtype_and_device():
    meta = Tensor(dtype="float32", shape=(2, 3), device="meta")
    assert describe_difference(meta, Tensor(dtype="float32", shape=(2, 3), device="meta")) is None
    assert "axis 1" in diff(meta, Tensor(dtype="float32", shape=(2, 4), device="meta"))


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("got", "expected"),
    [(6, [6]), (6, [[6]]), ([6], 6), ([6], [[6]]), ([[6]], 6), ([[6]], [6])],
)
def test_broadcastable_shapes_never_count_as_equal(got, expected):
    """Tensor-Puzzles accepted tensor(6), tensor([6]) and tensor([[6]]) for one another."""
    message = diff(tensor(got, "int64"), tensor(expected, "int64"))
    assert "has shape" in message
    assert "axis" in message


def test_missing_batch_axis_suggests_unsqueeze_with_axis_name():
    message = diff(zeros(3, 28, 28), zeros(1, 3, 28, 28), axes=("B", "C", "H", "W"))
    assert "shape [3, 28, 28], expected [1, 3, 28, 28]" in message
    assert "Add the missing axis 0 (B)" in message
    assert "`.unsqueeze(0)`" in message


def test_extra_axis_of_size_one_suggests_squeeze():
    message = diff(zeros(4, 1, 5), zeros(4, 5))
    assert "Remove the extra axis 1 (size 1)" in message
    assert "`.squeeze(1)`" in message


def test_several_extra_axes_squeeze_from_the_last():
    assert "`.squeeze(1).squeeze(0)`" in diff(tensor([[6]], "int64"), tensor(6, "int64"))


def test_named_axis_that_differs_is_reported():
    message = diff(zeros(2, 3, 5), zeros(2, 1, 5), axes=("B", "C", "L"))
    assert "axis 1 (C): got 3, expected 1" in message


def test_swapped_axes_in_2d_suggest_transpose():
    message = diff(zeros(4, 3), zeros(3, 4))
    assert "axis 0: got 4, expected 3; axis 1: got 3, expected 4" in message
    assert "`.T`" in message
    assert "not .reshape/.view" in message


def test_two_swapped_axes_suggest_transpose_with_both_axes():
    message = diff(zeros(2, 3, 4), zeros(2, 4, 3))
    assert "`.transpose(1, 2)`" in message
    assert "`.permute(0, 2, 1)`" in message


def test_channels_last_suggests_the_exact_permutation():
    message = diff(zeros(2, 28, 28, 3), zeros(2, 3, 28, 28), axes=("B", "C", "H", "W"))
    assert "`.permute(0, 3, 1, 2)`" in message
    assert "axis 1 (C): got 28, expected 3" in message


@pytest.mark.parametrize("expected", [(3,), (3, 1), (1, 3)])
def test_a_broadcast_shape_is_asked_about_when_the_values_cannot_tell(expected):
    message = diff(zeros(3, 3), zeros(*expected))
    assert "Did a broadcast change the shape?" in message


@pytest.mark.parametrize("expected", [(3,), (3, 1), (1, 3)])
def test_a_broadcast_result_is_named_when_the_values_prove_it(expected):
    values = np.arange(1.0, 1.0 + np.prod(expected), dtype="float32").reshape(expected)
    stretched = np.broadcast_to(values, (3, 3)).copy()
    message = diff(tensor(stretched), tensor(values))
    assert "Your values repeat the expected ones" in message and "a broadcast" in message


def test_reduction_over_the_wrong_axis_is_asked_not_stated():
    message = diff(zeros(4), zeros(3))
    assert "axis 0: got 4, expected 3" in message
    assert "did you reduce over the wrong axis? dim=0 vs dim=1" in message
    assert "input of shape [3, 4]" in message


def test_same_number_of_elements_suggests_reshape():
    message = diff(zeros(2, 6), zeros(3, 4))
    assert "`.reshape(3, 4)`" in message
    assert "(12)" in message


def test_a_lost_axis_mentions_reductions_and_integer_indexing():
    message = diff(tensor(6.0, "float32"), zeros(3))
    assert "It lacks axis 0 (size 3)" in message
    assert "indexing with a single integer" in message


def test_an_extra_axis_to_reduce():
    message = diff(zeros(2, 3, 4), zeros(2, 4))
    assert "It has an extra axis 1 (size 3)" in message
    assert ".sum(dim=1)" in message


RNG = np.random.default_rng(0)


def informative(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape).astype("float32")


def test_a_missing_reduction_is_named_with_the_one_that_gives_the_expected_values():
    x = informative(2, 3, 4)
    message = diff(tensor(x), tensor(x.mean(axis=1)))
    assert "It still has axis 1 (size 3): the expected values are its mean over that axis: " \
           "add `.mean(dim=1)`." in message


def test_one_reduction_too_many_is_named():
    x = informative(3, 4)
    message = diff(tensor(x.sum(axis=0)), tensor(x))
    assert "Your values are the expected ones after a sum over axis 0" in message


def test_an_integer_index_that_dropped_an_axis_is_named():
    x = informative(5, 3)
    message = diff(tensor(x[2]), tensor(x))
    assert "at index 2 of axis 0: indexing with a single integer removed that axis" in message


def test_one_batch_instead_of_all_is_named_only_when_the_values_are_a_prefix():
    x = informative(100, 10)
    message = diff(tensor(x[:64]), tensor(x), axes=("B", "F"))
    assert "Your values are the first 64 of the 100 expected ones along axis 0 (B)" in message
    other = diff(tensor(informative(64, 10)), tensor(x), axes=("B", "F"))
    assert "first 64" not in other and "usually the batch" in other


def test_transposed_values_get_the_transpose_only_when_it_gives_them():
    x = informative(2, 3)
    assert "use `.T`" in diff(tensor(x.T), tensor(x))
    scrambled = diff(tensor(x.reshape(3, 2)), tensor(x))
    assert ".T" not in scrambled
    assert "`.reshape(2, 3)` gives the right shape" not in scrambled
    assert "It has the right number of elements (6) in a different shape" in scrambled
    neither = diff(tensor(informative(3, 2)), tensor(x))
    assert "`.T`" not in neither and "not the expected values" in neither


def test_squeeze_and_unsqueeze_are_proven_on_the_values():
    x = informative(3, 4)
    assert "`.squeeze(0)`" in diff(tensor(x[None]), tensor(x))
    assert "`.unsqueeze(0)`" in diff(tensor(x), tensor(x[None]))
    wrong = diff(tensor(informative(1, 3, 4)), tensor(x))
    assert "Removing axis 0 (size 1) gives the right shape, though the values would still " \
           "differ" in wrong


# --------------------------------------------------------------------------- value relations


@pytest.mark.parametrize(("got", "says"), [
    (lambda x: x * 28, "did you sum where a mean was wanted"),
    (lambda x: x / 4, "did you take a mean where a sum was wanted"),
    (lambda x: x * 255, "divide by 255"),
    (lambda x: -x, "opposite sign"),
    (lambda x: x + 1, "1.0 more than the expected one: an index or a count off by one?"),
    (lambda x: np.zeros_like(x), "Every value is 0"),
])
def test_a_constant_relation_is_named(got, says):
    x = np.abs(informative(4, 5)) + 0.1
    assert says in diff(tensor(got(x).astype("float32")), tensor(x))


def test_a_std_with_the_other_denominator_is_named_from_the_code():
    data = informative(10, 6)
    population, sample = data.std(axis=0), data.std(axis=0, ddof=1)
    torch_default = Clues("s = x.std(dim=0)\n")
    message = diff(tensor(sample), tensor(population), clues=torch_default)
    assert "your std/var divides by n - 1 = 9" in message and "pass unbiased=False" in message
    with_population = Clues("s = x.std(dim=0, unbiased=False)\n")
    assert "drop unbiased=False" in diff(tensor(population), tensor(sample),
                                         clues=with_population)


def test_a_std_in_a_denominator_turns_the_factor_over_and_the_code_still_decides():
    x = informative(10, 6)
    standardised = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)  # the expected: torch's default
    mine = (x - x.mean(axis=0)) / x.std(axis=0)  # unbiased=False: divides by n
    message = diff(tensor(mine.astype("float32")), tensor(standardised.astype("float32")),
                   clues=Clues("y = (x - x.mean(dim=0)) / x.std(dim=0, unbiased=False)\n"))
    assert "drop unbiased=False" in message and "pass unbiased=False" not in message


def test_a_std_ratio_without_a_std_in_the_code_is_asked():
    data = informative(10, 6)
    message = diff(tensor(data.std(axis=0, ddof=1)), tensor(data.std(axis=0)))
    assert "is yours the other one" in message


def test_logits_softmax_and_logs_are_told_apart():
    logits = informative(4, 10)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert "raw scores: the expected ones are their softmax over dim=1" in diff(
        tensor(logits), tensor(probs.astype("float32")))
    assert "the logs of the expected ones" in diff(tensor(np.log(probs).astype("float32")),
                                                   tensor(probs.astype("float32")))


def test_reordered_values_name_the_reordering():
    x = informative(4, 4)
    assert "transposed" in diff(tensor(x.T.copy()), tensor(x))
    assert "reverse order along axis 1" in diff(tensor(x[:, ::-1].copy()), tensor(x))
    y = informative(6)
    assert "shifted by 1" in diff(tensor(np.roll(y, 1)), tensor(y))
    assert "in a different order" in diff(tensor(y[[1, 0, 3, 2, 5, 4]]), tensor(y))


def test_an_off_by_one_slice_is_named():
    y = informative(12)
    got = np.concatenate([y[1:], [5.0]]).astype("float32")
    assert "the expected one of the next position along axis 0" in diff(tensor(got), tensor(y))


def test_an_unrelated_difference_names_no_cause():
    message = diff(tensor(informative(4, 5)), tensor(informative(4, 5)))
    assert message.endswith("× |expected|).")  # the facts, and nothing guessed after them


def test_shape_pattern_with_wildcards():
    assert shape_problem((7, 10), (None, 10)) is None
    message = shape_problem((1, 28, 28), (None, 1, 28, 28), axes=("B", "C", "H", "W"))
    assert message is not None
    assert "expected [any, 1, 28, 28]" in message
    assert "`.unsqueeze(0)`" in message
    wrong = shape_problem((8, 12), (None, 10), axes=("B", "F"), what="`h`")
    assert wrong is not None
    assert wrong.startswith("`h` has shape [8, 12]")
    assert "axis 1 (F): got 12, expected 10" in wrong


# --------------------------------------------------------------------------- dtype, device


def test_int64_where_float32_is_expected():
    message = diff(zeros(3, dtype="int64"), zeros(3))
    assert "dtype int64, expected float32" in message
    assert "Python ints like 1 rather than 1.0" in message
    assert ".float()" in message


def test_float64_names_the_numpy_conversion_only_when_the_code_makes_one():
    message = diff(zeros(3, dtype="float64"), zeros(3))
    assert "float64 is numpy's default" in message and ".double()" in message
    seen = dtype_problem("float64", "float32",
                         clues=Clues("import numpy as np\nt = torch.from_numpy(a)\n"))
    assert seen is not None and "your code converts a numpy array" in seen
    doubled = dtype_problem("float64", "float32", clues=Clues("t = x.double()\n"))
    assert doubled is not None and "your code calls .double()" in doubled


def test_torch_Tensor_is_named_only_when_the_code_calls_it():
    called = dtype_problem("float32", "int64", what="`labels`",
                           clues=Clues("import torch\nlabels = torch.Tensor([1, 2])\n"))
    assert called is not None
    assert "your code calls torch.Tensor(...), which always makes float32" in called
    assert ".long()" in called
    other = dtype_problem("float32", "int64", what="`labels`",
                          clues=Clues("labels = torch.tensor([1., 2.])\n"))
    assert other is not None and "torch.Tensor" not in other and ".long()" in other


def test_bool_from_a_comparison():
    message = dtype_problem("bool", "float32")
    assert message is not None
    assert "a comparison (==, <, >) gives a bool tensor" in message


def test_numpy_arrays_convert_with_astype():
    message = diff(zeros(3, dtype="float64", kind="ndarray"), zeros(3, kind="ndarray"))
    assert ".astype(np.float32)" in message


def test_cpu_where_cuda_is_expected():
    message = diff(zeros(3), zeros(3, device="cuda:0"))
    assert "is on cpu, expected cuda:0" in message
    assert ".to(device)" in message


def test_cuda_where_cpu_is_expected():
    message = device_problem("cuda:0", "cpu")
    assert message is not None
    assert ".cpu()" in message


def test_cuda_matches_cuda_zero():
    assert devices_match("cuda:0", "cuda")
    assert devices_match("cuda", "cuda:0")
    assert not devices_match("cuda:1", "cuda:0")
    assert not devices_match("cpu", "cuda")


def test_shape_is_reported_before_dtype_and_dtype_before_device():
    message = diff(zeros(2, dtype="int64"), zeros(3, device="cuda:0"))
    assert "has shape" in message
    assert "dtype" not in message
    message = diff(zeros(3, dtype="int64"), zeros(3, device="cuda:0"))
    assert "dtype int64" in message
    assert "cuda" not in message


# --------------------------------------------------------------------------- values


def test_value_mismatch_reports_count_first_index_error_and_tolerance():
    got = tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32")
    expected = tensor([[1.0, 2.0, 3.0], [4.0, 5.5, 9.0]], "float32")
    message = diff(got, expected, rtol=1e-5, atol=1e-8)
    assert "2 of its 6 values are wrong" in message
    assert "First at index [1, 1]: got 5.0, expected 5.5" in message
    assert "Largest difference 3.0" in message
    assert "tolerance 1e-08 + 1e-05" in message


def test_nan_is_reported_before_closeness():
    got = tensor([[1.0, 2.0, 3.0], [4.0, 0.0, np.nan]], "float32")
    expected = tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32")
    message = diff(got, expected)
    assert "contains NaN at index [1, 2]" in message
    assert "values are wrong" not in message
    assert "0/0" in message


def test_nan_where_nan_is_expected_is_fine():
    values = tensor([1.0, np.nan], "float32")
    assert describe_difference(values, tensor([1.0, np.nan], "float32")) is None


def test_inf_is_reported():
    message = diff(tensor([1.0, np.inf], "float32"), tensor([1.0, 2.0], "float32"))
    assert "contains inf at index [1]" in message


def test_scalar_tensor_value():
    message = diff(tensor(0.25, "float32"), tensor(0.5, "float32"))
    assert message.startswith("`x` is 0.25, expected 0.5")


def test_integers_are_compared_exactly():
    got = tensor([1_000_000, 7], "int64")
    message = diff(got, tensor([1_000_001, 7], "int64"), rtol=1e-3)
    assert "First at index [0]: got 1000000, expected 1000001" in message
    assert "compared exactly" in message


def test_booleans_are_compared_exactly():
    message = diff(tensor([True, False], "bool"), tensor([True, True], "bool"))
    assert "First at index [1]: got False, expected True" in message


def test_right_values_in_the_wrong_order():
    values = np.arange(6, dtype="float32")
    message = diff(tensor(values.reshape(2, 3)), tensor(values.reshape(3, 2).T.copy()))
    assert "The values are all there but in a different order" in message


def test_numpy_array_where_a_tensor_is_expected():
    message = diff(zeros(3, kind="ndarray"), zeros(3))
    assert "a float32 numpy array of shape [3], expected a float32 tensor" in message
    assert "torch.from_numpy" in message


# --------------------------------------------------------------------------- plain values


def test_int_where_float_is_expected_is_fine_but_float_where_int_is_not():
    assert describe_difference(3, 3.0) is None
    message = diff(3.0, 3)
    assert "the float 3.0, expected the int 3" in message
    assert "int(...)" in message


def test_bool_is_not_an_int():
    assert "the bool True, expected the int 1" in diff(True, 1)


def test_floats_use_the_tolerance():
    assert describe_difference(0.1 + 0.2, 0.3) is None
    message = diff(0.31, 0.3)
    assert "`x` is 0.31, expected 0.3" in message


def test_nan_float():
    assert "is NaN" in diff(float("nan"), 1.0)


def test_strings_are_exact():
    message = diff("hello wrld", "hello world")
    assert "'hello wrld', expected 'hello world'" in message
    assert "character 7" in message


def test_lists_compare_length_then_items():
    assert "has 2 items, expected 3" in diff([1, 2], [1, 2, 3])
    message = diff([1, 2, 5], [1, 2, 4])
    assert message == "`x` is [1, 2, 5], expected [1, 2, 4] (item 2 differs)."
    counts = diff([2, 4, 6], [1, 2, 3])
    assert "Every value is 2 times the expected one." in counts and "mean" not in counts
    assert "item 1: `x[1]`" in diff([1, "a"], [1, "b"])  # not all numbers: item by item


def test_a_list_where_a_tuple_is_expected_is_fine():
    assert describe_difference([1, 2.0], (1, 2.0)) is None
    assert "item 1" in diff([1, 3.0], (1, 2.0))


def test_tensor_inside_a_list_names_its_item():
    message = diff([zeros(2), zeros(3)], [zeros(2), zeros(1, 3)], what="`parts`")
    assert message.startswith("item 1: `parts[1]` has shape [3]")


def test_dicts_report_missing_and_extra_keys_then_values():
    assert "missing the key 'lr'" in diff({"epochs": 3}, {"epochs": 3, "lr": 0.1})
    assert "unexpected key 'mom'" in diff({"lr": 0.1, "mom": 0.9}, {"lr": 0.1})
    assert "`x['lr']` is 0.2, expected 0.1" in diff({"lr": 0.2}, {"lr": 0.1})


def test_missing_value():
    assert diff(MISSING, zeros(3)) == "`x` is not defined: did you remove or rename it?"


def test_raised_value_shows_the_traceback():
    error = ErrorInfo("ValueError", "bad input", [Frame(4, "f", "raise X")])
    message = diff(Raised(error), 1, what="`f(...)`")
    assert "line 4, in f" in message
    assert "ValueError: bad input" in message


def test_opaque_value_says_what_it_is_without_a_memory_address():
    message = diff(Opaque("generator", "<generator object <genexpr> at 0x7f3a2b>"), zeros(3, 4))
    assert message.startswith("`x` is a generator, expected a float32 tensor of shape [3, 4]")
    assert "0x" not in message
    loader = Opaque("DataLoader", "<torch.utils.data.DataLoader object at 0x7f>", 1000,
                    {"length": 1000, "batch_size": 64})
    assert describe(loader) == "a DataLoader over 1,000 items in batches of 64"
    assert describe(Opaque("FashionMNIST", "<Dataset>", 60000)) == \
        "a FashionMNIST of 60,000 items"
    assert describe([zeros(1, 28, 28)] * 4) == "a list of 4 float32 tensors of shape [1, 28, 28]"
    assert "0x" not in describe(Opaque("Network", "<__main__.Network object at 0x7f3>"))


def test_none_suggests_a_missing_return():
    assert "forget to `return`" in diff(None, zeros(3))


def test_a_one_element_tensor_where_a_number_is_expected():
    assert describe_difference(tensor(0.5, "float32"), 0.5) is None  # its value decides
    assert "is 0.25, expected 0.5" in diff(tensor(0.25, "float32"), 0.5)
    strict = diff(tensor(0.5, "float32"), 0.5, exact_types=True)
    assert "a one-element tensor holding 0.5" in strict and ".item()" in strict
    assert "4 elements" in diff(zeros(4), 0.5)
    assert ".item()" in diff(zeros(4), 0.5)


def test_list_where_a_tensor_is_expected_suggests_torch_tensor():
    assert "torch.tensor(...)" in diff([1.0, 2.0], zeros(2))


def test_modules_compare_type_and_parameters():
    linear = Module("Linear", 12, 12, [], [("weight", (3, 4))], True)
    assert describe_difference(linear, linear) is None
    conv = Module("Conv2d", 12, 12, [], [("weight", (3, 4))], True)
    assert "a Conv2d module, expected a Linear" in diff(conv, linear)
    wide = Module("Linear", 12, 12, [], [("weight", (4, 3))], True)
    assert "weight [4, 3]" in diff(wide, linear)


def test_describe_and_numbers():
    assert describe(zeros(3, 4)) == "a float32 tensor of shape [3, 4]"
    assert describe(zeros(2, device="cuda:0")) == "a float32 tensor of shape [2] on cuda:0"
    assert format_number(2.0) == "2.0"
    assert format_number(np.float32(0.25)) == "0.25"


def test_the_untouched_starter_placeholder_is_named_as_such():
    message = describe_difference(Opaque("ellipsis", "Ellipsis"),
                                  Tensor("float32", (2, 3), data=np.zeros((2, 3), "float32")),
                                  what="`t`")
    assert message == ("`t` is still `...`, the starter's placeholder: replace it with a "
                       "float32 tensor of shape [2, 3].")


def test_wording_for_learners():
    assert "an int64 tensor" in describe_difference(zeros(3, dtype="int64"), [1, 2, 3],
                                                    what="`x`")
    assert describe_difference(Opaque("ellipsis", "Ellipsis"), False, what="`gpu`") == (
        "`gpu` is still `...`, the starter's placeholder: replace it with a bool.")
    forgot = describe_difference(Opaque("builtin_function_or_method", "<built-in method size>"),
                                 (2, 3), what="`shape`")
    assert "forget the parentheses" in forgot
    batch = describe_difference(zeros(32, 1, 28, 28), zeros(64, 1, 28, 28), what="`images`")
    assert "usually the batch" in batch and "reduction" not in batch
    reduced = describe_difference(zeros(4), zeros(3), what="`s`")
    assert "dim=0 vs dim=1" in reduced  # [3, 4] summed over the wrong axis


# --------------------------------------------------------------------------- one number


@pytest.mark.parametrize(("got", "expected", "fragment"), [
    (0.06, 0.02, "It is 3 times the expected one: did you sum where a mean was wanted"),
    (46.6667, 0.466667, "It is 100 times the expected value: a percentage"),
    (21.1, 0.0211, "It is 1000 times the expected value: milliseconds"),
    (0.04, 0.2, "(1/5): did you take a mean where a sum was wanted"),
    (-0.5, 0.5, "It has the opposite sign"),
    (0.16, 0.4, "It is the square of the expected value"),
    (5, 4, "It is 1 more than expected: an index or a count off by one?"),
    (1500.0002, 15.0, "It is 100 times"),  # float32 drift in a sum of 100 means
])
def test_a_number_names_a_telling_relation_to_the_expected_one(got, expected, fragment):
    assert fragment in diff(got, expected, rtol=1e-4)


@pytest.mark.parametrize(("got", "expected"), [(3.3, 3.1), (0.0412, 0.2029), (17, 4)])
def test_an_arbitrary_ratio_between_two_numbers_is_not_called_a_cause(got, expected):
    message = diff(got, expected, rtol=1e-4)
    assert "times" not in message and "It " not in message


def test_a_std_denominator_is_only_named_for_code_that_takes_a_std():
    no_std = Clues(source="x = t.sum() / 2\n")
    tensors = diff(tensor([1.0, 2.0, 3.0]) , tensor([1.5, 3.0, 4.5]), clues=no_std)
    assert "n - 1" not in tensors
    with_std = Clues(source="s = t.std(unbiased=False)\n")
    n = 10
    ratio = (n / (n - 1)) ** 0.5
    assert "divides by n = 10" in diff(1.0, ratio, clues=with_std)


def test_a_float_where_an_int_is_wanted_gets_int_only_when_it_is_a_whole_number():
    assert "use int(...)" in diff(9.0, 9)
    assert "int(" not in diff(0.11, 7)
    assert "round(" not in diff(9.0, 9)


# --------------------------------------------------------------------------- relations


def test_a_scale_and_shift_is_named_as_another_mean_and_std():
    x = np.linspace(0, 1, 12, dtype="float32").reshape(3, 4)
    mine, theirs = (x - 0.35) / 0.28, (x - 0.28) / 0.35
    assert "another scale and shift" in diff(tensor(mine), tensor(theirs))


def test_a_relu_too_many_and_a_missing_relu_are_named():
    e = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype="float32")
    assert "every negative value set to 0: a relu" in diff(tensor(np.maximum(e, 0)), tensor(e))
    assert "a relu is missing" in diff(tensor(e), tensor(np.maximum(e, 0)))


def test_the_same_vector_added_to_every_row_is_named_as_a_bias():
    e = np.arange(12, dtype="float32").reshape(3, 4)
    assert "same vector" in diff(tensor(e + np.array([1, 2, 3, 4], "float32")), tensor(e))


def test_a_softmax_over_an_axis_of_size_one_is_named_with_the_right_dim():
    e = np.exp(np.arange(10, dtype="float64")).reshape(1, 10)
    e = (e / e.sum()).astype("float32")
    message = diff(tensor(np.ones((1, 10), "float32")), tensor(e))
    assert "softmax over axis 0, of size 1" in message and "use dim=1" in message
    assert "softmax over dim=0 of the expected" not in message


# --------------------------------------------------------------------------- containers


def test_a_pair_kept_whole_points_at_the_item_that_is_expected():
    image = zeros(1, 28, 28)
    message = diff((image, 9), image)
    assert "Its item 0 is the expected value" in message
    assert "torch.tensor" not in message


def test_a_list_of_tensors_gets_the_join_that_gives_the_expected_shape():
    parts = [zeros(3, 4), zeros(2, 4)]
    assert "`torch.cat(...)` joins the 2 tensors along their axis 0" in diff(parts, zeros(5, 4))
    same = [zeros(1, 28, 28)] * 4
    assert "`torch.stack(...)`" in diff(same, zeros(4, 1, 28, 28))
    assert "torch.cat" not in diff(same, zeros(4, 1, 28, 28))


def test_a_reduction_is_asked_about_only_when_the_code_reduces():
    no_reduction = Clues(source="t = torch.arange(2, 8, 2)\n")
    assert "reduction" not in diff(zeros(3), zeros(4), clues=no_reduction)
    assert "reduction" in diff(zeros(3), zeros(4))  # unknown code may reduce


def test_counts_get_their_factor_without_a_question_about_means():
    message = diff(64, 4)
    assert "It is 16 times the expected one." in message and "mean" not in message
    assert "It is 1/2 of the expected one." in diff(4, 8)
    assert "times" not in diff(7, 4)


def test_a_loose_absolute_tolerance_does_not_make_small_numbers_related():
    # timings: 0.1 s against 0.02 s with atol 0.012 - 0.1 squared is "close" to 0.02 only
    # absolutely; relations are tested relative to the numbers
    message = diff(0.100205, 0.0200365, atol=0.012, rtol=0.0)
    assert "square" not in message
    assert "It is 5 times" in diff(0.100205, 0.0200365, atol=0.012, rtol=0.05)


def test_columns_joined_end_to_end_get_stack_with_dim_1():
    t, p = np.arange(5, dtype="int64"), np.arange(5, dtype="int64") * 10
    message = diff(tensor(np.concatenate([t, p])), tensor(np.stack([t, p], 1)))
    assert "`torch.stack((...), dim=1)` pairs them up into the expected [5, 2]" in message


def test_values_read_a_few_positions_off_in_the_flat_data_are_named():
    data = np.random.default_rng(2).integers(1, 255, 40).astype("uint8")
    late = np.concatenate([np.zeros(4, "uint8"), data[:-4]])
    assert "shifted by 4 positions in the flat data" in diff(tensor(late), tensor(data))


def test_each_column_scaled_by_its_own_numbers_asks_for_a_dim():
    x = np.random.default_rng(1).random((6, 4))
    mine, theirs = (x - x.mean()) / x.std(), (x - x.mean(0)) / x.std(0)
    message = diff(tensor(mine.astype("float32")), tensor(theirs.astype("float32")))
    assert "Each column of yours is the expected column scaled and shifted" in message
    assert "(dim=0)" in message


def test_counts_that_add_up_to_another_total_say_so():
    mine, theirs = np.array([7, 3, 4, 1, 0]), np.array([29, 20, 21, 19, 20])
    assert "Your counts add up to 15, the expected ones to 109" in diff(tensor(mine),
                                                                       tensor(theirs))


def test_a_count_one_too_high_from_round_points_at_rounding_down():
    said = diff(4, 3, clues=Clues(source="def conv_out(w, f):\n    return round(w / f)\n"))
    assert "Your code calls `round()`" in said and "`//`" in said


def test_a_list_of_tensors_where_a_shape_is_asked_names_the_join_that_gives_it() -> None:
    from tutor.core.checks.expect import type_problem
    batches = [zeros(32, 10), zeros(32, 10),
               zeros(6, 10)]
    joined = type_problem("tensor", batches, "`all_preds`", (70, 10))
    assert "`torch.cat(...)` joins the 3 tensors along their axis 0" in joined
    assert "[70, 10]" in joined and "stack" not in joined
    images = [zeros(1, 28, 28)] * 4
    stacked = type_problem("tensor", images, "`batch`", (None, 1, 28, 28))
    assert "`torch.stack(...)` joins the 4 tensors along a new axis 0" in stacked
    # No join gives the shape: both are named as what they do, neither is claimed.
    neither = type_problem("tensor", images, "`batch`", (4, 3, 28, 28))
    assert "`torch.stack(...)` along a new axis, `torch.cat(...)` along an axis" in neither
    numbers = type_problem("tensor", [1, 2, 3], "`xs`")
    assert numbers.endswith(": wrap it with torch.tensor(...).")
