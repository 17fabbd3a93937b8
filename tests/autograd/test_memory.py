"""Graphs are freed after backward by reference counting alone, and training memory stays flat."""

import gc
import time
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd as ag
import nn


@pytest.fixture
def no_cycle_collector():
    """Run with the cycle collector off: whatever is freed here is freed by reference counting."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_forward_graph_is_freed_when_the_loss_is_dropped_after_backward(no_cycle_collector):
    model = nn.MLP([4, 8, 8, 1], activation="tanh")
    x = ag.tensor(np.ones((3, 4)))
    hidden = model.layers[0](x)
    hidden_ref, hidden_node_ref = weakref.ref(hidden), weakref.ref(hidden._node)
    loss = (model.layers[2](model.layers[1](hidden)) ** 2).mean()
    loss.backward()
    del hidden
    assert hidden_ref() is None  # backward released the tensors its nodes saved
    assert hidden_node_ref() is not None  # the structure stays while the loss is alive (grad_fn)
    del loss
    assert hidden_node_ref() is None  # and goes with the loss: no cycles between tensors and nodes


def test_saved_arrays_are_released_by_backward_even_while_the_loss_is_kept(no_cycle_collector):
    w = ag.tensor(np.ones((64, 64)), requires_grad=True)
    h = (w @ w).tanh()
    saved_ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    assert saved_ref() is not None  # mul saved it for backward
    loss.backward()
    assert saved_ref() is None
    assert loss.grad_fn is not None


def test_create_graph_graphs_are_freed_too(no_cycle_collector):
    x = ag.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    y = (x.sin() * x).sum()
    (g,) = ag.grad(y, x, create_graph=True)
    g_node_ref = weakref.ref(g._node)
    y_node_ref = weakref.ref(y._node)
    g.sum().backward()
    del g, y
    assert g_node_ref() is None and y_node_ref() is None
    assert x.grad is not None and x.grad.grad_fn is None


def test_a_module_graph_with_scope_records_and_hooks_is_freed(no_cycle_collector):
    block = nn.TransformerBlock(d_model=8, n_head=2, d_ff=16)
    x = ag.tensor(np.random.default_rng(0).standard_normal((2, 4, 8)), requires_grad=True)
    out = block(x)
    out.register_hook(lambda g: g)
    out.retain_grad()
    node_ref = weakref.ref(out._node)
    out.sum().backward()
    del out
    assert node_ref() is None


def test_minigpt_training_soak_has_flat_memory(capsys):
    """1,000 AdamW steps of a small MiniGPT with the cycle collector off: memory stays flat.

    A graph kept alive per step would add at least one step's working memory (the peak above
    the resting level) per step. What little does grow comes from interpreter and NumPy
    free lists filling up, and levels off (about 200 KiB here, flat after ~1,750 steps).
    """
    nn.manual_seed(0)
    model = nn.MiniGPT(nn.GPTConfig(vocab_size=10, block_size=8, n_layer=2, n_head=2, d_model=16))
    opt = nn.optim.AdamW(model.parameters(), lr=1e-3)
    batch = np.random.default_rng(0).integers(0, 10, (8, 9))

    def step():
        loss = nn.F.cross_entropy(model(batch[:, :-1]), batch[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()

    start = time.perf_counter()
    readings = {}
    gc.disable()  # a leak through reference cycles would show up as growth
    tracemalloc.start()
    try:
        for number in range(1, 1001):
            step()
            if number in (100, 550, 1000):
                readings[number] = tracemalloc.get_traced_memory()[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.enable()
    one_step = peak - readings[100]
    with capsys.disabled():
        print(
            f"\nMiniGPT soak, 1000 steps in {time.perf_counter() - start:.1f} s: traced memory after 100 / 550 / 1000 "
            f"steps {readings[100] / 1024:.0f} / {readings[550] / 1024:.0f} / {readings[1000] / 1024:.0f} KiB, "
            f"peak {peak / 1024:.0f} KiB (one step's working memory {one_step / 1024:.0f} KiB)"
        )
    assert readings[1000] - readings[100] < one_step  # 900 steps grew less than one step's graph
    assert readings[1000] - readings[550] < 64 * 1024  # and the last 450 steps hardly at all
