"""Feedback on decoded values: every kind of difference, and the fix each message suggests."""

from __future__ import annotations

import numpy as np
import pytest

from tutor.core.feedback import (
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
def test_a_broadcast_result_is_called_out(expected):
    message = diff(zeros(3, 3), zeros(*expected))
    assert "A broadcast silently changed the shape" in message


def test_reduction_over_the_wrong_axis():
    message = diff(zeros(4), zeros(3))
    assert "axis 0: got 4, expected 3" in message
    assert "you may have reduced over the wrong axis: dim=0 vs dim=1" in message
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
    assert "Python ints make int64 tensors" in message
    assert ".float()" in message


def test_float64_from_numpy():
    message = diff(zeros(3, dtype="float64"), zeros(3))
    assert "float64 comes from numpy arrays" in message and ".double()" in message
    assert "torch.from_numpy" in message


def test_torch_Tensor_makes_float32():
    message = dtype_problem("float32", "int64", what="`labels`")
    assert message is not None
    assert "torch.Tensor(...) always makes float32" in message
    assert ".long()" in message


def test_bool_from_a_comparison():
    message = dtype_problem("bool", "float32")
    assert message is not None
    assert "comparisons" in message


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
    assert message.startswith("item 2: `x[2]` is 5, expected 4")


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


def test_opaque_value_says_what_it_is():
    message = diff(Opaque("generator", "<generator object <genexpr>>"), zeros(3, 4))
    assert message.startswith("`x` is a generator (<generator object <genexpr>>)")
    assert "expected a float32 tensor of shape [3, 4]" in message


def test_none_suggests_a_missing_return():
    assert "forget to `return`" in diff(None, zeros(3))


def test_tensor_where_a_number_is_expected_suggests_item():
    assert ".item()" in diff(tensor(0.5, "float32"), 0.5)
    assert "4 elements" in diff(zeros(4), 0.5)


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
    assert "batch size" in batch and "reduction" not in batch
    reduced = describe_difference(zeros(4), zeros(3), what="`s`")
    assert "dim=0 vs dim=1" in reduced  # [3, 4] summed over the wrong axis
