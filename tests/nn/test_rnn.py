"""`nn.RNN`, `nn.GRU`, `nn.LSTM` and their cells against PyTorch, and the gradient-clipping example.

PyTorch is the oracle: its weights are loaded into ours by name (``{k: v.numpy()}``), and
outputs, final states and the gradients of a loss with respect to the input, the initial
states and every parameter are compared in float64 (to 1e-10; they agree to about 1e-16).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from example_loader import load_example

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the recurrent layers (gradwire[oracle])")

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from autograd import ShapeError  # noqa: E402

TOL = 1e-10

LAYERS = {  # kind -> (ours, PyTorch's, extra constructor arguments)
    "rnn_tanh": (nn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "gru": (nn.GRU, torch.nn.GRU, {}),
    "lstm": (nn.LSTM, torch.nn.LSTM, {}),
}
CELLS = {
    "rnn_tanh": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "gru": (nn.GRUCell, torch.nn.GRUCell, {}),
    "lstm": (nn.LSTMCell, torch.nn.LSTMCell, {}),
}
CONFIGS = [  # num_layers, bias, batch_first, bidirectional
    dict(num_layers=1, bias=True, batch_first=False, bidirectional=False),
    dict(num_layers=2, bias=False, batch_first=True, bidirectional=False),
    dict(num_layers=3, bias=True, batch_first=False, bidirectional=False),
    dict(num_layers=1, bias=True, batch_first=True, bidirectional=True),
    dict(num_layers=2, bias=False, batch_first=False, bidirectional=True),
]
IN, HIDDEN, LENGTH, BATCH = 4, 5, 7, 3


def config_id(config: dict) -> str:
    flags = [f"L{config['num_layers']}"]
    flags += [name for name in ("bias", "batch_first", "bidirectional") if config[name]]
    return "-".join(flags)


def weights_of(torch_module) -> dict:
    return {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}


def torch_and_ours(table: dict, kind: str, seed: int = 0, **options):
    """A PyTorch layer or cell (float64, seeded) and ours with its weights, loaded by name."""
    ours, theirs, extra = table[kind]
    torch.manual_seed(seed)
    t = theirs(IN, HIDDEN, dtype=torch.float64, **extra, **options)
    m = ours(IN, HIDDEN, dtype=np.float64, **extra, **options)
    m.load_state_dict(weights_of(t))
    return m, t


def layer_pair(kind: str, **options):
    return torch_and_ours(LAYERS, kind, **options)


def cell_pair(kind: str, **options):
    return torch_and_ours(CELLS, kind, **options)


def data(kind: str, config: dict, seed: int = 1, batched: bool = True, with_state: bool = True):
    """The input and the initial states (None when ``with_state`` is False) as float64 arrays."""
    rng = np.random.default_rng(seed)
    if batched:
        shape = (BATCH, LENGTH, IN) if config.get("batch_first") else (LENGTH, BATCH, IN)
    else:
        shape = (LENGTH, IN)
    x = rng.standard_normal(shape)
    directions = 2 if config.get("bidirectional") else 1
    state_shape = (config.get("num_layers", 1) * directions, *((BATCH,) if batched else ()), HIDDEN)
    states = [rng.standard_normal(state_shape) * 0.5 for _ in range(2 if kind == "lstm" else 1)]
    return x, (states if with_state else None)


def run_both(m, t, kind: str, x: np.ndarray, states: list | None, *, grad: bool = False):
    """Run ours and PyTorch's on the same data; return (ours, theirs) as lists [output, h_n(, c_n)] and the leaves."""
    ours_in = [ag.Tensor(x, requires_grad=grad)] + [ag.Tensor(s, requires_grad=grad) for s in states or ()]
    theirs_in = [torch.tensor(x, requires_grad=grad)] + [torch.tensor(s, requires_grad=grad) for s in states or ()]

    def call(module, leaves):
        hx = None if len(leaves) == 1 else (tuple(leaves[1:]) if kind == "lstm" else leaves[1])
        out, state = module(leaves[0], hx)
        return [out, *state] if kind == "lstm" else [out, state]

    return call(m, ours_in), call(t, theirs_in), ours_in, theirs_in


def assert_close(ours, theirs, tol: float = TOL, what: str = "") -> None:
    ours = ours.data if isinstance(ours, ag.Tensor) else ours
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol, err_msg=what)


# ───────────── parameters: names, shapes, initialisation ─────────────


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
@pytest.mark.parametrize("kind", LAYERS)
def test_state_dict_keys_order_and_shapes_equal_pytorchs(kind, config):
    ours, theirs, extra = LAYERS[kind]
    t = theirs(IN, HIDDEN, **extra, **config)
    m = ours(IN, HIDDEN, **extra, **config)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert repr(m).replace(", nonlinearity='relu'", "") == repr(t)  # PyTorch's RNN does not show its nonlinearity


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", CELLS)
def test_cell_state_dict_keys_and_shapes_equal_pytorchs(kind, bias):
    ours, theirs, extra = CELLS[kind]
    t, m = theirs(IN, HIDDEN, bias=bias, **extra), ours(IN, HIDDEN, bias=bias, **extra)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert repr(m).replace("'", "") == repr(t)


@pytest.mark.parametrize("make", [lambda: nn.LSTM(IN, 64, num_layers=2), lambda: nn.GRUCell(IN, 64)])
def test_initialisation_is_pytorchs_uniform_from_the_shared_generator(make):
    nn.manual_seed(3)
    first = make()
    nn.manual_seed(3)
    again = make()
    bound = 1 / np.sqrt(64)
    for (name, p), q in zip(first.named_parameters(), again.parameters()):
        assert p.dtype == np.float32, name
        assert np.abs(p.data).max() <= bound, name
        assert np.abs(p.data).max() > 0.9 * bound, name  # uniform over the whole interval
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert np.abs(np.mean(first.weight_ih_l0.data if hasattr(first, "weight_ih_l0") else first.weight_ih.data)) < 0.01


# ───────────── forward: outputs and final states ─────────────


@pytest.mark.parametrize("with_state", [False, True], ids=["zeros", "h0"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
@pytest.mark.parametrize("kind", LAYERS)
def test_outputs_and_final_states_equal_pytorchs(kind, config, with_state):
    m, t = layer_pair(kind, **config)
    x, states = data(kind, config, with_state=with_state)
    ours, theirs, _, _ = run_both(m, t, kind, x, states)
    for name, a, b in zip(["output", "h_n", "c_n"], ours, theirs):
        assert_close(a, b, what=name)


@pytest.mark.parametrize("config", [CONFIGS[0], CONFIGS[4]], ids=config_id)
@pytest.mark.parametrize("kind", LAYERS)
def test_unbatched_input_equals_pytorchs(kind, config):
    m, t = layer_pair(kind, **config)
    for with_state in (False, True):
        x, states = data(kind, config, batched=False, with_state=with_state)
        ours, theirs, _, _ = run_both(m, t, kind, x, states)
        assert ours[0].shape == (LENGTH, HIDDEN * (2 if config["bidirectional"] else 1))
        for name, a, b in zip(["output", "h_n", "c_n"], ours, theirs):
            assert_close(a, b, what=f"{name}, h0 given: {with_state}")


@pytest.mark.parametrize("kind", LAYERS)
def test_float32_layers_agree_with_pytorch_in_float32(kind):
    # the sigmoid gates are computed as (1 + tanh(a/2)) / 2: as accurate as PyTorch's in float32
    ours, theirs, extra = LAYERS[kind]
    torch.manual_seed(0)
    t = theirs(IN, HIDDEN, num_layers=2, **extra)
    m = ours(IN, HIDDEN, num_layers=2, **extra)
    m.load_state_dict(weights_of(t))
    x = np.random.default_rng(0).standard_normal((30, BATCH, IN)).astype(np.float32)
    out, _ = m(ag.Tensor(x))
    assert out.dtype == np.float32
    assert_close(out, t(torch.tensor(x))[0], tol=2e-6)


def test_a_sequence_of_one_step_and_a_long_one():
    for length in (1, 60):
        m, t = layer_pair("lstm", num_layers=2)
        x = np.random.default_rng(0).standard_normal((length, 2, IN))
        ours, theirs, _, _ = run_both(m, t, "lstm", x, None)
        for a, b in zip(ours, theirs):
            assert_close(a, b)


# ───────────── backward: gradients of input, initial states and every parameter ─────────────


@pytest.mark.parametrize("config", [CONFIGS[0], CONFIGS[1], CONFIGS[2], CONFIGS[4]], ids=config_id)
@pytest.mark.parametrize("kind", LAYERS)
def test_gradients_equal_pytorchs(kind, config):
    m, t = layer_pair(kind, **config)
    x, states = data(kind, config)
    ours, theirs, ours_in, theirs_in = run_both(m, t, kind, x, states, grad=True)
    rng = np.random.default_rng(5)
    weights = [rng.standard_normal(o.shape) for o in ours]  # a loss that weighs every output differently
    sum(((o * w).sum() for o, w in zip(ours, weights)), ag.tensor(0.0, dtype=np.float64)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(theirs, weights)).backward()
    for name, a, b in zip(["input", "h0", "c0"], ours_in, theirs_in):
        assert_close(a.grad, b.grad, what=f"d loss / d {name}")
    theirs_params = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert_close(p.grad, theirs_params[name].grad, what=f"d loss / d {name}")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", CELLS)
def test_cells_equal_pytorchs_batched_and_unbatched_with_gradients(kind, bias):
    m, t = cell_pair(kind, bias=bias)
    rng = np.random.default_rng(2)
    for shape in ((BATCH, IN), (IN,)):
        state_shape = (*shape[:-1], HIDDEN)
        x = rng.standard_normal(shape)
        states = [rng.standard_normal(state_shape) for _ in range(2 if kind == "lstm" else 1)]
        for given in (False, True):
            ours_in = [ag.Tensor(x, requires_grad=True)] + [ag.Tensor(s, requires_grad=True) for s in states]
            theirs_in = [torch.tensor(x, requires_grad=True)] + [torch.tensor(s, requires_grad=True) for s in states]
            m.zero_grad()
            t.zero_grad()
            results = []
            for module, leaves in ((m, ours_in), (t, theirs_in)):
                hx = (tuple(leaves[1:]) if kind == "lstm" else leaves[1]) if given else None
                out = module(leaves[0], hx)
                results.append(list(out) if kind == "lstm" else [out])
            for a, b in zip(*results):
                assert_close(a, b, what=f"output, input {shape}, hx given: {given}")
            upstream = [rng.standard_normal(a.shape) for a in results[0]]
            sum((a * u).sum() for a, u in zip(results[0], upstream)).backward()
            sum((b * torch.tensor(u)).sum() for b, u in zip(results[1], upstream)).backward()
            for name, a, b in list(zip(["input", "h", "c"], ours_in, theirs_in))[: 1 + len(states) * given]:
                assert_close(a.grad, b.grad, what=f"d / d {name}")
            theirs_params = dict(t.named_parameters())
            for name, p in m.named_parameters():
                assert_close(p.grad, theirs_params[name].grad, what=f"d / d {name}")


class Flat(nn.Module):
    """``inner(x, hx)`` with the states as separate arguments and results, for gradcheck_module."""

    def __init__(self, inner: nn.Module, lstm: bool) -> None:
        super().__init__()
        self.inner = inner
        self.lstm = lstm

    def forward(self, x, *states):
        hx = (tuple(states) if self.lstm else states[0]) if states else None
        out = self.inner(x, hx)
        if isinstance(out, ag.Tensor):
            return out
        if self.lstm and isinstance(out[1], tuple):
            return (out[0], *out[1])
        return tuple(out)


@pytest.mark.parametrize("kind", LAYERS)
def test_gradcheck_module_on_tiny_layers(kind):
    ours, _, extra = LAYERS[kind]
    nn.manual_seed(0)
    module = ours(2, 2, num_layers=2, bidirectional=True, dropout=0.5, **extra)  # eval mode: dropout off
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    states = [ag.Tensor(rng.standard_normal((4, 2, 2)) * 0.5, requires_grad=True) for _ in range(1 + (kind == "lstm"))]
    assert nn.gradcheck_module(Flat(module, kind == "lstm"), x, *states)


@pytest.mark.parametrize("kind", CELLS)
def test_gradcheck_module_on_tiny_cells_and_second_order_gradients(kind):
    ours, _, extra = CELLS[kind]
    nn.manual_seed(0)
    cell = ours(2, 3, dtype=np.float64, **extra)
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((2, 2)), requires_grad=True)
    states = [ag.Tensor(rng.standard_normal((2, 3)), requires_grad=True) for _ in range(1 + (kind == "lstm"))]
    assert nn.gradcheck_module(Flat(cell, kind == "lstm"), x, *states)
    assert ag.gradgradcheck(lambda x, *s: Flat(cell, kind == "lstm")(x, *s), [x, *states])


# ───────────── dropout, training mode ─────────────


@pytest.mark.parametrize("kind", LAYERS)
def test_dropout_between_layers_only_in_training(kind):
    m, t = layer_pair(kind, num_layers=2, dropout=0.5)
    x, _ = data(kind, {"num_layers": 2})
    m.eval()
    t.eval()
    ours, theirs, _, _ = run_both(m, t, kind, x, None)
    for a, b in zip(ours, theirs):
        assert_close(a, b, what="eval mode: no dropout")
    m.train()
    nn.manual_seed(1)
    first = m(ag.Tensor(x))[0].data
    nn.manual_seed(1)
    np.testing.assert_array_equal(m(ag.Tensor(x))[0].data, first)  # the shared generator draws the masks
    assert not np.allclose(m(ag.Tensor(x))[0].data, first)
    # p = 1 zeroes the second layer's input: deterministic, so PyTorch agrees in training mode too
    m, t = layer_pair(kind, num_layers=2, dropout=1.0)
    ours, theirs, _, _ = run_both(m, t, kind, x, None)
    for a, b in zip(ours, theirs):
        assert_close(a, b, what="training, dropout=1")


# ───────────── the recorded graph stays small ─────────────


def graph_size(*outputs) -> int:
    seen, stack = set(), [o._node for o in outputs if o._node is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(p for p in node.parents if p is not None)
    return len(seen)


@pytest.mark.parametrize(("kind", "most"), [("rnn_tanh", 4), ("gru", 17), ("lstm", 15)])  # with the stacking
def test_each_time_step_records_few_nodes(kind, most):
    ours, _, extra = LAYERS[kind]
    module = ours(IN, HIDDEN, **extra)
    sizes = []
    for length in (10, 20):
        out, state = module(np.zeros((length, 2, IN), dtype=np.float32))
        sizes.append(graph_size(out, *(state if isinstance(state, tuple) else (state,))))
    assert (sizes[1] - sizes[0]) / 10 <= most


# ───────────── errors ─────────────


def test_wrong_inputs_and_states_are_clear_errors():
    lstm, gru = nn.LSTM(IN, HIDDEN, num_layers=2), nn.GRU(IN, HIDDEN, batch_first=True)
    with pytest.raises(ShapeError, match="input.size\\(-1\\) must be equal to input_size. Expected 4, got 3"):
        lstm(np.zeros((5, 2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(np.zeros((5, 2, 1, IN), dtype=np.float32))
    h = np.zeros((2, 2, HIDDEN), dtype=np.float32)
    with pytest.raises(TypeError, match="hx must be a tuple"):
        lstm(np.zeros((5, 2, IN), dtype=np.float32), h)
    with pytest.raises(ShapeError, match=r"Expected cell size \(2, 2, 5\), got \(2, 3, 5\)"):
        lstm(np.zeros((5, 2, IN), dtype=np.float32), (h, np.zeros((2, 3, HIDDEN), dtype=np.float32)))
    with pytest.raises(ShapeError, match=r"Expected hidden size \(1, 4, 5\), got \(1, 2, 5\)"):
        gru(np.zeros((4, 6, IN), dtype=np.float32), np.zeros((1, 2, HIDDEN), dtype=np.float32))  # (N, L, H_in)
    with pytest.raises(ShapeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D"):
        gru(np.zeros((6, IN), dtype=np.float32), np.zeros((1, 1, HIDDEN), dtype=np.float32))
    with pytest.raises(TypeError, match="hx must be a tensor h_0"):
        gru(np.zeros((4, 6, IN), dtype=np.float32), (np.zeros((1, 4, HIDDEN)),))
    with pytest.raises(TypeError, match="floating-point"):
        gru(np.zeros((4, 6, IN), dtype=np.int64))
    with pytest.raises(ShapeError, match="empty"):
        gru(np.zeros((4, 0, IN), dtype=np.float32))


def test_wrong_constructor_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(IN, HIDDEN, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNNCell(IN, HIDDEN, nonlinearity="gelu")
    with pytest.raises(ValueError, match="dropout should be a number in range \\[0, 1\\]"):
        nn.GRU(IN, HIDDEN, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(IN, 0)
    with pytest.raises(TypeError, match="num_layers should be of type int"):
        nn.LSTM(IN, HIDDEN, num_layers=1.5)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(IN, HIDDEN, proj_size=2)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(IN, HIDDEN, proj_size=2)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.RNN(IN, HIDDEN, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.RNN(IN, HIDDEN, num_layers=2, dropout=0.2)


def test_cell_errors():
    cell = nn.LSTMCell(IN, HIDDEN)
    with pytest.raises(ShapeError, match="input has inconsistent input_size: got 3 expected 4"):
        cell(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match="Expected input to be 1D or 2D, got 3D"):
        cell(np.zeros((1, 2, IN), dtype=np.float32))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        cell(np.zeros((2, IN), dtype=np.float32), np.zeros((2, HIDDEN), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"Expected hidden size \(2, 5\), got \(3, 5\)"):
        nn.GRUCell(IN, HIDDEN)(np.zeros((2, IN), dtype=np.float32), np.zeros((3, HIDDEN), dtype=np.float32))


# ───────────── the gradient-clipping example ─────────────


def load_clipping_example():
    return load_example("rnn_clipping")


def test_clipping_example_tames_exploding_gradients(capsys):
    # Seed 0, lr 0.03: a cliff at step 4 (gradient norm ~100 against ~5 before it). Without clipping
    # SGD jumps off it and the loss stays near 1 (predicting 0); clipped, the same run learns the task.
    example = load_clipping_example()
    max_norm, bound = 1.0, 50.0
    with np.errstate(all="ignore"):
        runs = example.main(steps=60, max_norm=max_norm, report_every=20)
    printed = capsys.readouterr().out
    assert "without clipping: largest gradient norm" in printed and "with clipping" in printed
    without, clipped = runs["without"], runs["with"]
    assert max(without.norms) > bound, without.norms
    assert max(clipped.norms) > max_norm  # clipping had something to do
    assert all(norm <= max_norm * (1 + 1e-5) for norm in clipped.applied), max(clipped.applied)
    assert clipped.final_loss < 0.1 < 0.5 < without.final_loss, (clipped.final_loss, without.final_loss)
