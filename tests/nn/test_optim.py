"""Tests for nn.optim and nn.lr_scheduler.

Every optimizer is checked against a reference written here in float64 NumPy straight from
PyTorch's documented pseudo-code, over several steps with hand-made gradients; schedules are
checked against their closed-form formulas.
"""

import itertools
import math

import numpy as np
import pytest

import autograd
from autograd import Tensor
from nn.lr_scheduler import CosineAnnealingLR, CosineWithWarmup, LambdaLR, StepLR, warmup_cosine
from nn.optim import SGD, Adam, AdamW, clip_grad_norm_, clip_grad_value_, flatten_state_dict, unflatten_state_dict

STEPS = 5


def random_problem(seed, steps=STEPS):
    """Float32 initial values of random shapes and a gradient sequence whose scale varies per step."""
    rng = np.random.default_rng(seed)
    shapes = [(), (3,), tuple(rng.integers(1, 5, size=2)), tuple(rng.integers(1, 4, size=3))]
    init = [rng.normal(size=s).astype(np.float32) for s in shapes]
    grads = [[(rng.uniform(0.1, 3.0) * rng.normal(size=s)).astype(np.float32) for s in shapes] for _ in range(steps)]
    return init, grads


def make_params(init):
    return [Tensor(a, requires_grad=True) for a in init]


def run(optimizer, params, grads):
    """Take one optimizer step per entry of ``grads``, with the gradients set by hand."""
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else Tensor(g)
        optimizer.step()
    return [p.data for p in params]


# ───────────── references from PyTorch's documented algorithms (float64) ─────────────


def reference_sgd(init, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta = [a.astype(np.float64) for a in init]
    b = [None] * len(theta)
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            if g is None:
                continue
            g = g.astype(np.float64)
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * theta[i]
            if momentum != 0:
                b[i] = (
                    g if b[i] is None else momentum * b[i] + (1 - dampening) * g
                )  # b_t = g_t at this parameter's first step
                g = g + momentum * b[i] if nesterov else b[i]
            theta[i] = theta[i] - lr * g
    return theta


def reference_adam(
    init, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False
):
    beta1, beta2 = betas
    theta = [a.astype(np.float64) for a in init]
    m = [np.zeros_like(a) for a in theta]
    v = [np.zeros_like(a) for a in theta]
    v_max = [np.zeros_like(a) for a in theta]
    t = [0] * len(theta)
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            if g is None:
                continue
            t[i] += 1
            g = -g.astype(np.float64) if maximize else g.astype(np.float64)
            if decoupled:
                theta[i] = theta[i] - lr * weight_decay * theta[i]
            elif weight_decay != 0:
                g = g + weight_decay * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat = m[i] / (1 - beta1 ** t[i])
            if amsgrad:
                v_max[i] = np.maximum(v_max[i], v[i])
                v_hat = v_max[i] / (1 - beta2 ** t[i])
            else:
                v_hat = v[i] / (1 - beta2 ** t[i])
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def assert_close(actual, expected):
    for a, e in zip(actual, expected):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


SGD_OPTIONS = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=w, maximize=x)
    for m, d, n, w, x in itertools.product((0.0, 0.9), (0.0, 0.5), (False, True), (0.0, 0.1), (False, True))
    if not (n and (m == 0 or d != 0))
]
ADAM_OPTIONS = [
    dict(weight_decay=w, amsgrad=a, maximize=x)
    for w, a, x in itertools.product((0.0, 0.1), (False, True), (False, True))
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_matches_reference(options):
    init, grads = random_problem(len(str(options)))
    params = make_params(init)
    actual = run(SGD(params, lr=0.1, **options), params, grads)
    assert_close(actual, reference_sgd(init, grads, 0.1, **options))


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_matches_reference(options):
    init, grads = random_problem(1)
    params = make_params(init)
    actual = run(Adam(params, lr=0.05, betas=(0.8, 0.95), eps=1e-6, **options), params, grads)
    assert_close(actual, reference_adam(init, grads, 0.05, (0.8, 0.95), 1e-6, **options))


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adamw_matches_reference(options):
    init, grads = random_problem(2)
    params = make_params(init)
    actual = run(AdamW(params, lr=0.05, betas=(0.8, 0.95), eps=1e-6, **options), params, grads)
    assert_close(actual, reference_adam(init, grads, 0.05, (0.8, 0.95), 1e-6, decoupled=True, **options))


def test_reference_options_matter():
    """The problems above are ones where amsgrad and decoupled decay really change the result."""
    init, grads = random_problem(1)
    plain = reference_adam(init, grads, 0.05, (0.8, 0.95), 1e-6)
    ams = reference_adam(init, grads, 0.05, (0.8, 0.95), 1e-6, amsgrad=True)
    assert not all(np.allclose(a, b, rtol=1e-3) for a, b in zip(plain, ams))
    coupled = reference_adam(init, grads, 0.05, weight_decay=0.1)
    decoupled = reference_adam(init, grads, 0.05, weight_decay=0.1, decoupled=True)
    assert not all(np.allclose(a, b, rtol=1e-3) for a, b in zip(coupled, decoupled))


def test_adamw_defaults():
    opt = AdamW([Tensor(np.zeros(2, np.float32), requires_grad=True)])
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"], group["amsgrad"]) == (
        1e-3,
        (0.9, 0.999),
        1e-8,
        1e-2,
        False,
    )
    assert Adam([Tensor(np.zeros(2, np.float32), requires_grad=True)]).param_groups[0]["weight_decay"] == 0.0


@pytest.mark.parametrize(
    "factory, reference",
    [
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda i, g: reference_sgd(i, g, 0.1, momentum=0.9)),
        (lambda ps: Adam(ps, lr=0.05), lambda i, g: reference_adam(i, g, 0.05)),
    ],
    ids=["sgd", "adam"],
)
def test_parameters_without_grad_are_skipped(factory, reference):
    init, grads = random_problem(3)
    grads[1][0] = None  # parameter 0 gets no gradient at step 2: no update and (Adam) no step count
    grads[3][2] = None
    params = make_params(init)
    opt = factory(params)
    assert_close(run(opt, params, grads), reference(init, grads))


# ───────────── dtypes and read-only gradients ─────────────


@pytest.mark.parametrize(
    "factory",
    [
        lambda ps: SGD(ps, lr=np.float64(0.1), momentum=np.float64(0.9), weight_decay=0.01, nesterov=True),
        lambda ps: Adam(ps, lr=np.float64(0.01), betas=(np.float64(0.9), 0.99), amsgrad=True, weight_decay=0.1),
        lambda ps: AdamW(ps, lr=np.float64(0.01), amsgrad=True),
    ],
    ids=["sgd", "adam", "adamw"],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(factory, dtype):
    rng = np.random.default_rng(0)
    params = [Tensor(rng.normal(size=(3, 2)).astype(dtype), requires_grad=True)]
    data = params[0].data
    opt = factory(params)
    for _ in range(3):
        params[0].grad = Tensor(rng.normal(size=(3, 2)))  # float64 gradient: cast to the parameter's dtype
        opt.step()
    assert params[0].data is data  # updated in place
    assert params[0].data.dtype == dtype
    for value in opt.state[params[0]].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == dtype


@pytest.mark.parametrize(
    "factory",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: SGD(ps, lr=0.1),
        lambda ps: Adam(ps, amsgrad=True, weight_decay=0.1, maximize=True),
        lambda ps: AdamW(ps),
    ],
)
def test_gradients_are_never_written(factory):
    p = Tensor(np.ones(4, np.float32), requires_grad=True)
    g = np.arange(4, dtype=np.float32)
    opt = factory([p])
    for _ in range(3):
        p.grad = Tensor(g)
        p.grad.data.setflags(write=False)  # as backward leaves it: any in-place write would raise
        opt.step()
        np.testing.assert_array_equal(p.grad.data, g)


# ───────────── parameter groups and zero_grad ─────────────


def test_param_groups_with_different_hyperparameters():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.0
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.5
    assert opt.param_groups[1]["params"] == [b]
    ga, gb = np.array([1.0, 2.0, 3.0], np.float32), np.array([4.0, 5.0], np.float32)
    run(opt, [a, b], [[ga, gb], [ga, gb]])
    np.testing.assert_allclose(a.data, 1 - 0.1 * 2 * ga, rtol=1e-6)
    np.testing.assert_allclose(b.data, 1 - 0.01 * (gb + (0.5 * gb + gb)), rtol=1e-6)


def test_add_param_group():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "betas": (0.5, 0.6)})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["betas"] == (0.5, 0.6)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered"):
        opt.add_param_group({"params": {Tensor(np.ones(1, np.float32), requires_grad=True)}})


def test_zero_grad_to_none_and_to_zeros():
    a = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float64), requires_grad=True)
    c = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = SGD([a, b, c], lr=0.1)
    (a.sum() * 2).backward()
    (b * b).sum().backward()
    old = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is not old and a.grad.shape == (2, 3) and a.grad.dtype == np.float32
    assert b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, 0)
    np.testing.assert_array_equal(b.grad.data, 0)
    np.testing.assert_array_equal(old.data, 2)  # the old gradient is untouched
    assert c.grad is None  # as in PyTorch: a missing gradient stays missing
    (a.sum() * 3).backward()  # accumulates onto the zeros
    np.testing.assert_array_equal(a.grad.data, 3)
    opt.zero_grad()
    assert a.grad is None and b.grad is None and c.grad is None


def test_step_with_closure():
    x = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    opt = SGD([x], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with autograd.no_grad():  # the closure still records
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(x.data, [0.5, 1.0])
    assert opt.step() is None


# ───────────── saving and resuming ─────────────

RESUMABLE = {
    "sgd": lambda groups, lr: SGD(groups, lr=lr, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda groups, lr: Adam(groups, lr=lr, amsgrad=True, weight_decay=0.1),
    "adamw": lambda groups, lr: AdamW(groups, lr=lr, betas=(0.8, 0.9)),
}


@pytest.mark.parametrize("flat", [False, True], ids=["nested", "npz"])
@pytest.mark.parametrize("name", list(RESUMABLE))
def test_state_dict_round_trip_resumes_identically(name, flat, tmp_path):
    factory = RESUMABLE[name]
    init, grads = random_problem(4, steps=6)

    def groups(params):
        return [{"params": params[:2]}, {"params": params[2:], "lr": 0.02}]

    params = make_params(init)
    uninterrupted = run(factory(groups(params), 0.05), params, grads)

    params = make_params(init)
    first = factory(groups(params), 0.05)
    run(first, params, grads[:3])
    saved = first.state_dict()
    if flat:
        np.savez(tmp_path / "opt.npz", **flatten_state_dict(saved))
        with np.load(tmp_path / "opt.npz", allow_pickle=False) as f:
            saved = dict(f)
    resumed_params = make_params([p.data for p in params])
    resumed = factory(groups(resumed_params), 123.0)  # hyper-parameters come from the saved state
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == 0.05 and resumed.param_groups[1]["lr"] == 0.02
    assert resumed.param_groups[0]["params"] == resumed_params[:2]
    for a, b in zip(run(resumed, resumed_params, grads[3:]), uninterrupted):
        np.testing.assert_array_equal(a, b)


def test_state_dict_layout_and_copies():
    init, grads = random_problem(5, steps=2)
    params = make_params(init)
    opt = Adam([{"params": params[:1]}, {"params": params[1:]}], amsgrad=True)
    run(opt, params, grads)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1, 2, 3]
    assert sd["state"][1]["step"] == 2
    assert set(sd["state"][1]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    sd["state"][1]["exp_avg"][...] = 7.0  # a copy: the optimizer is unaffected
    assert not np.any(opt.state[params[1]]["exp_avg"] == 7.0)
    opt.load_state_dict(sd)
    sd["state"][1]["exp_avg"][...] = 9.0  # loading copies too
    assert np.all(opt.state[params[1]]["exp_avg"] == 7.0)

    flat = flatten_state_dict(opt.state_dict())
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in flat.values())
    assert flat["state.1.step"].item() == 2
    np.testing.assert_array_equal(flat["param_groups.1.params"], [1, 2, 3])
    back = unflatten_state_dict(flat)
    assert back["param_groups"][0]["betas"] == (0.9, 0.999) and back["param_groups"][0]["amsgrad"] is True
    assert back["state"][3]["step"] == 2 and isinstance(back["state"][3]["step"], int)


def test_load_state_dict_checks_the_layout():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = Tensor(np.ones(3, np.float32)), Tensor(np.ones(2, np.float32))
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="group of 2 parameters"):
        SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="shape"):
        SGD([b, a], lr=0.1).load_state_dict(sd)


# ───────────── gradient clipping ─────────────


def grads_for_clipping(seed):
    rng = np.random.default_rng(seed)
    params = [Tensor(np.zeros(s, np.float32), requires_grad=True) for s in [(3, 4), (5,), (), (2, 2)]]
    for p in params[:3]:
        p.grad = Tensor(rng.normal(size=p.shape).astype(np.float32))
    return params  # the last one has no gradient


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
def test_clip_grad_norm_scales_to_max_norm(norm_type):
    params = grads_for_clipping(0)
    flat = np.concatenate([p.grad.data.ravel() for p in params[:3]]).astype(np.float64)
    p_norm = float(norm_type)
    expected = np.max(np.abs(flat)) if p_norm == math.inf else np.sum(np.abs(flat) ** p_norm) ** (1 / p_norm)
    before = [p.grad for p in params[:3]]
    max_norm = expected / 2
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert isinstance(total, Tensor) and total.dtype == np.float32
    assert total.item() == pytest.approx(expected, rel=1e-5)
    coef = max_norm / (expected + 1e-6)
    for old, p in zip(before, params[:3]):
        assert p.grad is not old and p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.data, old.data * coef, rtol=1e-5)
    assert params[3].grad is None
    clipped = np.concatenate([p.grad.data.ravel() for p in params[:3]]).astype(np.float64)
    norm_after = np.max(np.abs(clipped)) if p_norm == math.inf else np.sum(np.abs(clipped) ** p_norm) ** (1 / p_norm)
    assert norm_after == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_under_max_norm_does_nothing():
    params = grads_for_clipping(1)
    before = [p.grad for p in params[:3]]
    total = clip_grad_norm_(iter(params), 1e6)
    expected = np.linalg.norm(np.concatenate([g.data.ravel() for g in before]).astype(np.float64))
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert all(p.grad is g for p, g in zip(params, before))


def test_clip_grad_norm_edge_cases():
    p = Tensor(np.zeros(3, np.float32), requires_grad=True)
    assert clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = Tensor(np.array([3.0, 4.0, 0.0], np.float32))
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # one Tensor on its own
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8, 0.0], rtol=1e-5)
    p.grad = Tensor(np.array([3e-6, 4e-6, 0.0], np.float32))  # tiny norms show the 1e-6 in max_norm / (norm + 1e-6)
    clip_grad_norm_(p, 1e-6)
    np.testing.assert_allclose(p.grad.data, np.array([3e-6, 4e-6, 0.0]) / 6, rtol=1e-5)
    p.grad = Tensor(np.array([np.inf, 1.0, 0.0], np.float32))
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([p], 1.0).item() == math.inf
    np.testing.assert_array_equal(p.grad.data, [np.nan, 0.0, 0.0])  # scaled by 1 / inf, as in PyTorch


def test_clip_grad_value():
    params = grads_for_clipping(2)
    before = [p.grad.data.copy() for p in params[:3]]
    assert clip_grad_value_(params, 0.5) is None
    for old, p in zip(before, params[:3]):
        np.testing.assert_array_equal(p.grad.data, np.clip(old, -0.5, 0.5))
    assert params[3].grad is None


# ───────────── learning-rate schedules ─────────────


def two_group_sgd(lrs=(0.1, 0.04)):
    return SGD([{"params": [Tensor(np.zeros(1, np.float32), requires_grad=True)], "lr": lr} for lr in lrs], lr=1.0)


def lr_sequence(scheduler, steps):
    """The learning rates of steps 0, 1, ..., steps - 1 (making the scheduler sets step 0)."""
    lrs = [scheduler.get_last_lr()]
    for _ in range(steps - 1):
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
    assert lrs[-1] == [g["lr"] for g in scheduler.optimizer.param_groups]
    return np.array(lrs)


def test_step_lr():
    lrs = lr_sequence(StepLR(two_group_sgd(), step_size=3, gamma=0.5), 10)
    k = np.arange(10)[:, None]
    np.testing.assert_allclose(lrs, np.array([0.1, 0.04]) * 0.5 ** (k // 3), rtol=1e-12)


def test_cosine_annealing_lr():
    lrs = lr_sequence(CosineAnnealingLR(two_group_sgd(), T_max=8, eta_min=0.01), 9)
    k = np.arange(9)[:, None]
    base = np.array([0.1, 0.04])
    np.testing.assert_allclose(lrs, 0.01 + (base - 0.01) * (1 + np.cos(np.pi * k / 8)) / 2, rtol=1e-12)
    np.testing.assert_allclose(lrs[0], base)
    np.testing.assert_allclose(lrs[-1], 0.01)


def test_lambda_lr_one_function_per_group():
    sched = LambdaLR(two_group_sgd(), [lambda s: 0.9**s, lambda s: 1.0 / (s + 1)])
    lrs = lr_sequence(sched, 6)
    k = np.arange(6)
    np.testing.assert_allclose(lrs[:, 0], 0.1 * 0.9**k, rtol=1e-12)
    np.testing.assert_allclose(lrs[:, 1], 0.04 / (k + 1), rtol=1e-12)
    same = lr_sequence(LambdaLR(two_group_sgd(), lambda s: 0.5**s), 4)
    np.testing.assert_allclose(same, np.array([0.1, 0.04]) * 0.5 ** np.arange(4)[:, None], rtol=1e-12)


@pytest.mark.parametrize("warmup, total", [(4, 12), (0, 5), (3, 3)])
def test_cosine_with_warmup(warmup, total):
    base, min_lr, steps = np.array([0.1, 0.04]), 0.001, total + 3

    def expected(s):
        if s < warmup:
            return base * (s + 1) / warmup
        if s >= total:
            return np.full(2, min_lr)
        return min_lr + (base - min_lr) * 0.5 * (1 + math.cos(math.pi * (s - warmup) / (total - warmup)))

    want = np.array([expected(s) for s in range(steps)])
    np.testing.assert_allclose(lr_sequence(CosineWithWarmup(two_group_sgd(), warmup, total, min_lr), steps), want)
    np.testing.assert_allclose(lr_sequence(warmup_cosine(two_group_sgd(), warmup, total, min_lr), steps), want)
    if warmup:
        np.testing.assert_allclose(want[warmup - 1], base)  # the warm-up ends on the full rate
    assert np.all(np.diff(want[warmup:], axis=0) <= 0)  # then it only decays


def test_scheduler_sets_the_rate_the_optimizer_uses():
    x = Tensor(np.zeros(1, np.float32), requires_grad=True)
    opt = SGD([x], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        x.grad = Tensor(np.ones(1, np.float32))
        opt.step()
        sched.step()
    np.testing.assert_allclose(x.data, [-(1.0 + 0.5 + 0.25)])
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_scheduler_state_dict_resumes(tmp_path):
    opt = two_group_sgd()
    sched = CosineWithWarmup(opt, 3, 10, 0.001)
    for _ in range(4):
        sched.step()
    np.savez(tmp_path / "sched.npz", **sched.state_dict())
    np.savez(tmp_path / "opt.npz", **flatten_state_dict(opt.state_dict()))
    expected = lr_sequence(sched, 5)

    opt2 = two_group_sgd(lrs=(7.0, 7.0))
    sched2 = CosineWithWarmup(opt2, 3, 10, 0.001)
    with np.load(tmp_path / "opt.npz") as f:
        opt2.load_state_dict(dict(f))
    with np.load(tmp_path / "sched.npz") as f:
        sched2.load_state_dict(dict(f))
    assert sched2.last_epoch == 4 and sched2.base_lrs == [0.1, 0.04]
    np.testing.assert_allclose(lr_sequence(sched2, 5), expected)


def test_lambda_lr_state_dict_leaves_out_functions():
    state = LambdaLR(two_group_sgd(), lambda s: 1.0).state_dict()
    assert "lr_lambdas" not in state and "optimizer" not in state
    assert state["last_epoch"] == 0


def test_scheduler_validation():
    with pytest.raises(ValueError):
        StepLR(two_group_sgd(), step_size=0)
    with pytest.raises(ValueError):
        CosineAnnealingLR(two_group_sgd(), T_max=0)
    with pytest.raises(ValueError):
        CosineWithWarmup(two_group_sgd(), warmup_steps=5, total_steps=4)
    with pytest.raises(ValueError, match="one per parameter group"):
        LambdaLR(two_group_sgd(), [lambda s: 1.0])
    with pytest.raises(TypeError):
        StepLR(object(), step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(two_group_sgd(), step_size=1, last_epoch=3)


# ───────────── validation ─────────────


def one_param():
    return [Tensor(np.zeros(2, np.float32), requires_grad=True)]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD(one_param(), lr=-0.1), "learning rate"),
        (lambda: SGD(one_param(), lr=0.1, momentum=-0.5), "momentum"),
        (lambda: SGD(one_param(), lr=0.1, weight_decay=-1.0), "weight_decay"),
        (lambda: SGD(one_param(), lr=0.1, nesterov=True), "Nesterov"),
        (lambda: SGD(one_param(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
        (lambda: Adam(one_param(), lr=-1e-3), "learning rate"),
        (lambda: Adam(one_param(), betas=(1.0, 0.999)), "beta parameter at index 0"),
        (lambda: Adam(one_param(), betas=(0.9, -0.1)), "beta parameter at index 1"),
        (lambda: Adam(one_param(), eps=-1e-8), "epsilon"),
        (lambda: Adam(one_param(), weight_decay=-0.1), "weight_decay"),
        (lambda: AdamW(one_param(), lr=-1.0), "learning rate"),
        (lambda: AdamW(one_param(), betas=(0.9, 1.5)), "beta parameter at index 1"),
        (lambda: SGD([], lr=0.1), "empty parameter list"),
        (lambda: SGD([(Tensor(np.ones(2), requires_grad=True) * 2)], lr=0.1), "non-leaf"),
        (lambda: SGD([one_param()[0], *one_param()] * 2, lr=0.1), "more than once"),
    ],
)
def test_invalid_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_invalid_parameter_types_raise_type_error():
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        SGD(one_param()[0], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        SGD([np.zeros(2)], lr=0.1)


def test_gradient_of_the_wrong_shape_raises():
    params = one_param()
    opt = SGD(params, lr=0.1)
    params[0].grad = Tensor(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="shape"):
        opt.step()


def test_repr_lists_the_groups():
    text = repr(SGD(one_param(), lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ───────────── regularisation is a term in the loss ─────────────


def test_sgd_weight_decay_equals_an_l2_term_with_half_the_coefficient():
    rng = np.random.default_rng(6)
    c = Tensor(rng.normal(size=(4, 3)).astype(np.float32))
    init = rng.normal(size=(4, 3)).astype(np.float32)
    wd = 0.3

    def train(weight_decay, lam):
        x = Tensor(init, requires_grad=True)
        opt = SGD([x], lr=0.05, momentum=0.9, weight_decay=weight_decay)
        for _ in range(10):
            opt.zero_grad()
            loss = ((x - c) ** 4).sum()
            loss = loss + lam * sum((p * p).sum() for p in [x])
            loss.backward()
            opt.step()
        return x.data

    np.testing.assert_allclose(train(wd, 0.0), train(0.0, wd / 2), rtol=1e-5, atol=1e-6)


def test_l1_term_adds_lambda_sign_to_the_gradient():
    rng = np.random.default_rng(7)
    x = Tensor(rng.normal(size=5).astype(np.float32), requires_grad=True)
    lam = 0.2
    (x**3).sum().backward()
    plain = x.grad.data.copy()
    x.grad = None
    ((x**3).sum() + lam * sum(p.abs().sum() for p in [x])).backward()
    np.testing.assert_allclose(x.grad.data, plain + lam * np.sign(x.data), rtol=1e-6)


# ───────────── end to end: minimize a quadratic ─────────────


@pytest.mark.parametrize(
    "factory, steps",
    [
        (lambda ps: SGD(ps, lr=0.1), 100),
        (lambda ps: SGD(ps, lr=0.05, momentum=0.9), 200),
        (lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True), 200),
        (lambda ps: Adam(ps, lr=0.1), 300),
        (lambda ps: Adam(ps, lr=0.1, amsgrad=True), 300),
        (lambda ps: AdamW(ps, lr=0.1, weight_decay=1e-4), 300),
    ],
    ids=["sgd", "momentum", "nesterov", "adam", "amsgrad", "adamw"],
)
def test_minimizing_a_quadratic_converges(factory, steps):
    c = np.array([1.5, -2.0, 0.25, 3.0], np.float32)
    x = Tensor(np.zeros(4, np.float32), requires_grad=True)
    opt = factory([x])
    sched = CosineAnnealingLR(opt, T_max=steps)
    for _ in range(steps):
        opt.zero_grad()
        ((x - c) ** 2).sum().backward()
        opt.step()
        sched.step()
    np.testing.assert_allclose(x.data, c, atol=1e-3)
    assert x.data.dtype == np.float32


def test_maximize_climbs_to_the_top():
    c = np.array([1.0, -1.0], np.float32)
    x = Tensor(np.zeros(2, np.float32), requires_grad=True)
    opt = SGD([x], lr=0.1, momentum=0.5, maximize=True)
    for _ in range(100):
        opt.zero_grad()
        (-((x - c) ** 2).sum()).backward()
        opt.step()
    np.testing.assert_allclose(x.data, c, atol=1e-4)
