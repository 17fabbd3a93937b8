"""Rename state dicts between `MiniGPT` and nanoGPT's ``GPT`` (Karpathy), or a Hugging Face GPT-2 checkpoint.

The two models compute the same function (pre-norm GPT-2 blocks, q, k, v split in that
order from one fused projection, scale 1/sqrt(head size), causal attention, LayerNorm
eps 1e-5, no bias on the LM head); only the parameter names differ:

=============================================  ===========================================
nanoGPT ``GPT``                                gradwire ``MiniGPT``
=============================================  ===========================================
``transformer.wte.weight``                     ``tok_emb.weight``
``transformer.wpe.weight``                     ``pos_emb.weight``
``transformer.h.{i}.ln_1.weight`` / ``.bias``  ``blocks.{i}.ln1.weight`` / ``.bias``
``transformer.h.{i}.attn.c_attn.weight`` *     ``blocks.{i}.attn.qkv.weight``
``transformer.h.{i}.attn.c_attn.bias``         ``blocks.{i}.attn.qkv.bias``
``transformer.h.{i}.attn.c_proj.weight`` *     ``blocks.{i}.attn.proj.weight``
``transformer.h.{i}.attn.c_proj.bias``         ``blocks.{i}.attn.proj.bias``
``transformer.h.{i}.ln_2.weight`` / ``.bias``  ``blocks.{i}.ln2.weight`` / ``.bias``
``transformer.h.{i}.mlp.c_fc.weight`` *        ``blocks.{i}.mlp.fc1.weight``
``transformer.h.{i}.mlp.c_fc.bias``            ``blocks.{i}.mlp.fc1.bias``
``transformer.h.{i}.mlp.c_proj.weight`` *      ``blocks.{i}.mlp.fc2.weight``
``transformer.h.{i}.mlp.c_proj.bias``          ``blocks.{i}.mlp.fc2.bias``
``transformer.ln_f.weight`` / ``.bias``        ``ln_f.weight`` / ``.bias``
``lm_head.weight`` (tied to ``wte.weight``)    ``head.weight``
``transformer.h.{i}.attn.bias`` (mask buffer)  (dropped)
=============================================  ===========================================

\\* Stored transposed, ``(in, out)``, in Hugging Face GPT-2 checkpoints (their ``Conv1D``
layers); nanoGPT's own checkpoints, and ``GPT.from_pretrained``, hold them ``(out, in)``
like ``nn.Linear``. Pass ``transposed=True`` for Hugging Face files.

Also accepted when reading: keys without the ``transformer.`` prefix (Hugging Face's
``GPT2Model`` files: ``h.0.attn.c_attn.weight``, ``wte.weight``), the ``_orig_mod.`` prefix
that ``torch.compile`` adds (nanoGPT's ``train.py`` strips it too), ``attn.masked_bias``
buffers (dropped), a missing ``lm_head.weight`` or ``transformer.wte.weight`` (tied: taken
from the other), and PyTorch tensors as values (anything with ``.detach().cpu().numpy()``).

The `MiniGPT` that takes the weights needs ``GPTConfig(vocab_size=wte rows, block_size=wpe
rows, n_layer=number of blocks, n_head=nanoGPT's n_head (not recorded in the weights),
d_model=n_embd, d_ff=None (4 * d_model, as nanoGPT), bias=nanoGPT's bias)``, and ``.eval()``
(or ``dropout=0.0``) to compare outputs; ``tie_weights=True`` ties the head as nanoGPT does.
Two differences to know:

- **GELU.** nanoGPT's MLP uses ``nn.GELU()``, the exact (erf) form; `MiniGPT` uses the tanh
  approximation by default (which is what Hugging Face's GPT-2, ``gelu_new``, uses). They
  differ by up to about 1e-3 per activation. For nanoGPT's numbers, build with
  ``GPTConfig(..., gelu="none")``.
- **bias=False.** nanoGPT's ``GPTConfig(bias=False)`` drops the LayerNorm biases too;
  `MiniGPT` always has LayerNorm biases. Reading, they are filled with zeros (the same
  function); writing, zero ones are dropped and nonzero ones are an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor

from .module import raise_for_keys

_BLOCK_PARTS = (  # (MiniGPT name, nanoGPT name, kind), in the order both models register them
    ("ln1", "ln_1", "norm"),
    ("attn.qkv", "attn.c_attn", "conv1d"),
    ("attn.proj", "attn.c_proj", "conv1d"),
    ("ln2", "ln_2", "norm"),
    ("mlp.fc1", "mlp.c_fc", "conv1d"),
    ("mlp.fc2", "mlp.c_proj", "conv1d"),
)
_BLOCK_KEY = re.compile(r"transformer\.h\.(0|[1-9][0-9]*)\.")
_MASK_BUFFER = re.compile(r"transformer\.h\.(0|[1-9][0-9]*)\.attn\.(bias|masked_bias)")
_COMPILE_PREFIX = "_orig_mod."


class _Name(NamedTuple):
    minigpt: str
    nanogpt: str
    kind: str  # "conv1d" weight, "linear_bias", "norm_bias", or "" for the rest


def _names(n_layer: int, bias: bool) -> list[_Name]:
    """Every parameter of a MiniGPT with ``n_layer`` blocks, in registration order, with its nanoGPT name."""
    names = [
        _Name("tok_emb.weight", "transformer.wte.weight", ""),
        _Name("pos_emb.weight", "transformer.wpe.weight", ""),
    ]
    for i in range(n_layer):
        for mini, nano, kind in _BLOCK_PARTS:
            mini, nano = f"blocks.{i}.{mini}", f"transformer.h.{i}.{nano}"
            names.append(_Name(f"{mini}.weight", f"{nano}.weight", "conv1d" if kind == "conv1d" else ""))
            if kind == "norm":
                names.append(_Name(f"{mini}.bias", f"{nano}.bias", "norm_bias"))
            elif bias:
                names.append(_Name(f"{mini}.bias", f"{nano}.bias", "linear_bias"))
    names += [
        _Name("ln_f.weight", "transformer.ln_f.weight", ""),
        _Name("ln_f.bias", "transformer.ln_f.bias", "norm_bias"),
        _Name("head.weight", "lm_head.weight", ""),
    ]
    return names


def _state(state: Any, function: str) -> Mapping[str, Any]:
    """A mapping of name to value, from a mapping or from anything with a ``state_dict()`` (a module)."""
    if not isinstance(state, Mapping) and callable(getattr(state, "state_dict", None)):
        state = state.state_dict()
    if not isinstance(state, Mapping):
        raise TypeError(f"{function}: expected a state dict (or a module), got {type(state).__name__}")
    for key in state:
        if not isinstance(key, str):
            raise TypeError(f"{function}: state dict keys must be strings, got {key!r}")
    return state


def _array(value: Any, key: str, function: str) -> np.ndarray:
    """``value`` as an ndarray (a gradwire Tensor's data, a PyTorch tensor's numpy view, or np.asarray)."""
    if isinstance(value, Tensor):
        return value.data
    if callable(getattr(value, "detach", None)) and callable(getattr(value, "numpy", None)):  # torch, not imported
        value = value.detach().cpu()
        try:
            return value.numpy()
        except TypeError:
            raise ValueError(
                f"{function}: {key!r} has dtype {value.dtype}, which NumPy cannot hold; "
                "convert it first (for example with tensor.float())"
            ) from None
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{function}: {key!r} has dtype {array.dtype}; expected an array of numbers")
    return array


def _layer_count(keys: Any) -> int:
    indices = [int(match.group(1)) for key in keys if (match := _BLOCK_KEY.match(key))]
    return max(indices) + 1 if indices else 0


def _transpose(array: np.ndarray, key: str, function: str) -> np.ndarray:
    if array.ndim != 2:
        raise ValueError(f"{function}: {key!r} has shape {array.shape}; a weight to transpose must be 2-D")
    return np.ascontiguousarray(array.T)


def _check_qkv_layout(state: Mapping[str, np.ndarray], n_layer: int, transposed: bool, function: str) -> None:
    """Catch a wrong ``transposed`` flag: c_attn's weight is (3d, d) as nn.Linear, (d, 3d) as Conv1D."""
    if "tok_emb.weight" not in state or n_layer == 0:
        return
    d = state["tok_emb.weight"].shape[-1]
    shape = state["blocks.0.attn.qkv.weight"].shape
    if shape == (3 * d, d):
        return
    if shape == (d, 3 * d):
        hint = (
            "it is already (out, in) as nanoGPT stores it: pass transposed=False"
            if transposed
            else "it looks like a Hugging Face GPT-2 (Conv1D, (in, out)) checkpoint: pass transposed=True"
        )
    else:
        hint = f"the embeddings are {d} wide, so (3 * {d}, {d}) was expected"
    raise ValueError(f"{function}: transformer.h.0.attn.c_attn.weight comes out with shape {shape}; {hint}")


def nanogpt_to_minigpt(state_dict: Any, *, transposed: bool = False) -> dict[str, np.ndarray]:
    """Rename a nanoGPT ``GPT`` state dict (or a Hugging Face GPT-2 one) to `MiniGPT`'s names.

    See this module's docstring for the full mapping table and the `GPTConfig` to build.
    ``model.load_state_dict(nanogpt_to_minigpt(sd))`` then checks every shape and dtype.

    Args:
        state_dict: nanoGPT names to arrays (NumPy arrays, gradwire Tensors or PyTorch
            tensors), as from ``torch_gpt.state_dict()``, ``safetensors.torch.load_file`` or
            `nn.load`; or the PyTorch module itself. The ``attn.bias`` mask buffers are dropped.
        transposed: the checkpoint stores ``c_attn``, ``c_proj`` and ``c_fc`` weights as
            ``(in, out)`` (Hugging Face GPT-2's Conv1D); they are transposed to ``(out, in)``.

    Returns:
        A new dict in `MiniGPT`'s parameter order, of NumPy arrays (shared with the input
        where nothing needed transposing). With no Linear biases (nanoGPT's ``bias=False``)
        the LayerNorm biases, which `MiniGPT` always has, are zeros.

    Raises:
        StateDictKeyError: (a KeyError) listing every unexpected key and every missing one.
        ValueError: when two keys name the same parameter, the ``c_attn`` weight's shape says
            ``transposed`` is wrong, or a value's dtype has no NumPy equivalent (bfloat16).
    """
    function = "nanogpt_to_minigpt"
    source: dict[str, tuple[str, Any]] = {}  # canonical nanoGPT name -> (key as given, value)
    for key, value in _state(state_dict, function).items():
        name = key.removeprefix(_COMPILE_PREFIX)
        if name != "lm_head.weight" and not name.startswith("transformer."):
            name = "transformer." + name  # Hugging Face GPT2Model keys have no prefix
        if _MASK_BUFFER.fullmatch(name):
            continue
        if name in source:
            raise ValueError(f"{function}: {source[name][0]!r} and {key!r} both name the parameter {name!r}")
        source[name] = (key, value)
    n_layer = _layer_count(source)
    bias = any(name.endswith(("c_attn.bias", "c_proj.bias", "c_fc.bias")) for name in source)
    names = _names(n_layer, bias)
    known = {name.nanogpt for name in names}
    unexpected = [key for name, (key, _) in source.items() if name not in known]
    for one, other in (("lm_head.weight", "transformer.wte.weight"), ("transformer.wte.weight", "lm_head.weight")):
        if one not in source and other in source:  # tied: the same tensor under both names
            source[one] = source[other]
    out: dict[str, np.ndarray] = {}
    missing = []
    for name in names:
        if name.nanogpt in source:
            key, value = source[name.nanogpt]
            array = _array(value, key, function)
            out[name.minigpt] = _transpose(array, key, function) if transposed and name.kind == "conv1d" else array
        elif name.kind == "norm_bias" and not bias and name.minigpt.replace(".bias", ".weight") in out:
            out[name.minigpt] = np.zeros_like(out[name.minigpt.replace(".bias", ".weight")])
        else:
            missing.append(name.nanogpt)
    raise_for_keys(function, missing, unexpected, "missing keys (nanoGPT names)")
    _check_qkv_layout(out, n_layer, transposed, function)
    return out


def minigpt_to_nanogpt(state_dict: Any, *, transposed: bool = False, tied: bool = True) -> dict[str, np.ndarray]:
    """Rename a `MiniGPT` state dict to nanoGPT ``GPT``'s names (or Hugging Face GPT-2's layout).

    See this module's docstring for the full mapping table. The result loads with
    ``torch_gpt.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)``
    into a nanoGPT built with the matching ``GPTConfig`` (nanoGPT on PyTorch 2, whose
    attention has no ``attn.bias`` mask buffer: older versions need ``strict=False``).

    Args:
        state_dict: `MiniGPT` names to arrays, as from ``model.state_dict()`` or `nn.load`;
            or the `MiniGPT` itself.
        transposed: write ``c_attn``, ``c_proj`` and ``c_fc`` weights as ``(in, out)``, the
            layout of Hugging Face GPT-2 checkpoints (Conv1D).
        tied: nanoGPT ties ``lm_head.weight`` to ``transformer.wte.weight``, so loading two
            different arrays into it would silently keep one: require ``head.weight`` to equal
            ``tok_emb.weight`` (False: skip the check, for an untied variant of nanoGPT).

    Returns:
        A new dict in nanoGPT's ``state_dict`` order, of NumPy arrays, with both
        ``transformer.wte.weight`` and ``lm_head.weight`` (as nanoGPT's own state dict has).

    Raises:
        StateDictKeyError: (a KeyError) listing every unexpected key and every missing one.
        ValueError: when ``tied`` and the head differs from the token embedding, or the model
            has no Linear biases (``bias=False``) but nonzero LayerNorm biases, which nanoGPT's
            ``bias=False`` model does not have.
    """
    function = "minigpt_to_nanogpt"
    state = _state(state_dict, function)
    n_layer = _layer_count("transformer.h." + key.removeprefix("blocks.") for key in state if key.startswith("blocks."))
    bias = any(key.endswith(("attn.qkv.bias", "attn.proj.bias", "mlp.fc1.bias", "mlp.fc2.bias")) for key in state)
    names = _names(n_layer, bias)
    known = {name.minigpt for name in names}
    unexpected = [key for key in state if key not in known]
    missing = [name.minigpt for name in names if name.minigpt not in state]
    raise_for_keys(function, missing, unexpected, "missing keys (MiniGPT names)")
    out: dict[str, np.ndarray] = {}
    nonzero_norm_biases = []
    for name in names:
        array = _array(state[name.minigpt], name.minigpt, function)
        if name.kind == "norm_bias" and not bias:
            if np.any(array != 0):
                nonzero_norm_biases.append(name.minigpt)
            continue
        out[name.nanogpt] = _transpose(array, name.minigpt, function) if transposed and name.kind == "conv1d" else array
    if nonzero_norm_biases:
        raise ValueError(
            f"{function}: this MiniGPT has no Linear biases (bias=False), and nanoGPT's GPTConfig(bias=False) "
            f"has no LayerNorm biases either, but these are nonzero: {', '.join(nonzero_norm_biases)}; "
            "no nanoGPT model computes the same function"
        )
    if tied:
        wte, head = out["transformer.wte.weight"], out["lm_head.weight"]
        if wte.shape != head.shape or not np.array_equal(wte, head):
            raise ValueError(
                f"{function}: nanoGPT ties lm_head.weight to transformer.wte.weight, but this model's "
                f"head.weight {head.shape} differs from its tok_emb.weight {wte.shape}, so loading both into "
                "nanoGPT would keep only one; tie them (model.head.weight = model.tok_emb.weight) before "
                "training, or pass tied=False for a nanoGPT variant with an untied head"
            )
    return out
