"""The mini Transformer: shapes, weight layout, a NumPy reference, causality, gradients, generation."""

import dataclasses
import pickle
import time

import numpy as np
import pytest

import autograd as ag
import nn
from nn.transformer import FeedForward, GPTConfig, MiniGPT, MultiHeadAttention, TransformerBlock


def _x(shape, seed=0, dtype=np.float64):
    return ag.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def _tiny_gpt(**overrides):
    nn.manual_seed(0)
    config = GPTConfig(vocab_size=7, block_size=6, n_layer=1, n_head=2, d_model=8, **overrides)
    return MiniGPT(config)


def _reference_attention(x, qkv_w, qkv_b, proj_w, proj_b, n_head):
    """Causal multi-head attention written directly from the paper, in NumPy."""
    B, T, C = x.shape
    hs = C // n_head
    q, k, v = np.split(x @ qkv_w.T + qkv_b, 3, axis=-1)
    heads = []
    for h in range(n_head):
        part = slice(h * hs, (h + 1) * hs)
        scores = q[..., part] @ k[..., part].transpose(0, 2, 1) / np.sqrt(hs)
        scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        heads.append(weights @ v[..., part])
    return np.concatenate(heads, axis=-1) @ proj_w.T + proj_b


def test_attention_matches_a_numpy_reference():
    nn.manual_seed(1)
    attn = MultiHeadAttention(d_model=12, n_head=3)
    x = _x((2, 5, 12), dtype=np.float32)
    expected = _reference_attention(
        x.data.astype(np.float64),
        *(p.data.astype(np.float64) for p in (attn.qkv.weight, attn.qkv.bias, attn.proj.weight, attn.proj.bias)),
        n_head=3,
    )
    out = attn(x)
    assert out.shape == (2, 5, 12) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-4, atol=1e-5)


def test_parameter_names_and_shapes_follow_the_documented_layout():
    model = MiniGPT(GPTConfig(vocab_size=11, block_size=9, n_layer=2, n_head=2, d_model=8, d_ff=20))
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes["tok_emb.weight"] == (11, 8)
    assert shapes["pos_emb.weight"] == (9, 8)
    assert shapes["blocks.1.attn.qkv.weight"] == (24, 8)
    assert shapes["blocks.1.attn.proj.weight"] == (8, 8)
    assert shapes["blocks.0.mlp.fc1.weight"] == (20, 8)
    assert shapes["blocks.0.mlp.fc2.weight"] == (8, 20)
    assert shapes["blocks.0.ln1.weight"] == shapes["blocks.0.ln2.bias"] == shapes["ln_f.weight"] == (8,)
    assert shapes["head.weight"] == (11, 8) and "head.bias" not in shapes


def test_block_output_position_t_has_exactly_zero_gradient_from_later_positions():
    nn.manual_seed(2)
    block = TransformerBlock(d_model=8, n_head=2, d_ff=16)
    x = _x((2, 6, 8))
    out = block(x)
    for t in range(6):
        (g,) = ag.grad(out[:, t].sum(), x, retain_graph=True)
        assert np.all(g.data[:, t + 1 :] == 0.0)  # exactly zero: the future is masked out
        assert np.all(np.abs(g.data[:, : t + 1]).sum(axis=-1) > 0)  # the past and present are used


def test_minigpt_logits_at_t_ignore_later_tokens_by_the_engine():
    model = _tiny_gpt()
    tokens = np.array([[0, 1, 2, 3, 4, 5]])  # all distinct: each embedding row belongs to one position
    t = 2
    model(tokens)[:, t].sum().backward()
    grad_rows = np.abs(model.tok_emb.weight.grad.data).sum(axis=1)
    assert np.all(grad_rows[tokens[0, t + 1 :]] == 0.0)
    assert np.all(grad_rows[tokens[0, : t + 1]] > 0.0)
    pos_rows = np.abs(model.pos_emb.weight.grad.data).sum(axis=1)
    assert np.all(pos_rows[t + 1 :] == 0.0) and np.all(pos_rows[: t + 1] > 0.0)


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: MultiHeadAttention(d_model=6, n_head=2), (2, 4, 6)),
        (lambda: FeedForward(d_model=6, d_ff=10), (2, 3, 6)),
        (lambda: TransformerBlock(d_model=6, n_head=3, d_ff=8), (1, 4, 6)),
    ],
)
def test_transformer_parts_pass_gradcheck_over_inputs_and_all_parameters(build, shape):
    nn.manual_seed(3)
    assert nn.gradcheck_module(build(), _x(shape))


def test_minigpt_passes_gradcheck_over_all_parameters():
    model = _tiny_gpt(d_ff=12)
    tokens = np.array([[1, 0, 3, 6], [2, 2, 5, 1]])
    assert nn.gradcheck_module(model, tokens)


def test_minigpt_rejects_sequences_longer_than_its_block_size():
    model = _tiny_gpt()
    with pytest.raises(ValueError, match="block_size 6"):
        model(np.zeros((1, 7), dtype=np.int64))


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(d_model=10, n_head=3)


def test_dropout_is_active_in_training_and_off_in_eval():
    model = _tiny_gpt(dropout=0.5)
    tokens = np.array([[1, 2, 3, 4]])
    model.train()
    nn.manual_seed(5)
    first = model(tokens).data
    second = model(tokens).data
    assert not np.allclose(first, second)
    model.eval()
    np.testing.assert_array_equal(model(tokens).data, model(tokens).data)


def test_generate_greedy_and_top_1_pick_the_most_likely_token():
    model = _tiny_gpt()
    prompt = np.array([[1, 2], [3, 4]])
    greedy = model.generate(prompt, 4, temperature=0)
    assert greedy.shape == (2, 6)
    np.testing.assert_array_equal(greedy[:, :2], prompt)
    with ag.no_grad():
        expected_next = model(prompt).data[:, -1].argmax(-1)
    np.testing.assert_array_equal(greedy[:, 2], expected_next)
    top1 = model.generate(prompt, 4, temperature=1.0, top_k=1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(top1, greedy)


def test_generate_samples_reproducibly_and_crops_to_the_block_size():
    model = _tiny_gpt()
    prompt = np.array([[1, 2, 3]])
    a = model.generate(prompt, 8, rng=np.random.default_rng(7))
    b = model.generate(prompt, 8, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (1, 11) and a.max() < 7 and a.min() >= 0
    assert model.training  # generate restores the mode it found


def test_a_training_step_lowers_the_loss_on_a_fixed_batch():
    model = _tiny_gpt()
    opt = nn.optim.AdamW(model.parameters(), lr=1e-2)
    tokens = np.random.default_rng(0).integers(0, 7, (4, 6))
    losses = []
    start = time.perf_counter()
    for _ in range(30):
        loss = nn.F.cross_entropy(model(tokens[:, :-1]), tokens[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    print(f"30 MiniGPT steps: loss {losses[0]:.3f} -> {losses[-1]:.3f} in {time.perf_counter() - start:.2f} s")


def test_generate_rejects_meaningless_top_k_and_temperature():
    model = _tiny_gpt()
    with pytest.raises(ValueError, match="top_k must be at least 1"):
        model.generate(np.zeros((1, 1), dtype=np.int64), 2, top_k=0)
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        model.generate(np.zeros((1, 1), dtype=np.int64), 2, temperature=-1.0)


# ───────────── n_head, and the deprecated spelling n_heads ─────────────

_BUILDERS = {
    "MultiHeadAttention": lambda **heads: MultiHeadAttention(d_model=8, **heads),
    "TransformerBlock": lambda **heads: TransformerBlock(d_model=8, d_ff=16, **heads),
}


@pytest.mark.parametrize("name", sorted(_BUILDERS))
def test_the_old_keyword_n_heads_warns_and_builds_the_same_module(name):
    build = _BUILDERS[name]
    nn.manual_seed(4)
    new = build(n_head=2)
    nn.manual_seed(4)
    with pytest.warns(DeprecationWarning, match=rf"{name}: the keyword n_heads= is deprecated; use n_head=") as record:
        old = build(n_heads=2)
    assert len(record) == 1 and record[0].filename == __file__  # stacklevel points at the caller
    assert {k: p.shape for k, p in old.named_parameters()} == {k: p.shape for k, p in new.named_parameters()}
    for (_, a), (_, b) in zip(old.named_parameters(), new.named_parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    x = _x((2, 5, 8))
    np.testing.assert_array_equal(old(x).data, new(x).data)


def test_positional_head_counts_still_work_without_a_warning(recwarn):
    nn.manual_seed(4)
    attn = MultiHeadAttention(8, 2, 0.0, True, False)
    block = TransformerBlock(8, 4, 16, 0.0, True)
    assert attn.n_head == 2 and attn.proj.bias is None and block.attn.n_head == 4
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


@pytest.mark.parametrize(
    "build",
    [
        lambda: MultiHeadAttention(d_model=8, n_head=2, n_heads=2),
        lambda: MultiHeadAttention(8, 2, n_heads=2),
        lambda: TransformerBlock(d_model=8, n_head=2, n_heads=2, d_ff=16),
        lambda: TransformerBlock(8, 2, 16, n_heads=2),
    ],
)
def test_passing_both_n_head_and_n_heads_is_a_type_error_naming_both(build):
    with pytest.raises(TypeError, match=r"got both n_head= and n_heads="):
        build()


def test_the_n_heads_attribute_is_a_read_only_alias_that_warns():
    attn = MultiHeadAttention(d_model=12, n_head=3)
    assert attn.n_head == 3
    with pytest.warns(DeprecationWarning, match=r"MultiHeadAttention: the attribute n_heads is deprecated; use n_head"):
        assert attn.n_heads == 3
    with pytest.raises(AttributeError):
        attn.n_heads = 4
    assert attn.n_head == 3


def test_attention_pickles_and_unpickles_modules_saved_with_the_old_attribute():
    nn.manual_seed(6)
    attn = MultiHeadAttention(d_model=8, n_head=2)
    x = _x((1, 4, 8))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(attn))(x).data, attn(x).data)
    old_state = {("n_heads" if k == "n_head" else k): v for k, v in attn.__dict__.items()}  # before the rename
    revived = MultiHeadAttention.__new__(MultiHeadAttention)
    revived.__setstate__(old_state)
    assert revived.n_head == 2 and "n_heads" not in revived.__dict__
    np.testing.assert_array_equal(revived(x).data, attn(x).data)


def test_config_ties_the_head_and_picks_the_gelu():
    tied = nn.MiniGPT(nn.GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=2, d_model=8, tie_weights=True))
    assert tied.head.weight is tied.tok_emb.weight
    assert {"head.weight", "tok_emb.weight"} <= set(tied.state_dict())
    untied = nn.MiniGPT(dataclasses.replace(tied.config, tie_weights=False))
    assert sum(1 for _ in tied.parameters()) == sum(1 for _ in untied.parameters()) - 1
    logits = tied(np.array([[1, 2, 3]]))
    (logits * logits).sum().backward()
    assert tied.tok_emb.weight.grad is not None  # both uses send their gradient to the one parameter
    exact = nn.MiniGPT(nn.GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=2, d_model=8, gelu="none"))
    assert exact.blocks[0].mlp.act.approximate == "none"
