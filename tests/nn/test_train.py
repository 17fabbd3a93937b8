"""Tests for nn.train: metrics against NumPy, evaluate/predict, and the fit loop (history, early stopping, progress)."""

import numpy as np
import pytest

import autograd as ag
from nn import layers
from nn.data import DataLoader
from nn.functional import cross_entropy
from nn.functional import mse_loss as mse
from nn.optim import SGD, Adam
from nn.train import History, accuracy, evaluate, fit, predict, r2_score


def rng(seed=0):
    return np.random.default_rng(seed)


class Linear(layers.Linear):
    """nn's Linear, recording (training?, recording a graph?) at every call."""

    def __init__(self, n_in, n_out, seed=0):
        super().__init__(n_in, n_out, rng=rng(seed))
        self.modes = []

    def forward(self, x):
        self.modes.append((self.training, ag.is_grad_enabled()))
        return super().forward(x)


def line_data(n=64, slope=2.0, seed=0):
    X = rng(seed).uniform(-1, 1, (n, 1)).astype(np.float32)
    return X, (slope * X + 0.5).astype(np.float32)


# ───────────── metrics ─────────────


def test_accuracy_multiclass_takes_the_argmax_of_the_last_axis():
    logits = rng().standard_normal((50, 4))
    targets = rng(1).integers(0, 4, 50)
    expected = np.mean(np.argmax(logits, axis=1) == targets)
    assert accuracy(logits, targets) == pytest.approx(expected)
    assert accuracy(ag.Tensor(logits), ag.Tensor(targets)) == pytest.approx(expected)
    assert accuracy(logits, targets[:, None]) == pytest.approx(expected)
    assert accuracy(logits, np.eye(4)[targets]) == pytest.approx(expected)  # one-hot targets


def test_accuracy_on_sequences_counts_every_position():
    logits = rng().standard_normal((3, 5, 7))
    targets = rng(1).integers(0, 7, (3, 5))
    assert accuracy(logits, targets) == pytest.approx(np.mean(logits.argmax(-1) == targets))


def test_accuracy_binary_thresholds():
    probs = np.array([[0.9], [0.2], [0.6], [0.4], [0.5]])
    targets = np.array([[1.0], [0.0], [0.0], [0.0], [1.0]])
    assert accuracy(probs, targets) == pytest.approx(3 / 5)  # 0.5 itself counts as class 0
    assert accuracy(probs.ravel(), targets.astype(np.int64).ravel()) == pytest.approx(3 / 5)
    logits = np.log(probs / (1 - probs))
    assert accuracy(logits, targets, threshold=0.0) == pytest.approx(3 / 5)


def test_accuracy_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="do not match"):
        accuracy(np.zeros((4, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="binary targets"):
        accuracy(np.zeros((4, 1)), np.zeros(5))


def test_r2_score_matches_its_definition():
    target = rng().standard_normal(40)
    pred = target + 0.3 * rng(1).standard_normal(40)
    expected = 1 - np.sum((target - pred) ** 2) / np.sum((target - target.mean()) ** 2)
    assert r2_score(pred, target) == pytest.approx(expected)
    assert r2_score(ag.Tensor(pred[:, None]), target) == pytest.approx(expected)  # (N, 1) against (N,)
    assert r2_score(target, target) == 1.0
    assert r2_score(np.full(40, target.mean()), target) == pytest.approx(0.0, abs=1e-12)


def test_r2_score_averages_columns_and_handles_constant_targets():
    target = rng().standard_normal((30, 2))
    pred = target + 0.5 * rng(1).standard_normal((30, 2))
    per_column = [r2_score(pred[:, k], target[:, k]) for k in range(2)]
    assert r2_score(pred, target) == pytest.approx(np.mean(per_column))
    assert r2_score(np.ones(5), np.ones(5)) == 1.0
    assert r2_score(np.zeros(5), np.ones(5)) == 0.0
    with pytest.raises(ValueError, match="differ in size"):
        r2_score(np.zeros(4), np.zeros(5))


# ───────────── evaluate and predict ─────────────


def test_evaluate_weights_batches_by_size_and_runs_in_eval_mode_without_a_graph():
    X, y = line_data(10)
    model = Linear(1, 1)
    result = evaluate(model, mse, DataLoader((X, y), batch_size=4), metric="r2")
    pred = X @ model.weight.data.T + model.bias.data
    assert result["loss"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    assert result["r2"] == pytest.approx(r2_score(pred, y), rel=1e-5)
    assert model.modes == [(False, False)] * 3
    assert model.training  # put back in train mode
    model.eval()
    evaluate(model, mse, (X, y))
    assert not model.training  # a model in eval mode stays there


def test_predict_concatenates_batches():
    X, _ = line_data(10)
    model = Linear(1, 3)
    out = predict(model, X, batch_size=3)
    assert isinstance(out, np.ndarray) and out.shape == (10, 3)
    np.testing.assert_allclose(out, X @ model.weight.data.T + model.bias.data, rtol=1e-6)
    assert all(mode == (False, False) for mode in model.modes) and model.training


# ───────────── fit ─────────────


def test_fit_decreases_the_loss_and_fills_the_history():
    X, y = line_data(64)
    Xv, yv = line_data(32, seed=1)
    model = Linear(1, 1)
    history = fit(
        model,
        mse,
        SGD(model.parameters(), lr=0.1),
        (X, y),
        epochs=15,
        val_data=(Xv, yv),
        batch_size=16,
        metric="r2",
        progress=False,
        rng=rng(),
    )
    assert isinstance(history, History)
    assert history.epochs == list(range(1, 16))
    for series in (history.train_loss, history.val_loss, history.train_metric, history.val_metric, history.lr):
        assert len(series) == 15
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]
    assert history.val_loss[-1] < 0.1 * history.val_loss[0]
    assert history.val_metric[-1] > 0.95
    assert history.lr == [0.1] * 15 and history.metric_name == "r2"
    assert history.best_epoch is not None and not history.stopped_early
    assert history["val_loss"] is history.val_loss
    assert dict(history).keys() == {"epochs", "train_loss", "val_loss", "train_metric", "val_metric", "lr"}
    d = history.as_dict()
    assert d["train_loss"] == history.train_loss and d["best_epoch"] == history.best_epoch
    # The weights approach the true line y = 2x + 0.5.
    assert model.weight.data[0, 0] == pytest.approx(2.0, abs=0.2)
    assert model.bias.data[0] == pytest.approx(0.5, abs=0.1)
    # Training ran in train mode with recording on; validation in eval mode with it off.
    assert (True, True) in model.modes and (False, False) in model.modes
    assert set(model.modes) == {(True, True), (False, False)}


def test_fit_train_loss_is_the_sample_weighted_mean_of_batch_losses():
    X, y = line_data(10)
    model = Linear(1, 1)
    w0, b0 = model.weight.data.copy(), model.bias.data.copy()
    history = fit(model, mse, SGD(model.parameters(), lr=0.0), (X, y), epochs=1, batch_size=4, progress=False)
    # lr = 0 leaves the weights alone, so the mean over batches equals the full-data loss.
    assert history.train_loss[0] == pytest.approx(np.mean((X @ w0.T + b0 - y) ** 2), rel=1e-5)
    assert history.val_loss == [] and history.train_metric == []


def test_fit_without_val_data_has_no_val_series_and_accepts_a_data_loader():
    X, y = line_data(32)
    model = Linear(1, 1)
    loader = DataLoader((X, y), batch_size=8, shuffle=True, rng=rng())
    history = fit(model, mse, Adam(model.parameters(), lr=0.05), loader, epochs=3, progress=False)
    assert len(history.train_loss) == 3 and history.val_loss == [] and history.keys() == ["epochs", "train_loss", "lr"]
    assert sum(1 for mode in model.modes if mode[0]) == 3 * len(loader)


def test_fit_is_reproducible_with_seeded_generators():
    X, y = line_data(40)

    def run():
        model = Linear(1, 1)
        return fit(
            model, mse, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, batch_size=8, progress=False, rng=rng(4)
        ).train_loss

    assert run() == run()


def test_early_stopping_stops_and_restores_the_best_weights():
    # Training pulls the slope towards +2 while the validation data has slope -2, so the
    # validation loss is lowest after the first epoch and grows from then on.
    X, y = line_data(64)
    Xv, yv = line_data(32, slope=-2.0, seed=1)
    model = Linear(1, 1)
    model.weight.data[...] = 0.0
    snapshots = {}

    def remember(epoch, history):
        snapshots[epoch] = model.state_dict()

    history = fit(
        model,
        mse,
        SGD(model.parameters(), lr=0.1),
        (X, y),
        epochs=50,
        val_data=(Xv, yv),
        batch_size=16,
        patience=3,
        progress=False,
        rng=rng(),
        on_epoch_end=remember,
    )
    assert history.best_epoch == 1
    assert history.stopped_early and history.restored_best
    assert history.epochs == [1, 2, 3, 4]  # three epochs without improvement after the best
    assert np.all(np.diff(history.val_loss) > 0)
    assert history.best_loss == history.val_loss[0]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[1][name])
    assert not np.array_equal(snapshots[4]["weight"], snapshots[1]["weight"])
    assert evaluate(model, mse, (Xv, yv))["loss"] == pytest.approx(history.val_loss[0], rel=1e-6)


def test_early_stopping_without_restore_keeps_the_last_weights():
    X, y = line_data(64)
    Xv, yv = line_data(32, slope=-2.0, seed=1)
    model = Linear(1, 1)
    model.weight.data[...] = 0.0
    history = fit(
        model,
        mse,
        SGD(model.parameters(), lr=0.1),
        (X, y),
        epochs=50,
        val_data=(Xv, yv),
        batch_size=16,
        patience=2,
        restore_best=False,
        progress=False,
        rng=rng(),
    )
    assert history.stopped_early and not history.restored_best and len(history) == 3
    assert model.weight.data[0, 0] > 0.5  # well on its way to +2


def test_min_delta_makes_small_improvements_not_count():
    X, y = line_data(64)
    model = Linear(1, 1)
    # The training loss falls every epoch, but never by as much as 1e3.
    history = fit(
        model,
        mse,
        SGD(model.parameters(), lr=0.05),
        (X, y),
        epochs=20,
        patience=2,
        min_delta=1e3,
        progress=False,
        rng=rng(),
    )
    assert history.best_epoch == 1 and history.epochs == [1, 2, 3] and history.stopped_early


def test_on_epoch_end_can_stop_training_and_the_scheduler_steps_each_epoch():
    X, y = line_data(16)
    model = Linear(1, 1)
    optimizer = SGD(model.parameters(), lr=0.1)

    class Halve:
        steps = 0

        def step(self):
            self.steps += 1
            optimizer.param_groups[0]["lr"] /= 2

    scheduler = Halve()
    history = fit(
        model,
        mse,
        optimizer,
        (X, y),
        epochs=10,
        scheduler=scheduler,
        progress=False,
        on_epoch_end=lambda epoch, h: epoch == 3,
    )
    assert history.epochs == [1, 2, 3] and history.stopped_early
    assert scheduler.steps == 3
    assert history.lr == [0.1, 0.05, 0.025]


def test_fit_with_accuracy_metric_on_a_separable_problem():
    g = rng(2)
    X = g.standard_normal((80, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = Linear(2, 2)

    history = fit(
        model,
        cross_entropy,
        Adam(model.parameters(), lr=0.1),
        (X, y),
        epochs=10,
        val_data=(X, y),
        metric="accuracy",
        progress=False,
        rng=g,
    )
    assert history.val_metric[-1] >= 0.95
    logits = X @ model.weight.data.T + model.bias.data
    assert history.val_metric[-1] == pytest.approx(np.mean(logits.argmax(1) == y))


def test_progress_false_prints_nothing_and_true_draws_a_bar(capsys):
    X, y = line_data(16)
    model = Linear(1, 1)
    fit(model, mse, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, val_data=(X, y), progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    fit(model, mse, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, val_data=(X, y), progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "val_loss" in err


def test_fit_argument_errors():
    X, y = line_data(8)
    model = Linear(1, 1)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="patience"):
        fit(model, mse, opt, (X, y), epochs=1, patience=0, progress=False)
    with pytest.raises(TypeError, match="train_data"):
        fit(model, mse, opt, X, epochs=1, progress=False)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, mse, opt, (X, y), epochs=1, metric="f1", progress=False)
    with pytest.raises(ValueError, match="pair"):
        fit(model, mse, opt, DataLoader(X), epochs=1, progress=False)
