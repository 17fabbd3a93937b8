"""NumPy's protocols on Tensor (`autograd.numpy_interop`) and the names a nanoGPT-style model needs.

``np.exp(t)``, ``arr + t``, ``np.sum(t, axis=0)``, ``np.concatenate([t, u])`` ... give Tensors
that record: each mapped ufunc and function is checked for a Tensor result equal to NumPy's
on the data, a recorded node, and gradients against central finite differences in float64
(`autograd.gradcheck`, and `autograd.gradgradcheck` for a representative set) over shapes
drawn by `autograd.testing`, with broadcasting for the binary ufuncs. Every operator is tried
with an ndarray on the left. What is not mapped raises a TypeError naming the function.

Then `masked_fill`, `tril` and `triu` (against PyTorch, first and second order) and
`multinomial` (shapes, seeding, no repeats without replacement, frequencies, errors).
"""

from __future__ import annotations

import functools
import math
import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import ShapeError, Tensor
from autograd import numpy_interop as interop
from autograd.testing import arrays, broadcastable_shapes, matmul_shapes, shapes

FEW = settings(max_examples=20, deadline=None)


def leaf(array) -> Tensor:
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def assert_tensor_matches(out, expected, exact: bool = False) -> None:
    """``out`` is a Tensor with NumPy's shape, dtype and values."""
    expected = np.asarray(expected)
    assert isinstance(out, Tensor), type(out)
    assert out.shape == expected.shape and out.dtype == expected.dtype, (out.shape, out.dtype, expected.dtype)
    if exact:
        np.testing.assert_array_equal(out.data, expected)
    else:
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def assert_records(out, *inputs) -> None:
    assert out.requires_grad
    assert out.grad_fn is not None or any(out is x for x in inputs)


# ───────────────────────────── unary ufuncs ─────────────────────────────

UNARY = {  # ufunc -> domain
    np.negative: "real",
    np.positive: "real",
    np.absolute: "nonzero",
    np.exp: "real",
    np.exp2: "real",
    np.log: "positive",
    np.log2: "positive",
    np.log10: "positive",
    np.sqrt: "positive",
    np.square: "real",
    np.reciprocal: "positive",
    np.sin: "real",
    np.cos: "real",
    np.tan: (-1.2, 1.2),
    np.tanh: "real",
}


@pytest.mark.parametrize("ufunc", list(UNARY), ids=lambda u: u.__name__)
@FEW
@given(data=st.data())
def test_unary_ufuncs_record_and_differentiate(ufunc, data):
    a = data.draw(arrays(shapes(), domain=UNARY[ufunc]))
    x = leaf(a)
    out = ufunc(x)
    assert_tensor_matches(out, ufunc(a))
    assert_records(out, x)
    assert ag.gradcheck(ufunc, [x])
    assert ag.gradgradcheck(ufunc, [x])


# ───────────────────────────── binary ufuncs, with broadcasting ─────────────────────────────


def _grid(array: np.ndarray, offset: float) -> np.ndarray:
    """Values on a grid of step 1/4, shifted by ``offset``: two such arrays never tie (for maximum and minimum)."""
    return np.round(array * 4.0) / 4.0 + offset


BINARY = {  # ufunc -> (domain of the first operand, domain of the second, second order)
    np.add: ("real", "real", True),
    np.subtract: ("real", "real", False),
    np.multiply: ("real", "real", True),
    np.divide: ("real", "nonzero", True),
    np.power: ((0.5, 2.0), (-2.0, 2.0), True),
    np.maximum: ("real", "real", True),
    np.minimum: ("real", "real", False),
}
ORDERS = ["tensor, tensor", "ndarray, tensor", "tensor, ndarray"]


def with_order(order: str, f, a: np.ndarray, b: np.ndarray):
    """(a function of the Tensor operands, those operands): ``order`` says which operand is a Tensor."""
    if order == "tensor, tensor":
        return (lambda x, y: f(x, y)), [leaf(a), leaf(b)]
    if order == "ndarray, tensor":
        return (lambda y: f(a, y)), [leaf(b)]
    return (lambda x: f(x, b)), [leaf(a)]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("ufunc", list(BINARY), ids=lambda u: u.__name__)
@FEW
@given(data=st.data())
def test_binary_ufuncs_broadcast_record_and_differentiate(ufunc, order, data):
    first, second, second_order = BINARY[ufunc]
    sa, sb = data.draw(broadcastable_shapes(2, max_side=3))
    a, b = data.draw(arrays(sa, domain=first)), data.draw(arrays(sb, domain=second))
    if ufunc in (np.maximum, np.minimum):
        a, b = _grid(a, 0.0), _grid(b, 0.125)
    func, inputs = with_order(order, ufunc, a, b)
    out = func(*inputs)
    assert_tensor_matches(out, ufunc(a, b))
    assert_records(out, *inputs)
    assert ag.gradcheck(func, inputs)
    if second_order and order == "tensor, tensor":
        assert ag.gradgradcheck(func, inputs)


@pytest.mark.parametrize("order", ORDERS)
@FEW
@given(data=st.data())
def test_matmul_ufunc_in_every_order(order, data):
    sa, sb = data.draw(matmul_shapes(max_batch_dims=1, max_side=3))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    func, inputs = with_order(order, np.matmul, a, b)
    out = func(*inputs)
    assert_tensor_matches(out, np.matmul(a, b))
    assert_records(out, *inputs)
    assert ag.gradcheck(func, inputs)
    if order == "tensor, tensor":
        assert ag.gradgradcheck(func, inputs)


# ───────────────────────────── non-differentiable ufuncs ─────────────────────────────

SPECIAL = np.array([[-1.5, -0.5, 0.0, 0.5], [1.0, 2.5, np.inf, np.nan]])
OTHER = np.array([[-1.5, 0.5, 0.0, -0.5], [2.0, 2.5, np.inf, 1.0]])
MASK_A = np.array([[True, True, False, False]])
MASK_B = np.array([[True, False, True, False]])

NONDIFFERENTIABLE = {  # ufunc -> operands (a Tensor is made of the first)
    np.equal: (SPECIAL, OTHER),
    np.not_equal: (SPECIAL, OTHER),
    np.less: (SPECIAL, OTHER),
    np.less_equal: (SPECIAL, OTHER),
    np.greater: (SPECIAL, OTHER),
    np.greater_equal: (SPECIAL, OTHER),
    np.sign: (SPECIAL,),
    np.isfinite: (SPECIAL,),
    np.isinf: (SPECIAL,),
    np.isnan: (SPECIAL,),
    np.signbit: (SPECIAL,),
    np.floor: (SPECIAL,),
    np.ceil: (SPECIAL,),
    np.trunc: (SPECIAL,),
    np.rint: (SPECIAL,),
    np.logical_and: (MASK_A, MASK_B),
    np.logical_or: (MASK_A, MASK_B),
    np.logical_xor: (MASK_A, MASK_B),
    np.logical_not: (MASK_A,),
}


@pytest.mark.parametrize(
    ("ufunc", "index"),
    [(u, i) for u, operands in NONDIFFERENTIABLE.items() for i in range(len(operands))],
    ids=lambda v: v.__name__ if isinstance(v, np.ufunc) else f"Tensor at {v}",
)
def test_nondifferentiable_ufuncs_give_tensors_that_never_require_grad(ufunc, index):
    operands = NONDIFFERENTIABLE[ufunc]
    given_ = list(operands)
    given_[index] = leaf(operands[index]) if operands[index].dtype.kind == "f" else Tensor(operands[index])
    with np.errstate(invalid="ignore"):
        out = ufunc(*given_)
        expected = ufunc(*operands)
    assert_tensor_matches(out, expected, exact=True)
    assert not out.requires_grad and out.grad_fn is None


def test_integer_tensors_keep_numpy_results():
    i = Tensor(np.arange(6).reshape(2, 3))
    assert_tensor_matches(np.add(i, 1), np.arange(6).reshape(2, 3) + 1, exact=True)
    assert_tensor_matches(np.multiply(np.int32(2), i), 2 * np.arange(6).reshape(2, 3), exact=True)
    assert_tensor_matches(np.maximum(i, 3), np.maximum(np.arange(6).reshape(2, 3), 3), exact=True)
    assert_tensor_matches(np.reciprocal(Tensor([1, 2, -1])), np.reciprocal(np.array([1, 2, -1])), exact=True)
    assert_tensor_matches(np.exp2(Tensor([1, 3])), np.exp2(np.array([1, 3])))


# ───────────────────────────── operators with an ndarray on the left ─────────────────────────────

ARITHMETIC = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.matmul]
COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", ARITHMETIC, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_arithmetic_with_an_ndarray_on_the_left_records_and_differentiates(op, dtype):
    rng = np.random.default_rng(0)
    arr = rng.uniform(0.5, 2.0, (3, 3)).astype(dtype)
    t = Tensor(rng.uniform(0.5, 2.0, (3, 3)).astype(dtype), requires_grad=True)
    out = op(arr, t)
    assert isinstance(out, Tensor) and out.requires_grad and out.grad_fn is not None
    assert out.dtype == op(arr, t.data).dtype == dtype
    np.testing.assert_allclose(out.data, op(arr, t.data), rtol=1e-6)
    out.sum().backward()
    assert t.grad is not None and t.grad.shape == t.shape and np.all(t.grad.data != 0)
    x = leaf(t.data)
    arr64 = arr.astype(np.float64)
    assert ag.gradcheck(lambda y: op(arr64, y), [x])


@pytest.mark.parametrize("op", ARITHMETIC[:5], ids=lambda f: f.__name__)
@pytest.mark.parametrize("left", [np.float64(1.5), np.float32(1.5), np.array(1.5), np.array([1.5, 2.0, 0.5])], ids=repr)
def test_numpy_scalars_and_broadcast_arrays_on_the_left(op, left):
    t = Tensor([0.5, 1.0, 2.0], requires_grad=True)
    out = op(left, t)
    assert isinstance(out, Tensor) and out.grad_fn is not None
    np.testing.assert_allclose(out.data, op(left, t.data), rtol=1e-6)
    mirrored = getattr(Tensor, f"__r{op.__name__}__")(t, left)  # the Tensor's reflected operator: the same result
    assert out.dtype == mirrored.dtype
    np.testing.assert_array_equal(out.data, mirrored.data)


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("left", ["ndarray", "tensor"])
def test_comparisons_in_either_order_give_boolean_tensors_without_grad(op, left):
    arr = np.array([1.0, 2.0, 3.0])
    t = Tensor([3.0, 2.0, 1.0], requires_grad=True)
    out = op(arr, t) if left == "ndarray" else op(t, arr)
    expected = op(arr, t.data) if left == "ndarray" else op(t.data, arr)
    assert_tensor_matches(out, expected, exact=True)
    assert out.dtype == np.bool_ and not out.requires_grad


def test_in_place_numpy_operations_into_an_array_are_refused():
    arr = np.ones(3)
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^numpy\.add: out= is not supported.*arr = arr \+ t"):
        arr += t
    np.testing.assert_array_equal(arr, 1.0)  # untouched
    arr += t.data  # the documented way for an ndarray
    np.testing.assert_array_equal(arr, [2.0, 3.0, 4.0])


def test_tensor_operators_never_go_through_the_protocols(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a Tensor operator went through the NumPy protocol")

    monkeypatch.setattr(interop, "array_ufunc", refuse)
    monkeypatch.setattr(interop, "array_function", refuse)
    t = Tensor(np.ones((2, 2)), requires_grad=True)
    arr = np.full((2, 2), 2.0)
    for result in (t * t, t + 1.0, t + arr, t - arr, t * arr, t / arr, t**arr, t @ arr, t == arr, t < arr, -t):
        assert isinstance(result, Tensor)
    with pytest.raises(AssertionError, match="went through"):
        arr + t


def test_asarray_still_gives_the_plain_array():
    t = Tensor([[1.0, 2.0]], requires_grad=True)
    assert np.asarray(t) is t.data
    assert type(np.array(t)) is np.ndarray
    np.testing.assert_array_equal(np.asarray([t, t]), [[[1.0, 2.0]], [[1.0, 2.0]]])


# ───────────────────────────── ufunc.reduce ─────────────────────────────


@pytest.mark.parametrize(
    ("ufunc", "kwargs"),
    [
        (np.add, {}),
        (np.add, {"axis": 1, "keepdims": True}),
        (np.maximum, {"axis": None}),
        (np.minimum, {"axis": -1}),
    ],
    ids=["add", "add axis 1 keepdims", "maximum all", "minimum last"],
)
def test_reduce_of_add_maximum_minimum(ufunc, kwargs):
    a = np.random.default_rng(1).permutation(12).reshape(3, 4).astype(np.float64)  # distinct: no ties
    x = leaf(a)
    out = ufunc.reduce(x, **kwargs)
    assert_tensor_matches(out, ufunc.reduce(a, **kwargs))
    assert_records(out, x)
    assert ag.gradcheck(lambda y: ufunc.reduce(y, **kwargs), [x])


# ───────────────────────────── NumPy functions ─────────────────────────────


def last_side(side: int, min_dims: int = 1) -> st.SearchStrategy:
    return shapes(min_dims=min_dims - 1, max_dims=2, max_side=3).map(lambda s: (*s, side))


# name -> (call, shape strategy, array options, second order); ``call`` runs on ndarrays (the reference) and Tensors
FUNCTIONS = {
    "sum": (lambda x: np.sum(x, axis=-1, keepdims=True), shapes(min_dims=1), {}, True),
    "sum all": (lambda x: np.sum(x), shapes(), {}, False),
    "mean": (lambda x: np.mean(x, axis=0), shapes(min_dims=1), {}, True),
    "max": (lambda x: np.max(x, axis=-1), shapes(min_dims=1), {"distinct": True, "min_gap": 0.05}, False),
    "amax": (lambda x: np.amax(x), shapes(), {"distinct": True, "min_gap": 0.05}, False),
    "min": (lambda x: np.min(x, axis=0, keepdims=True), shapes(min_dims=1), {"distinct": True, "min_gap": 0.05}, False),
    "amin": (lambda x: np.amin(x), shapes(), {"distinct": True, "min_gap": 0.05}, False),
    "var": (lambda x: np.var(x, axis=-1, ddof=1), last_side(3), {}, True),
    "var correction": (lambda x: np.var(x, correction=1), last_side(2), {}, False),
    "std": (lambda x: np.std(x, axis=-1), last_side(3), {"distinct": True, "min_gap": 0.1}, True),
    "clip": (lambda x: np.clip(x, -1.0, 1.0), shapes(), {"avoid": (-1.0, 1.0)}, False),
    "clip keywords": (lambda x: np.clip(x, min=-0.5, max=None), shapes(), {"avoid": (-0.5,)}, False),
    "where": (lambda x: np.where(x > 0, x * 2.0, x * x), shapes(), {"avoid": (0.0,)}, True),
    "reshape": (lambda x: np.reshape(x, (-1, 1)), shapes(), {}, False),
    "ravel": (lambda x: np.ravel(x), shapes(), {}, False),
    "transpose": (lambda x: np.transpose(x), shapes(), {}, True),
    "permute_dims": (lambda x: np.permute_dims(x, tuple(range(np.ndim(x)))[::-1]), shapes(), {}, False),
    "matrix_transpose": (lambda x: np.matrix_transpose(x), shapes(min_dims=2), {}, False),
    "linalg.matrix_transpose": (lambda x: np.linalg.matrix_transpose(x), shapes(min_dims=2), {}, False),
    "swapaxes": (lambda x: np.swapaxes(x, 0, -1), shapes(min_dims=1), {}, False),
    "moveaxis": (lambda x: np.moveaxis(x, 0, -1), shapes(min_dims=1), {}, False),
    "squeeze": (lambda x: np.squeeze(x), shapes(max_side=2), {}, False),
    "expand_dims": (lambda x: np.expand_dims(x, 0), shapes(), {}, False),
    "broadcast_to": (lambda x: np.broadcast_to(x, (2, *np.shape(x))), shapes(), {}, False),
    "concatenate": (lambda x: np.concatenate([x, x * x], axis=-1), shapes(min_dims=1), {}, True),
    "concatenate flat": (lambda x: np.concatenate([x, x * 3.0], axis=None), shapes(), {}, False),
    "concat": (lambda x: np.concat([x * 2.0, x]), shapes(min_dims=1), {}, False),
    "stack": (lambda x: np.stack([x, x * x], axis=-1), shapes(), {}, True),
    "split": (lambda x: np.split(x, 2, axis=-1)[1] * 1.0, last_side(4), {}, False),
    "dot 2-D": (lambda x: np.dot(x, np.transpose(x)), shapes(min_dims=2, max_dims=2), {}, True),
    "dot 1-D": (lambda x: np.dot(x, x), shapes(min_dims=1, max_dims=1), {}, False),
    "dot scalar": (lambda x: np.dot(2.5, x), shapes(), {}, False),
    "tril": (lambda x: np.tril(x, -1), shapes(min_dims=2), {}, True),
    "triu": (lambda x: np.triu(x, k=1), shapes(min_dims=2), {}, False),
    "astype": (lambda x: np.astype(x, np.float64), shapes(), {}, False),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@FEW
@given(data=st.data())
def test_numpy_functions_record_and_differentiate(name, data):
    call, shape, options, second_order = FUNCTIONS[name]
    a = data.draw(arrays(shape, **options))
    x = leaf(a)
    out = call(x)
    assert_tensor_matches(out, call(a))
    assert_records(out, x)
    assert ag.gradcheck(call, [x])
    if second_order:
        assert ag.gradgradcheck(call, [x])


def test_split_gives_a_list_of_recording_tensors():
    a = np.arange(12.0).reshape(3, 4)
    x = leaf(a)
    parts = np.split(x, [1, 3], axis=1)
    assert isinstance(parts, list) and len(parts) == 3
    for part, expected in zip(parts, np.split(a, [1, 3], axis=1)):
        assert_tensor_matches(part, expected)
        assert part.grad_fn is not None


def test_joining_mixes_tensors_and_arrays():
    a = np.ones((2, 2))
    x = leaf(np.arange(4.0).reshape(2, 2))
    out = np.concatenate([a, x, a])
    assert_tensor_matches(out, np.concatenate([a, x.data, a]))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 2)))
    assert_tensor_matches(np.stack([a, x], axis=1), np.stack([a, x.data], axis=1))
    assert_tensor_matches(np.where(np.eye(2, dtype=bool), x, a), np.where(np.eye(2, dtype=bool), x.data, a))


def test_the_astype_between_floats_records():
    x = leaf([1.0, 2.0])
    out = np.astype(x, np.float32)
    assert out.dtype == np.float32 and out.grad_fn is not None
    out.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_index_reductions_and_masks_never_require_grad():
    a = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    x = leaf(a)
    cases = [
        (np.argmax(x), np.argmax(a)),
        (np.argmax(x, axis=1), np.argmax(a, axis=1)),
        (np.argmin(x, axis=0, keepdims=True), np.argmin(a, axis=0, keepdims=True)),
        (np.all(x > 0), np.all(a > 0)),
        (np.any(x > 4, axis=1), np.any(a > 4, axis=1)),
        (np.isclose(x, a + 1e-9), np.isclose(a, a + 1e-9)),
    ]
    for out, expected in cases:
        assert_tensor_matches(out, expected, exact=True)
        assert not out.requires_grad


def test_queries_give_plain_python_values():
    x = leaf(np.zeros((2, 3)))
    assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6 and np.size(x, 1) == 3
    assert np.allclose(x, np.zeros((2, 3))) is True
    assert np.array_equal(x, x) is True and np.array_equal(x, np.ones((2, 3))) is False


@pytest.mark.parametrize(
    ("call", "value"),
    [
        (lambda x, **k: np.zeros_like(x, **k), 0.0),
        (lambda x, **k: np.ones_like(x, **k), 1.0),
        (lambda x, **k: np.full_like(x, 7.0, **k), 7.0),
        (lambda x, **k: np.empty_like(x, **k), 0.0),
    ],
    ids=["zeros_like", "ones_like", "full_like", "empty_like"],
)
def test_like_functions_give_new_tensors(call, value):
    x = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    out = call(x)
    assert_tensor_matches(out, np.full((2, 3), value, dtype=np.float32), exact=True)
    assert not out.requires_grad
    assert call(x, dtype=np.int64).dtype == np.int64
    assert call(x, shape=(4,)).shape == (4,) and call(x, shape=(4,)).dtype == np.float32


# ───────────────────────────── what is not supported ─────────────────────────────

T = Tensor(np.ones((2, 2)), requires_grad=True)

UNSUPPORTED = [
    (lambda: np.fft.fft(T), r"^numpy\.fft\.fft is not supported on gradwire Tensors: use t\.data / t\.numpy\(\)"),
    (lambda: np.cumsum(T), r"^numpy\.cumsum is not supported"),
    (lambda: np.sort(T), r"^numpy\.sort is not supported"),
    (lambda: np.linalg.norm(T), r"^numpy\.linalg\.norm is not supported"),
    (lambda: np.prod(T), r"^numpy\.prod is not supported"),
    (lambda: np.arctan(T), r"^numpy\.arctan is not supported.*supported_ufuncs\(\)"),
    (lambda: np.floor_divide(np.ones(2), Tensor([1.0, 2.0])), r"^numpy\.floor_divide is not supported"),
    (lambda: np.add.accumulate(T), r"^numpy\.add\.accumulate is not supported"),
    (lambda: np.multiply.reduce(T), r"^numpy\.multiply\.reduce is not supported"),
    (lambda: np.add.outer(T, T), r"^numpy\.add\.outer is not supported"),
    (lambda: np.add.at(np.zeros(2), [0], Tensor([1.0])), r"^numpy\.add\.at is not supported"),
    (lambda: np.exp(T, out=np.empty((2, 2))), r"^numpy\.exp: out= is not supported"),
    (lambda: np.add(np.ones(2), np.ones(2), out=Tensor(np.ones(2))), r"^numpy\.add: out= is not supported"),
    (lambda: np.sum(T, out=np.empty(())), r"^numpy\.sum: out= is not supported"),
    (lambda: np.concatenate([T, T], out=np.empty((4, 2))), r"^numpy\.concatenate: out= is not supported"),
    (lambda: np.add(T, 1.0, where=np.eye(2, dtype=bool)), r"^numpy\.add: where=<ndarray of shape \(2, 2\)>"),
    (lambda: np.exp(T, dtype=np.float32), r"^numpy\.exp: dtype=.*cast first with t\.astype"),
    (lambda: np.mean(T, dtype=np.float32), r"^numpy\.mean: dtype=.*supported arguments: a, axis, keepdims"),
    (lambda: np.sum(T, initial=1.0), r"^numpy\.sum: initial=1\.0 is not supported"),
    (lambda: np.max(T, where=np.eye(2, dtype=bool), initial=0.0), r"^numpy\.max: (initial|where)="),
    (lambda: np.add.reduce(T, initial=1.0), r"^numpy\.add\.reduce: initial=1\.0 is not supported"),
    (lambda: np.matmul(T, T, axes=[(0, 1), (0, 1), (0, 1)]), r"^numpy\.matmul: axes="),
    (lambda: np.reshape(T, (4,), order="F"), r"^numpy\.reshape: order='F' is not supported"),
    (lambda: np.clip(T, 0.0, 1.0, casting="unsafe"), r"^numpy\.clip: casting='unsafe' is not supported"),
    (lambda: np.clip(T, Tensor(0.0), 1.0), r"^numpy\.clip: bounds that are Tensors"),
    (lambda: np.where(T > 0), r"^numpy\.where with only a condition"),
    (lambda: np.dot(Tensor(np.ones((2, 2, 2))), T), r"^numpy\.dot of shapes \(2, 2, 2\) and \(2, 2\)"),
]


@pytest.mark.parametrize(
    ("call", "message"), UNSUPPORTED, ids=[m[1:].split(" ")[0].replace("\\", "") for _, m in UNSUPPORTED]
)
def test_what_is_not_supported_raises_a_type_error_naming_the_function(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_every_mapped_ufunc_and_function_is_tested_here():
    tested_ufuncs = {u.__name__ for u in [*UNARY, *BINARY, np.matmul, *NONDIFFERENTIABLE]}
    tested_ufuncs |= {f"{u.__name__}.reduce" for u in (np.add, np.maximum, np.minimum)}
    assert {name.removeprefix("numpy.") for name in interop.supported_ufuncs()} == tested_ufuncs
    tested = {name.split(" ")[0] for name in FUNCTIONS} | {"argmax", "argmin", "all", "any", "isclose"}
    tested |= {"shape", "ndim", "size", "allclose", "array_equal", "zeros_like", "ones_like", "full_like"}
    tested |= {"empty_like"}
    functions = [functools.reduce(getattr, name.split("."), np) for name in tested]  # np.concat is np.concatenate
    assert set(interop.supported_functions()) == {f"{f.__module__}.{f.__name__}" for f in functions}


def test_another_array_library_gets_its_turn():
    class Other:
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return "other"

        def __array_function__(self, func, types, args, kwargs):
            return "other"

    t = Tensor([1.0, 2.0])
    assert np.add(t, Other()) == "other"
    assert np.concatenate([t, Other()]) == "other"


# ───────────────────────────── masked_fill ─────────────────────────────


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is the oracle for masked_fill, tril and triu")


@pytest.mark.parametrize(
    ("shape", "mask_shape"),
    [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((3, 4), ()), ((4,), (2, 3, 4)), ((2, 1, 4), (3, 1))],
)
@pytest.mark.parametrize("value", [0.0, -math.inf, 2.5])
def test_masked_fill_matches_torch(shape, mask_shape, value):
    torch = _torch()
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape).astype(np.float32)
    mask = rng.random(mask_shape) < 0.5
    out = Tensor(a).masked_fill(mask, value)
    expected = torch.from_numpy(a).masked_fill(torch.from_numpy(np.asarray(mask)), value).numpy()
    assert_tensor_matches(out, expected, exact=True)
    assert_tensor_matches(ag.masked_fill(a, Tensor(mask), value), expected, exact=True)


def test_masked_fill_gradients_match_torch_for_self_and_a_0d_value():
    torch = _torch()
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mask = np.tril(np.ones((4, 4), dtype=bool))[:3] == 0
    x, v = leaf(a), leaf(1.5)
    (x.masked_fill(mask, v) * w).sum().backward()
    tx, tv = torch.tensor(a, requires_grad=True), torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    (tx.masked_fill(torch.from_numpy(mask), tv) * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(v.grad.data, tv.grad.numpy(), rtol=1e-12)
    assert np.all(x.grad.data[mask] == 0.0)


def test_masked_fill_keeps_the_dtype_and_casts_the_value_like_torch():
    torch = _torch()
    i = np.arange(4)
    mask = np.array([True, False, True, False])
    out = Tensor(i).masked_fill(mask, 1.7)
    assert_tensor_matches(out, torch.from_numpy(i).masked_fill(torch.from_numpy(mask), 1.7).numpy(), exact=True)
    assert Tensor(np.ones(2, dtype=np.float32)).masked_fill(np.array([True, False]), Tensor(2.0)).dtype == np.float32


@FEW
@given(data=st.data())
def test_masked_fill_gradients_first_and_second_order(data):
    shape, mask_shape = data.draw(broadcastable_shapes(2, max_side=3))
    a = data.draw(arrays(shape))
    mask = data.draw(hnp.arrays(np.bool_, mask_shape))
    value = Tensor(data.draw(st.floats(-2, 2)), requires_grad=True, dtype=np.float64)
    x = leaf(a)

    def func(y, v):
        return y.masked_fill(mask, v) * y

    assert ag.gradcheck(func, [x, value])
    assert ag.gradgradcheck(func, [x, value])


def test_masked_fill_errors():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"^masked_fill: the mask must be boolean, got float64"):
        x.masked_fill(np.ones((2, 3)), 1.0)
    with pytest.raises(ShapeError, match=r"^masked_fill: the mask of shape \(2,\) does not broadcast with shape"):
        x.masked_fill(np.array([True, False]), 1.0)
    with pytest.raises(ShapeError, match=r"^masked_fill: the value must be a number or a 0-d tensor"):
        x.masked_fill(np.ones(3, dtype=bool), Tensor([1.0, 2.0]))
    with pytest.raises(ShapeError, match=r"^masked_fill: the value must be a number or a 0-d tensor"):
        x.masked_fill(np.ones(3, dtype=bool), [1.0, 2.0, 3.0])


# ───────────────────────────── tril and triu ─────────────────────────────


@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (4, 3), (2, 3, 3), (2, 1, 3, 2)])
@pytest.mark.parametrize("diagonal", [-3, -1, 0, 1, 2])
@pytest.mark.parametrize("name", ["tril", "triu"])
def test_tril_and_triu_match_torch_and_numpy(name, shape, diagonal):
    torch = _torch()
    a = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    expected = getattr(torch, name)(torch.from_numpy(a), diagonal=diagonal).numpy()
    np.testing.assert_array_equal(expected, getattr(np, name)(a, k=diagonal))
    assert_tensor_matches(getattr(ag, name)(a, diagonal), expected, exact=True)
    assert_tensor_matches(getattr(Tensor(a), name)(diagonal=diagonal), expected, exact=True)


def test_tril_of_ones_is_the_causal_mask_and_infinities_stay_outside():
    torch = _torch()
    mask = ag.tril(ag.ones((4, 4)))
    assert_tensor_matches(mask, np.tril(np.ones((4, 4), dtype=np.float32)), exact=True)
    assert_tensor_matches(ag.triu([[1, 2], [3, 4]]), np.array([[1, 2], [0, 4]]), exact=True)
    inf = np.full((3, 3), np.inf)
    assert_tensor_matches(ag.tril(inf), torch.tril(torch.from_numpy(inf)).numpy(), exact=True)
    assert_tensor_matches(ag.triu(inf, 1), torch.triu(torch.from_numpy(inf), 1).numpy(), exact=True)


@FEW
@given(data=st.data())
def test_tril_and_triu_gradients_first_and_second_order(data):
    a = data.draw(arrays(shapes(min_dims=2, max_dims=3)))
    diagonal = data.draw(st.integers(-3, 3))
    x = leaf(a)
    for func in (lambda y: ag.tril(y, diagonal) * y, lambda y: y.triu(diagonal) * y):
        assert ag.gradcheck(func, [x])
        assert ag.gradgradcheck(func, [x])
    x.tril(diagonal).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.tril(np.ones(a.shape), diagonal))


def test_tril_and_triu_errors():
    with pytest.raises(ShapeError, match=r"^tril: needs at least 2 dimensions, got shape \(3,\)"):
        ag.tril(ag.ones(3))
    with pytest.raises(ShapeError, match=r"^triu: needs at least 2 dimensions"):
        Tensor(1.0).triu()
    with pytest.raises(TypeError, match=r"^tril: diagonal must be an int"):
        ag.tril(ag.ones((2, 2)), 0.5)


# ───────────────────────────── multinomial ─────────────────────────────


def test_multinomial_shapes_and_dtype():
    probs = Tensor([[0.2, 0.3, 0.5], [1.0, 1.0, 1.0]], requires_grad=True)
    out = ag.multinomial(probs, 2)
    assert isinstance(out, Tensor) and out.shape == (2, 2) and out.dtype == np.int64 and not out.requires_grad
    one = ag.multinomial([1.0, 2.0, 3.0, 4.0], 7, replacement=True)
    assert one.shape == (7,) and one.dtype == np.int64
    assert ((one.data >= 0) & (one.data < 4)).all()
    assert ag.multinomial(np.array([3, 0, 1]), 1).shape == (1,)  # integer weights work as well


def test_multinomial_is_reproducible_from_a_seed_or_a_generator():
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    for replacement in (True, False):
        ag.manual_seed(123)
        first = ag.multinomial(p, 4, replacement)
        ag.manual_seed(123)
        np.testing.assert_array_equal(ag.multinomial(p, 4, replacement).data, first.data)
        g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
        np.testing.assert_array_equal(
            ag.multinomial(p, 4, replacement, generator=g1).data, ag.multinomial(p, 4, replacement, generator=g2).data
        )
    ag.manual_seed(7)
    expected = ag.multinomial(p, 3, True)
    ag.manual_seed(7)
    ag.multinomial(p, 3, True, generator=np.random.default_rng(0))  # leaves the shared generator alone
    np.testing.assert_array_equal(ag.multinomial(p, 3, True).data, expected.data)
    assert isinstance(ag.manual_seed(0), np.random.Generator)


def test_multinomial_without_replacement_draws_distinct_categories():
    rng = np.random.default_rng(6)
    p = rng.random((50, 6)) + 0.01
    drawn = ag.multinomial(p, 4, generator=rng).data
    assert all(len(set(row)) == 4 for row in drawn.tolist())
    everything = ag.multinomial(p, 6, generator=rng).data
    np.testing.assert_array_equal(np.sort(everything, axis=1), np.broadcast_to(np.arange(6), (50, 6)))


def test_multinomial_never_draws_a_zero_weight_until_the_others_are_used():
    rng = np.random.default_rng(8)
    with_replacement = ag.multinomial([0.0, 1.0, 0.0, 3.0, 0.0], 5000, replacement=True, generator=rng).data
    assert set(with_replacement.tolist()) == {1, 3}
    np.testing.assert_array_equal(ag.multinomial([1.0, 0.0, 0.0], 3, generator=rng).data, [0, 1, 2])  # as torch
    assert ag.multinomial([0.0, 0.0, 5.0, 0.0], 2, generator=rng).data.tolist() == [2, 0]


def _chi_square(counts: np.ndarray, expected_p: np.ndarray) -> float:
    expected = counts.sum() * expected_p
    return float(((counts - expected) ** 2 / expected).sum())


# chi-square quantiles at 1 - 1e-4 (a fixed seed: the test is deterministic; the bound keeps it meaningful)
_CHI2_9999 = {3: 21.1, 4: 23.5}


def test_multinomial_frequencies_match_the_probabilities():
    weights = np.array([1.0, 2.0, 3.0, 4.0, 10.0])  # unnormalized, as torch allows
    p = weights / weights.sum()
    rng = np.random.default_rng(9)
    draws = ag.multinomial(weights, 40000, replacement=True, generator=rng).data
    assert _chi_square(np.bincount(draws, minlength=5), p) < _CHI2_9999[4]
    rows = ag.multinomial(np.stack([weights, weights[::-1]]), 20000, replacement=True, generator=rng).data
    assert _chi_square(np.bincount(rows[1], minlength=5), p[::-1]) < _CHI2_9999[4]
    # without replacement: the first draw follows p, the second p_j * sum_i p_i / (1 - p_i) over i != j
    pairs = ag.multinomial(np.broadcast_to(weights[:4], (40000, 4)), 2, generator=rng).data
    q = weights[:4] / weights[:4].sum()
    second = np.array([sum(q[i] * q[j] / (1 - q[i]) for i in range(4) if i != j) for j in range(4)])
    assert _chi_square(np.bincount(pairs[:, 0], minlength=4), q) < _CHI2_9999[3]
    assert _chi_square(np.bincount(pairs[:, 1], minlength=4), second) < _CHI2_9999[3]


@pytest.mark.parametrize(
    ("probs", "n", "replacement", "error", "message"),
    [
        ([0.5, -0.1, 0.6], 1, True, ValueError, r"finite and non-negative"),
        ([0.5, np.nan], 1, True, ValueError, r"finite and non-negative"),
        ([0.5, np.inf], 1, False, ValueError, r"finite and non-negative"),
        ([[0.5, 0.5], [0.0, 0.0]], 1, True, ValueError, r"a row of probabilities sums to 0 \(row 1\)"),
        ([0.5, 0.5], 3, False, ValueError, r"cannot draw 3 samples without replacement from 2 categories"),
        ([0.5, 0.5], 0, True, ValueError, r"num_samples must be at least 1"),
        ([0.5, 0.5], 1.0, True, TypeError, r"num_samples must be an int"),
        (0.5, 1, True, ShapeError, r"probs must be 1-D or 2-D, got shape \(\)"),
        (np.ones((2, 2, 2)), 1, True, ShapeError, r"probs must be 1-D or 2-D"),
        (np.ones((2, 0)), 1, True, ShapeError, r"has no categories"),
        ([True, False], 1, True, TypeError, r"must be real numbers, got bool"),
    ],
)
def test_multinomial_errors(probs, n, replacement, error, message):
    with pytest.raises(error, match=r"^multinomial: .*" + message):
        ag.multinomial(probs, n, replacement)


def test_multinomial_refuses_a_generator_of_another_kind():
    with pytest.raises(TypeError, match=r"generator must be a numpy\.random\.Generator"):
        ag.multinomial([1.0, 1.0], 1, generator=np.random.RandomState(0))


def test_multinomial_with_replacement_may_draw_more_samples_than_categories():
    assert ag.multinomial([1.0, 1.0], 10, replacement=True).shape == (10,)


# ───────────────────────────── full_like and the exports ─────────────────────────────


def test_full_like():
    x = Tensor(np.zeros((2, 3), dtype=np.float32))
    out = ag.full_like(x, 2.5)
    assert_tensor_matches(out, np.full((2, 3), 2.5, dtype=np.float32), exact=True)
    assert ag.full_like([[1, 2]], 7).dtype == np.int64
    assert ag.full_like(x, 1, dtype=np.float64).dtype == np.float64
    assert ag.full_like(x, 1.0, requires_grad=True).requires_grad


def test_the_new_names_are_exported():
    for name in ("full_like", "manual_seed", "masked_fill", "multinomial", "tril", "triu"):
        assert name in ag.__all__ and callable(getattr(ag, name))
