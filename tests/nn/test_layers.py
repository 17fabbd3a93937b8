"""Tests for nn.layers: each forward against NumPy (or math), each gradient by gradcheck_module
over inputs and all parameters in float64, plus shapes, initialisation, modes and errors."""

import math

import numpy as np
import pytest

import autograd as ag
from nn.checks import gradcheck_module
from nn.layers import GELU, MLP, Dropout, Embedding, LayerNorm, Linear, ReLU, Sequential, Sigmoid, Tanh
from nn.module import Module


def rng(seed=0):
    return np.random.default_rng(seed)


def tensor(shape, seed=0, requires_grad=True, dtype=np.float64):
    return ag.Tensor(rng(seed).standard_normal(shape).astype(dtype), requires_grad=requires_grad)


def randomize(module, seed=1):
    """Give every parameter random values, so that ones/zeros initialisations do not hide errors."""
    generator = rng(seed)
    for p in module.parameters():
        p.data[...] = generator.standard_normal(p.shape)
    return module


# ───────────── Linear ─────────────


def test_linear_parameters_shapes_and_init_bounds():
    layer = Linear(50, 30, rng=rng())
    assert layer.weight.shape == (30, 50) and layer.bias.shape == (30,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    bound = 1 / math.sqrt(50)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


def test_linear_init_is_reproducible_with_a_seeded_rng():
    a, b = Linear(4, 3, rng=rng(5)), Linear(4, 3, rng=rng(5))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)


@pytest.mark.parametrize("shape", [(4,), (5, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_and_gradients(shape, bias):
    layer = Linear(4, 3, bias=bias, rng=rng())
    x = tensor(shape, dtype=np.float32)
    expected = x.data @ layer.weight.data.T + (layer.bias.data if bias else 0)
    out = layer(x)
    assert out.shape == shape[:-1] + (3,) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    assert gradcheck_module(layer, x)


def test_linear_float64_and_no_bias():
    layer = Linear(3, 2, bias=False, dtype=np.float64)
    assert layer.bias is None and layer.weight.dtype == np.float64
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


def test_linear_rejects_wrong_input_size():
    with pytest.raises(ag.ShapeError, match=r"linear: input of shape \(2, 5\)"):
        Linear(4, 3)(tensor((2, 5)))


# ───────────── activations ─────────────


def gelu_tanh_reference(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_exact_reference(x):
    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


@pytest.mark.parametrize(
    ("module", "reference"),
    [
        (ReLU(), lambda x: np.maximum(x, 0)),
        (Tanh(), np.tanh),
        (Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (GELU(), gelu_tanh_reference),
        (GELU("tanh"), gelu_tanh_reference),
        (GELU("none"), gelu_exact_reference),
    ],
    ids=["relu", "tanh", "sigmoid", "gelu-default", "gelu-tanh", "gelu-none"],
)
def test_activation_forward_and_gradients(module, reference):
    x = tensor((3, 5), seed=2) * 2.5
    x = ag.Tensor(x.data, requires_grad=True)
    np.testing.assert_allclose(module(x).data, reference(x.data), rtol=1e-6, atol=1e-7)
    assert gradcheck_module(module, x)
    assert list(module.parameters()) == []


def test_exact_gelu_matches_erf_over_a_wide_range():
    x = np.linspace(-10, 10, 2001)
    np.testing.assert_allclose(GELU("none")(ag.Tensor(x)).data, gelu_exact_reference(x), rtol=0, atol=2e-7)
    np.testing.assert_allclose(GELU("none")(ag.Tensor(x.astype(np.float32))).data, gelu_exact_reference(x), atol=1e-6)


def test_exact_gelu_gradient_matches_the_closed_form():
    x = ag.Tensor(np.linspace(-6, 6, 241), requires_grad=True)  # includes 0, where |u| has a kink
    GELU("none")(x).sum().backward()
    phi = np.exp(-(x.data**2) / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x.data / math.sqrt(2)))
    np.testing.assert_allclose(x.grad.data, cdf + x.data * phi, atol=1e-6)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        GELU("erf")
    assert repr(GELU()) == "GELU(approximate='tanh')"


# ───────────── Dropout ─────────────


def test_dropout_is_identity_in_eval_mode():
    layer = Dropout(0.5).eval()
    x = tensor((4, 5))
    assert layer(x) is x


def test_dropout_zeroes_about_p_and_scales_the_rest():
    p, n = 0.3, 200_000
    x = ag.Tensor(np.full(n, 2.0), requires_grad=True)
    out = Dropout(p, rng=rng(3))(x)
    zeroed = np.mean(out.data == 0)
    assert abs(zeroed - p) <= 5 * math.sqrt(p * (1 - p) / n)
    kept = out.data[out.data != 0]
    np.testing.assert_allclose(kept, 2.0 / (1 - p))
    out.sum().backward()  # the gradient is the same scaled mask
    np.testing.assert_allclose(x.grad.data, (out.data != 0) / (1 - p))


def test_dropout_is_reproducible_with_a_seeded_rng():
    x = tensor((10, 10))
    a = Dropout(0.5, rng=rng(9))(x).data
    b = Dropout(0.5, rng=rng(9))(x).data
    np.testing.assert_array_equal(a, b)
    layer = Dropout(0.5, rng=rng(9))
    assert np.any(layer(x).data != layer(x).data)  # a fresh mask at every call


def test_dropout_edge_probabilities_and_dtype():
    x = tensor((3, 4), dtype=np.float32)
    assert Dropout(0.0)(x) is x
    np.testing.assert_array_equal(Dropout(1.0)(x).data, 0.0)
    assert Dropout(0.5)(x).dtype == np.float32
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        Dropout(1.5)
    assert repr(Dropout(0.1)) == "Dropout(p=0.1)"


def test_dropout_gradcheck_runs_in_eval_mode():
    model = Sequential(Linear(3, 4, rng=rng()), Dropout(0.5), Tanh())
    assert gradcheck_module(model, tensor((2, 3)))
    assert model[1].training


# ───────────── LayerNorm ─────────────


def layer_norm_reference(x, weight, bias, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased, like PyTorch
    return (x - mean) / np.sqrt(var + eps) * weight + bias


@pytest.mark.parametrize(("shape", "normalized"), [((4, 6), 6), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4)), ((5,), 5)])
def test_layer_norm_forward_and_gradients(shape, normalized):
    layer = randomize(LayerNorm(normalized, dtype=np.float64))
    x = tensor(shape, seed=4) * 3 + 1
    x = ag.Tensor(x.data, requires_grad=True)
    n = 1 if isinstance(normalized, int) else len(normalized)
    expected = layer_norm_reference(x.data, layer.weight.data, layer.bias.data, tuple(range(-n, 0)), 1e-5)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)
    assert gradcheck_module(layer, x)


def test_layer_norm_defaults():
    layer = LayerNorm(4)
    np.testing.assert_array_equal(layer.weight.data, np.ones(4))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(4))
    assert layer.weight.dtype == np.float32
    x = tensor((3, 4), dtype=np.float32)
    out = layer(x).data
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-6)
    var = x.data.astype(np.float64).var(axis=-1)  # biased (ddof=0), like PyTorch
    np.testing.assert_allclose(out.var(axis=-1), var / (var + 1e-5), rtol=1e-5)
    assert repr(layer) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"


def test_layer_norm_without_affine_or_bias():
    assert list(LayerNorm(4, elementwise_affine=False).parameters()) == []
    layer = LayerNorm(4, bias=False, dtype=np.float64)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert gradcheck_module(randomize(layer), tensor((2, 4)))
    assert gradcheck_module(LayerNorm(4, elementwise_affine=False), tensor((2, 4)))


def test_layer_norm_rejects_wrong_trailing_shape():
    with pytest.raises(ag.ShapeError, match=r"normalized_shape \(3, 4\) does not match .* input shape \(2, 4, 3\)"):
        LayerNorm((3, 4))(tensor((2, 4, 3)))
    with pytest.raises(ag.ShapeError):
        LayerNorm((2, 3, 4))(tensor((3, 4)))


# ───────────── Embedding ─────────────


def test_embedding_lookup_and_scatter_add_gradient():
    table = Embedding(6, 3, rng=rng())
    idx = np.array([[0, 2, 2], [5, 0, 2]])
    out = table(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data, table.weight.data[idx])
    upstream = rng(1).standard_normal(out.shape).astype(np.float32)
    out.backward(upstream)
    expected = np.zeros((6, 3), dtype=np.float32)
    np.add.at(expected, idx, upstream)  # repeated indices add up
    np.testing.assert_allclose(table.weight.grad.data, expected, rtol=1e-6)


@pytest.mark.parametrize("idx", [np.array([1, 1, 3, 1]), np.array([[4, 0], [0, 4]]), 2, [3, 3]])
def test_embedding_gradcheck(idx):
    assert gradcheck_module(Embedding(5, 2, rng=rng()), idx)


def test_embedding_accepts_integer_tensors():
    table = Embedding(4, 2)
    np.testing.assert_array_equal(table(ag.Tensor(np.array([3, 1]))).data, table.weight.data[[3, 1]])


def test_embedding_init_is_standard_normal():
    w = Embedding(1000, 64, rng=rng()).weight.data.astype(np.float64)
    n = w.size
    assert abs(w.mean()) <= 5 / math.sqrt(n)
    assert abs(w.std() - 1) <= 5 * math.sqrt(2 / (4 * n))
    assert repr(Embedding(10, 4)) == "Embedding(10, 4)"


def test_embedding_rejects_bad_indices():
    table = Embedding(5, 2)
    with pytest.raises(IndexError, match=r"index 5 is out of range \[0, 5\)"):
        table(np.array([0, 5]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        table([-1, 2])
    with pytest.raises(TypeError, match="indices must hold integers, got dtype float"):
        table(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="bool"):
        table(np.array([True, False]))


# ───────────── Sequential and MLP ─────────────


def test_sequential_composes_and_indexes():
    first, second = Linear(3, 4, rng=rng()), Linear(4, 2, rng=rng(1))
    model = Sequential(first, ReLU(), second)
    x = tensor((5, 3))
    np.testing.assert_allclose(model(x).data, second(first(x).relu()).data)
    assert len(model) == 3 and model[0] is first and model[-1] is second
    assert list(model) == [first, model[1], second]
    assert isinstance(model[1:], Sequential) and len(model[1:]) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError):
        model[3]
    assert model.append(Tanh()) is model and len(model) == 4


def test_sequential_with_named_modules():
    model = Sequential({"fc": Linear(2, 2), "act": ReLU()})
    assert [n for n, _ in model.named_parameters()] == ["fc.weight", "fc.bias"]
    assert isinstance(model[1], ReLU)


def mlp_reference(model, x, hidden, last):
    linears = [m for m in model.layers if isinstance(m, Linear)]
    for i, layer in enumerate(linears):
        x = x @ layer.weight.data.T + layer.bias.data
        x = hidden(x) if i < len(linears) - 1 else last(x)
    return x


@pytest.mark.parametrize(
    ("activation", "hidden"),
    [("relu", lambda x: np.maximum(x, 0)), ("tanh", np.tanh), ("sigmoid", lambda x: 1 / (1 + np.exp(-x)))],
)
def test_mlp_forward_and_gradients(activation, hidden):
    model = MLP([3, 5, 4, 2], activation=activation, dtype=np.float64, rng=rng())
    x = tensor((6, 3))
    np.testing.assert_allclose(model(x).data, mlp_reference(model, x.data, hidden, lambda x: x), rtol=1e-12)
    assert gradcheck_module(model, x)


def test_mlp_structure_and_names():
    model = MLP([2, 4, 1], activation="gelu", output_activation="sigmoid")
    assert [n for n, _ in model.named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]
    assert repr(model) == (
        "MLP(\n"
        "  (layers): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=4, bias=True)\n"
        "    (1): GELU(approximate='tanh')\n"
        "    (2): Linear(in_features=4, out_features=1, bias=True)\n"
        "    (3): Sigmoid()\n"
        "  )\n"
        ")"
    )
    assert model.num_parameters() == 2 * 4 + 4 + 4 * 1 + 1
    assert gradcheck_module(model, tensor((3, 2)))


def test_mlp_accepts_module_classes_and_no_bias():
    model = MLP([2, 3, 3, 2], activation=Tanh, output_activation=lambda: GELU("none"), bias=False)
    kinds = [type(m).__name__ for m in model.layers]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "GELU"]
    assert model.layers[1] is not model.layers[3]
    assert all(m.bias is None for m in model.layers if isinstance(m, Linear))
    assert gradcheck_module(model, tensor((4, 2)))


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least an input and an output"):
        MLP([3])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP([2, 2], activation="swish")
    with pytest.raises(TypeError, match="output_activation"):
        MLP([2, 2], output_activation=3)


def test_modes_propagate_through_layers():
    model = Sequential(MLP([2, 2]), Dropout(0.5))
    model.eval()
    assert all(not m.training for m in model.modules())
    x = tensor((3, 2))
    np.testing.assert_array_equal(model(x).data, model[0](x).data)
    assert isinstance(model, Module)
