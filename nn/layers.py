"""Layers: `Linear`, `Sequential`, activations (`ReLU`, `Tanh`, `Sigmoid`, `GELU`), `Dropout`,
`LayerNorm`, `Embedding` and `MLP`.

Shapes, defaults and initialisation follow PyTorch (``Linear.weight`` is ``(out, in)`` and
starts in U(-1/sqrt(in), 1/sqrt(in)); ``Embedding.weight`` starts in N(0, 1); ``LayerNorm``
starts as the identity affine map). Every forward is written with public Tensor operations,
so gradients (and gradients of gradients) come from the engine; random initialisation and
dropout masks take an optional ``rng`` and otherwise use nn's shared generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autograd import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter

# ───────────── containers ─────────────


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Args:
        modules: the modules in order (registered as ``"0"``, ``"1"``, ...), or a single
            dict mapping names to modules.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x: Any) -> Any:
        """Apply each module in turn."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"Sequential: index {index} is out of range for {len(modules)} modules")
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end.

        Returns:
            This Sequential.
        """
        self.add_module(str(len(self._modules)), module)
        return self


# ───────────── affine maps ─────────────


class Linear(Module):
    """y = x @ weight.T + bias, over the last axis of ``x`` (any number of leading axes).

    Args:
        in_features: size of each input's last axis.
        out_features: size of each output's last axis.
        bias: learn an additive bias.
        dtype: the parameters' dtype.
        rng: the generator for initialisation (default: nn's shared one).

    Attributes:
        weight: shape ``(out_features, in_features)``, initialised U(-1/sqrt(in), 1/sqrt(in))
            (PyTorch's ``kaiming_uniform_(a=sqrt(5))``).
        bias: shape ``(out_features,)``, the same distribution; None when ``bias=False``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
            bound = 1 / math.sqrt(in_features) if in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, rng)
        else:
            self.bias = None

    def forward(self, x: Tensor) -> Tensor:
        """``x @ weight.T + bias`` over the last axis."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        """The sizes, for repr."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


# ───────────── activations ─────────────


class ReLU(Module):
    """max(x, 0), elementwise (gradient 0 at 0)."""

    def forward(self, x: Tensor) -> Tensor:
        """max(x, 0), elementwise."""
        return x.relu()


class Tanh(Module):
    """Hyperbolic tangent, elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """tanh(x), elementwise."""
        return x.tanh()


class Sigmoid(Module):
    """Logistic sigmoid 1 / (1 + e**-x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """sigmoid(x), elementwise."""
        return x.sigmoid()


class GELU(Module):
    """Gaussian error linear unit, x * Phi(x).

    Args:
        approximate: ``"tanh"`` (the default here, as in GPT-2):
            0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x**3))); ``"none"``: the exact
            form x * Phi(x) (nanoGPT's), with erf from W. J. Cody's rational approximations
            written in Tensor operations (see `nn.functional.gelu`; it agrees with PyTorch's
            to about 2e-15 in float64). PyTorch's default is ``"none"``.
    """

    def __init__(self, approximate: str = "tanh") -> None:
        super().__init__()
        if approximate not in ("tanh", "none"):
            raise ValueError(f"GELU: approximate must be 'tanh' or 'none', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        """GELU of ``x``, elementwise (see `nn.functional.gelu`)."""
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        """The approximation, for repr."""
        return f"approximate={self.approximate!r}"


# ───────────── regularisation and normalisation ─────────────


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    In evaluation mode (``.eval()``) it is the identity.

    Args:
        p: the probability of zeroing an element, in [0, 1].
        rng: the generator for the masks (default: nn's shared one, read at each call).
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p
        self.rng = rng

    def forward(self, x: Tensor) -> Tensor:
        """``x`` with dropout applied in training mode; ``x`` itself in evaluation mode."""
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        """The drop probability, for repr."""
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` axes, then scale and shift elementwise.

    y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance (divide by n),
    as in PyTorch.

    Args:
        normalized_shape: the trailing shape to normalise over (an int for the last axis).
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (initially ones) and ``bias`` (initially zeros).
        bias: learn the bias (with ``elementwise_affine``).
        dtype: the parameters' dtype.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._axes = tuple(range(-len(shape), 0))
        self.weight = Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dtype=dtype)) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        """``x`` normalised over its trailing ``normalized_shape`` axes (see `nn.functional.layer_norm`)."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """The normalized shape and options, for repr."""
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


# ───────────── lookup ─────────────


class Embedding(Module):
    """A lookup table: ``embedding(idx) == weight[idx]``, one row per index.

    The gradient of the lookup is a scatter-add: an index used several times gets the sum
    of its rows' gradients.

    Args:
        num_embeddings: the number of rows (valid indices are 0 .. num_embeddings - 1).
        embedding_dim: the size of each row.
        dtype: the weight's dtype.
        rng: the generator for initialisation (default: nn's shared one).

    Attributes:
        weight: shape ``(num_embeddings, embedding_dim)``, initialised N(0, 1) like PyTorch.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        init.normal_(self.weight, 0.0, 1.0, rng)

    def forward(self, indices: Any) -> Tensor:
        """Look up rows.

        Args:
            indices: integers of any shape (a Tensor, ndarray, list or int).

        Returns:
            A Tensor of shape ``indices.shape + (embedding_dim,)``.
        """
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        """The table size, for repr."""
        return f"{self.num_embeddings}, {self.embedding_dim}"


# ───────────── multi-layer perceptron ─────────────

_ACTIVATIONS: dict[str, Callable[[], Module]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "gelu": GELU}


def _activation(spec: str | Callable[[], Module], role: str) -> Callable[[], Module]:
    """A factory of fresh activation modules from a name or a Module class."""
    if isinstance(spec, str):
        if spec not in _ACTIVATIONS:
            raise ValueError(f"MLP: unknown {role} {spec!r}; use one of {sorted(_ACTIVATIONS)} or a Module class")
        return _ACTIVATIONS[spec]
    if not callable(spec):
        raise TypeError(f"MLP: {role} must be a name or a Module class, got {spec!r}")
    return spec


class MLP(Module):
    """A multi-layer perceptron: Linear layers with an activation between consecutive ones.

    ``MLP([2, 16, 16, 1])`` is ``Linear(2, 16), ReLU, Linear(16, 16), ReLU, Linear(16, 1)``,
    held in ``self.layers`` (a `Sequential`), so parameters are named ``layers.0.weight``,
    ``layers.2.weight``, ...

    Args:
        sizes: the feature sizes, input first, output last (at least two).
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"gelu"``, or a Module class
            (any callable returning a fresh Module) used after every hidden layer.
        output_activation: the same kinds, applied after the last layer; None for none.
        bias: give the Linear layers biases.
        dtype: the parameters' dtype.
        rng: the generator for initialisation (default: nn's shared one).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Callable[[], Module] = "relu",
        output_activation: str | Callable[[], Module] | None = None,
        bias: bool = True,
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        hidden = _activation(activation, "activation")
        last = None if output_activation is None else _activation(output_activation, "output_activation")
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, bias=bias, dtype=dtype, rng=rng))
            is_last = i == len(sizes) - 2
            if not is_last:
                layers.append(hidden())
            elif last is not None:
                layers.append(last())
        self.sizes = sizes
        self.layers = Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the layers in turn."""
        return self.layers(x)
