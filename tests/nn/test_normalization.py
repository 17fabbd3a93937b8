"""`nn.BatchNorm1d` and `nn.BatchNorm2d` against PyTorch: outputs, running statistics, buffers, gradients.

PyTorch is the oracle: both modules see the same batches in float64, and the outputs, the
running statistics after every batch (biased variance to normalise, unbiased for
``running_var``), ``num_batches_tracked``, the evaluation-mode output and the gradients of
the input, ``weight`` and ``bias`` are compared to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for batch normalization (gradwire[oracle])")

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd import ShapeError  # noqa: E402

TOL = 1e-10
SHAPES = {  # (ours, PyTorch's, input shape)
    "1d-NC": (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 3)),
    "1d-NCL": (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5)),
    "2d-NCHW": (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 6)),
}


def pair(case: str, **options):
    ours, theirs, shape = SHAPES[case]
    t = theirs(shape[1], dtype=torch.float64, **options)
    m = ours(shape[1], dtype=np.float64, **options)
    return m, t, shape


def randomize_affine(m, t, seed: int = 0) -> None:
    """Give both the same random weight and bias (they start as ones and zeros)."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name in ("weight", "bias"):
            if getattr(t, name) is not None:
                value = rng.standard_normal(t.num_features) * 0.5 + (1.0 if name == "weight" else 0.0)
                getattr(t, name).copy_(torch.tensor(value))
                getattr(m, name).data[...] = value


def batches(shape, count: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    for _ in range(count):  # channels with different means and scales
        yield rng.standard_normal(shape) * np.linspace(0.5, 3.0, shape[1]).reshape(1, -1, *([1] * (len(shape) - 2))) + 2


def assert_close(ours, theirs, what: str = "") -> None:
    ours = ours.data if isinstance(ours, ag.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL, err_msg=what)


def assert_same_stats(m, t, what: str = "") -> None:
    assert_close(m.running_mean, t.running_mean, f"running_mean {what}")
    assert_close(m.running_var, t.running_var, f"running_var {what}")
    assert int(m.num_batches_tracked.data) == int(t.num_batches_tracked), what


# ───────────── state: names, buffers, repr ─────────────


@pytest.mark.parametrize(
    "options",
    [{}, {"affine": False}, {"track_running_stats": False}, {"bias": False}, {"momentum": None}],
    ids=["default", "no-affine", "no-stats", "no-bias", "cumulative"],
)
@pytest.mark.parametrize("case", ["1d-NC", "2d-NCHW"])
def test_state_dict_keys_shapes_dtypes_and_repr_equal_pytorchs(case, options):
    m, t, _ = pair(case, **options)
    theirs = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in t.state_dict().items()}
    ours = {k: (v.shape, str(v.dtype)) for k, v in m.state_dict().items()}
    assert list(ours.items()) == list(theirs.items())
    assert repr(m) == repr(t)
    assert [name for name, _ in m.named_parameters()] == [name for name, _ in t.named_parameters()]


def test_buffers_are_not_parameters_and_default_to_float32():
    bn = nn.BatchNorm2d(4)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.dtype == np.int64
    assert bn.num_batches_tracked.shape == ()
    out = bn(np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32))
    assert out.dtype == np.float32 and not bn.running_mean.requires_grad


def test_weights_and_running_statistics_load_from_pytorch():
    m, t, shape = pair("2d-NCHW")
    randomize_affine(m, t)
    for x in batches(shape, 3):
        t(torch.tensor(x))
    m.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert_same_stats(m, t, "after loading")
    m.eval()
    t.eval()
    x = next(batches(shape, 1, seed=9))
    assert_close(m(ag.Tensor(x)), t(torch.tensor(x)), "evaluation output")


# ───────────── training: outputs and running statistics; evaluation ─────────────


@pytest.mark.parametrize("momentum", [0.1, 0.3, None], ids=["momentum0.1", "momentum0.3", "cumulative"])
@pytest.mark.parametrize("case", SHAPES)
def test_training_outputs_running_stats_and_evaluation_equal_pytorchs(case, momentum):
    m, t, shape = pair(case, momentum=momentum)
    randomize_affine(m, t)
    for i, x in enumerate(batches(shape, 4)):
        assert_close(m(ag.Tensor(x)), t(torch.tensor(x)), f"training output, batch {i}")
        assert_same_stats(m, t, f"after batch {i}")
    assert int(m.num_batches_tracked.data) == 4
    m.eval()
    t.eval()
    x = next(batches(shape, 1, seed=7))
    assert_close(m(ag.Tensor(x)), t(torch.tensor(x)), "evaluation output")
    assert int(m.num_batches_tracked.data) == 4  # evaluation changes nothing
    assert_same_stats(m, t, "after evaluation")


def test_the_running_variance_is_unbiased_and_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    xs = list(batches((6, 2), 3))
    for x in xs:
        bn(x)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(0) for x in xs], axis=0), atol=1e-12)
    # the running variance starts at 1 and averages the UNBIASED batch variances with it
    np.testing.assert_allclose(bn.running_var.data, np.mean([x.var(0, ddof=1) for x in xs], axis=0), atol=1e-12)
    one = nn.BatchNorm1d(2, momentum=1.0, dtype=np.float64)
    y = one(xs[0])
    np.testing.assert_allclose(one.running_var.data, xs[0].var(0, ddof=1), atol=1e-12)
    # ... while the output is normalised with the BIASED one
    np.testing.assert_allclose(y.data, (xs[0] - xs[0].mean(0)) / np.sqrt(xs[0].var(0) + 1e-5), atol=1e-12)


@pytest.mark.parametrize("case", ["1d-NCL", "2d-NCHW"])
def test_without_running_stats_the_batch_statistics_are_used_in_both_modes(case):
    m, t, shape = pair(case, track_running_stats=False)
    randomize_affine(m, t)
    for mode in ("train", "eval"):
        getattr(m, mode)()
        getattr(t, mode)()
        x = next(batches(shape, 1))
        assert_close(m(ag.Tensor(x)), t(torch.tensor(x)), f"{mode} mode")
    assert m.running_mean is None and "running_mean" not in m.state_dict()


# ───────────── gradients ─────────────


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("case", SHAPES)
def test_gradients_equal_pytorchs(case, training):
    m, t, shape = pair(case)
    randomize_affine(m, t)
    for x in batches(shape, 2):  # running statistics that are not the initial ones
        m(x)
        t(torch.tensor(x))
    m.train(training)
    t.train(training)
    x = next(batches(shape, 1, seed=3))
    upstream = np.random.default_rng(4).standard_normal(shape)
    ours_x, theirs_x = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (m(ours_x) * upstream).sum().backward()
    (t(theirs_x) * torch.tensor(upstream)).sum().backward()
    assert_close(ours_x.grad, theirs_x.grad, "d / d input")
    assert_close(m.weight.grad, t.weight.grad, "d / d weight")
    assert_close(m.bias.grad, t.bias.grad, "d / d bias")


@pytest.mark.parametrize("case", SHAPES)
def test_gradcheck_through_the_batch_statistics(case):
    m, _, shape = pair(case)
    randomize_affine(m, torch.nn.BatchNorm1d(shape[1], dtype=torch.float64))
    x = ag.Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    assert nn.gradcheck_module(m, x, eval_mode=False)  # training mode: gradients through mean and variance
    assert nn.gradcheck_module(m, x)  # evaluation mode: the running statistics are constants


def test_second_order_gradients_through_the_batch_statistics():
    bn = nn.BatchNorm1d(2, dtype=np.float64)
    randomize_affine(bn, torch.nn.BatchNorm1d(2, dtype=torch.float64))
    x = ag.Tensor(np.random.default_rng(0).standard_normal((4, 2, 3)), requires_grad=True)
    assert ag.gradgradcheck(bn, [x])


# ───────────── errors ─────────────


def test_a_training_batch_of_one_value_per_channel_is_refused_as_in_pytorch():
    for shape in ((1, 3), (1, 3, 1)):
        bn, t = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
        x = np.ones(shape, dtype=np.float32)
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when training") as ours:
            bn(x)
        with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
            t(torch.tensor(x))
        assert str(shape) in str(ours.value)
        assert int(bn.num_batches_tracked.data) == int(t.num_batches_tracked)  # both counted it, as PyTorch does
        bn.eval()
        bn(x)  # evaluation uses the running statistics: one sample is fine
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm2d(3, track_running_stats=False).eval()(np.ones((1, 3, 1, 1), dtype=np.float32))


def test_wrong_rank_channels_and_dtype_are_clear_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(np.zeros((2, 3, 4, 5), dtype=np.float32))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(np.zeros((2, 3, 4), dtype=np.float32))
    with pytest.raises(ShapeError, match="expected 3 channels on axis 1, got 4"):
        nn.BatchNorm2d(3)(np.zeros((2, 4, 5, 5), dtype=np.float32))
    with pytest.raises(TypeError, match="floating-point"):
        nn.BatchNorm1d(3)(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm1d(0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=1.5)
