"""Bad input fails early and says what went wrong: one test per case.

Each test feeds one kind of bad input and asserts an exception of a fitting type (a
`ShapeError`, itself a ``ValueError``, for shapes; ``TypeError`` for dtypes; ``IndexError``
for indices; ``KeyError`` for state-dict keys; ``RuntimeError`` for misuse of the engine)
whose message names the operation, the shapes, values or parameter involved, and what was
expected instead. Messages are checked by fragments, so rewording around them stays free.

The cases: broadcasting, matmul, reshape, concatenate and reduction axes; backward on a
non-scalar without a gradient, with a gradient of the wrong shape, through a freed graph
and from a tensor that does not require grad; requires_grad on integer and boolean
tensors; indices out of range, too many indices, a boolean mask of the wrong shape;
cross_entropy targets out of range, negative, of a float dtype or of the wrong shape;
load_state_dict with missing or unexpected keys, wrong shapes or dtypes; nn.load of a
missing file, a file that is not a checkpoint, pickles (never executed), object and string
arrays, a lone .npy and a zip of non-arrays.
"""

from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import ShapeError, Tensor
from nn import StateDictKeyError


def assert_says(info: pytest.ExceptionInfo, *fragments: str) -> None:
    """Every fragment appears in the exception's message."""
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} is missing from the message {message!r}"


def leaf(shape: tuple, dtype=np.float64) -> Tensor:
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=True)


# ───────────────────────────── shapes ─────────────────────────────

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "maximum": ag.maximum,
    "minimum": ag.minimum,
    "where": lambda a, b: ag.where(np.ones((2, 3), dtype=bool), a, b),
}


@pytest.mark.parametrize("op", BINARY)
def test_binary_ops_refuse_shapes_that_do_not_broadcast(op):
    with pytest.raises(ShapeError) as info:
        BINARY[op](leaf((2, 3)), leaf((4,)))
    assert isinstance(info.value, ValueError)
    assert_says(info, f"{op}: shapes (2, 3) and (4,) are not broadcastable")


@pytest.mark.parametrize(
    ("a", "b", "inner"),
    [((2, 3), (4, 5), "3 and 4"), ((3,), (4,), "3 and 4"), ((2, 3), (4,), "3 and 4"), ((5,), (2, 4, 3), "5 and 4")],
    ids=str,
)
def test_matmul_names_both_shapes_and_the_inner_dimensions(a, b, inner):
    with pytest.raises(ShapeError) as info:
        leaf(a) @ leaf(b)
    assert_says(info, f"matmul: cannot multiply shapes {a} and {b}", f"inner dimensions {inner} differ")


def test_matmul_names_batch_dimensions_that_do_not_broadcast():
    with pytest.raises(ShapeError) as info:
        leaf((2, 2, 3)) @ leaf((3, 3, 4))
    assert_says(info, "matmul: the batch dimensions of shapes (2, 2, 3) and (3, 3, 4) are not broadcastable")


def test_matmul_of_a_0d_operand_asks_for_a_dimension():
    with pytest.raises(ShapeError) as info:
        leaf(()) @ leaf((2, 3))
    assert_says(info, "matmul: both operands need at least one dimension", "shapes () and (2, 3)")


def test_reshape_names_both_shapes_and_the_size():
    with pytest.raises(ShapeError) as info:
        leaf((2, 3)).reshape(4, 2)
    assert_says(info, "reshape: cannot reshape (2, 3) (size 6) into (4, 2)")


def test_concatenate_names_the_shapes_and_the_axis():
    with pytest.raises(ShapeError) as info:
        ag.concatenate([leaf((2, 3)), leaf((2, 2))], axis=0)
    assert_says(info, "concatenate: shapes (2, 3), (2, 2) do not join along axis 0")


@pytest.mark.parametrize("method", ["sum", "mean", "max", "logsumexp"])
def test_reduction_axis_out_of_range_names_the_axis_and_the_rank(method):
    with pytest.raises(ShapeError) as info:
        getattr(leaf((2, 3)), method)(axis=2)
    assert_says(info, f"{method}: axis 2 is out of range for a tensor with 2 dimensions")


# ───────────────────────────── backward ─────────────────────────────


def test_backward_of_a_non_scalar_asks_for_a_gradient_of_its_shape():
    y = leaf((2, 3)) * 2.0
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert_says(info, "backward: the output has shape (2, 3)", "one-element output", "pass gradient=")


def test_backward_with_a_gradient_of_the_wrong_shape_names_both_shapes():
    y = leaf((2, 3)) * 2.0
    with pytest.raises(ValueError) as info:
        y.backward(np.ones(3))
    assert_says(info, "backward: gradient has shape (3,) but the output has shape (2, 3)")


@pytest.mark.parametrize("entry", ["backward", "grad"])
def test_backward_through_a_freed_graph_names_the_op_and_retain_graph(entry):
    x = leaf((3,))
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward() if entry == "backward" else ag.grad(y, x)
    assert_says(info, "already freed", "'sum'", "retain_graph=True")


def test_backward_from_a_tensor_that_does_not_require_grad_says_why():
    y = Tensor(np.ones(3)).sum()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert_says(info, "backward: output 0 (shape ())", "does not require grad", "no_grad")


# ───────────────────────────── requires_grad on integers ─────────────────────────────


@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda: Tensor(np.arange(3), requires_grad=True), "int64"),
        (lambda: Tensor(np.arange(3, dtype=np.int32)).requires_grad_(), "int32"),
        (lambda: Tensor([True, False], requires_grad=True), "bool"),
    ],
    ids=["constructor", "requires_grad_", "bool"],
)
def test_requires_grad_on_an_integer_tensor_names_the_dtype(make, dtype):
    with pytest.raises(TypeError) as info:
        make()
    assert_says(info, "requires_grad=True needs a floating-point tensor", f"this tensor is {dtype}")


# ───────────────────────────── indexing ─────────────────────────────


@pytest.mark.parametrize(
    ("index", "shown", "why"),
    [
        (5, "[5]", "index 5 is out of bounds for axis 0 with size 2"),
        (-3, "[-3]", "index -3 is out of bounds for axis 0 with size 2"),
        ((slice(None), 3), "[:, 3]", "index 3 is out of bounds for axis 1 with size 3"),
    ],
    ids=["past-the-end", "negative", "second-axis"],
)
def test_integer_index_out_of_range_names_the_index_and_the_shape(index, shown, why):
    with pytest.raises(IndexError) as info:
        leaf((2, 3))[index]
    assert_says(info, f"getitem: index {shown} does not fit shape (2, 3)", why)


def test_integer_array_index_out_of_range_names_the_index_and_the_shape():
    with pytest.raises(IndexError) as info:
        leaf((2, 3))[[0, 2]]
    assert_says(info, "getitem: index [array([0, 2])] does not fit shape (2, 3)", "index 2 is out of bounds")


def test_too_many_indices_names_the_rank():
    with pytest.raises(IndexError) as info:
        leaf((2, 3))[0, 0, 0]
    assert_says(info, "getitem: index [0, 0, 0] does not fit shape (2, 3)", "array is 2-dimensional, but 3")


def test_boolean_mask_of_the_wrong_shape_names_both_sizes():
    with pytest.raises(IndexError) as info:
        leaf((2, 3))[np.ones(3, dtype=bool)]
    assert_says(info, "getitem:", "does not fit shape (2, 3)", "size of axis is 2", "boolean axis is 3")


# ───────────────────────────── cross_entropy targets ─────────────────────────────


def test_cross_entropy_target_past_the_last_class_names_the_value_and_the_range():
    with pytest.raises(ValueError) as info:
        nn.F.cross_entropy(leaf((3, 4)), np.array([0, 4, 1]))
    assert_says(info, "cross_entropy: target value 4 is out of range for 4 classes", "valid: 0 to 3")


def test_cross_entropy_negative_target_names_the_value_and_ignore_index():
    with pytest.raises(ValueError) as info:
        nn.F.cross_entropy(leaf((3, 4)), np.array([0, -2, 1]), ignore_index=-1)
    assert_says(info, "cross_entropy: target value -2 is out of range for 4 classes", "ignore_index=-1")


@pytest.mark.parametrize("target", [np.array([0.0, 1.0, 1.0]), np.array([True, False, True])], ids=["float", "bool"])
def test_cross_entropy_targets_of_a_non_integer_dtype_name_the_dtype(target):
    with pytest.raises(TypeError) as info:
        nn.F.cross_entropy(leaf((3, 4)), target)
    assert_says(info, "cross_entropy: target (class indices) must hold integers", f"got dtype {target.dtype}")


def test_cross_entropy_target_of_the_wrong_shape_says_classes_come_last():
    with pytest.raises(ShapeError) as info:
        nn.F.cross_entropy(leaf((3, 4)), np.array([0, 1, 2, 3]))
    assert_says(info, "cross_entropy: target shape (4,) does not fit input shape (3, 4)", "classes LAST")


# ───────────────────────────── load_state_dict ─────────────────────────────


def linear() -> nn.Linear:
    return nn.Linear(3, 2, rng=np.random.default_rng(0))


def test_load_state_dict_with_missing_keys_names_them():
    model = linear()
    with pytest.raises(StateDictKeyError) as info:
        model.load_state_dict({"weight": model.state_dict()["weight"]})
    assert isinstance(info.value, KeyError)
    assert_says(info, "load_state_dict for Linear: missing keys: bias")


def test_load_state_dict_with_unexpected_keys_names_them():
    model = linear()
    with pytest.raises(StateDictKeyError) as info:
        model.load_state_dict({**model.state_dict(), "head.weight": np.ones((2, 2), dtype=np.float32)})
    assert_says(info, "load_state_dict for Linear: unexpected keys: head.weight")


def test_load_state_dict_with_a_wrong_shape_names_the_key_and_both_shapes_and_loads_nothing():
    model = linear()
    before = model.state_dict()
    state = {"weight": np.zeros((3, 2), dtype=np.float32), "bias": np.zeros(2, dtype=np.float32)}
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    assert_says(info, "shape mismatch for 'weight'", "the checkpoint has (3, 2)", "parameter has (2, 3)")
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_with_a_wrong_dtype_names_the_key_and_both_dtypes():
    model = linear()
    state = {name: value.astype(np.float64) for name, value in model.state_dict().items()}
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    assert_says(info, "dtype mismatch for 'weight'", "the checkpoint has float64", "parameter has float32")


# ───────────────────────────── nn.load ─────────────────────────────


def test_load_of_a_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nothing.npz"
    with pytest.raises(FileNotFoundError) as info:
        nn.load(path)
    assert_says(info, "load: no checkpoint at", repr(str(path)))


def test_load_of_a_file_that_is_not_a_checkpoint_names_the_path(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("weights: 1 2 3\n")
    with pytest.raises(ValueError) as info:
        nn.load(path)
    assert_says(info, f"load: {str(path)!r} is not a checkpoint (.npz archive of arrays)")


class _Plant:
    """Unpickling this would create a file: a stand-in for code run by a malicious checkpoint."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_load_of_a_pickle_refuses_it_without_running_it(tmp_path):
    path, marker = tmp_path / "model.pkl", tmp_path / "was-run"
    path.write_bytes(pickle.dumps({"weight": _Plant(str(marker))}))
    with pytest.raises(ValueError) as info:
        nn.load(path)
    assert_says(info, f"load: {str(path)!r} is not a checkpoint", "pickled Python objects, which are never loaded")
    assert not marker.exists()


def test_load_of_an_npz_holding_pickled_objects_names_the_entry_without_running_it(tmp_path):
    path, marker = tmp_path / "model.npz", tmp_path / "was-run"
    np.savez(path, weight=np.ones(2), plant=np.array([_Plant(str(marker))], dtype=object))
    with pytest.raises(ValueError) as info:
        nn.load(path)
    assert_says(info, f"load: {str(path)!r}: entry 'plant' cannot be read safely", "allow_pickle=False")
    assert not marker.exists()


def test_load_of_an_npz_of_strings_names_the_entry_and_its_dtype(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, names=np.array(["a", "b"]))
    with pytest.raises(ValueError) as info:
        nn.load(path)
    assert_says(info, "entry 'names' has dtype <U1", "checkpoints hold numeric arrays only")


def test_load_of_a_single_npy_array_says_a_checkpoint_is_an_npz(tmp_path):
    path = tmp_path / "weight.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError) as info:
        nn.load(path)
    assert_says(info, "is a single .npy array, not a checkpoint (.npz archive of named arrays)")


def test_load_of_a_zip_of_non_arrays_names_the_entry(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "not an array")
    with pytest.raises(ValueError) as info:
        nn.load(path)
    assert_says(info, "entry 'readme.txt' is not a NumPy array", "this is not a checkpoint")
    assert os.path.exists(path)  # refusing a file never touches it
