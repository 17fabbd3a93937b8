"""Weights move between gradwire and PyTorch through .safetensors files, and compute the same numbers.

PyTorch is the oracle: each gradwire layer and model is compared with a PyTorch module
written here with the same structure and parameter names (and, for the name mapping of
`nn.convert`, with nanoGPT's ``GPT`` from `torch_nanogpt.py`). Weights go both ways through files:
``nn.save`` -> ``safetensors.torch.load_file`` -> ``load_state_dict(strict=True)``, and
``safetensors.torch.save_file`` -> ``nn.load`` -> ``load_state_dict``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle for weight interchange (gradwire[oracle])")
safetensors_torch = pytest.importorskip(
    "safetensors.torch", reason="weights move to PyTorch through .safetensors files (gradwire[safetensors])"
)

from torch_nanogpt import GPT, NanoGPTConfig  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
from nn.transformer import GPTConfig, MiniGPT, TransformerBlock  # noqa: E402

tnn = torch.nn
TF = torch.nn.functional


# ───────────── helpers ─────────────


def to_torch(module, torch_module, path):
    """gradwire -> nn.save -> safetensors.torch.load_file -> strict load into ``torch_module``."""
    nn.save(module, path)
    torch_module.load_state_dict(safetensors_torch.load_file(path), strict=True)
    return torch_module


def from_torch(torch_module, module, path):
    """PyTorch -> safetensors.torch.save_file -> nn.load -> load into the gradwire ``module``."""
    safetensors_torch.save_file(torch_module.state_dict(), path)
    module.load_state_dict(nn.load(path))
    return module


def randomize(torch_module, seed, scale=0.5):
    """Every parameter drawn at random (so LayerNorm biases, zeros at first, are tested too)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in torch_module.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=param.dtype) * scale)
    return torch_module


def in_float64(module):
    """Cast a gradwire module's parameters to float64 (MiniGPT and TransformerBlock take no dtype)."""
    for param in module.parameters():
        param.data = param.data.astype(np.float64)
    return module


def layout(state):
    return {name: tuple(value.shape) for name, value in state.items()}


def assert_close(gradwire_out, torch_out, dtype):
    tol = {np.float64: 1e-10, np.float32: 1e-5}[dtype]
    np.testing.assert_allclose(gradwire_out, torch_out.detach().numpy(), rtol=tol, atol=tol)


def assert_same_gradients(module, torch_module, dtype=np.float64):
    torch_grads = {name: p.grad for name, p in torch_module.named_parameters()}
    ours = dict(module.named_parameters())
    assert sorted(ours) == sorted(torch_grads)
    for name, param in ours.items():
        assert param.grad is not None, name
        tol = {np.float64: 1e-10, np.float32: 1e-5}[dtype]
        np.testing.assert_allclose(param.grad.data, torch_grads[name].numpy(), rtol=tol, atol=tol, err_msg=name)


def rng(seed):
    return np.random.default_rng(seed)


# ───────────── layers: names, layouts, outputs, gradients ─────────────


@pytest.mark.parametrize("bias", [True, False])
def test_linear_has_torch_names_and_layout_and_moves_both_ways(tmp_path, bias):
    ours = nn.Linear(5, 3, bias=bias, dtype=np.float64, rng=rng(0))
    theirs = tnn.Linear(5, 3, bias=bias, dtype=torch.float64)
    assert layout(ours.state_dict()) == layout(theirs.state_dict())  # weight (out, in), bias (out,)
    to_torch(ours, theirs, tmp_path / "linear.safetensors")
    x = rng(1).standard_normal((4, 2, 5))
    assert_close(ours(ag.Tensor(x)).data, theirs(torch.from_numpy(x)), np.float64)

    randomize(theirs, seed=2)
    back = from_torch(theirs, nn.Linear(5, 3, bias=bias, dtype=np.float64), tmp_path / "back.safetensors")
    assert_close(back(ag.Tensor(x)).data, theirs(torch.from_numpy(x)), np.float64)


def test_linear_gradients_match_torch(tmp_path):
    ours = nn.Linear(4, 3, dtype=np.float64, rng=rng(3))
    theirs = to_torch(ours, tnn.Linear(4, 3, dtype=torch.float64), tmp_path / "linear.safetensors")
    x, target = rng(4).standard_normal((6, 4)), rng(5).standard_normal((6, 3))
    x_ours, x_theirs = ag.Tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    nn.functional.mse_loss(ours(x_ours), ag.Tensor(target)).backward()
    TF.mse_loss(theirs(x_theirs), torch.from_numpy(target)).backward()
    assert_same_gradients(ours, theirs)
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_layer_norm_has_torch_names_and_moves_both_ways(tmp_path, bias):
    ours = nn.LayerNorm(6, bias=bias, dtype=np.float64)
    theirs = randomize(tnn.LayerNorm(6, bias=bias, dtype=torch.float64), seed=6)
    assert layout(ours.state_dict()) == layout(theirs.state_dict())
    x = rng(7).standard_normal((3, 6)) * 4 + 1
    from_torch(theirs, ours, tmp_path / "norm.safetensors")
    assert_close(ours(ag.Tensor(x)).data, theirs(torch.from_numpy(x)), np.float64)
    fresh = to_torch(ours, tnn.LayerNorm(6, bias=bias, dtype=torch.float64), tmp_path / "again.safetensors")
    assert_close(ours(ag.Tensor(x)).data, fresh(torch.from_numpy(x)), np.float64)


def test_embedding_has_torch_names_and_moves_both_ways(tmp_path):
    ours = nn.Embedding(10, 4, rng=rng(8))  # float32, as both libraries default to
    theirs = to_torch(ours, tnn.Embedding(10, 4), tmp_path / "emb.safetensors")
    assert layout(ours.state_dict()) == layout(theirs.state_dict()) == {"weight": (10, 4)}
    assert theirs.weight.dtype == torch.float32
    idx = np.array([[0, 9, 3], [3, 3, 1]])
    np.testing.assert_array_equal(ours(idx).data, theirs(torch.from_numpy(idx)).detach().numpy())
    randomize(theirs, seed=9)
    back = from_torch(theirs, nn.Embedding(10, 4), tmp_path / "back.safetensors")
    np.testing.assert_array_equal(back(idx).data, theirs(torch.from_numpy(idx)).detach().numpy())


# ───────────── the transformer block and MiniGPT, against PyTorch modules of the same structure ─────────────


class TorchAttention(tnn.Module):
    """Causal multi-head self-attention written out: fused qkv, split q, k, v, scale 1/sqrt(hs)."""

    def __init__(self, d_model, n_head, bias=True):
        super().__init__()
        self.n_head = n_head
        self.qkv = tnn.Linear(d_model, 3 * d_model, bias=bias)
        self.proj = tnn.Linear(d_model, d_model, bias=bias)

    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = (t.view(B, T, self.n_head, hs).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        scores = q @ k.transpose(-2, -1) / math.sqrt(hs)
        future = torch.ones(T, T, dtype=torch.bool).triu(1)
        y = scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class TorchFeedForward(tnn.Module):
    def __init__(self, d_model, d_ff, bias=True, approximate="tanh"):
        super().__init__()
        self.fc1 = tnn.Linear(d_model, d_ff, bias=bias)
        self.act = tnn.GELU(approximate=approximate)
        self.fc2 = tnn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TorchBlock(tnn.Module):
    """Pre-norm: x + attn(ln1(x)), then + mlp(ln2(x))."""

    def __init__(self, d_model, n_head, d_ff, bias=True):
        super().__init__()
        self.ln1 = tnn.LayerNorm(d_model)
        self.attn = TorchAttention(d_model, n_head, bias)
        self.ln2 = tnn.LayerNorm(d_model)
        self.mlp = TorchFeedForward(d_model, d_ff, bias)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TorchMiniGPT(tnn.Module):
    def __init__(self, config):
        super().__init__()
        d_ff = config.d_ff or 4 * config.d_model
        self.tok_emb = tnn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = tnn.Embedding(config.block_size, config.d_model)
        self.blocks = tnn.ModuleList(
            TorchBlock(config.d_model, config.n_head, d_ff, config.bias) for _ in range(config.n_layer)
        )
        self.ln_f = tnn.LayerNorm(config.d_model)
        self.head = tnn.Linear(config.d_model, config.vocab_size, bias=False)

    def forward(self, idx):
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def _block_pair(seed, bias=True):
    nn.manual_seed(seed)
    ours = in_float64(TransformerBlock(d_model=8, n_head=2, d_ff=12, bias=bias))
    return ours, TorchBlock(8, 2, 12, bias).double()


@pytest.mark.parametrize("bias", [True, False])
def test_transformer_block_moves_to_torch_and_back(tmp_path, bias):
    ours, theirs = _block_pair(10, bias)
    assert layout(ours.state_dict()) == layout(theirs.state_dict())
    x = rng(11).standard_normal((2, 5, 8))
    to_torch(ours, theirs, tmp_path / "block.safetensors")
    assert_close(ours(ag.Tensor(x)).data, theirs(torch.from_numpy(x)), np.float64)

    randomize(theirs, seed=12)
    back = from_torch(theirs, _block_pair(13, bias)[0], tmp_path / "back.safetensors")
    assert_close(back(ag.Tensor(x)).data, theirs(torch.from_numpy(x)), np.float64)


def test_transformer_block_gradients_match_torch(tmp_path):
    ours, theirs = _block_pair(14)
    randomize(theirs, seed=15)
    from_torch(theirs, ours, tmp_path / "block.safetensors")
    x, weights = rng(16).standard_normal((2, 6, 8)), rng(17).standard_normal((2, 6, 8))
    x_ours, x_theirs = ag.Tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    (ours(x_ours) * ag.Tensor(weights)).sum().backward()
    (theirs(x_theirs) * torch.from_numpy(weights)).sum().backward()
    assert_same_gradients(ours, theirs)
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


CONFIG = GPTConfig(vocab_size=11, block_size=7, n_layer=2, n_head=2, d_model=8, d_ff=20)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minigpt_moves_to_torch_and_back(tmp_path, dtype):
    nn.manual_seed(20)
    ours = MiniGPT(CONFIG)
    if dtype == np.float64:
        in_float64(ours)
    theirs = TorchMiniGPT(CONFIG).to(torch.float64 if dtype == np.float64 else torch.float32)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # the same names, in the same order
    assert layout(ours.state_dict()) == layout(theirs.state_dict())
    tokens = rng(21).integers(0, CONFIG.vocab_size, (3, 7))
    to_torch(ours, theirs, tmp_path / "gpt.safetensors")
    assert_close(ours(tokens).data, theirs(torch.from_numpy(tokens)), dtype)

    randomize(theirs, seed=22)
    fresh = MiniGPT(CONFIG)
    back = from_torch(theirs, in_float64(fresh) if dtype == np.float64 else fresh, tmp_path / "back.safetensors")
    assert_close(back(tokens).data, theirs(torch.from_numpy(tokens)), dtype)


def test_a_torch_checkpoint_of_the_wrong_dtype_is_refused_clearly(tmp_path):
    theirs = TorchMiniGPT(CONFIG).double()
    safetensors_torch.save_file(theirs.state_dict(), tmp_path / "f64.safetensors")
    ours = MiniGPT(CONFIG)  # float32
    with pytest.raises(ValueError, match=r"dtype mismatch for 'tok_emb.weight'.*float64.*float32"):
        ours.load_state_dict(nn.load(tmp_path / "f64.safetensors"))
    small = GPTConfig(vocab_size=11, block_size=7, n_layer=2, n_head=2, d_model=8, d_ff=16)
    safetensors_torch.save_file(TorchMiniGPT(small).state_dict(), tmp_path / "small.safetensors")
    with pytest.raises(ValueError, match=r"shape mismatch for 'blocks.0.mlp.fc1.weight'.*\(16, 8\).*\(20, 8\)"):
        ours.load_state_dict(nn.load(tmp_path / "small.safetensors"))


# ───────────── nanoGPT <-> MiniGPT ─────────────

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def nano_gpt(seed, bias=True, dtype=torch.float32, slow_attention=False, monkeypatch=None):
    """A nanoGPT GPT with random weights; ``slow_attention`` builds the pre-PyTorch-2 path (attn.bias buffers)."""
    torch.manual_seed(seed)
    config = NanoGPTConfig(block_size=8, vocab_size=13, n_layer=2, n_head=2, n_embd=8, bias=bias)
    if slow_attention:
        monkeypatch.delattr(torch.nn.functional, "scaled_dot_product_attention")
    model = GPT(config)
    if slow_attention:
        monkeypatch.undo()
    return randomize(model.to(dtype), seed).eval()


def mini_gpt_for(nano, gelu="none", tie=True):
    """The MiniGPT matching a nanoGPT config; ``gelu="none"``: nanoGPT's exact GELU instead of MiniGPT's tanh."""
    c = nano.config
    config = GPTConfig(
        vocab_size=c.vocab_size,
        block_size=c.block_size,
        n_layer=c.n_layer,
        n_head=c.n_head,
        d_model=c.n_embd,
        bias=c.bias,
        gelu=gelu,
        tie_weights=tie,
    )
    model = MiniGPT(config)  # d_ff=None: 4 * d_model, as nanoGPT; dropout 0
    if nano.lm_head.weight.dtype == torch.float64:
        in_float64(model)
    return model.eval()


def nano_logits(nano, tokens):
    logits, _ = nano(torch.from_numpy(tokens), targets=torch.zeros(tokens.shape, dtype=torch.long))
    return logits


TOKENS = np.random.default_rng(30).integers(0, 13, (2, 8))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_nanogpt_weights_give_minigpt_the_same_logits(bias, dtype):
    nano = nano_gpt(31, bias=bias, dtype=dtype)
    mini = mini_gpt_for(nano)
    state = nn.nanogpt_to_minigpt(nano.state_dict())  # PyTorch tensors are accepted as values
    assert list(state) == list(mini.state_dict())  # complete, and in MiniGPT's order
    mini.load_state_dict(state)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(mini(TOKENS).data, nano_logits(nano, TOKENS).detach().numpy(), rtol=tol, atol=tol)
    last, _ = nano(torch.from_numpy(TOKENS))  # nanoGPT's inference path: the last position only
    np.testing.assert_allclose(mini(TOKENS).data[:, -1:], last.detach().numpy(), rtol=tol, atol=tol)
    if not bias:  # nanoGPT's bias=False has no LayerNorm biases; MiniGPT's are zeros, the same function
        assert all(not value.any() for name, value in state.items() if name.endswith(".bias"))


def test_minigpt_with_the_tanh_gelu_differs_from_nanogpt_visibly():
    """Why the config note matters: MiniGPT as built (tanh GELU) is not nanoGPT's function."""
    nano = nano_gpt(33, dtype=torch.float64)
    mini = mini_gpt_for(nano, gelu="tanh")
    mini.load_state_dict(nn.nanogpt_to_minigpt(nano.state_dict()))
    gap = np.abs(mini(TOKENS).data - nano_logits(nano, TOKENS).detach().numpy()).max()
    assert 1e-6 < gap < 1e-1


def test_nanogpt_through_safetensors_files(tmp_path):
    nano = nano_gpt(34)
    state = {name: value.clone() for name, value in nano.state_dict().items()}  # untie: safetensors refuses shared
    safetensors_torch.save_file(state, tmp_path / "nano.safetensors")
    mini = mini_gpt_for(nano)
    mini.load_state_dict(nn.nanogpt_to_minigpt(nn.load(tmp_path / "nano.safetensors")))
    np.testing.assert_allclose(mini(TOKENS).data, nano_logits(nano, TOKENS).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_the_mask_buffers_of_old_nanogpt_are_dropped(monkeypatch):
    nano = nano_gpt(35, slow_attention=True, monkeypatch=monkeypatch)
    assert "transformer.h.0.attn.bias" in nano.state_dict() and not nano.transformer.h[0].attn.flash
    mini = mini_gpt_for(nano)
    mini.load_state_dict(nn.nanogpt_to_minigpt(nano.state_dict()))
    np.testing.assert_allclose(mini(TOKENS).data, nano_logits(nano, TOKENS).detach().numpy(), rtol=1e-5, atol=1e-5)


def hugging_face_style(nano):
    """nanoGPT's state dict as a Hugging Face GPT2Model stores it: Conv1D weights (in, out), no prefix, no head."""
    state = {}
    for name, value in nano.state_dict().items():
        if name == "lm_head.weight":
            continue
        value = value.t().contiguous() if name.endswith(CONV1D) else value
        state[name.removeprefix("transformer.")] = value.numpy()
    for i in range(nano.config.n_layer):
        state[f"h.{i}.attn.masked_bias"] = np.array(-1e4, dtype=np.float32)
    return state


def test_hugging_face_gpt2_layout_is_transposed_back():
    nano = nano_gpt(36)
    hf = hugging_face_style(nano)
    assert hf["h.0.attn.c_attn.weight"].shape == (8, 24)
    converted = nn.nanogpt_to_minigpt(hf, transposed=True)
    direct = nn.nanogpt_to_minigpt(nano.state_dict())
    assert list(converted) == list(direct)
    for name in direct:
        np.testing.assert_array_equal(converted[name], direct[name], err_msg=name)
    with pytest.raises(ValueError, match=r"c_attn.weight comes out with shape \(8, 24\).*pass transposed=True"):
        nn.nanogpt_to_minigpt(hf)
    with pytest.raises(ValueError, match=r"already \(out, in\).*pass transposed=False"):
        nn.nanogpt_to_minigpt(nano.state_dict(), transposed=True)


def test_torch_compile_prefix_and_a_missing_tied_key_are_handled():
    nano = nano_gpt(37)
    direct = nn.nanogpt_to_minigpt(nano.state_dict())
    compiled = {f"_orig_mod.{name}": value for name, value in nano.state_dict().items()}
    without_wte = {name: value for name, value in nano.state_dict().items() if name != "transformer.wte.weight"}
    for variant in (compiled, without_wte):
        converted = nn.nanogpt_to_minigpt(variant)
        assert list(converted) == list(direct)
        for name in direct:
            np.testing.assert_array_equal(converted[name], direct[name], err_msg=name)


def test_unexpected_and_missing_keys_are_all_listed():
    state = dict(nano_gpt(38).state_dict())
    del state["transformer.h.1.mlp.c_fc.bias"], state["transformer.ln_f.weight"]
    state["transformer.h.0.attn.rotary.freq"] = torch.zeros(4)
    with pytest.raises(nn.StateDictKeyError) as info:
        nn.nanogpt_to_minigpt(state)
    message = str(info.value)
    assert message.startswith("nanogpt_to_minigpt: missing keys (nanoGPT names): ")
    assert message.endswith("; unexpected keys: transformer.h.0.attn.rotary.freq")
    assert "missing keys (nanoGPT names): transformer.h.1.mlp.c_fc.bias, transformer.ln_f.weight" in message
    with pytest.raises(ValueError, match=r"'transformer.wte.weight' and 'wte.weight' both name"):
        nn.nanogpt_to_minigpt({**nano_gpt(38).state_dict(), "wte.weight": torch.zeros(13, 8)})
    with pytest.raises(ValueError, match=r"'transformer.wte.weight' has dtype torch.bfloat16"):
        nn.nanogpt_to_minigpt({**nano_gpt(38).state_dict(), "transformer.wte.weight": torch.zeros(13, 8).bfloat16()})


@pytest.mark.parametrize("bias", [True, False])
def test_minigpt_weights_load_into_nanogpt_strictly(bias):
    source = nano_gpt(40, bias=bias)
    mini = mini_gpt_for(source)
    mini.load_state_dict(nn.nanogpt_to_minigpt(randomize(source, 41).state_dict()))  # a tied head, as nanoGPT's
    state = nn.minigpt_to_nanogpt(mini)
    target = nano_gpt(42, bias=bias)
    assert list(state) == list(target.state_dict())  # nanoGPT's names, in its order
    target.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()}, strict=True)
    np.testing.assert_allclose(nano_logits(target, TOKENS).detach().numpy(), mini(TOKENS).data, rtol=1e-5, atol=1e-5)


def test_minigpt_to_hugging_face_layout_and_back_is_the_identity():
    mini = mini_gpt_for(nano_gpt(43))
    hf = nn.minigpt_to_nanogpt(mini, transposed=True, tied=False)
    assert hf["transformer.h.1.mlp.c_fc.weight"].shape == (8, 32)  # (in, out)
    back = nn.nanogpt_to_minigpt(hf, transposed=True)
    for name, value in mini.state_dict().items():
        np.testing.assert_array_equal(back[name], value, err_msg=name)


def test_minigpt_to_nanogpt_refuses_what_nanogpt_cannot_hold():
    untied = mini_gpt_for(nano_gpt(44), tie=False)  # by default MiniGPT's head is not tied to its embedding
    with pytest.raises(ValueError, match=r"ties lm_head.weight to transformer.wte.weight.*tied=False"):
        nn.minigpt_to_nanogpt(untied)
    no_bias = mini_gpt_for(nano_gpt(45, bias=False))
    no_bias.blocks[1].ln2.bias.data[0] = 0.25
    with pytest.raises(ValueError, match=r"no LayerNorm biases either, but these are nonzero: blocks.1.ln2.bias;"):
        nn.minigpt_to_nanogpt(no_bias, tied=False)
    state = no_bias.state_dict()
    del state["blocks.0.attn.qkv.weight"]
    state["blocks.0.attn.rope"] = np.zeros(2)
    expected = r"missing keys \(MiniGPT names\): .*qkv.weight.*; unexpected keys: blocks.0.attn.rope"
    with pytest.raises(nn.StateDictKeyError, match=expected):
        nn.minigpt_to_nanogpt(state)
