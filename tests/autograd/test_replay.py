"""Recorded-step replay (`autograd.compile_step`): bit-identical to eager mode, or eager with a stated reason.

Every comparison here is exact (``np.array_equal``): a replay runs the same NumPy calls on
the same arrays in the same order as eager mode, so anything else is a bug.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_specs import DIFFERENTIABLE, SECOND_ORDER, by_name, draw_inputs

import autograd as ag
import nn
from autograd import Tensor
from autograd.testing import broadcastable_shapes
from nn import functional as F


def _copies(tensors: list) -> list:
    return [Tensor(t.data.copy(), requires_grad=t.requires_grad) for t in tensors]


def _grads(tensors) -> list:
    return [None if t.grad is None else t.grad.data.copy() for t in tensors]


def _equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


# ───────────── every primitive: forward, backward and (where it has one) double backward ─────────────


def _step_of(spec, attrs, weight):
    def step(*xs):
        out = spec.call(*xs, **attrs)
        (out * weight).sum().backward()
        return out

    return step


def _penalty_step_of(spec, attrs, weight):
    def step(*xs):
        out = (spec.call(*xs, **attrs) * weight).sum()
        grads = ag.grad(out, xs, create_graph=True, allow_unused=True)
        total = out + sum((g * g).sum() for g in grads if g is not None)  # out: linear ops' penalty is constant
        total.backward()
        return total

    return step


def _assert_replays_like_eager(make_step, spec, data) -> None:
    """Record on two draws, replay on a third: the result and every input's gradient equal eager mode's."""
    shapes_, attrs = data.draw(spec.cases, label="shapes, attributes")
    calls = [draw_inputs(data, spec, shapes_) for _ in range(3)]
    weight = np.random.default_rng(0).standard_normal(spec.call(*_copies(calls[0]), **attrs).shape)
    step = ag.compile_step(make_step(spec, attrs, weight), strict=True)
    for xs in calls[:2]:
        step(*xs)
    eager_inputs = _copies(calls[2])
    expected = make_step(spec, attrs, weight)(*eager_inputs)
    got = step(*calls[2])
    assert step.replays == 1
    assert got.grad_fn is None
    assert _equal(got.data, expected.data)
    for replayed, eager in zip(_grads(calls[2]), _grads(eager_inputs)):
        assert _equal(replayed, eager)


@by_name(DIFFERENTIABLE)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_every_primitive_replays_bit_identically(spec, data):
    """Two recordings with different inputs agree (no value leaks into the tape), and the replay equals eager."""
    _assert_replays_like_eager(_step_of, spec, data)


@by_name(SECOND_ORDER)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_double_backward_replays_bit_identically(spec, data):
    """A gradient penalty (grad with create_graph, then backward through it) replays: second-order rules too."""
    _assert_replays_like_eager(_penalty_step_of, spec, data)


# ───────────── random graphs ─────────────

# The last three make views, which a replay must not overwrite while they are still read.
_UNARY = ["exp", "tanh", "sigmoid", "relu", "abs", "square", "sin", "neg", "softmax", "sum0", "mean_keep"]
_UNARY += ["transpose", "flatten", "slice"]
_BINARY = ["add", "sub", "mul", "maximum", "where"]


def _apply_unary(kind: str, t: Tensor) -> Tensor:
    if kind == "square":
        return t * t
    if kind == "neg":
        return -t
    if kind == "softmax":
        return t.softmax(axis=-1) if t.ndim else t
    if kind == "sum0":
        return t.sum(axis=0, keepdims=True) if t.ndim else t
    if kind == "mean_keep":
        return t.mean(axis=-1, keepdims=True) if t.ndim else t
    if kind == "transpose":
        return t.T
    if kind == "flatten":
        return t.reshape(-1).reshape(t.shape)
    if kind == "slice":
        return t[..., :1] if t.ndim else t
    return getattr(t, kind)()


def _apply_binary(kind: str, a: Tensor, b: Tensor) -> Tensor:
    if kind == "maximum":
        return ag.maximum(a, b)
    if kind == "where":
        return ag.where(a > b, a, b * 0.5)
    return {"add": a + b, "sub": a - b, "mul": a * b}[kind]


@st.composite
def graphs(draw):
    """Input shapes (mutually broadcastable) and a program: each step reads earlier values, writes a new one."""
    shapes_ = draw(broadcastable_shapes(3, max_dims=3, max_side=4))
    program = []
    for _ in range(draw(st.integers(1, 10))):
        if draw(st.booleans()):
            program.append(("u", draw(st.sampled_from(_UNARY)), draw(st.integers(0, 100))))
        else:
            program.append(("b", draw(st.sampled_from(_BINARY)), draw(st.integers(0, 100)), draw(st.integers(0, 100))))
    return shapes_, program


def _run_program(program, xs):
    values = list(xs)
    for op in program:
        if op[0] == "u":
            values.append(_apply_unary(op[1], values[op[2] % len(values)]))
        else:
            values.append(_apply_binary(op[1], values[op[2] % len(values)], values[op[3] % len(values)]))
    return sum(v.sum() for v in values[len(xs) :])


@settings(max_examples=60, deadline=None)
@given(graph=graphs(), seed=st.integers(0, 2**16))
def test_random_graphs_replay_bit_identically(graph, seed):
    shapes_, program = graph
    rng = np.random.default_rng(seed)

    def draw():
        return [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes_]

    def step(*xs):
        loss = _run_program(program, xs)
        loss.backward()
        return loss

    compiled = ag.compile_step(step, strict=True)
    for _ in range(2):
        compiled(*draw())
    for _ in range(2):  # replays on fresh values, each against eager
        xs = draw()
        eager_xs = _copies(xs)
        assert _equal(compiled(*xs).data, step(*eager_xs).data)
        for replayed, eager in zip(_grads(xs), _grads(eager_xs)):
            assert _equal(replayed, eager)
    assert compiled.replays == 2


# ───────────── training with nn ─────────────


def _models(kind: str):
    def make():
        if kind == "mlp":
            return nn.MLP((5, 16, 16, 3), activation="relu")
        return nn.MiniGPT(nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, d_model=16))

    model, twin = make(), make()
    twin.load_state_dict(model.state_dict())
    return model, twin


def _batches(kind: str, n: int):
    rng = np.random.default_rng(7)
    for _ in range(n):
        if kind == "mlp":
            yield Tensor(rng.standard_normal((6, 5))), rng.integers(0, 3, size=6)
        else:
            yield rng.integers(0, 11, size=(2, 8)), rng.integers(0, 11, size=(2, 8))


@pytest.mark.parametrize("kind", ["mlp", "minigpt"])
def test_training_with_replay_equals_eager_training(kind):
    """Ten AdamW steps on changing batches: losses, gradients and weights equal eager training exactly."""
    model, twin = _models(kind)

    def loss_of(m, x, y):
        out = m(x)
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))

    def train_step(x, y):
        loss = loss_of(model, x, y)
        loss.backward()
        return loss

    step = ag.compile_step(train_step, strict=True)
    opt = nn.optim.AdamW(model.parameters(), lr=1e-2)
    twin_opt = nn.optim.AdamW(twin.parameters(), lr=1e-2)
    for x, y in _batches(kind, 10):
        opt.zero_grad()
        loss = step(x, y)
        opt.step()
        twin_opt.zero_grad()
        twin_loss = loss_of(twin, x, y)
        twin_loss.backward()
        twin_opt.step()
        assert _equal(loss.data, twin_loss.data)
    assert step.replays == 8
    for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
        assert _equal(p.data, q.data), name
        assert _equal(p.grad.data, q.grad.data), name


def test_a_conv_net_with_batch_norm_replays_bit_identically():
    """Strided intermediates (NCHW transposes) and running statistics: a result written into a dead input's
    memory must keep the layout a fresh array would have, or later reductions sum in another order."""
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3)
    )
    twin = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 3)
    )
    for m in (model, twin):
        for p in m.parameters():
            p.data = p.data.astype(np.float32)
    twin.load_state_dict(model.state_dict())
    rng = np.random.default_rng(5)

    def loss_of(m, x, y):
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        return loss

    step = ag.compile_step(functools.partial(loss_of, model), strict=True)
    for _ in range(5):
        x = rng.standard_normal((8, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 3, size=8)
        model.zero_grad()
        twin.zero_grad()
        assert _equal(step(Tensor(x), y).data, loss_of(twin, Tensor(x), y).data)
        for (name, p), (_, q) in zip(model.state_dict().items(), twin.state_dict().items()):
            assert _equal(np.asarray(p), np.asarray(q)), name  # running statistics too
        for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters()):
            assert _equal(p.grad.data, q.grad.data), name
    assert step.replays == 3


def test_gradients_accumulate_when_not_zeroed():
    w = Tensor(np.arange(3.0), requires_grad=True)
    step = ag.compile_step(lambda x: (w * x).sum().backward(), strict=True)
    for _ in range(4):
        step(np.ones(3))
    assert step.replays == 2
    assert np.array_equal(w.grad.data, np.full(3, 4.0))


def test_inference_under_no_grad_replays():
    model = nn.MLP((3, 4, 2))
    step = ag.compile_step(lambda x: model(x), strict=True)
    x = Tensor(np.ones((2, 3)))
    with ag.no_grad():
        results = [step(x).data for _ in range(3)]
    assert step.replays == 1
    assert all(np.array_equal(r, results[0]) for r in results)


def test_grad_inside_the_step_returns_replayed_gradients():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    step = ag.compile_step(lambda x: ag.grad((w * x).tanh().sum(), [w]), strict=True)
    for value in (1.0, 2.0, 3.0):
        (g,) = step(np.full(2, value))
    assert step.replays == 1
    assert np.array_equal(g.data, (1 - np.tanh(w.data * 3.0) ** 2) * 3.0)
    assert w.grad is None


# ───────────── guards: a new signature, a rebound parameter ─────────────


def test_a_new_shape_records_again_and_each_shape_replays():
    w = Tensor(np.ones(4), requires_grad=True)
    step = ag.compile_step(lambda x: (x * w).sum(), strict=True)
    for batch in (2, 3, 2, 3, 2, 3):
        out = step(np.ones((batch, 4)))
        assert out.data == batch * 4
    assert step.replays == 2
    out = step(np.ones((5, 4), dtype=np.float32))  # a new dtype is a new signature too
    assert out.data == 20 and step.replays == 2


def test_grad_mode_is_part_of_the_signature():
    w = Tensor(np.ones(2), requires_grad=True)
    step = ag.compile_step(lambda x: x * w, strict=True)
    x = np.ones(2)
    results = [step(x) for _ in range(3)]
    assert [r.requires_grad for r in results] == [True, True, False]  # two recorded calls, then a replay (no graph)
    with ag.no_grad():
        assert step(x).requires_grad is False  # a new signature: recorded, eagerly
    assert step.replays == 1


def test_a_rebound_parameter_is_recorded_again():
    w = Tensor(np.ones(2), requires_grad=True)

    def step_fn(x):
        loss = (w * x).sum()
        loss.backward()
        return loss

    step = ag.compile_step(step_fn, strict=True)
    for _ in range(3):
        step(np.ones(2))
    w.data = np.full(2, 5.0)  # rebinding, not an in-place change: the tape's array is stale
    w.grad = None
    assert step(np.ones(2)).data == 10.0
    assert step.replays == 1


# ───────────── what stays eager, and says why ─────────────


def _refusal(fn, *args, match: str, calls: int = 2):
    step = ag.compile_step(fn, strict=True)
    with pytest.raises(ag.ReplayError, match=match):
        for _ in range(calls):
            step(*args)


def test_a_branch_on_a_truth_value_is_guarded():
    """bool(t) inside the step becomes a guard: while it holds the step replays, when it flips it runs eagerly."""
    w = Tensor(np.ones(2), requires_grad=True)

    def branchy(x):
        y = w * x
        loss = (y * 2).sum() if y.sum() > 0 else (-y).sum()
        loss.backward()
        return loss

    step = ag.compile_step(branchy, strict=True)
    for value in (1.0, 2.0, 3.0):
        w.grad = None
        assert step(np.full(2, value)).data == 4 * value
    assert step.replays == 1
    w.grad = None
    assert step(np.full(2, -1.0)).data == 2.0  # the other branch: the guard failed, so it ran eagerly
    assert np.array_equal(w.grad.data, np.ones(2))  # the failed replay left .grad alone
    assert step.replays == 1


def test_reading_a_changing_value_into_python_is_refused():
    w = Tensor(np.ones(2), requires_grad=True)

    def scaled(x):
        y = w * x
        return y * y.sum().item()  # a Python number that differs from call to call

    step = ag.compile_step(scaled, strict=True)
    with pytest.raises(ag.ReplayError, match="differed between the two recorded calls"):
        for value in (1.0, 2.0):
            step(np.full(2, value))


def test_a_read_after_backward_is_refused():
    w = Tensor(np.ones(2), requires_grad=True)

    def late(x):
        loss = (w * x).sum()
        loss.backward()
        return loss * 2 if loss > 0 else loss

    _refusal(late, np.ones(2), match="after gradients were accumulated")


def test_bad_input_on_replay_gets_eager_modes_error():
    """A replay that fails before touching .grad falls back to eager mode, which raises its own clear error."""
    emb = nn.Embedding(5, 3)
    step = ag.compile_step(lambda ids: emb(ids).sum().backward(), strict=True)
    for _ in range(3):
        step(np.array([0, 1, 4]))
    assert step.replays == 1
    with pytest.raises((IndexError, ValueError), match="5"):
        step(np.array([0, 1, 7]))


def test_a_value_computed_outside_the_operations_is_refused():
    w = Tensor(np.ones(3), requires_grad=True)
    rng = np.random.default_rng(0)

    def noisy(x):
        return (w * x * Tensor(rng.standard_normal(3))).sum()  # a fresh NumPy draw each call

    _refusal(noisy, np.ones(3), match="constant")


def test_dropout_in_training_mode_is_refused():
    layer = nn.Dropout(0.5)
    w = Tensor(np.ones((4, 4)), requires_grad=True)
    _refusal(lambda x: layer(x * w).sum(), np.ones((4, 4)), match="random draw")


def test_an_optimizer_step_inside_the_step_is_refused():
    w = Tensor(np.ones(2), requires_grad=True)
    opt = nn.optim.SGD([w], lr=0.1)

    def with_update(x):
        opt.zero_grad()
        loss = (w * x).sum()
        loss.backward()
        opt.step()
        return loss

    _refusal(with_update, np.ones(2), match="changed in place")


def test_hooks_and_create_graph_are_refused():
    w = Tensor(np.ones(2), requires_grad=True)

    def hooked(x):
        y = w * x
        y.register_hook(lambda g: g * 2)
        y.sum().backward()
        return y

    _refusal(hooked, np.ones(2), match="hook")

    def higher(x):
        (w * w * x).sum().backward(create_graph=True)

    _refusal(higher, np.ones(2), match="create_graph")


def test_a_non_leaf_argument_and_a_python_result_are_refused():
    w = Tensor(np.ones(2), requires_grad=True)
    _refusal(lambda x: x.sum(), w * 2, match="grad_fn")
    _refusal(lambda x: 3.0, np.ones(2), match="returned a float")


def test_without_strict_a_refused_step_warns_once_and_stays_correct():
    w = Tensor(np.ones(2), requires_grad=True)
    step = ag.compile_step(lambda x: x * w * (x * w).sum().item())
    with pytest.warns(ag.ReplayWarning, match="runs eagerly"):
        for value in (1.0, 2.0):
            step(np.full(2, value))
    results = [step(np.full(2, value)).data for value in (1.0, 3.0)]
    assert np.array_equal(results[1], np.full(2, 18.0))
    assert step.replays == 0


def test_switching_a_module_to_eval_records_again():
    """train() and eval() change what a module computes: a replay checks the modes it was recorded with."""
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.0), nn.LayerNorm(4))
    step = ag.compile_step(lambda x: model(x), strict=True)
    x = Tensor(np.ones((2, 4)))
    for _ in range(3):
        step(x)
    model.eval()
    step(x)
    assert step.replays == 1  # the eval call was recorded, not replayed
    for _ in range(2):
        step(x)
    assert step.replays == 2


def test_a_tensor_made_from_an_argument_inside_the_step_follows_the_argument():
    """Tensor(ndarray) copies the data; while a step records, the copy is on the tape, so a replay copies anew."""
    w = Tensor(np.ones(3), requires_grad=True)

    def step_fn(x):
        loss = (w * Tensor(x) * Tensor(x).astype(np.int64).astype(np.float64)).sum()
        loss.backward()
        return loss

    step = ag.compile_step(step_fn, strict=True)
    for value in (1.0, 2.0, 3.0, 4.0):
        w.grad = None
        assert step(np.full(3, value)).data == 3 * value * value
        assert np.array_equal(w.grad.data, np.full(3, value * value))
    assert step.replays == 2


def test_an_argument_that_cannot_be_part_of_a_signature_is_named():
    w = Tensor(np.ones(2), requires_grad=True)
    _refusal(lambda xs: (w * xs[0]).sum(), [np.ones(2)], match=r"argument \(list\)", calls=1)
    step = ag.compile_step(lambda xs: (w * xs[0]).sum())
    with pytest.warns(ag.ReplayWarning, match="list"):
        assert step([np.ones(2)]).data == 2.0
    assert step([np.full(2, 2.0)]).data == 4.0  # still right, eagerly, without a second warning
