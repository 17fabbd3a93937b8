"""A nanoGPT-style model by import swap: `examples/nanogpt.py` trains, samples, and matches nanoGPT in PyTorch.

The example is nanoGPT's model written against gradwire (same classes, same parameter
names). Its weights load by name into nanoGPT's PyTorch ``GPT`` (`torch_nanogpt.py`), and
the two then agree on logits, loss, every gradient and one AdamW step with nanoGPT's
weight-decay groups; the explicit attention path (registered ``tril`` mask,
``masked_fill``) agrees with the fused ``scaled_dot_product_attention(is_causal=True)``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from example_loader import load_example

import autograd as ag
import nn

ROOT = Path(__file__).resolve().parents[2]
nanogpt = load_example("nanogpt")

SMALL = nanogpt.GPTConfig(block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=8, dropout=0.0, bias=True)


def small_gpt(seed: int = 0, **changes) -> nanogpt.GPT:
    nn.manual_seed(seed)
    return nanogpt.GPT(dataclasses.replace(SMALL, **changes))


def batch(seed: int = 1, b: int = 3, t: int = 8) -> tuple:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, SMALL.vocab_size, (b, t))
    y = rng.integers(0, SMALL.vocab_size, (b, t))
    return ag.tensor(x), ag.tensor(y)


def test_the_head_is_tied_to_the_token_embedding():
    model = small_gpt()
    assert model.lm_head.weight is model.transformer.wte.weight
    names = [n for n, _ in model.named_parameters()]
    assert "transformer.wte.weight" in names and "lm_head.weight" not in names  # listed once, under its first name
    assert {"transformer.wte.weight", "lm_head.weight"} <= set(model.state_dict())  # saved under both, as torch
    x, y = batch()
    _, loss = model(x, y)
    loss.backward()
    assert model.lm_head.weight.grad is not None


def test_the_explicit_attention_path_matches_the_fused_one():
    fused, explicit = small_gpt(flash=True), small_gpt(flash=False)
    assert "transformer.h.0.attn.bias" in dict(explicit.named_buffers())  # the registered tril mask
    result = explicit.load_state_dict(fused.state_dict(), strict=False)
    assert list(result.missing_keys) == [f"transformer.h.{i}.attn.bias" for i in range(SMALL.n_layer)]
    x, y = batch()
    logits_f, loss_f = fused(x, y)
    logits_e, loss_e = explicit(x, y)
    np.testing.assert_allclose(logits_e.data, logits_f.data, rtol=1e-5, atol=1e-6)
    loss_f.backward()
    loss_e.backward()
    for (name, p), q in zip(fused.named_parameters(), explicit.parameters()):
        np.testing.assert_allclose(q.grad.data, p.grad.data, rtol=1e-4, atol=1e-6, err_msg=name)


def test_weight_decay_goes_to_the_matrices_only():
    model = small_gpt()
    optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.95))
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decay["params"]) and all(p.ndim < 2 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_generate_samples_valid_tokens_reproducibly_and_top_k_one_is_greedy():
    model = small_gpt().eval()
    start = ag.tensor(np.array([[1, 2], [3, 4]]))
    nn.manual_seed(5)
    a = model.generate(start, 10, temperature=0.8, top_k=3)
    nn.manual_seed(5)
    b = model.generate(start, 10, temperature=0.8, top_k=3)
    assert a.shape == (2, 12) and a.dtype == np.int64
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.data[:, :2], start.data)
    assert ((a.data >= 0) & (a.data < SMALL.vocab_size)).all()
    greedy = model.generate(start, 10, top_k=1)  # longer than block_size: the context is cropped
    idx = start.data
    for _ in range(10):
        logits, _ = model(ag.tensor(idx[:, -SMALL.block_size :]))
        idx = np.concatenate([idx, logits.data[:, -1].argmax(-1)[:, None]], axis=1)
    np.testing.assert_array_equal(greedy.data, idx)


def test_training_on_the_readme_brings_the_loss_down():
    _, losses, chars = nanogpt.train(ROOT / "README.md", steps=80, seed=0, log_every=0)
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert first > 4.0  # about log(vocabulary size) at the start
    assert last < 3.4, f"loss went from {first:.2f} to {last:.2f} in 80 steps"


# ───────────── against nanoGPT in PyTorch ─────────────


@pytest.fixture(scope="module")
def torch_gpt():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the nanoGPT port (gradwire[oracle])")
    from torch_nanogpt import GPT, NanoGPTConfig

    torch.set_default_dtype(torch.float64)
    try:
        yield torch, GPT, NanoGPTConfig
    finally:
        torch.set_default_dtype(torch.float32)


def in_float64(model):
    for tensor in [*model.parameters(), *model.buffers()]:
        tensor.data = tensor.data.astype(np.float64)
    return model


@pytest.mark.parametrize("flash", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_the_port_loads_into_nanogpt_by_name_and_computes_the_same(torch_gpt, bias, flash):
    torch, GPT, NanoGPTConfig = torch_gpt
    ours = in_float64(small_gpt(3, bias=bias, flash=flash))
    fields = {f.name for f in dataclasses.fields(NanoGPTConfig)}
    theirs = GPT(NanoGPTConfig(**{k: v for k, v in dataclasses.asdict(ours.config).items() if k in fields}))
    state = {k: torch.from_numpy(v) for k, v in ours.state_dict().items() if not k.endswith(".attn.bias")}
    theirs.load_state_dict(state, strict=True)  # the same names: nothing to map
    x, y = batch(4)
    logits, loss = ours(x, y)
    t_logits, t_loss = theirs(torch.from_numpy(x.data), torch.from_numpy(y.data))
    np.testing.assert_allclose(logits.data, t_logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-12)
    loss.backward()
    t_loss.backward()
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_params[name].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


def test_one_adamw_step_with_nanogpts_groups_matches_pytorch(torch_gpt):
    torch, GPT, NanoGPTConfig = torch_gpt
    ours = in_float64(small_gpt(6, bias=True))
    theirs = GPT(NanoGPTConfig(**{k: v for k, v in dataclasses.asdict(ours.config).items() if k != "flash"}))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    opt = ours.configure_optimizers(weight_decay=0.1, learning_rate=1e-2, betas=(0.9, 0.95))
    t_params = dict(theirs.named_parameters())
    groups = [
        {"params": [t_params[n] for n, p in ours.named_parameters() if p.ndim >= 2], "weight_decay": 0.1},
        {"params": [t_params[n] for n, p in ours.named_parameters() if p.ndim < 2], "weight_decay": 0.0},
    ]
    t_opt = torch.optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.95))
    for step in range(2):
        x, y = batch(10 + step)
        _, loss = ours(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _, t_loss = theirs(torch.from_numpy(x.data), torch.from_numpy(y.data))
        t_opt.zero_grad(set_to_none=True)
        t_loss.backward()
        t_opt.step()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.data, t_params[name].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
