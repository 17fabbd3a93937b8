"""`Tensor`: construction, dtypes, properties, NumPy interop, operators, shape methods and their errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import ShapeError, Tensor


def leaf(array, dtype=np.float32):
    return Tensor(np.asarray(array, dtype=dtype), requires_grad=True)


# ───────────────────────────── construction ─────────────────────────────


@pytest.mark.parametrize(
    ("data", "dtype", "shape"),
    [
        (1.5, np.float32, ()),
        (3, np.int64, ()),
        (True, np.bool_, ()),
        ([1.0, 2.0], np.float32, (2,)),
        ([1, 2, 3], np.int64, (3,)),
        ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32, (2, 3)),
        (np.array([1.0, 2.0]), np.float64, (2,)),
        (np.array([1.0, 2.0], dtype=np.float16), np.float16, (2,)),
        (np.float64(2.0), np.float64, ()),
        (np.arange(6, dtype=np.int32).reshape(2, 3), np.int32, (2, 3)),
    ],
)
def test_construction_dtype_and_shape(data, dtype, shape):
    t = Tensor(data)
    assert t.dtype == dtype
    assert t.shape == shape
    np.testing.assert_array_equal(t.data, np.asarray(data))


def test_dtype_argument_converts():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.array([1.5, 2.5]), dtype="float32").dtype == np.float32
    np.testing.assert_array_equal(Tensor([1.7, 2.2], dtype=np.int64).data, [1, 2])


def test_data_is_copied():
    source = np.array([1.0, 2.0, 3.0])
    t = Tensor(source)
    source[0] = 100.0
    assert t.data[0] == 1.0
    u = Tensor(t)
    t.data[1] = -5.0
    assert u.data[1] == 2.0 and u.dtype == np.float64


def test_ragged_data_is_refused():
    with pytest.raises((TypeError, ValueError)):
        Tensor([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("data", [[1, 2, 3], np.array([True, False]), 7])
def test_integer_and_boolean_tensors_refuse_requires_grad(data):
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(data).requires_grad_()


# ───────────────────────────── properties and conversion ─────────────────────────────


def test_properties():
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float32
    assert x.requires_grad and x.is_leaf and x.grad_fn is None and x.grad is None
    np.testing.assert_array_equal(x.T.data, np.arange(6.0).reshape(2, 3).T)
    y = x * 2.0
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None and y.grad_fn.name == "mul_scalar"
    c = Tensor([1.0])
    assert not c.requires_grad and c.is_leaf and c.grad_fn is None


def test_array_protocol():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.asarray(x)
    assert a is x.data
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.array(x).dtype == np.float32
    copied = np.array(x, copy=True)
    copied[0, 0] = 9.0
    assert x.data[0, 0] == 1.0
    assert np.add(np.asarray(x), 1.0).sum() == 14.0


def test_item_numpy_tolist_detach():
    x = leaf([[1.5, 2.0]])
    assert Tensor(2.5).item() == 2.5 and isinstance(Tensor(2.5).item(), float)
    assert Tensor([7]).item() == 7 and isinstance(Tensor([7]).item(), int)
    with pytest.raises(ValueError, match=r"shape \(1, 2\)"):
        x.item()
    assert x.numpy() is x.data
    assert x.tolist() == [[1.5, 2.0]]
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    np.testing.assert_array_equal(d.data, [[3.0, 4.0]])
    assert float(Tensor(2.5)) == 2.5 and int(Tensor(3.0)) == 3


def test_requires_grad_toggles_on_leaves_only():
    x = Tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_repr_shows_data_dtype_and_grad_fn():
    text = repr(leaf([1.0, 2.5]) * 2.0)
    assert "tensor(" in text and "2." in text and "5." in text
    assert "dtype=float32" in text and "grad_fn=<mul_scalar>" in text
    assert "requires_grad=True" in repr(leaf([1.0]))
    assert "name='w'" in repr(Tensor([1.0], name="w"))
    assert "grad_fn" not in repr(Tensor([1, 2]))
    assert "dtype=int64" in repr(Tensor([1, 2]))


# ───────────────────────────── operators ─────────────────────────────

A = np.array([0.5, 1.5, 2.5], dtype=np.float32)
ARR = np.array([2.0, -1.0, 4.0], dtype=np.float32)

# (expression, its value in NumPy, d(sum of it)/dx in NumPy)
OPERATORS = {
    "2 + x": (lambda x: 2 + x, lambda a: 2 + a, lambda a: np.ones_like(a)),
    "x + 2": (lambda x: x + 2, lambda a: a + 2, lambda a: np.ones_like(a)),
    "2 - x": (lambda x: 2 - x, lambda a: 2 - a, lambda a: -np.ones_like(a)),
    "x - arr": (lambda x: x - ARR, lambda a: a - ARR, lambda a: np.ones_like(a)),
    "arr - x": (lambda x: ARR - x, lambda a: ARR - a, lambda a: -np.ones_like(a)),
    "arr * x": (lambda x: ARR * x, lambda a: ARR * a, lambda a: ARR),
    "x * 3": (lambda x: x * 3, lambda a: a * 3, lambda a: np.full_like(a, 3)),
    "1 / x": (lambda x: 1 / x, lambda a: 1 / a, lambda a: -1 / a**2),
    "x / 4": (lambda x: x / 4, lambda a: a / 4, lambda a: np.full_like(a, 0.25)),
    "arr / x": (lambda x: ARR / x, lambda a: ARR / a, lambda a: -ARR / a**2),
    "2 ** x": (lambda x: 2**x, lambda a: 2.0**a, lambda a: 2.0**a * np.log(2.0)),
    "x ** 3": (lambda x: x**3, lambda a: a**3, lambda a: 3 * a**2),
    "x ** arr": (lambda x: x**ARR, lambda a: a**ARR, lambda a: ARR * a ** (ARR - 1)),
    "-x": (lambda x: -x, lambda a: -a, lambda a: -np.ones_like(a)),
    "abs(-x)": (lambda x: abs(-x), lambda a: a, lambda a: np.ones_like(a)),
    "x @ arr": (lambda x: x @ ARR, lambda a: a @ ARR, lambda a: ARR),
    "arr @ x": (lambda x: ARR @ x, lambda a: ARR @ a, lambda a: ARR),
    "np.float64(2) * x": (lambda x: np.float64(2.0) * x, lambda a: 2 * a, lambda a: np.full_like(a, 2)),
    "x - np.float64(1)": (lambda x: x - np.float64(1.0), lambda a: a - 1, lambda a: np.ones_like(a)),
    "np.float32(3) / x": (lambda x: np.float32(3.0) / x, lambda a: 3 / a, lambda a: -3 / a**2),
    "x ** np.float64(2)": (lambda x: x ** np.float64(2.0), lambda a: a**2, lambda a: 2 * a),
}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operators_mix_with_scalars_and_arrays(name):
    expression, value, derivative = OPERATORS[name]
    x = leaf(A)
    y = expression(x)
    assert isinstance(y, Tensor)
    assert y.dtype == np.float32  # Python and NumPy scalars, and float32 arrays, keep float32
    np.testing.assert_allclose(y.data, value(A.astype(np.float64)), rtol=1e-6)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, derivative(A.astype(np.float64)), rtol=1e-5)


def test_matmul_with_a_matrix_on_either_side():
    m = np.arange(6.0).reshape(2, 3)
    x = leaf(np.ones((3, 2)), dtype=np.float64)
    (m @ x).sum().backward()
    np.testing.assert_allclose(x.grad.data, m.T @ np.ones((2, 2)))
    y = leaf(np.ones((2, 2)), dtype=np.float64)
    (y @ m).sum().backward()
    np.testing.assert_allclose(y.grad.data, np.ones((2, 3)) @ m.T)


def test_float64_arrays_promote_like_numpy():
    assert (Tensor(A) * np.array([1.0, 2.0, 3.0])).dtype == np.float64


def test_comparisons_return_boolean_tensors():
    x = leaf([1.0, 2.0, 3.0])
    other = Tensor([3.0, 2.0, 1.0])
    cases = {
        "==": (x == other, [False, True, False]),
        "!=": (x != other, [True, False, True]),
        "<": (x < 2.0, [True, False, False]),
        "<=": (x <= 2.0, [True, True, False]),
        ">": (x > other, [False, False, True]),
        ">=": (2.0 >= x, [True, True, False]),
        "array ==": (np.array([1.0, 0.0, 3.0]) == x, [True, False, True]),
    }
    for name, (result, expected) in cases.items():
        assert isinstance(result, Tensor), name
        assert result.dtype == np.bool_ and not result.requires_grad, name
        np.testing.assert_array_equal(result.data, expected, err_msg=name)


def test_hashing_is_by_identity():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert len({a, b, a}) == 2


def test_len_iter_and_bool():
    x = Tensor(np.arange(6.0).reshape(3, 2))
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and all(isinstance(r, Tensor) for r in rows)
    np.testing.assert_array_equal(rows[2].data, [4.0, 5.0])
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))
    assert bool(Tensor([2.0])) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match=r"ambiguous.*\(3, 2\)|\(3, 2\).*ambiguous"):
        bool(x)


def test_iterating_a_tensor_that_requires_grad_keeps_the_gradient():
    x = leaf([1.0, 2.0, 3.0])
    total = sum(row * row for row in x)
    total.backward()
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0, 6.0])


# ───────────────────────────── shape methods and their gradients ─────────────────────────────

SHAPE = (2, 3, 4)
RNG = np.random.default_rng(0)
BASE = RNG.standard_normal(SHAPE)

# (method call, NumPy forward, NumPy map of the upstream gradient back to the input)
SHAPE_METHODS = {
    "reshape(6, 4)": (lambda t: t.reshape(6, 4), lambda a: a.reshape(6, 4), lambda g: g.reshape(SHAPE)),
    "reshape((-1,))": (lambda t: t.reshape((-1,)), lambda a: a.reshape(-1), lambda g: g.reshape(SHAPE)),
    "view(4, -1)": (lambda t: t.view(4, -1), lambda a: a.reshape(4, -1), lambda g: g.reshape(SHAPE)),
    "flatten()": (lambda t: t.flatten(), lambda a: a.reshape(-1), lambda g: g.reshape(SHAPE)),
    "flatten(1)": (lambda t: t.flatten(1), lambda a: a.reshape(2, 12), lambda g: g.reshape(SHAPE)),
    "transpose()": (lambda t: t.transpose(), lambda a: a.transpose(), lambda g: g.transpose()),
    "T": (lambda t: t.T, lambda a: a.T, lambda g: g.T),
    "permute(1, 2, 0)": (
        lambda t: t.permute(1, 2, 0),
        lambda a: a.transpose(1, 2, 0),
        lambda g: g.transpose(2, 0, 1),
    ),
    "swapaxes(0, -1)": (lambda t: t.swapaxes(0, -1), lambda a: a.swapaxes(0, -1), lambda g: g.swapaxes(0, -1)),
    "unsqueeze(1)": (lambda t: t.unsqueeze(1), lambda a: a[:, None], lambda g: g[:, 0]),
    "unsqueeze(-1)": (lambda t: t.unsqueeze(-1), lambda a: a[..., None], lambda g: g[..., 0]),
    "unsqueeze(0).squeeze()": (lambda t: t.unsqueeze(0).squeeze(), lambda a: a, lambda g: g),
    "expand(5, 2, 3, 4)": (
        lambda t: t.expand(5, 2, 3, 4),
        lambda a: np.broadcast_to(a, (5, *SHAPE)),
        lambda g: g.sum(axis=0),
    ),
    "broadcast_to((3, 2, 3, 4))": (
        lambda t: t.broadcast_to((3, 2, 3, 4)),
        lambda a: np.broadcast_to(a, (3, *SHAPE)),
        lambda g: g.sum(axis=0),
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPE_METHODS))
def test_shape_methods_and_their_gradients(name):
    method, forward, back = SHAPE_METHODS[name]
    x = leaf(BASE, dtype=np.float64)
    y = method(x)
    expected = forward(BASE)
    assert y.shape == expected.shape
    np.testing.assert_array_equal(y.data, expected)
    upstream = np.random.default_rng(1).standard_normal(expected.shape)
    y.backward(upstream)
    assert x.grad.shape == SHAPE
    np.testing.assert_allclose(x.grad.data, back(upstream), rtol=1e-12)


def test_squeeze_and_expand_of_size_one_axes():
    x = leaf(np.arange(3.0).reshape(1, 3, 1), dtype=np.float64)
    assert x.squeeze().shape == (3,)
    assert x.squeeze(0).shape == (3, 1)
    assert x.squeeze(1).shape == (1, 3, 1)  # an axis whose size is not 1 stays, as in PyTorch
    y = x.expand(2, -1, 4)
    assert y.shape == (2, 3, 4)
    y.backward(np.ones((2, 3, 4)))
    np.testing.assert_allclose(x.grad.data, np.full((1, 3, 1), 8.0))


@st.composite
def shapes_and_permutations(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=3))
    return shape, tuple(draw(st.permutations(range(len(shape)))))


@settings(max_examples=30)
@given(shapes_and_permutations())
def test_transpose_of_any_permutation_and_its_gradient(shape_and_axes):
    shape, axes = shape_and_axes
    base = np.arange(float(np.prod(shape))).reshape(shape)
    x = leaf(base, dtype=np.float64)
    y = x.transpose(*axes)
    np.testing.assert_array_equal(y.data, base.transpose(axes))
    upstream = np.arange(float(y.size)).reshape(y.shape) * 0.5 - 1
    y.backward(upstream)
    np.testing.assert_array_equal(x.grad.data, upstream.transpose(np.argsort(axes)))


@settings(max_examples=30)
@given(hnp.array_shapes(min_dims=0, max_dims=4, max_side=4), st.integers(0, 2**32 - 1))
def test_reshape_to_a_random_compatible_shape(shape, seed):
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    target = tuple(int(d) for d in rng.permutation(np.array(shape, dtype=int)))  # same size, dims reordered
    base = rng.standard_normal(shape)
    x = leaf(base, dtype=np.float64)
    y = x.reshape(target)
    assert y.shape == target and y.size == size
    np.testing.assert_array_equal(y.data, base.reshape(target))
    upstream = rng.standard_normal(target)
    y.backward(upstream)
    np.testing.assert_array_equal(x.grad.data, upstream.reshape(shape))


# ───────────────────────────── errors ─────────────────────────────


def test_non_broadcastable_operands_raise_shape_error_naming_op_and_shapes():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((4,)))
    with pytest.raises(ShapeError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        a + b
    with pytest.raises(ShapeError, match=r"mul: shapes \(2, 3\) and \(4,\)"):
        a * np.ones(4)
    with pytest.raises(ValueError):  # ShapeError is a ValueError
        a - b


def test_matmul_mismatch_names_the_shapes():
    with pytest.raises(ShapeError, match=r"matmul: cannot multiply shapes \(2, 3\) and \(2, 3\)"):
        leaf(np.ones((2, 3))) @ leaf(np.ones((2, 3)))


def test_bad_reshape_names_the_shapes():
    with pytest.raises(ShapeError, match=r"reshape: cannot reshape \(2, 3\) \(size 6\) into \(4,\)"):
        leaf(np.ones((2, 3))).reshape(4)
    with pytest.raises(ShapeError, match=r"broadcast_to: cannot broadcast shape \(2, 3\) to \(3, 3\)"):
        leaf(np.ones((2, 3))).broadcast_to(3, 3)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda x: x.unsqueeze(4), r"unsqueeze: axis 4 is out of range for 3 dimensions"),
        (lambda x: x.swapaxes(0, 2), r"swapaxes: axis 2 is out of range for 2 dimensions"),
        (lambda x: x.softmax(-3), r"softmax: axis -3 is out of range"),
        (lambda x: x.flatten(0, 5), r"flatten: axis 5 is out of range"),
        (lambda x: x.transpose(0, 0), r"transpose: axes \(0, 0\) are not a permutation of the 2 axes"),
        (lambda x: x.sum(axis=2), r"axis 2 is out of range for a tensor with 2 dimensions"),
        (lambda x: x.mean(axis=(0, -5)), r"axis -5 is out of range"),
    ],
)
def test_bad_axis_raises_shape_error(call, pattern):
    with pytest.raises(ShapeError, match=pattern):
        call(leaf(np.ones((2, 3))))


def test_index_out_of_range_names_the_shape():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[0, 3]
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[np.array([0, 2])]


def test_copies_of_a_leaf_get_their_own_gradient():
    import copy

    a = Tensor([1.0, 2.0], requires_grad=True)
    deep, shallow = copy.deepcopy(a), copy.copy(a)
    (deep * 2).sum().backward()
    (shallow * 3).sum().backward()
    assert a.grad is None
    np.testing.assert_array_equal(deep.grad.data, [2.0, 2.0])
    np.testing.assert_array_equal(shallow.grad.data, [3.0, 3.0])
    assert shallow.data is a.data and deep.data is not a.data


def test_pickling_a_leaf_keeps_values_name_and_requires_grad():
    import pickle

    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(b.data, a.data)
    assert b.requires_grad and b.name == "a" and b.dtype == np.float32
    with pytest.raises(RuntimeError, match="leaf"):
        pickle.dumps(a * 2)
