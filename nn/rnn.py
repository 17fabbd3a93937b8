"""Recurrent layers: `RNN`, `GRU`, `LSTM` and their one-step cells `RNNCell`, `GRUCell`, `LSTMCell`.

PyTorch's API and conventions throughout, so weights move between the two by name:

- parameters ``weight_ih_l{k}`` ``(G*hidden, in)``, ``weight_hh_l{k}`` ``(G*hidden, hidden)``,
  ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(G*hidden,)`` per layer ``k`` (``..._reverse`` for the
  backward direction of a bidirectional layer; the cells drop the ``_l{k}``), with G = 1 for
  `RNN`, 3 for `GRU` (gates r, z, n) and 4 for `LSTM` (gates i, f, g, o), in that order;
- every parameter starts in U(-1/sqrt(hidden), 1/sqrt(hidden)), drawn in registration order
  from nn's shared generator (or ``rng``);
- inputs ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or unbatched ``(L, H_in)``;
  states ``(D * num_layers, N, hidden)`` (``(D * num_layers, hidden)`` unbatched), never batch-first;
- the formulas, with x the input, h the previous hidden state, c the previous cell state,
  σ the logistic sigmoid and * the elementwise product::

      RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)            (relu with nonlinearity="relu")
      GRU:  r  = σ(W_ir x + b_ir + W_hr h + b_hr)
            z  = σ(W_iz x + b_iz + W_hz h + b_hz)
            n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
            h' = (1 - z) * n + z * h
      LSTM: i, f, g, o = σ(.), σ(.), tanh(.), σ(.) of W_ih x + b_ih + W_hh h + b_hh
            c' = f * c + i * g
            h' = o * tanh(c')

Everything is written in public Tensor operations, so gradients (and gradients of
gradients) come from the engine. One time step of a layer records few nodes: the step's
input and hidden state are joined (`concatenate`) and projected by ONE ``F.linear`` with
``[W_ih | W_hh]`` and ``b_ih + b_hh`` (joined once per forward), followed by the gate math
with a single tanh for all gates (σ(a) = (1 + tanh(a/2)) / 2, see below): 3 nodes a step
for `RNN`, 14 for `LSTM`, 16 for `GRU` (whose n gate needs ``W_hn h + b_hn`` on its own, so
it keeps two projections), plus one to stack the outputs. The input is deliberately not projected for all time steps at
once: in this engine the gradient of each time step's slice of such a projection is a
full-size array (``getitem``'s rule scatters into zeros), which makes backward quadratic in
the sequence length; a projection per step keeps it linear (an LSTM at L = 64, N = 32,
hidden = 128 runs forward and backward 2-3x faster this way).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

import autograd
from autograd import ShapeError, Tensor

from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}
_NONLINEARITIES = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


# ───────────── the gate math of one step, shared by the layers and the cells ─────────────
# The gates' sigmoids are computed as σ(a) = (1 + tanh(a / 2)) / 2: NumPy's tanh is 10-35x
# faster than the engine's overflow-safe sigmoid (exp(-logaddexp(0, -a))), which made up a third
# of an LSTM's time. The halving is folded into the weights and biases of the sigmoid gates' rows,
# once per forward (`_halved`: scaling by 0.5 is exact, so the pre-activations are exactly a / 2),
# and one tanh serves every gate of a step.


def _rnn_update(gates: Tensor, mode: str) -> Tensor:
    """h' = tanh(gates) (or relu), where gates = W_ih x + b_ih + W_hh h + b_hh."""
    return gates.tanh() if mode == "RNN_TANH" else gates.relu()


def _lstm_update(pre: Tensor, c: Tensor, hidden: int) -> tuple[Tensor, Tensor]:
    """(h', c') from the stacked gate pre-activations (i, f, g, o), those of i, f and o halved, and c."""
    t = pre.tanh()
    s = t * 0.5 + 0.5  # σ of the i, f and o columns (the g columns of s are not used)
    i, f, o = s[..., :hidden], s[..., hidden : 2 * hidden], s[..., 3 * hidden :]
    c = f * c + i * t[..., 2 * hidden : 3 * hidden]
    return o * c.tanh(), c


def _gru_update(gx: Tensor, gh: Tensor, h: Tensor, hidden: int) -> Tensor:
    """h' from the projections W_ih x + b_ih and W_hh h + b_hh (their r and z columns halved) and h."""
    s = (gx + gh).tanh() * 0.5 + 0.5  # σ of the r and z columns (the n columns of s are not used)
    r, z = s[..., :hidden], s[..., hidden : 2 * hidden]
    n = (gx[..., 2 * hidden :] + r * gh[..., 2 * hidden :]).tanh()
    return n + z * (h - n)  # (1 - z) * n + z * h, in three nodes


def _halving(mode: str, hidden: int, dtype: np.dtype) -> np.ndarray | None:
    """The factor of each gate row: 0.5 for the sigmoid gates (LSTM's i, f, o; GRU's r, z), 1 for the others."""
    if mode == "LSTM":
        return np.repeat(np.array([0.5, 0.5, 1.0, 0.5], dtype=dtype), hidden)
    if mode == "GRU":
        return np.repeat(np.array([0.5, 0.5, 1.0], dtype=dtype), hidden)
    return None


def _halved(t: Tensor | None, factor: np.ndarray | None) -> Tensor | None:
    """A weight ``(G*hidden, k)`` or bias ``(G*hidden,)`` with its sigmoid gates' rows halved."""
    if t is None or factor is None:
        return t
    return t * (factor[:, None] if t.ndim == 2 else factor)


# ───────────── shared helpers ─────────────


def _check_size(value: Any, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{where}: {name} must be greater than zero, got {value}")
    return int(value)


def _as_input(x: Any, where: str) -> Tensor:
    # an ndarray is copied by a primitive, not by Tensor(): a recorded step (autograd.compile_step) replays it
    x = x if isinstance(x, Tensor) else autograd.ops.array(np.asarray(x), None)
    if x.dtype.kind != "f":
        raise TypeError(f"{where}: the input must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _as_state(h: Any, dtype: np.dtype) -> Tensor:
    """A given initial state as a Tensor (an ndarray or list is converted to ``dtype``)."""
    return h if isinstance(h, Tensor) else autograd.ops.array(np.asarray(h), dtype)


def _time_steps(x: Tensor, axis: int) -> list[Tensor]:
    """The slices of ``x`` along ``axis`` (the time axis), each without that axis.

    A slice's gradient is a full-size array (zeros but for the slice), so L slices taken
    straight from an input that requires grad cost L full-size arrays in backward. Halving
    the sequence first, recursively, makes it about 2 log2(L) of them.
    """
    length = x.shape[axis]
    lead = (slice(None),) * axis
    if length <= 4 or not x.requires_grad:
        return [x[(*lead, t)] for t in range(length)]
    middle = length // 2
    return _time_steps(x[(*lead, slice(0, middle))], axis) + _time_steps(x[(*lead, slice(middle, None))], axis)


def _check_state(h: Tensor, expected: tuple, where: str, which: str = "hidden") -> None:
    if tuple(h.shape) != expected:
        raise ShapeError(f"{where}: Expected {which} size {expected}, got {tuple(h.shape)}")


def _uniform_parameter(shape: tuple, bound: float, dtype: Any, rng: np.random.Generator | None) -> Parameter:
    p = Parameter(np.empty(shape, dtype=dtype))
    init.uniform_(p, -bound, bound, rng)
    return p


# ───────────── the layers ─────────────


class RNNBase(Module):
    """The common part of `RNN`, `GRU` and `LSTM` (PyTorch's ``nn.RNNBase``): parameters, checks, the loop.

    Args:
        input_size: the size of each input step's last axis, H_in.
        hidden_size: the size of the hidden state.
        num_layers: recurrent layers stacked, each reading the outputs of the one below.
        bias: learn ``bias_ih_l{k}`` and ``bias_hh_l{k}``.
        batch_first: inputs and outputs are ``(N, L, H)`` instead of ``(L, N, H)`` (states are not affected).
        dropout: the probability of dropout on the outputs of every layer but the last, in training.
        bidirectional: run a second direction over the reversed sequence in every layer; the
            outputs of both directions are concatenated (forward first), D = 2.
        proj_size: PyTorch's LSTM with projections; only 0 (none) is supported.
        dtype: the parameters' dtype.
        rng: the generator for initialisation and dropout (default: nn's shared one).
        mode: ``"RNN_TANH"``, ``"RNN_RELU"``, ``"GRU"`` or ``"LSTM"`` (default: the class's).
    """

    _mode = "RNN_TANH"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
        mode: str | None = None,
    ) -> None:
        super().__init__()
        mode = self._mode if mode is None else mode
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"RNNBase: unknown mode {mode!r}; use one of {sorted(_GATES)}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size:
            raise NotImplementedError("LSTM: proj_size > 0 (an LSTM with projections) is not implemented")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the probability of an element "
                f"being zeroed, got {dropout!r}"
            )
        self.mode = mode
        self.input_size = _check_size(input_size, "input_size", name)
        self.hidden_size = _check_size(hidden_size, "hidden_size", name)
        self.num_layers = _check_size(num_layers, "num_layers", name)
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2 if type(self).__init__ is RNNBase.__init__ else 3,  # the caller's line
            )
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.rng = rng
        directions = 2 if self.bidirectional else 1
        gate_size = _GATES[mode] * self.hidden_size
        bound = 1.0 / math.sqrt(self.hidden_size)
        self._names: list[tuple[str, ...]] = []  # per (layer, direction): the parameter names, PyTorch's order
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {
                    f"weight_ih{suffix}": (gate_size, layer_input),
                    f"weight_hh{suffix}": (gate_size, self.hidden_size),
                }
                if self.bias:
                    shapes[f"bias_ih{suffix}"] = (gate_size,)
                    shapes[f"bias_hh{suffix}"] = (gate_size,)
                for param_name, shape in shapes.items():
                    setattr(self, param_name, _uniform_parameter(shape, bound, dtype, rng))
                self._names.append(tuple(shapes))

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction: ``[weight_ih, weight_hh(, bias_ih, bias_hh)]`` (PyTorch's)."""
        return [[getattr(self, name) for name in names] for names in self._names]

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch's call that packs the weights for cuDNN (kept so ported code runs)."""

    # ───────────── running ─────────────

    def _name(self) -> str:
        return type(self).__name__

    def _check_input(self, x: Tensor) -> bool:
        """Check the input's rank and size; True when it is batched."""
        if x.ndim not in (2, 3):
            raise ShapeError(f"{self._name()}: Expected input to be 2D or 3D, got {x.ndim}D tensor instead")
        if x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{self._name()}: input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {x.shape[-1]}"
            )
        return x.ndim == 3

    def _initial_states(self, hx: Any, x: Tensor, batched: bool) -> list[Tensor] | None:
        """The initial states given (``[h0]``, or ``[h0, c0]`` for LSTM), checked; None when none was given."""
        if hx is None:
            return None
        is_lstm = self.mode == "LSTM"
        if is_lstm and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        if not is_lstm and isinstance(hx, (tuple, list)):
            raise TypeError(f"{self._name()}: hx must be a tensor h_0, got a {type(hx).__name__}")
        states = [_as_state(h, x.dtype) for h in (hx if is_lstm else (hx,))]
        directions = 2 if self.bidirectional else 1
        n = x.shape[0 if self.batch_first else 1] if batched else None
        expected = (self.num_layers * directions, *((n,) if batched else ()), self.hidden_size)
        for k, h in enumerate(states):
            if h.ndim != len(expected):
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise ShapeError(
                    f"{self._name()}: For {kind} input, hx should also be {len(expected)}-D but got {h.ndim}-D tensor"
                )
            _check_state(h, expected, self._name(), "hidden" if k == 0 else "cell")
        return states

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Any]:
        """Run the layers over a sequence.

        Args:
            input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or unbatched ``(L, H_in)``.
            hx: the initial state, ``(D * num_layers, N, hidden)`` (``(D * num_layers, hidden)``
                unbatched); for LSTM a tuple ``(h_0, c_0)`` of two such tensors. Default: zeros.

        Returns:
            ``(output, h_n)``, or ``(output, (h_n, c_n))`` for LSTM: ``output`` holds the last
            layer's hidden state at every step, ``(L, N, D * hidden)`` (batch-first or unbatched
            like the input); ``h_n`` and ``c_n`` the final states of every layer and direction,
            ``(D * num_layers, N, hidden)``, in the order ``layer * D + direction``.
        """
        x = _as_input(input, self._name())
        batched = self._check_input(x)
        given = self._initial_states(hx, x, batched)
        time_axis = 1 if batched and self.batch_first else 0
        length = x.shape[time_axis]
        if length == 0:
            raise ShapeError(f"{self._name()}: the input sequence is empty (shape {x.shape})")
        steps = _time_steps(x, time_axis)  # (N, H_in) or (H_in,) each
        state_shape = (x.shape[1 - time_axis], self.hidden_size) if batched else (self.hidden_size,)
        zeros = None
        if given is None:
            zeros = Tensor(np.zeros(state_shape, dtype=np.result_type(x.dtype, self.weight_ih_l0.dtype)))
        directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in range(2 if self.mode == "LSTM" else 1)]
        weights = self.all_weights
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                start = [zeros] * len(finals) if given is None else [s[k] for s in given]
                seq, last = self._run(steps, start, weights[k], reverse=direction == 1)
                outputs.append(seq)
                for kept, state in zip(finals, last):
                    kept.append(state)
            steps = outputs[0] if directions == 1 else [autograd.concatenate(pair, -1) for pair in zip(*outputs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = [F.dropout(s, self.dropout, True, self.rng) for s in steps]
        output = autograd.stack(steps, time_axis)
        h_n = [autograd.stack(kept, 0) for kept in finals]
        return output, (tuple(h_n) if self.mode == "LSTM" else h_n[0])

    def _run(
        self, steps: list[Tensor], state: list[Tensor], weights: list[Parameter], reverse: bool
    ) -> tuple[list[Tensor], list[Tensor]]:
        """One direction of one layer: the hidden state at every step (in time order) and the final state."""
        hidden = self.hidden_size
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        out: list[Tensor | None] = [None] * len(steps)
        w_ih, w_hh, *biases = weights
        factor = _halving(self.mode, hidden, w_ih.dtype)
        if self.mode == "GRU":
            w_ih, w_hh = _halved(w_ih, factor), _halved(w_hh, factor)
            b_ih, b_hh = (_halved(b, factor) for b in biases) if biases else (None, None)
            (h,) = state
            for t in order:
                h = _gru_update(F.linear(steps[t], w_ih, b_ih), F.linear(h, w_hh, b_hh), h, hidden)
                out[t] = h
            return out, [h]
        # RNN and LSTM: one projection of [x, h] by [W_ih | W_hh] and b_ih + b_hh, joined once here
        w = _halved(autograd.concatenate([w_ih, w_hh], 1), factor)
        b = _halved(biases[0] + biases[1], factor) if biases else None
        if self.mode == "LSTM":
            h, c = state
            for t in order:
                h, c = _lstm_update(F.linear(autograd.concatenate([steps[t], h], -1), w, b), c, hidden)
                out[t] = h
            return out, [h, c]
        (h,) = state
        for t in order:
            h = _rnn_update(F.linear(autograd.concatenate([steps[t], h], -1), w, b), self.mode)
            out[t] = h
        return out, [h]

    def extra_repr(self) -> str:
        """The sizes and the options that differ from the defaults, as PyTorch prints them."""
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """An Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu), PyTorch's ``nn.RNN``.

    ``RNN(10, 20, 2)(x)`` returns ``(output, h_n)``; see `RNNBase` for the arguments, shapes
    and parameter names (G = 1: ``weight_ih_l0`` is ``(hidden, in)``).

    Args:
        nonlinearity: ``"tanh"`` or ``"relu"``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
            rng=rng,
            mode=_NONLINEARITIES[nonlinearity],
        )
        self.nonlinearity = nonlinearity


class GRU(RNNBase):
    """A gated recurrent unit, PyTorch's ``nn.GRU`` (gates r, z, n; see the module docstring for the formulas).

    ``GRU(10, 20)(x)`` returns ``(output, h_n)``; see `RNNBase` for the arguments and shapes
    (G = 3: ``weight_ih_l0`` is ``(3 * hidden, in)``, rows r, z, n).
    """

    _mode = "GRU"


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's ``nn.LSTM`` (gates i, f, g, o; see the module docstring).

    ``LSTM(10, 20)(x, (h0, c0))`` returns ``(output, (h_n, c_n))``; see `RNNBase` for the
    arguments and shapes (G = 4: ``weight_ih_l0`` is ``(4 * hidden, in)``, rows i, f, g, o).
    PyTorch's ``proj_size`` (an LSTM with projections) is not implemented.
    """

    _mode = "LSTM"


# ───────────── the cells ─────────────


class RNNCellBase(Module):
    """The common part of the cells: ``weight_ih`` ``(G*hidden, in)``, ``weight_hh`` ``(G*hidden, hidden)``,
    ``bias_ih``, ``bias_hh`` ``(G*hidden,)``, all U(-1/sqrt(hidden), 1/sqrt(hidden)).

    Args:
        input_size: the size of the input's last axis.
        hidden_size: the size of the hidden state.
        bias: learn ``bias_ih`` and ``bias_hh``.
        dtype: the parameters' dtype.
        rng: the generator for initialisation (default: nn's shared one).
    """

    _mode = "RNN_TANH"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = _check_size(input_size, "input_size", name)
        self.hidden_size = _check_size(hidden_size, "hidden_size", name)
        self.bias = bool(bias)
        bound = 1.0 / math.sqrt(self.hidden_size)
        gate_size = _GATES[self._mode] * self.hidden_size
        self.weight_ih = _uniform_parameter((gate_size, self.input_size), bound, dtype, rng)
        self.weight_hh = _uniform_parameter((gate_size, self.hidden_size), bound, dtype, rng)
        if self.bias:
            self.bias_ih = _uniform_parameter((gate_size,), bound, dtype, rng)
            self.bias_hh = _uniform_parameter((gate_size,), bound, dtype, rng)
        else:
            self.bias_ih = self.bias_hh = None

    def _prepare(self, input: Any, hx: Any, n_states: int) -> tuple[Tensor, list[Tensor]]:
        """The input and the ``n_states`` states (zeros when ``hx`` is None), checked."""
        name = type(self).__name__
        x = _as_input(input, name)
        if x.ndim not in (1, 2):
            raise ShapeError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has inconsistent input_size: got {x.shape[-1]} expected {self.input_size}")
        expected = (x.shape[0], self.hidden_size) if x.ndim == 2 else (self.hidden_size,)
        if hx is None:
            zeros = Tensor(np.zeros(expected, dtype=np.result_type(x.dtype, self.weight_ih.dtype)))
            return x, [zeros] * n_states
        if n_states == 2 and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"{name}: hx must be a tuple (h, c), got {type(hx).__name__}")
        states = [_as_state(h, x.dtype) for h in (hx if n_states == 2 else (hx,))]
        for k, h in enumerate(states):
            _check_state(h, expected, name, "hidden" if k == 0 else "cell")
        return x, states

    def _projections(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        """W_ih x + b_ih and W_hh h + b_hh, the rows of the sigmoid gates halved (see `_halving`)."""
        factor = _halving(self._mode, self.hidden_size, self.weight_ih.dtype)
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        gh = F.linear(h, self.weight_hh, self.bias_hh)
        return (gx, gh) if factor is None else (gx * factor, gh * factor)

    def extra_repr(self) -> str:
        """The sizes and options, as PyTorch prints them."""
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        return text


class RNNCell(RNNCellBase):
    """One step of `RNN`: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), PyTorch's ``nn.RNNCell``.

    Args:
        input_size: the size of the input's last axis.
        hidden_size: the size of the hidden state.
        bias: learn ``bias_ih`` and ``bias_hh``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        dtype: the parameters' dtype.
        rng: the generator for initialisation (default: nn's shared one).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: Any = np.float32,
        rng: np.random.Generator | None = None,
    ) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity
        self._mode = _NONLINEARITIES[nonlinearity]

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        """h' from ``input`` ``(N, in)`` or ``(in,)`` and ``hx`` ``(N, hidden)`` or ``(hidden,)`` (default zeros)."""
        x, (h,) = self._prepare(input, hx, 1)
        gx, gh = self._projections(x, h)
        return _rnn_update(gx + gh, self._mode)


class GRUCell(RNNCellBase):
    """One step of `GRU` (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))), PyTorch's ``nn.GRUCell``.

    Arguments as `RNNCellBase` (G = 3).
    """

    _mode = "GRU"

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        """h' from ``input`` ``(N, in)`` or ``(in,)`` and ``hx`` ``(N, hidden)`` or ``(hidden,)`` (default zeros)."""
        x, (h,) = self._prepare(input, hx, 1)
        gx, gh = self._projections(x, h)
        return _gru_update(gx, gh, h, self.hidden_size)


class LSTMCell(RNNCellBase):
    """One step of `LSTM` (gates i, f, g, o), PyTorch's ``nn.LSTMCell``.

    Arguments as `RNNCellBase` (G = 4).
    """

    _mode = "LSTM"

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:
        """(h', c') from ``input`` ``(N, in)`` or ``(in,)`` and ``hx = (h, c)``, each ``(N, hidden)`` or ``(hidden,)``.

        ``hx`` defaults to zeros.
        """
        x, (h, c) = self._prepare(input, hx, 2)
        gx, gh = self._projections(x, h)
        return _lstm_update(gx + gh, c, self.hidden_size)
