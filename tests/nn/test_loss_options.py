"""Loss options against PyTorch: class weights, label smoothing, ignore_index, soft targets, pos_weight.

PyTorch is the oracle: every value and every gradient (with respect to the input, and to
soft targets and BCE targets, which PyTorch makes differentiable) must match it in float64
to ~1e-10, over hypothesis-drawn shapes ``(N, C)``, ``(N, T, C)`` and unbatched ``(C,)``,
class weights, ignored positions, smoothings and all three reductions. gradwire keeps the
class axis LAST; torch gets it moved to axis 1. Then gradcheck and gradgradcheck of each
option path, and the error messages.

Every test turns warnings into errors, so a NumPy RuntimeWarning leaking from a loss fails it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn.functional as F
from autograd import Tensor, gradcheck, gradgradcheck

torch = pytest.importorskip("torch", reason="PyTorch is the test oracle for loss semantics")
TF = torch.nn.functional

pytestmark = pytest.mark.filterwarnings("error")

ORACLE = settings(max_examples=60, deadline=None)
TOL = {"rtol": 1e-10, "atol": 1e-10}
REDUCTIONS = ["mean", "sum", "none"]


def leaf(array) -> Tensor:
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def torch_leaf(array, requires_grad: bool = True):
    return torch.tensor(np.array(array, dtype=np.float64), requires_grad=requires_grad)


def classes_to_axis_1(t):
    """gradwire's (N, T, C) as PyTorch's (N, C, T); (C,) and (N, C) already agree."""
    return t.movedim(-1, 1) if t.ndim > 2 else t


def upstream_of(shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def backward_both(ours: Tensor, theirs, seed: int) -> None:
    """Backpropagate the same random projection of both outputs."""
    g = upstream_of(ours.shape, seed)
    (ours * Tensor(g)).sum().backward()
    (theirs * torch.tensor(g)).sum().backward()


def assert_matches(ours: Tensor, theirs) -> None:
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours.data, expected, **TOL)


# ───────────────────────────── cross_entropy: class indices ─────────────────────────────


@st.composite
def class_index_cases(draw):
    """Logits (lead..., C), integer targets (lead...) with some ignored, and the loss options."""
    lead = draw(st.sampled_from(["unbatched", "N", "N,T"]))
    n, t, c = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    shape = {"unbatched": (), "N": (n,), "N,T": (n, t)}[lead]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.standard_normal((*shape, c)) * draw(st.sampled_from([1.0, 5.0, 20.0]))
    target = rng.integers(0, c, shape)
    # ignore_index: PyTorch's default, or a real class (its targets are then ignored)
    ignore_index = draw(st.sampled_from([-100, int(rng.integers(0, c))]))
    ignored = rng.random(shape) < draw(st.sampled_from([0.0, 0.3, 1.0]))
    target = np.where(ignored, ignore_index, target)
    kind = draw(st.sampled_from(["none", "positive", "with zeros", "mixed signs"]))
    weight = {
        "none": None,
        "positive": rng.uniform(0.1, 3.0, c),
        "with zeros": rng.choice([0.0, 0.5, 2.0], c),
        "mixed signs": rng.uniform(-1.0, 3.0, c),  # PyTorch accepts negative weights: so do we
    }[kind]
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.5, 0.99]) | st.floats(0.0, 1.0, exclude_max=True))
    return {
        "logits": logits,
        "target": target,
        "weight": weight,
        "ignore_index": ignore_index,
        "label_smoothing": smoothing,
        "reduction": draw(st.sampled_from(REDUCTIONS)),
    }


def torch_options(case: dict) -> dict:
    options = {k: case[k] for k in ("ignore_index", "label_smoothing", "reduction")}
    options["weight"] = None if case["weight"] is None else torch.tensor(case["weight"])
    return options


@ORACLE
@given(case=class_index_cases(), seed=st.integers(0, 1000))
def test_cross_entropy_class_indices_match_torch(case, seed):
    x, tx = leaf(case["logits"]), torch_leaf(case["logits"])
    options = {k: case[k] for k in ("weight", "ignore_index", "label_smoothing", "reduction")}
    ours = F.cross_entropy(x, case["target"], **options)
    theirs = TF.cross_entropy(classes_to_axis_1(tx), torch.tensor(case["target"]), **torch_options(case))
    if case["reduction"] == "mean" and math.isnan(theirs.item()):
        # every target ignored, or their weights sum to 0: nan, with a zero gradient (PyTorch's is
        # zero when all are ignored, and nan or inf when the weights of counted targets sum to 0)
        assert math.isnan(ours.item())
        ours.backward()
        np.testing.assert_array_equal(x.grad.data, 0.0)
        return
    assert_matches(ours, theirs)
    backward_both(ours, theirs, seed)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL)


@ORACLE
@given(case=class_index_cases())
def test_nll_loss_with_weight_matches_torch(case):
    logp = case["logits"] - np.log(np.exp(case["logits"]).sum(-1, keepdims=True))
    x, tx = leaf(logp), torch_leaf(logp)
    options = {"weight": case["weight"], "ignore_index": case["ignore_index"], "reduction": case["reduction"]}
    ours = F.nll_loss(x, case["target"], **options)
    theirs = TF.nll_loss(
        classes_to_axis_1(tx),
        torch.tensor(case["target"]),
        **{**options, "weight": None if case["weight"] is None else torch.tensor(case["weight"])},
    )
    if case["reduction"] == "mean" and math.isnan(theirs.item()):
        assert math.isnan(ours.item())
        return
    assert_matches(ours, theirs)
    backward_both(ours, theirs, seed=0)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL)


def test_weighted_smoothed_cross_entropy_formula():
    """PyTorch's formula, written out: (1 - eps) w[t] nll + (eps / C) sum_c w_c (-log p_c), / sum w[t]."""
    rng = np.random.default_rng(0)
    logits, target, w, eps = rng.standard_normal((6, 4)), np.array([0, 3, -100, 1, 1, 2]), rng.uniform(0.5, 2, 4), 0.3
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    keep = target != -100
    t = np.where(keep, target, 0)
    per = np.where(keep, (1 - eps) * w[t] * -logp[np.arange(6), t] + eps / 4 * -(logp * w).sum(-1), 0.0)
    out = F.cross_entropy(Tensor(logits), target, weight=w, label_smoothing=eps, reduction="none")
    np.testing.assert_allclose(out.data, per, rtol=1e-13)
    mean = F.cross_entropy(Tensor(logits), target, weight=w, label_smoothing=eps)
    assert mean.item() == pytest.approx(per.sum() / w[t][keep].sum(), rel=1e-13)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_weighted_cross_entropy_is_one_fused_node(smoothing):
    x = leaf(np.random.default_rng(1).standard_normal((2, 3, 4)))
    out = F.cross_entropy(x, np.array([[0, 1, 2], [3, -100, 1]]), weight=np.arange(1.0, 5.0), label_smoothing=smoothing)
    assert out.grad_fn.name == "cross_entropy"
    assert [p.name for p in out.grad_fn.parents] == ["reshape"]


def test_weighted_cross_entropy_is_stable_for_logits_of_1e4():
    logits = np.array([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
    target, w = np.array([1, 0, 2]), np.array([0.5, 2.0, 3.0])
    for smoothing in (0.0, 0.1):
        x, tx = leaf(logits), torch_leaf(logits)
        ours = F.cross_entropy(x, target, weight=w, label_smoothing=smoothing)
        theirs = TF.cross_entropy(tx, torch.tensor(target), weight=torch.tensor(w), label_smoothing=smoothing)
        ours.backward()
        theirs.backward()
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
        assert np.isfinite(x.grad.data).all()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_weighted_cross_entropy_keeps_float32():
    x = Tensor(np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    out = F.cross_entropy(x, np.array([0, 1, 3]), weight=np.array([1.0, 2.0, 0.5, 1.0]), label_smoothing=0.1)
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


# ───────────────────────────── cross_entropy: class probabilities ─────────────────────────────


@st.composite
def soft_target_cases(draw):
    lead = draw(st.sampled_from([(), (draw(st.integers(1, 4)),), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))]))
    c = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.standard_normal((*lead, c)) * draw(st.sampled_from([1.0, 10.0]))
    # probabilities per row, or any non-negative values (PyTorch does not normalise them either)
    target = rng.dirichlet(np.ones(c), lead) if draw(st.booleans()) else rng.uniform(0.0, 2.0, (*lead, c))
    weight = draw(st.sampled_from([None, "random"]))
    return {
        "logits": logits,
        "target": target,
        "weight": None if weight is None else rng.uniform(-0.5, 3.0, c),
        "label_smoothing": draw(st.sampled_from([0.0, 0.25]) | st.floats(0.0, 1.0, exclude_max=True)),
        "reduction": draw(st.sampled_from(REDUCTIONS)),
    }


@ORACLE
@given(case=soft_target_cases(), seed=st.integers(0, 1000))
def test_cross_entropy_soft_targets_match_torch_with_target_gradients(case, seed):
    x, y = leaf(case["logits"]), leaf(case["target"])
    tx, ty = torch_leaf(case["logits"]), torch_leaf(case["target"])
    smoothing, reduction, w = case["label_smoothing"], case["reduction"], case["weight"]
    ours = F.cross_entropy(x, y, weight=w, label_smoothing=smoothing, reduction=reduction)
    theirs = TF.cross_entropy(
        classes_to_axis_1(tx),
        classes_to_axis_1(ty),
        weight=None if w is None else torch.tensor(w),
        label_smoothing=smoothing,
        reduction=reduction,
    )
    assert_matches(ours, theirs)
    backward_both(ours, theirs, seed)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), **TOL)


def test_soft_target_mean_divides_by_rows_not_weights():
    logits, target, w = np.zeros((2, 3, 4)), np.full((2, 3, 4), 0.25), np.array([1.0, 2.0, 3.0, 4.0])
    out = F.cross_entropy(Tensor(logits), target, weight=w)
    # each of the 6 rows: -sum_c w_c * 0.25 * log(1/4) = 2.5 log 4; the mean over rows is the same
    assert out.item() == pytest.approx(2.5 * math.log(4.0), rel=1e-14)


def test_soft_target_class_weights_get_gradients_as_in_torch():
    rng = np.random.default_rng(3)
    logits, target, w = rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4), rng.uniform(0.5, 2.0, 3)
    x, y, weight = leaf(logits), leaf(target), leaf(w)
    tx, ty, tw = torch_leaf(logits), torch_leaf(target), torch_leaf(w)
    F.cross_entropy(x, y, weight=weight, label_smoothing=0.2).backward()
    TF.cross_entropy(tx, ty, weight=tw, label_smoothing=0.2).backward()
    for ours, theirs in ((x, tx), (y, ty), (weight, tw)):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **TOL)


def test_soft_targets_of_an_empty_batch_give_nan_for_the_mean():
    out = F.cross_entropy(leaf(np.zeros((0, 3))), np.zeros((0, 3)), weight=np.ones(3))
    assert math.isnan(out.item())
    assert F.cross_entropy(leaf(np.zeros((0, 3))), np.zeros((0, 3)), reduction="sum").item() == 0.0


def test_soft_targets_allow_a_negative_ignore_index_as_torch():
    x, y = randn_leaf((2, 3)), np.full((2, 3), 1 / 3)
    expected = F.cross_entropy(x, y).item()
    assert F.cross_entropy(x, y, ignore_index=-1).item() == expected


def randn_leaf(shape: tuple, seed: int = 0) -> Tensor:
    return leaf(np.random.default_rng(seed).standard_normal(shape))


# ───────────────────────────── binary cross-entropy ─────────────────────────────


@st.composite
def binary_cases(draw, logits: bool):
    lead = draw(st.sampled_from([(draw(st.integers(1, 5)),), (draw(st.integers(1, 4)), draw(st.integers(1, 4)))]))
    shape = (*lead, draw(st.integers(1, 3))) if draw(st.booleans()) else lead
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if logits:
        x = rng.standard_normal(shape) * draw(st.sampled_from([1.0, 10.0, 40.0]))
    else:
        x = rng.uniform(0.02, 0.98, shape)
    y = rng.uniform(0.0, 1.0, shape) if draw(st.booleans()) else rng.integers(0, 2, shape).astype(np.float64)
    broadcastable = [None, shape[-1:], shape, (1,), (*shape[:-1], 1), ()]
    weight_shape = draw(st.sampled_from(broadcastable))
    weight = None if weight_shape is None else rng.uniform(0.0, 3.0, weight_shape)
    case = {"input": x, "target": y, "weight": weight, "reduction": draw(st.sampled_from(REDUCTIONS))}
    if logits:
        pos_shape = draw(st.sampled_from(broadcastable))
        case["pos_weight"] = None if pos_shape is None else rng.uniform(0.1, 5.0, pos_shape)
    return case


def _optional_tensor(value):
    return None if value is None else torch.tensor(value)


@ORACLE
@given(case=binary_cases(logits=True), seed=st.integers(0, 1000))
def test_bce_with_logits_weight_and_pos_weight_match_torch(case, seed):
    x, y = leaf(case["input"]), leaf(case["target"])
    tx, ty = torch_leaf(case["input"]), torch_leaf(case["target"])
    options = {k: case[k] for k in ("weight", "pos_weight", "reduction")}
    ours = F.binary_cross_entropy_with_logits(x, y, **options)
    theirs = TF.binary_cross_entropy_with_logits(
        tx,
        ty,
        weight=_optional_tensor(case["weight"]),
        pos_weight=_optional_tensor(case["pos_weight"]),
        reduction=case["reduction"],
    )
    assert_matches(ours, theirs)
    backward_both(ours, theirs, seed)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), **TOL)


@ORACLE
@given(case=binary_cases(logits=False), seed=st.integers(0, 1000))
def test_bce_with_weight_matches_torch(case, seed):
    p, y = leaf(case["input"]), leaf(case["target"])
    tp, ty = torch_leaf(case["input"]), torch_leaf(case["target"])
    ours = F.binary_cross_entropy(p, y, weight=case["weight"], reduction=case["reduction"])
    theirs = TF.binary_cross_entropy(tp, ty, weight=_optional_tensor(case["weight"]), reduction=case["reduction"])
    assert_matches(ours, theirs)
    backward_both(ours, theirs, seed)
    np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), **TOL)
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), **TOL)


def test_bce_with_logits_is_stable_at_1e4_with_pos_weight_and_weight():
    logits = np.array([[1e4, -1e4, 1e4], [-1e4, 0.0, 5e3]])
    target = np.array([[0.0, 1.0, 1.0], [0.0, 0.5, 0.3]])
    pos_weight, weight = np.array([3.0, 0.5, 2.0]), np.array([[1.0], [2.0]])
    x, tx = leaf(logits), torch_leaf(logits)
    ours = F.binary_cross_entropy_with_logits(x, target, weight=weight, pos_weight=pos_weight, reduction="none")
    theirs = TF.binary_cross_entropy_with_logits(
        tx, torch.tensor(target), weight=torch.tensor(weight), pos_weight=torch.tensor(pos_weight), reduction="none"
    )
    backward_both(ours, theirs, seed=4)
    assert np.isfinite(ours.data).all() and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


# ───────────────────────────── gradcheck and gradgradcheck ─────────────────────────────


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_cross_entropy_gradcheck_and_gradgradcheck(smoothing, reduction):
    target, w = np.array([[0, 3, -100], [2, 2, 1]]), np.array([0.5, 2.0, 1.0, 3.0])

    def fn(x):
        return F.cross_entropy(x, target, weight=w, label_smoothing=smoothing, reduction=reduction)

    x = randn_leaf((2, 3, 4))
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_target_cross_entropy_gradcheck_and_gradgradcheck(smoothing, reduction):
    rng = np.random.default_rng(5)
    x, y, w = randn_leaf((2, 3, 4)), leaf(rng.dirichlet(np.ones(4), (2, 3))), leaf(rng.uniform(0.5, 2.0, 4))

    def fn(x, y, w):
        return F.cross_entropy(x, y, weight=w, label_smoothing=smoothing, reduction=reduction)

    assert gradcheck(fn, [x, y, w])
    assert gradgradcheck(fn, [x, y, w])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_nll_loss_gradcheck_and_gradgradcheck(reduction):
    target, w = np.array([1, -100, 0, 2]), np.array([0.5, 2.0, 1.5])

    def fn(x):
        return F.nll_loss(x, target, weight=w, reduction=reduction)

    assert gradcheck(fn, [randn_leaf((4, 3))])
    assert gradgradcheck(fn, [randn_leaf((4, 3))])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses_with_weights_gradcheck_and_gradgradcheck(reduction):
    rng = np.random.default_rng(6)
    x, y = leaf(rng.uniform(-4, 4, (2, 3, 4))), leaf(rng.uniform(0, 1, (2, 3, 4)))
    pos_weight, weight = leaf(rng.uniform(0.5, 3.0, 4)), leaf(rng.uniform(0.5, 2.0, (2, 1, 1)))

    def with_logits(x, y, pos_weight, weight):
        return F.binary_cross_entropy_with_logits(x, y, weight=weight, pos_weight=pos_weight, reduction=reduction)

    assert gradcheck(with_logits, [x, y, pos_weight, weight])
    assert gradgradcheck(with_logits, [x, y, pos_weight, weight])
    p = leaf(rng.uniform(0.05, 0.95, (2, 3, 4)))

    def bce(p, y):
        return F.binary_cross_entropy(p, y, weight=weight.detach(), reduction=reduction)

    assert gradcheck(bce, [p, y])
    assert gradgradcheck(bce, [p, y])


# ───────────────────────────── errors ─────────────────────────────


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
def test_class_weights_of_the_wrong_shape_or_dtype_are_refused(fn):
    name, x, target = fn.__name__, randn_leaf((5, 4)), np.array([0, 1, 2, 3, 0])
    for shape in [(3,), (4, 1), ()]:
        with pytest.raises(
            ag.ShapeError,
            match=rf"{name}: weight of shape {re_shape(shape)} does not fit input of shape \(5, 4\): "
            r"expected one weight per class, shape \(4,\)",
        ):
            fn(x, target, weight=np.ones(shape))
    with pytest.raises(TypeError, match=rf"{name}: weight must hold real numbers \(one per class\), got dtype bool"):
        fn(x, target, weight=np.ones(4, dtype=bool))
    assert fn(x, target, weight=np.array([1, 2, 3, 4])).dtype == np.float64  # integer weights are converted


def re_shape(shape: tuple) -> str:
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll_loss"])
def test_class_weights_that_require_grad_are_refused_for_class_indices(fn):
    x, target, w = randn_leaf((3, 4)), np.array([0, 1, 2]), leaf(np.ones(4))
    with pytest.raises(ValueError, match=rf"{fn.__name__}: weight requires grad, .* pass weight.detach\(\)"):
        fn(x, target, weight=w)
    assert fn(x, target, weight=w.detach()).item() == pytest.approx(fn(x, target).item(), rel=1e-14)
    with ag.no_grad():
        assert fn(x, target, weight=w).item() == pytest.approx(fn(x, target).item(), rel=1e-14)


def test_cross_entropy_target_kind_errors_name_shapes_and_dtypes():
    x = randn_leaf((3, 4))
    with pytest.raises(
        TypeError,
        match=r"cross_entropy: target of shape \(3, 4\) has the input's shape, so it holds class probabilities, "
        r"which must be floating-point; got dtype int64 \(class indices are integers of shape \(3,\)\)",
    ):
        F.cross_entropy(x, np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(
        TypeError,
        match=r"cross_entropy: target \(class indices\) must hold integers, got dtype float64 and shape \(3,\) "
        r"\(class probabilities must have the input's shape \(3, 4\)\)",
    ):
        F.cross_entropy(x, np.zeros(3))
    with pytest.raises(
        ag.ShapeError,
        match=r"cross_entropy: target of shape \(3, 5\) and dtype float64 fits input of shape \(3, 4\) neither as "
        r"class probabilities \(the input's shape \(3, 4\)\) nor as class indices \(integers of shape \(3,\)",
    ):
        F.cross_entropy(x, np.full((3, 5), 0.2))
    with pytest.raises(ag.ShapeError, match=r"cross_entropy: target of shape \(4, 3\) and dtype float64"):
        F.cross_entropy(x, np.full((4, 3), 0.25))  # the transposed layout: classes must be LAST


def test_cross_entropy_refuses_ignore_index_with_soft_targets():
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: ignore_index=0 is not supported with class-probability targets "
        r"\(target of the input's shape \(2, 3\)\); give class indices of shape \(2,\) to ignore some",
    ):
        F.cross_entropy(randn_leaf((2, 3)), np.full((2, 3), 1 / 3), ignore_index=0)


def test_soft_target_weight_shape_is_checked():
    with pytest.raises(ag.ShapeError, match=r"cross_entropy: weight of shape \(2,\) does not fit input of shape"):
        F.cross_entropy(randn_leaf((2, 3)), np.full((2, 3), 1 / 3), weight=np.ones(2))


def test_binary_weight_shapes_are_checked():
    x, y = randn_leaf((3, 4)), np.zeros((3, 4))
    with pytest.raises(
        ag.ShapeError,
        match=r"binary_cross_entropy_with_logits: pos_weight of shape \(5,\) does not broadcast to the input's "
        r"shape \(3, 4\)",
    ):
        F.binary_cross_entropy_with_logits(x, y, pos_weight=np.ones(5))
    with pytest.raises(
        ag.ShapeError,
        match=r"binary_cross_entropy_with_logits: weight of shape \(2, 4\) does not broadcast to the input's shape",
    ):
        F.binary_cross_entropy_with_logits(x, y, weight=np.ones((2, 4)))
    with pytest.raises(
        ag.ShapeError, match=r"binary_cross_entropy: weight of shape \(1, 3, 4\) does not broadcast to the input's"
    ):
        F.binary_cross_entropy(leaf(np.full((3, 4), 0.5)), y, weight=np.ones((1, 3, 4)))
