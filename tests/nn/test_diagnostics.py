"""Tests for nn.diagnostics: `nn.watch` and its `GradientMonitor` (gradient flow, activations, flags, plots).

The seeds' lesson is reproduced with fixed seeds: a 10-layer sigmoid MLP with the default
initialisation, whose first layer gets gradients ~1e-8 times the last one's, against a ReLU
MLP with Kaiming initialisation, whose gradients keep their size through the depth.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F
from nn.diagnostics import GradientFlag, LayerStats

WIDTHS = [16] + [32] * 9 + [1]  # 10 Linear layers of width 32
LINEARS = [f"layers.{2 * i}" for i in range(10)]  # nn.MLP puts the activations at the odd indices


def deep_mlp(activation: str, seed: int = 0) -> nn.MLP:
    """The 10-layer MLP; the ReLU one gets Kaiming-normal weights and zero biases."""
    model = nn.MLP(WIDTHS, activation=activation, rng=np.random.default_rng(seed))
    if activation == "relu":
        rng = np.random.default_rng(seed + 100)
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu", rng=rng)
                nn.init.zeros_(module.bias)
    return model


def batch(seed: int = 0, n: int = 64) -> tuple[ag.Tensor, ag.Tensor]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, WIDTHS[0])).astype(np.float32)
    y = rng.standard_normal((n, 1)).astype(np.float32)
    return ag.tensor(x), ag.tensor(y)


def train(model: nn.Module, monitor: nn.GradientMonitor, steps: int, lr: float = 0.1) -> None:
    """A plain loop: zero_grad, forward, backward, ``monitor.step()``, optimizer step."""
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    x, y = batch()
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        monitor.step()
        opt.step()


def norm_ratio(monitor: nn.GradientMonitor) -> float:
    """First-layer over last-layer gradient norm at the latest step."""
    latest = monitor.latest
    return latest[LINEARS[0]].grad_norm / latest[LINEARS[-1]].grad_norm


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib", reason="plots need matplotlib (the notebooks extra)")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


# ───────────── the seeds' lesson ─────────────


def test_a_deep_sigmoid_net_vanishes_in_its_early_layers():
    model = deep_mlp("sigmoid")
    monitor = nn.watch(model)
    with pytest.warns(nn.GradientFlowWarning, match=r"vanishing gradients in layer 'layers\.0' \(Linear\)") as record:
        train(model, monitor, steps=5)
    assert record[0].filename == __file__  # the warning points at the caller of monitor.step()
    assert monitor.flagged("vanishing") == ["layers.0"] and monitor.flagged("exploding") == []
    flag = monitor.flags[0]
    assert flag.kind == "vanishing" and flag.step == 2  # patience=3: the third step in a row below 1e-7
    assert flag.value < 1e-7 and "for 3 recorded step(s) in a row (steps 0-2)" in flag.message
    norms = [monitor.latest[name].grad_norm for name in LINEARS]
    assert np.all(np.diff(norms) > 0), f"gradient norms should grow from input to output: {norms}"
    ratio = norm_ratio(monitor)
    assert ratio < 1e-3, ratio  # measured: about 1e-8 (each sigmoid layer passes back <= 1/4 of the signal)


def test_a_relu_net_with_kaiming_init_keeps_its_gradients():
    model = deep_mlp("relu")
    monitor = nn.watch(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", nn.GradientFlowWarning)
        train(model, monitor, steps=5, lr=0.01)
    assert monitor.flags == []
    ratio = norm_ratio(monitor)
    assert 0.1 <= ratio <= 10, ratio  # measured: 0.4 at the first step, 2.5 at the fifth
    for name in LINEARS:
        assert np.all(monitor.series(name) > 1e-2), name


# ───────────── exploding ─────────────


def test_huge_initialisation_is_flagged_as_exploding_by_name():
    model = nn.MLP([16, 32, 32, 1], activation="relu", rng=np.random.default_rng(0))
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=30.0, rng=np.random.default_rng(1))
    monitor = nn.watch(model)
    with pytest.warns(nn.GradientFlowWarning) as record:
        train(model, monitor, steps=1, lr=0.0)
    assert monitor.flagged("exploding") == ["layers.0", "layers.2", "layers.4"]
    assert [str(w.message) for w in record] == [flag.message for flag in monitor.flags]
    for flag in monitor.flags:
        assert f"exploding gradients in layer '{flag.layer}' (Linear) at step 0" in flag.message
        assert flag.value > 1e3 and "> explode_above=1000" in flag.message
        assert flag.value == monitor.latest[flag.layer].grad_norm


def test_a_planted_nan_gradient_names_its_layer_once():
    model = nn.MLP([4, 8, 8, 2], activation="tanh", rng=np.random.default_rng(0))
    monitor = nn.watch(model)
    x = ag.tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    with pytest.warns(nn.GradientFlowWarning) as record:
        for _ in range(3):
            model.zero_grad()
            model(x).sum().backward()
            bad = model.layers[2].weight.grad.data.copy()
            bad[0, 0] = np.nan
            model.layers[2].weight.grad = ag.tensor(bad)
            monitor.step()
    assert len(record) == 1, "one warning per layer and condition, however many steps repeat it"
    assert "layer 'layers.2' (Linear)" in str(record[0].message) and "non-finite" in str(record[0].message)
    assert [(f.layer, f.kind, f.step) for f in monitor.flags] == [("layers.2", "exploding", 0)]
    assert np.isnan(monitor.flags[0].value) and monitor.latest["layers.2"].grad_finite is False
    assert monitor.latest["layers.0"].grad_finite is True


# ───────────── the flagging rules ─────────────


def plant(layer: nn.Linear, value: float) -> None:
    """Give the layer's weight and bias gradients of constant ``value``."""
    layer.weight.grad = ag.tensor(np.full(layer.weight.shape, value, dtype=np.float32))
    layer.bias.grad = ag.tensor(np.full(layer.bias.shape, value, dtype=np.float32))


def test_vanishing_needs_patience_steps_in_a_row():
    layer = nn.Linear(3, 2)
    monitor = nn.watch(layer, vanish_below=1e-3, patience=3, activations=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", nn.GradientFlowWarning)
        for value in (1e-5, 1e-5, 1.0, 1e-5, 1e-5):  # the big step in between resets the count
            plant(layer, value)
            monitor.step()
    assert monitor.flags == []
    plant(layer, 0.0)  # an exact zero counts as vanishing: the third step in a row
    with pytest.warns(nn.GradientFlowWarning, match=r"layer '' \(Linear\).*steps 3-5"):
        monitor.step()
    assert [(f.kind, f.step, f.value) for f in monitor.flags] == [("vanishing", 5, 0.0)]
    assert monitor.latest[""].grad_zero_fraction == 1.0


def test_a_layer_without_gradients_is_neither_vanishing_nor_counted():
    layer = nn.Linear(3, 2)
    monitor = nn.watch(layer, vanish_below=1e-3, patience=2, activations=False)
    plant(layer, 1e-6)
    monitor.step()
    layer.zero_grad()  # no gradient reached it: the count neither grows nor resets
    monitor.step()
    assert monitor.latest[""].grad_norm is None and monitor.flags == []
    plant(layer, 1e-6)
    with pytest.warns(nn.GradientFlowWarning, match="vanishing"):
        monitor.step()


def test_every_records_only_every_nth_step():
    model = nn.MLP([4, 6, 1], activation="sigmoid", rng=np.random.default_rng(0))
    monitor = nn.watch(model, every=2)
    x = ag.tensor(np.ones((3, 4), dtype=np.float32))
    results = []
    for _ in range(5):
        model.zero_grad()
        model(x).sum().backward()
        results.append(monitor.step())
    assert monitor.steps == [0, 2, 4] and monitor.step_count == 5
    assert [bool(r) for r in results] == [True, False, True, False, True]
    assert [s.step for s in monitor.history["layers.1"]] == [0, 2, 4]
    assert all(s.act_mean is not None for s in monitor.history["layers.1"])


def test_arguments_are_checked():
    with pytest.raises(TypeError, match="watch: model must be an nn.Module, got list"):
        nn.watch([])
    with pytest.raises(ValueError, match="every must be a positive int"):
        nn.watch(nn.Linear(2, 2), every=0)
    with pytest.raises(ValueError, match="patience must be a positive int"):
        nn.watch(nn.Linear(2, 2), patience=0)
    with pytest.raises(ValueError, match="vanish_below must be a positive number"):
        nn.watch(nn.Linear(2, 2), vanish_below=-1.0)
    with pytest.raises(ValueError, match=r"vanish_below \(10.0\) must be below explode_above \(1.0\)"):
        nn.watch(nn.Linear(2, 2), vanish_below=10.0, explode_above=1.0)
    monitor = nn.watch(nn.Linear(2, 2))
    with pytest.raises(KeyError, match="no watched layer 'nope'"):
        monitor.series("nope")
    with pytest.raises(ValueError, match="unknown field 'norm'"):
        monitor.series("", "norm")


# ───────────── the statistics themselves ─────────────


def grad_stats_by_numpy(module: nn.Module) -> dict[str, float]:
    g = np.concatenate([p.grad.data.astype(np.float64).ravel() for p in module.parameters(recurse=False)])
    return {
        "grad_mean_abs": np.abs(g).mean(),
        "grad_max_abs": np.abs(g).max(),
        "grad_norm": np.linalg.norm(g),
        "grad_zero_fraction": np.mean(g == 0),
    }


def test_statistics_match_numpy_on_the_grads_and_the_recorded_activations():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 4), nn.ReLU())
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=2.0, rng=rng)  # large enough that some units saturate
    monitor = nn.watch(model)
    outputs: dict[str, list[np.ndarray]] = {}
    for name, module in model.named_modules():
        if name:
            module.register_forward_hook(
                lambda mod, args, out, name=name: outputs.setdefault(name, []).append(out.data)
            )
    x1 = ag.tensor(rng.standard_normal((7, 5)).astype(np.float32))
    x2 = ag.tensor(rng.standard_normal((3, 5)).astype(np.float32))
    (model(x1).sum() + model(x2).mean()).backward()  # two forwards in one step: statistics over both
    stats = monitor.step()
    assert set(stats) == {"0", "1", "2", "3", "4", "5"} == set(monitor.layers)  # the Sequential itself has neither
    for name, module in model.named_modules():
        if not name:
            continue
        acts = np.concatenate([a.ravel() for a in outputs[name]]).astype(np.float64)
        s = stats[name]
        assert isinstance(s, LayerStats) and s.step == 0
        np.testing.assert_allclose([s.act_mean, s.act_std], [acts.mean(), acts.std()], rtol=1e-9, atol=1e-12)
        assert s.act_zero_fraction == pytest.approx(np.mean(acts == 0))
        if isinstance(module, nn.Linear):
            expected = grad_stats_by_numpy(module)
            for field, value in expected.items():
                assert getattr(s, field) == pytest.approx(value, rel=1e-9), (name, field)
            assert s.grad_finite is True and s.act_saturated_fraction is None
        else:
            assert s.grad_norm is None
    saturated = {
        "1": np.mean(np.abs(np.concatenate([a.ravel() for a in outputs["1"]])) > 0.99),
        "3": np.mean(np.abs(np.concatenate([a.ravel() for a in outputs["3"]]) - 0.5) > 0.49),
    }
    assert stats["1"].act_saturated_fraction == pytest.approx(saturated["1"]) and saturated["1"] > 0
    assert stats["3"].act_saturated_fraction == pytest.approx(saturated["3"]) and saturated["3"] > 0
    assert stats["5"].act_saturated_fraction is None and stats["5"].act_zero_fraction > 0  # ReLU zeros
    np.testing.assert_array_equal(monitor.series("0", "act_mean"), [stats["0"].act_mean])


def test_forwards_without_grad_are_not_recorded():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    monitor = nn.watch(model)
    x = ag.tensor(np.ones((4, 2), dtype=np.float32))
    with ag.no_grad():
        model(x * 100)  # an evaluation pass: left out of the step's activations
    out = model(x)
    out.sum().backward()
    stats = monitor.step()
    assert stats["1"].act_mean == pytest.approx(float(out.data.mean()))


def test_each_step_sees_only_its_own_forward():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    monitor = nn.watch(model)
    means = []
    for scale in (1.0, -3.0):
        out = model(ag.tensor(np.full((4, 2), scale, dtype=np.float32)))
        out.sum().backward()
        means.append(float(out.data.astype(np.float64).mean()))
        monitor.step()
        model.zero_grad()
    np.testing.assert_allclose(monitor.series("1", "act_mean"), means, rtol=1e-9)


# ───────────── hooks and the training loop ─────────────


def test_remove_detaches_every_hook_and_keeps_the_history():
    model = deep_mlp("sigmoid")
    before = [m for m in model.modules() if m._has_forward_hooks]
    monitor = nn.watch(model)
    assert len([m for m in model.modules() if m._has_forward_hooks]) == len(monitor.layers) == 19
    with pytest.warns(nn.GradientFlowWarning):
        train(model, monitor, steps=3)
    monitor.remove()
    assert before == [] and not any(m._has_forward_hooks for m in model.modules())
    assert not any(m.__dict__.get("_forward_hooks") for m in model.modules())
    model(batch()[0])
    assert monitor._moments == {} and len(monitor.steps) == 3 and monitor.flagged() == ["layers.0"]
    monitor.remove()  # twice is fine
    with nn.watch(model) as watching:
        assert model.layers[0]._has_forward_hooks
    assert watching.layers and not any(m._has_forward_hooks for m in model.modules())


def test_a_wrapped_optimizer_steps_the_monitor_even_inside_fit():
    model = nn.MLP([3, 8, 1], activation="tanh", rng=np.random.default_rng(0))
    monitor = nn.watch(model)
    opt = nn.optim.SGD(model.parameters(), lr=0.05)
    wrapped = monitor.wrap(opt)
    assert wrapped.param_groups is opt.param_groups and "SGD" in repr(wrapped)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.standard_normal((40, 1)).astype(np.float32)
    weight_before = model.layers[0].weight.data.copy()
    nn.fit(model, F.mse_loss, wrapped, (X, y), epochs=2, batch_size=10, progress=False)
    assert monitor.step_count == 8 and monitor.steps == list(range(8))
    assert not np.array_equal(model.layers[0].weight.data, weight_before)  # the wrapped optimizer still stepped
    assert all(s.grad_norm > 0 for s in monitor.history["layers.0"])
    with pytest.raises(ValueError, match="closure is not supported"):
        wrapped.step(lambda: None)


def test_repr_and_flag_types():
    model = deep_mlp("sigmoid")
    monitor = nn.watch(model)
    with pytest.warns(nn.GradientFlowWarning):
        train(model, monitor, steps=3)
    assert isinstance(monitor.flags[0], GradientFlag)
    assert repr(monitor) == "GradientMonitor(MLP, 19 layers, 3 steps recorded, flagged: layers.0 (vanishing))"
    with pytest.raises(ValueError, match="kind must be"):
        monitor.flagged("exploded")


# ───────────── plots ─────────────


def test_plot_grad_flow_draws_two_bars_per_layer(plt):
    model = deep_mlp("sigmoid")
    monitor = nn.watch(model)
    with pytest.raises(ValueError, match="no step recorded yet"):
        monitor.plot_grad_flow()
    with pytest.warns(nn.GradientFlowWarning):
        train(model, monitor, steps=3)
    _, given = plt.subplots()
    ax = monitor.plot_grad_flow(ax=given)
    assert ax is given and len(ax.patches) == 2 * len(LINEARS)
    assert [t.get_text() for t in ax.get_xticklabels()] == LINEARS
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights[: len(LINEARS)], [monitor.latest[n].grad_max_abs for n in LINEARS])
    np.testing.assert_allclose(heights[len(LINEARS) :], [monitor.latest[n].grad_mean_abs for n in LINEARS])
    assert ax.get_yscale() == "log"
    red = [t.get_text() for t in ax.get_xticklabels() if t.get_color() == "#cb181d"]
    assert red == ["layers.0"]
    first = monitor.plot_grad_flow(step=0)  # a new figure, and an earlier step
    assert first is not given and "step 0" in first.get_title()


def test_plot_history_draws_one_line_per_layer(plt):
    model = deep_mlp("relu")
    monitor = nn.watch(model)
    train(model, monitor, steps=4, lr=0.01)
    ax = monitor.plot_history()
    layer_lines = [line for line in ax.get_lines() if line.get_label() in LINEARS]
    assert len(layer_lines) == len(LINEARS) and len(ax.get_lines()) == len(LINEARS) + 2  # + the two thresholds
    np.testing.assert_allclose(layer_lines[0].get_ydata(), monitor.series("layers.0"))
    np.testing.assert_array_equal(layer_lines[0].get_xdata(), [0, 1, 2, 3])
    assert ax.get_yscale() == "log"
    acts = monitor.plot_history(field="act_std")  # activations: every layer, no thresholds
    assert len(acts.get_lines()) == 19


def test_plots_name_the_extra_when_matplotlib_is_missing(monkeypatch):
    model = nn.Linear(2, 2)
    monitor = nn.watch(model)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # makes ``import matplotlib.pyplot`` fail
    with pytest.raises(ImportError, match=r"plot_grad_flow: plotting needs matplotlib.*gradwire\[notebooks\]"):
        monitor.plot_grad_flow()
    with pytest.raises(ImportError, match="plot_history"):
        monitor.plot_history()
