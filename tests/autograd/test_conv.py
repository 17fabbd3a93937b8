"""Convolution and pooling against PyTorch: `nn.functional`'s conv2d, conv1d, max_pool2d, avg_pool2d, pad, unfold, fold.

The op spec table (`op_specs.py`) checks each primitive of `autograd.conv` against a NumPy
loop (forward, gradcheck, gradgradcheck). Here PyTorch is the oracle for what users call:
forwards and the gradients of input, weight and bias in float64 over hypothesis-drawn
configurations (strides, padding including "same", dilations, groups, non-square kernels,
batches of one, with and without bias), the tie rule of max_pool2d (exactly PyTorch's), and
the error messages.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_specs import SPECS, draw_inputs, every_window_reads_input

import autograd
import autograd.conv
import nn.functional as F
from autograd import ShapeError, Tensor
from autograd.primitive import REGISTRY

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for convolution and pooling (gradwire[oracle])")
TF = torch.nn.functional
# PyTorch warns that it copies the input for padding="same" with an even kernel (so do we, through pad)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

TOL = {"rtol": 1e-10, "atol": 1e-10}


def leaf(array: np.ndarray) -> Tensor:
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def as_torch(array: np.ndarray):
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def both_ways(ours, theirs, arrays: list, upstream_seed: int = 0) -> None:
    """Forward values and the gradients of every input (upstream: random) agree with PyTorch's."""
    mine = [leaf(a) for a in arrays]
    reference = [as_torch(a) for a in arrays]
    out, expected = ours(*mine), theirs(*reference)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **TOL)
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape)
    grads = autograd.grad(out, mine, [upstream])
    expected_grads = torch.autograd.grad(expected, reference, torch.tensor(upstream))
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        np.testing.assert_allclose(g.numpy(), e.numpy(), **TOL, err_msg=f"gradient of input {i}")


LAYOUTS = ["nchw", "batch-innermost"]


@contextlib.contextmanager
def layout(kind: str):
    """Run with `autograd.conv` laying batches out as (N, C, H, W) or batch-innermost (C, H, W, N) in memory.

    `unfold` lays out batches of at least ``autograd.conv.BATCH_INNERMOST`` images of few channels
    batch-innermost; the tests' batches are small, so "batch-innermost" lowers the thresholds to 1
    image of any number of channels (and "nchw" raises them).
    """
    saved = autograd.conv.BATCH_INNERMOST, autograd.conv.BATCH_INNERMOST_CHANNELS
    autograd.conv.BATCH_INNERMOST = 1 if kind == "batch-innermost" else 10**9
    autograd.conv.BATCH_INNERMOST_CHANNELS = 10**9
    try:
        yield
    finally:
        autograd.conv.BATCH_INNERMOST, autograd.conv.BATCH_INNERMOST_CHANNELS = saved


def int_or_pair(draw: st.DrawFn, values: st.SearchStrategy, dims: int) -> int | tuple:
    """An int, or a tuple of ``dims`` ints (both spellings PyTorch accepts)."""
    if draw(st.booleans()):
        return draw(values)
    return tuple(draw(values) for _ in range(dims))


def per_axis(value: int | tuple, dims: int) -> tuple:
    return (value,) * dims if isinstance(value, int) else value


# ───────────────────────────── convolutions ─────────────────────────────


@st.composite
def conv_configs(draw: st.DrawFn, dims: int = 2) -> dict:
    """A convolution: shapes of input, weight and bias (or None), and stride, padding, dilation, groups."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = int_or_pair(draw, st.integers(1, 3), dims)
    dilation = int_or_pair(draw, st.integers(1, 2), dims)
    kind = draw(st.sampled_from(["number", "number", "valid", "same"]))
    if kind == "same" and all(s == 1 for s in per_axis(stride, dims)):
        padding, pads = "same", (0,) * dims
    elif kind == "valid":
        padding, pads = "valid", (0,) * dims
    else:
        padding = int_or_pair(draw, st.integers(0, 2), dims)
        pads = per_axis(padding, dims)
    spans = [d * (k - 1) + 1 for d, k in zip(per_axis(dilation, dims), kernel)]
    spatial = tuple(draw(st.integers(max(1, span - 2 * p), 7)) for span, p in zip(spans, pads))
    return {
        "x": (draw(st.integers(1, 3)), c_in, *spatial),
        "weight": (c_out, c_in // groups, *kernel),
        "bias": (c_out,) if draw(st.booleans()) else None,
        "options": {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups},
    }


def check_conv(config: dict, ours, theirs, seed: int) -> None:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(config["x"]), rng.standard_normal(config["weight"])]
    if config["bias"] is not None:
        arrays.append(rng.standard_normal(config["bias"]))
    options = config["options"]
    both_ways(
        lambda *ts: ours(*ts[:2], ts[2] if len(ts) == 3 else None, **options),
        lambda *ts: theirs(*ts[:2], ts[2] if len(ts) == 3 else None, **options),
        arrays,
        seed,
    )


@pytest.mark.parametrize("kind", LAYOUTS)
@settings(max_examples=60, deadline=None)
@given(config=conv_configs(), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(kind, config, seed):
    with layout(kind):
        check_conv(config, F.conv2d, TF.conv2d, seed)


@pytest.mark.parametrize("kind", LAYOUTS)
@settings(max_examples=40, deadline=None)
@given(config=conv_configs(dims=1), seed=st.integers(0, 2**16))
def test_conv1d_matches_torch(kind, config, seed):
    with layout(kind):
        check_conv(config, F.conv1d, TF.conv1d, seed)


@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize(
    "shape, weight, options",
    [
        ((2, 4, 5, 6), (4, 2, 2, 3), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
        ((1, 2, 4, 4), (3, 2, 2, 2), {"padding": "same"}),
    ],
    ids=["strided-grouped-dilated", "same-even-kernel"],
)
def test_conv2d_second_order(kind, shape, weight, options):
    with layout(kind):
        rng = np.random.default_rng(1)
        x, w, b = (
            leaf(rng.standard_normal(shape)),
            leaf(rng.standard_normal(weight)),
            leaf(rng.standard_normal(weight[0])),
        )
        assert autograd.gradgradcheck(lambda *ts: F.conv2d(*ts, **options), [x, w, b])


def test_conv2d_records_one_im2col_and_one_product():
    x, w = leaf(np.ones((2, 3, 5, 5))), leaf(np.ones((4, 3, 3, 3)))
    out = F.conv2d(x, w, leaf(np.zeros(4)), padding=1)
    names, node, stack = [], None, [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and not node.is_leaf:
            names.append(node.name)
            stack.extend(node.parents)
    assert sorted(names) == ["conv2d_matmul", "unfold"]
    (gx,) = autograd.grad(out, [x], [np.ones(out.shape)], create_graph=True)
    assert gx.grad_fn.name == "fold"  # the input gradient: a col2im of the product's gradient


def test_conv1d_and_conv2d_agree():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 9)), rng.standard_normal((4, 3, 3))
    one = F.conv1d(Tensor(x), Tensor(w), stride=2, padding=1, dilation=2)
    two = F.conv2d(Tensor(x[:, :, None]), Tensor(w[:, :, None]), stride=(1, 2), padding=(0, 1), dilation=(1, 2))
    np.testing.assert_allclose(one.numpy(), two.numpy()[:, :, 0], **TOL)


@pytest.mark.parametrize("kind", LAYOUTS)
def test_strided_views_convolve_like_their_copies(kind):
    with layout(kind):
        view = np.random.default_rng(5).standard_normal((2, 3, 6, 5)).transpose(0, 1, 3, 2)[:, :, ::-1]
        w = np.random.default_rng(6).standard_normal((4, 3, 3, 2))
        for padding in (0, 1):
            out = F.conv2d(Tensor(view), Tensor(w), padding=padding)
            np.testing.assert_array_equal(
                out.numpy(), F.conv2d(Tensor(view.copy()), Tensor(w), padding=padding).numpy()
            )


@pytest.mark.parametrize("kind", LAYOUTS)
def test_unbatched_inputs_match_torch(kind):
    with layout(kind):
        rng = np.random.default_rng(3)
        x, w = rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 3, 2))
        both_ways(lambda a, b: F.conv2d(a, b, padding=1), lambda a, b: TF.conv2d(a, b, padding=1), [x, w])
        both_ways(lambda a: F.max_pool2d(a, 2), lambda a: TF.max_pool2d(a, 2), [x])
        both_ways(lambda a: F.avg_pool2d(a, 2, 1), lambda a: TF.avg_pool2d(a, 2, 1), [x])
        both_ways(lambda a, b: F.conv1d(a, b), lambda a, b: TF.conv1d(a, b), [x[:, 0], w[:, :, 0]])


@pytest.mark.parametrize("kind", LAYOUTS)
@pytest.mark.parametrize("op", ["conv2d", "max_pool2d", "avg_pool2d"])
def test_float32_stays_float32(kind, op):
    with layout(kind):
        rng = np.random.default_rng(4)
        x = rng.standard_normal((2, 3, 6, 6))
        w = rng.standard_normal((4, 3, 3, 3))
        calls = {
            "conv2d": lambda t, dtype: F.conv2d(t, Tensor(w.astype(dtype)), Tensor(np.ones(4, dtype)), padding=1),
            "max_pool2d": lambda t, dtype: F.max_pool2d(t, 3, 2, 1),
            "avg_pool2d": lambda t, dtype: F.avg_pool2d(t, 3, 2, 1),
        }
        x32 = Tensor(x.astype(np.float32), requires_grad=True)
        out = calls[op](x32, np.float32)
        assert out.dtype == np.float32
        (g,) = autograd.grad(out, [x32], [np.ones(out.shape, np.float32)])
        assert g.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), calls[op](Tensor(x), np.float64).numpy(), rtol=1e-5, atol=1e-5)


# ───────────────────────────── pooling ─────────────────────────────


@st.composite
def pool_configs(draw: st.DrawFn, dilated: bool = True) -> dict:
    """Pool options in PyTorch's spellings (stride None: the kernel) and an image in which every window reads input."""
    kernel = int_or_pair(draw, st.integers(1, 3), 2)
    ks = per_axis(kernel, 2)
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in ks)
    dilation = int_or_pair(draw, st.integers(1, 2), 2) if dilated else 1
    spans = [d * (k - 1) + 1 for d, k in zip(per_axis(dilation, 2), ks)]
    hw = tuple(draw(st.integers(max(1, span - 2 * p), 7)) for span, p in zip(spans, padding))
    options = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": draw(st.booleans())}
    if dilated:
        # A dilated window can lie wholly in the padding: -inf, and PyTorch's CPU kernel then sends its
        # gradient out of the plane (into the next channel's first element); such windows are tested apart.
        steps = per_axis(ks if stride is None else stride, 2)
        geometry = {"kernel_size": ks, "stride": steps, "padding": padding, "ceil_mode": options["ceil_mode"]}
        options["dilation"] = tuple(
            d if every_window_reads_input(hw[a], a, {**geometry, "dilation": (d, d)}) else 1
            for a, d in enumerate(per_axis(dilation, 2))
        )
    return {"x": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw), "options": options}


@pytest.mark.parametrize("kind", LAYOUTS)
@settings(max_examples=60, deadline=None)
@given(config=pool_configs(), ties=st.booleans(), seed=st.integers(0, 2**16))
def test_max_pool2d_matches_torch_ties_included(kind, config, ties, seed):
    """Values from {0, 1, 2} tie everywhere: the gradient goes where PyTorch's CPU kernel sends it, exactly."""
    with layout(kind):
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 3, config["x"]).astype(np.float64) if ties else rng.standard_normal(config["x"])
        options = config["options"]
        out, indices = F.max_pool2d(Tensor(x), **options, return_indices=True)
        expected, expected_indices = TF.max_pool2d(torch.tensor(x), **options, return_indices=True)
        finite = np.isfinite(expected.numpy())  # a window of padding only is -inf in both, with no gradient
        np.testing.assert_array_equal(out.numpy(), expected.numpy())
        np.testing.assert_array_equal(indices.numpy()[finite], expected_indices.numpy()[finite])
        assert indices.dtype == np.int64
        both_ways(lambda t: F.max_pool2d(t, **options), lambda t: TF.max_pool2d(t, **options), [x], seed)


@pytest.mark.parametrize("kind", LAYOUTS)
def test_max_pool2d_tie_goes_to_the_first_maximum_in_row_major_order(kind):
    with layout(kind):
        x = leaf(
            [
                [
                    [
                        [1.0, 5.0, 5.0, 0.0],
                        [5.0, 5.0, 2.0, 0.0],
                        [0.0, 7.0, 7.0, 7.0],
                        [7.0, 7.0, 1.0, 7.0],
                    ]
                ]
            ]
        )
        out = F.max_pool2d(x, 2, stride=1)
        (g,) = autograd.grad(out, [x], [np.ones(out.shape)])
        np.testing.assert_array_equal(out.numpy()[0, 0], [[5, 5, 5], [7, 7, 7], [7, 7, 7]])
        # (0, 0) = [[1, 5], [5, 5]] ties three ways and (0, 1) = [[5, 5], [5, 2]] too: both pick (0, 1), the first;
        # the four windows over rows 1-3 and columns 0-2 holding a 7 at (2, 1) pick it, never (3, 0) or (3, 1),
        # and (1, 2) = [[2, 0], [7, 7]] and (2, 2) = [[7, 7], [1, 7]] pick (2, 2), never (2, 3) or (3, 3)
        expected = [
            [0.0, 2.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 4.0, 2.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
        np.testing.assert_array_equal(g.numpy()[0, 0], expected)
        both_ways(lambda t: F.max_pool2d(t, 2, stride=1), lambda t: TF.max_pool2d(t, 2, stride=1), [x.numpy()])


@pytest.mark.parametrize("kind", LAYOUTS)
def test_max_pool2d_nan_and_padding_only_windows_as_torch(kind):
    with layout(kind):
        nan = np.nan
        x = np.array([[[[1.0, nan, 3.0], [nan, 2.0, 0.0], [4.0, 4.0, -np.inf]]]])
        for options in ({"kernel_size": 2, "stride": 1}, {"kernel_size": 3, "stride": 1, "padding": 1}):
            mine, theirs = leaf(x), as_torch(x)
            out, expected = F.max_pool2d(mine, **options), TF.max_pool2d(theirs, **options)
            np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())  # NaN where torch has NaN
            (g,) = autograd.grad(out, [mine], [np.ones(out.shape)])
            (e,) = torch.autograd.grad(expected, [theirs], torch.ones(expected.shape, dtype=torch.float64))
            np.testing.assert_array_equal(g.numpy(), e.numpy())
        # a dilated window that lies wholly in the padding: -inf and no gradient, as PyTorch
        one = leaf(np.ones((1, 1, 1, 1)))
        out = F.max_pool2d(one, (2, 1), 1, (1, 0), (2, 1))
        assert out.numpy().item() == -np.inf
        (g,) = autograd.grad(out, [one], [np.ones(out.shape)])
        assert g.numpy().item() == 0.0


@pytest.mark.parametrize("kind", LAYOUTS)
@settings(max_examples=60, deadline=None)
@given(
    config=pool_configs(dilated=False),
    count_include_pad=st.booleans(),
    divisor_override=st.sampled_from([None, None, 3]),
    seed=st.integers(0, 2**16),
)
def test_avg_pool2d_matches_torch(kind, config, count_include_pad, divisor_override, seed):
    with layout(kind):
        options = {**config["options"], "count_include_pad": count_include_pad, "divisor_override": divisor_override}
        x = np.random.default_rng(seed).standard_normal(config["x"])
        both_ways(lambda t: F.avg_pool2d(t, **options), lambda t: TF.avg_pool2d(t, **options), [x], seed)


# ───────────────────────────── padding, unfold and fold ─────────────────────────────


@st.composite
def pad_configs(draw: st.DrawFn) -> tuple:
    """A shape, amounts for its trailing axes (negative ones crop, never below one element) and a value."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    amounts = []
    for axis in reversed(range(len(shape) - draw(st.integers(1, len(shape))), len(shape))):
        before = draw(st.integers(-(shape[axis] - 1), 3))
        amounts += [before, draw(st.integers(-(shape[axis] - 1 - max(-before, 0)), 3))]
    return shape, tuple(amounts), draw(st.sampled_from([0.0, 1.5, -3.0]))


@settings(max_examples=50, deadline=None)
@given(config=pad_configs(), seed=st.integers(0, 2**16))
def test_pad_matches_torch(config, seed):
    shape, amounts, value = config
    x = np.random.default_rng(seed).standard_normal(shape)
    both_ways(lambda t: F.pad(t, amounts, value=value), lambda t: TF.pad(t, amounts, value=value), [x], seed)


def test_pad_gradient_is_the_slice_and_every_order_works():
    x = leaf(np.arange(6.0).reshape(2, 3))
    out = F.pad(x, (1, 2, 0, 1), value=9.0)
    assert out.shape == (3, 6)
    upstream = np.arange(18.0).reshape(3, 6)
    (g,) = autograd.grad(out, [x], [upstream])
    np.testing.assert_array_equal(g.numpy(), upstream[:2, 1:4])
    assert autograd.gradgradcheck(lambda t: F.pad(t, (1, -1, 2, 0)), [x])


def test_pad_then_crop_where_torch_refuses_to_crop_first():
    # PyTorch crops the input first and refuses (2, -2) on one element; the result is pad-then-crop either way
    x = leaf([4.0])
    out = F.pad(x, (2, -2), value=7.0)
    np.testing.assert_array_equal(out.numpy(), [7.0])
    (g,) = autograd.grad(out, [x], [np.ones(1)])
    np.testing.assert_array_equal(g.numpy(), [0.0])


@pytest.mark.parametrize("kind", LAYOUTS)
@settings(max_examples=40, deadline=None)
@given(
    config=pool_configs(),
    channels=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_unfold_and_fold_match_torch(kind, config, channels, seed):
    with layout(kind):
        n, _, h, w = config["x"]
        options = config["options"]
        geometry = {
            "kernel_size": options["kernel_size"],
            "dilation": options["dilation"],
            "padding": options["padding"],
            "stride": options["stride"] or 1,
        }
        x = np.random.default_rng(seed).standard_normal((n, channels, h, w))
        both_ways(lambda t: F.unfold(t, **geometry), lambda t: TF.unfold(t, **geometry), [x], seed)
        cols = TF.unfold(torch.tensor(x), **geometry).numpy()
        both_ways(
            lambda t: F.fold(t, (h, w), **geometry), lambda t: TF.fold(t, (h, w), **geometry), [cols * 0.5 + 1.0], seed
        )


# ───────────────────────────── memory layout ─────────────────────────────

CONV_SPECS = [spec for spec in SPECS if REGISTRY[spec.name].forward.__module__ == "autograd.conv"]


@pytest.mark.parametrize("spec", CONV_SPECS, ids=[spec.name for spec in CONV_SPECS])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_primitives_in_the_batch_innermost_layout(spec, data):
    """The op table's checks (`test_ops.py`) again, with every batch laid out batch-innermost."""
    with layout("batch-innermost"):
        shapes_, attrs = data.draw(spec.cases, label="shapes, attributes")
        xs = [batch_innermost_copy(x) for x in draw_inputs(data, spec, shapes_)]
        expected = spec.reference(*[x.numpy() for x in xs], **attrs)
        np.testing.assert_allclose(spec.call(*xs, **attrs).numpy(), expected, rtol=1e-12, atol=1e-12)
        assert autograd.gradcheck(functools.partial(spec.call, **attrs), xs)
        assert autograd.gradgradcheck(functools.partial(spec.call, **attrs), xs)


def batch_innermost_copy(t: Tensor) -> Tensor:
    """``t`` with the same values, laid out batch-innermost in memory when it has a batch of several."""
    a = t.data
    if a.ndim < 3 or a.shape[0] < 2:
        return t
    order = (*range(1, a.ndim), 0)
    moved = np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))
    assert autograd.conv.batch_innermost(moved) or a.size == a.shape[0]  # (N, 1, 1): both layouts at once
    return Tensor(moved, requires_grad=t.requires_grad)


def test_a_batch_stays_batch_innermost_from_conv_to_flatten():
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((16, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(4, np.float32), requires_grad=True)
    assert autograd.conv.BATCH_INNERMOST <= 16
    h = F.conv2d(x, w, b, padding=1)
    assert h.shape == (16, 4, 8, 8) and autograd.conv.batch_innermost(h.data)
    h = F.max_pool2d(h.relu(), 2)
    assert autograd.conv.batch_innermost(h.data)
    h = F.conv2d(h, w[:, :1].detach().reshape(4, 1, 3, 3).broadcast_to((4, 4, 3, 3)), padding="same")
    assert autograd.conv.batch_innermost(h.data)
    flat = F.flatten(F.avg_pool2d(h, 2))
    assert flat.data.flags.f_contiguous  # a view: (N, C H W) with the batch innermost, as BLAS takes it
    flat.sum().backward()
    for t_ in (x, w, b):
        assert t_.grad.data.flags.c_contiguous and t_.grad.dtype == np.float32
    with layout("nchw"):
        x2, w2 = Tensor(x.numpy(), requires_grad=True), Tensor(w.numpy(), requires_grad=True)
        h2 = F.conv2d(x2, w2, b.detach(), padding=1)
        assert h2.data.flags.c_contiguous
        h2 = F.conv2d(
            F.max_pool2d(h2.relu(), 2), w[:, :1].detach().reshape(4, 1, 3, 3).broadcast_to((4, 4, 3, 3)), padding="same"
        )
        F.flatten(F.avg_pool2d(h2, 2)).sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w2.grad.numpy(), w.grad.numpy(), rtol=1e-4, atol=1e-4)


# ───────────────────────────── errors ─────────────────────────────


def t(*shape: int) -> Tensor:
    return Tensor(np.zeros(shape))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 2, 3, 3)), ShapeError, r"conv2d: input of shape \(1, 3, 5, 5\) has 3 "),
        (lambda: F.conv2d(t(1, 4, 5, 5), t(6, 2, 3, 3), groups=3), ShapeError, r"groups=3 must divide both"),
        (lambda: F.conv2d(t(1, 3, 2, 5), t(4, 3, 3, 3)), ShapeError, r"conv2d: kernel \(3, 3\) is larger"),
        (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), dilation=3), ShapeError, r"dilated to \(7, 7\)"),
        (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), t(3)), ShapeError, r"conv2d: bias has shape \(3,\)"),
        (lambda: F.conv2d(t(3, 5, 5, 1, 1), t(4, 3, 3, 3)), ShapeError, r"conv2d: expected an input of shape"),
        (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3)), ShapeError, r"conv2d: expected input \(N, C_in, H, W\)"),
        (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), stride=2, padding="same"), ValueError, r"needs stride 1"),
        (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), padding="full"), ValueError, r"'valid' or 'same'"),
        (lambda: F.conv2d(t(1, 3, 5, 5), t(4, 3, 3, 3), stride=0), ValueError, r"conv2d: stride must be at least 1"),
        (lambda: F.conv1d(t(2, 3, 4), t(5, 2, 3)), ShapeError, r"conv1d: input of shape \(2, 3, 4\) has 3 channels"),
        (lambda: F.conv1d(t(2, 3, 2), t(5, 3, 3)), ShapeError, r"conv1d: kernel 3 \(dilated to 3\) is larger"),
        (lambda: F.max_pool2d(t(1, 1, 4, 4), 2, padding=2), ValueError, r"at most half the kernel size"),
        (lambda: F.max_pool2d(t(1, 1, 1, 4), 3), ShapeError, r"max_pool2d: kernel \(3, 3\) is larger"),
        (lambda: F.avg_pool2d(t(4, 4), 2), ShapeError, r"avg_pool2d: expected an input of shape"),
        (lambda: F.pad(t(2, 3), (1, 2, 3)), ShapeError, r"pad: expected an even number of amounts"),
        (lambda: F.pad(t(2, 3), (-2, -2)), ShapeError, r"leave axis 1 of shape \(2, 3\) with size -1"),
        (lambda: F.pad(t(2, 3), (1, 1), mode="reflect"), NotImplementedError, r"only mode='constant'"),
        (lambda: F.fold(t(1, 5, 4), (3, 3), 2), ShapeError, r"fold: expected columns of shape"),
        (lambda: F.fold(t(1, 4, 5), (3, 3), 2), ShapeError, r"hold 5 blocks"),
        (
            lambda: autograd.conv.conv2d_matmul((t(1, 5, 4), t(2, 1, 2, 2)), (2, 2), 1),
            ShapeError,
            r"conv2d_matmul: columns, weight \(and bias\) of shapes \(1, 5, 4\), \(2, 1, 2, 2\) do not fit",
        ),
    ],
)
def test_errors_name_the_op_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()
