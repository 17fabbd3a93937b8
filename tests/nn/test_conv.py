"""The convolution and pooling layers (`nn.conv`): PyTorch's parameter names, shapes, initialisation and outputs.

A PyTorch layer's ``state_dict`` loads into ours by name and both compute the same outputs and
gradients; the default initialisation follows PyTorch's bounds and nn's shared generator; a
tiny CNN (Conv2d -> ReLU -> MaxPool2d -> Flatten -> Linear) passes `nn.gradcheck_module`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the convolution layers (gradwire[oracle])")
tnn = torch.nn

# PyTorch warns that it copies the input for padding="same" with an even kernel
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def load_from(torch_module, module):
    """Copy a PyTorch module's state_dict into ours by name (strict: the names must be the same)."""
    module.load_state_dict({k: v.detach().numpy() for k, v in torch_module.state_dict().items()}, strict=True)
    return module


def same_outputs_and_grads(module, torch_module, x: np.ndarray, atol: float = 1e-10) -> None:
    ours, theirs = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = module(ours), torch_module(theirs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=atol)
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(ag.Tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=atol)
    torch_params = dict(torch_module.named_parameters())
    for name, param in module.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), torch_params[name].grad.numpy(), rtol=1e-10, atol=atol)


CONV2D = [
    ((3, 8, 3), {"padding": 1}),
    ((4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}),
    ((2, 3, 4), {"padding": "same", "bias": False}),
    ((2, 4, 3), {"padding": "valid", "stride": 2}),
]


CONV1D = [
    ((3, 5, 3), {"padding": 1}),
    ((4, 2, 2), {"stride": 2, "dilation": 2, "groups": 2}),
    ((2, 2, 4), {"padding": "same"}),
]
ATTRIBUTES = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")


def matched_pair(ours, theirs, args, kwargs):
    """A gradwire layer and a PyTorch one (float64) with the same state_dict names, shapes, attributes and repr,
    the PyTorch weights loaded into ours by name."""
    torch.manual_seed(0)
    reference = theirs(*args, **kwargs).double()
    layer = ours(*args, **kwargs, dtype=np.float64)
    assert [(k, tuple(v.shape)) for k, v in reference.state_dict().items()] == [
        (k, v.shape) for k, v in layer.state_dict().items()
    ]
    for attribute in ATTRIBUTES:
        assert getattr(layer, attribute) == getattr(reference, attribute), attribute
    assert repr(layer) == repr(reference)
    return load_from(reference, layer), reference


@pytest.mark.parametrize("args, kwargs", CONV2D, ids=["3x3-pad1", "grouped-strided-dilated", "same-even", "valid"])
def test_conv2d_state_dict_and_outputs_match_torch(args, kwargs):
    layer, reference = matched_pair(nn.Conv2d, tnn.Conv2d, args, kwargs)
    same_outputs_and_grads(layer, reference, np.random.default_rng(1).standard_normal((2, args[0], 7, 6)))


@pytest.mark.parametrize("args, kwargs", CONV1D, ids=["pad1", "strided-dilated-grouped", "same-even"])
def test_conv1d_state_dict_and_outputs_match_torch(args, kwargs):
    layer, reference = matched_pair(nn.Conv1d, tnn.Conv1d, args, kwargs)
    same_outputs_and_grads(layer, reference, np.random.default_rng(2).standard_normal((3, args[0], 11)))


def test_default_initialisation_follows_torch_bounds_and_the_shared_generator():
    nn.manual_seed(7)
    layer = nn.Conv2d(6, 8, (3, 2), groups=2)
    fan_in = 3 * 3 * 2  # in_channels / groups * kH * kW
    bound = 1 / math.sqrt(fan_in)
    for param in (layer.weight, layer.bias):
        assert param.dtype == np.float32
        assert np.abs(param.numpy()).max() <= bound
        assert np.abs(param.numpy()).max() > 0.8 * bound  # spread over the whole interval, not a narrower one
    assert layer.weight.shape == (8, 3, 3, 2) and layer.bias.shape == (8,)
    nn.manual_seed(7)
    again = nn.Conv2d(6, 8, (3, 2), groups=2)
    np.testing.assert_array_equal(layer.weight.numpy(), again.weight.numpy())
    np.testing.assert_array_equal(layer.bias.numpy(), again.bias.numpy())
    seeded = nn.Conv1d(2, 3, 5, rng=np.random.default_rng(0))
    assert np.abs(seeded.weight.numpy()).max() <= 1 / math.sqrt(10)


@pytest.mark.parametrize(
    "layer, reference",
    [
        (lambda: nn.MaxPool2d(3, 2, 1), lambda: tnn.MaxPool2d(3, 2, 1)),
        (
            lambda: nn.MaxPool2d((2, 3), dilation=(2, 1), ceil_mode=True),
            lambda: tnn.MaxPool2d((2, 3), dilation=(2, 1), ceil_mode=True),
        ),
        (lambda: nn.AvgPool2d(3, 2, 1), lambda: tnn.AvgPool2d(3, 2, 1)),
        (
            lambda: nn.AvgPool2d(2, 1, 1, ceil_mode=True, count_include_pad=False),
            lambda: tnn.AvgPool2d(2, 1, 1, ceil_mode=True, count_include_pad=False),
        ),
        (lambda: nn.AvgPool2d(2, divisor_override=3), lambda: tnn.AvgPool2d(2, divisor_override=3)),
        (lambda: nn.Flatten(), lambda: tnn.Flatten()),
        (lambda: nn.Flatten(0, 2), lambda: tnn.Flatten(0, 2)),
    ],
    ids=["max", "max-dilated-ceil", "avg", "avg-ceil-no-pad", "avg-divisor", "flatten", "flatten-0-2"],
)
def test_pooling_and_flatten_layers_match_torch(layer, reference):
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 6))
    same_outputs_and_grads(layer(), reference(), x)


def test_max_pool2d_layer_returns_torch_indices():
    x = np.random.default_rng(4).integers(0, 3, (2, 2, 6, 5)).astype(np.float64)  # ties everywhere
    out, indices = nn.MaxPool2d(3, 2, 1, return_indices=True)(ag.Tensor(x))
    expected, expected_indices = tnn.MaxPool2d(3, 2, 1, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())


def test_flatten_keeps_the_batch_axis():
    x = ag.Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, -1)(x).shape == (24,)
    assert nn.Flatten(1, 1)(x).shape == (2, 3, 4)
    assert nn.functional.flatten(x, start_dim=-2).shape == (2, 12)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def tiny_cnn(dtype=np.float64) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, dtype=dtype),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 3 * 3, 4, dtype=dtype),
    )


@pytest.mark.parametrize("batch", [2, 8], ids=["batch-2", "batch-8-batch-innermost"])
def test_tiny_cnn_gradcheck(batch):
    nn.manual_seed(0)
    model = tiny_cnn()
    # away from ReLU's kink and from ties between the values a max-pool window compares
    size = batch * 2 * 6 * 6
    values = np.random.default_rng(5).permutation(size).reshape(batch, 2, 6, 6) * (3.0 / size) - 1.49
    x = ag.Tensor(values, requires_grad=True)
    if batch >= ag.conv.BATCH_INNERMOST:  # a batch of two-channel images lies batch-innermost from the first conv
        assert ag.conv.batch_innermost(model[0](x).data)
    assert nn.gradcheck_module(model, x)


def test_tiny_cnn_matches_torch_and_learns():
    nn.manual_seed(1)
    model = tiny_cnn(np.float32)
    reference = tnn.Sequential(
        tnn.Conv2d(2, 3, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(27, 4)
    )
    reference.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((16, 2, 6, 6)).astype(np.float32), rng.integers(0, 4, 16)
    out = model(ag.Tensor(x))
    np.testing.assert_allclose(out.numpy(), reference(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(ag.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Conv2d(3, 4, 3, groups=2), r"groups=2 must be positive and divide in_channels \(3\)"),
        (lambda: nn.Conv2d(2, 4, 3, stride=2, padding="same"), r"padding='same' needs stride 1"),
        (lambda: nn.Conv2d(2, 4, 3, padding="full"), r"'same' or 'valid'"),
        (lambda: nn.Conv2d(2, 4, (3, 3, 3)), r"kernel_size must be an int or 2 ints"),
        (lambda: nn.Conv1d(2, 4, 3, padding_mode="reflect"), r"only padding_mode='zeros'"),
    ],
)
def test_layer_arguments_are_checked(make, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make()


def test_conv2d_layer_refuses_an_input_with_other_channels():
    with pytest.raises(ag.ShapeError, match=r"conv2d: input of shape \(1, 2, 5, 5\) has 2 channels"):
        nn.Conv2d(3, 4, 3)(ag.Tensor(np.zeros((1, 2, 5, 5), np.float32)))
