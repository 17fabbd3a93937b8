"""The training loop: `fit`, `evaluate`, `predict`, the metrics `accuracy` and `r2_score`, and `History`.

`fit` runs mini-batch training with a tqdm progress bar, records per-epoch training and
validation loss (and a metric) in a `History` ready for plotting, and can stop early when
the monitored loss stops improving, restoring the best weights.

What it needs from its arguments (nn.Module and nn.optim provide all of it):

- model: ``model(x) -> Tensor``, ``train()``, ``eval()``, ``state_dict()``,
  ``load_state_dict(state)`` (``.training`` is read when present);
- loss_fn: ``loss_fn(output, target) -> Tensor``, a scalar averaged over the batch;
- optimizer: ``zero_grad()`` and ``step()``;
- scheduler (optional): ``step()``, called once at the end of every epoch;
- writer (optional): ``add_scalar(tag, value, global_step)`` and ``flush()`` (an
  `nn.SummaryWriter`; duck-typed, so this file does not import it), given every epoch's numbers.

This file imports NumPy, tqdm, autograd and `nn.data`; no other part of nn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
from tqdm import tqdm

from autograd import Tensor, no_grad

from .data import DataLoader

__all__ = ["History", "accuracy", "evaluate", "fit", "predict", "r2_score"]

Metric = Callable[[Any, Any], float]

# ───────────── metrics ─────────────


def _numpy(value: Any) -> np.ndarray:
    """The ndarray behind a Tensor, array or list."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def accuracy(logits_or_probs: Any, targets: Any, threshold: float = 0.5) -> float:
    """The share of correct predictions.

    Two cases, decided by the last axis of the predictions (the class axis, as everywhere in nn):

    - several classes, ``(N, C)`` or ``(N, T, C)`` with ``C > 1``: the prediction is the
      argmax over the last axis (logits and probabilities give the same answer); targets
      are integer labels ``(N,)`` / ``(N, T)`` (or with a trailing axis of 1), or one-hot /
      probability rows of the same shape as the predictions (then their argmax counts);
    - binary, ``(N,)`` or ``(N, 1)``: the prediction is 1 where the value is above
      ``threshold``; the default 0.5 suits probabilities (a sigmoid output), pass
      ``threshold=0.0`` for logits. Targets are 0/1 labels (above 0.5 counts as 1).

    Args:
        logits_or_probs: predictions (Tensor or array).
        targets: true labels (Tensor or array).
        threshold: the decision threshold for binary predictions.

    Returns:
        The accuracy, a float in [0, 1].

    Raises:
        ValueError: when the predictions and targets do not describe the same samples.
    """
    pred = _numpy(logits_or_probs)
    true = _numpy(targets)
    if pred.ndim >= 2 and pred.shape[-1] > 1:
        labels = pred.argmax(axis=-1)
        if true.shape == pred.shape:
            true = true.argmax(axis=-1)
        elif true.shape == labels.shape + (1,):
            true = true[..., 0]
        if true.shape != labels.shape:
            raise ValueError(
                f"accuracy: targets of shape {true.shape} do not match predictions of shape {pred.shape} "
                f"(expected labels of shape {labels.shape} or one-hot rows of shape {pred.shape})"
            )
        return float(np.mean(labels == true))
    if pred.size != true.size:
        raise ValueError(
            f"accuracy: {true.size} binary targets (shape {true.shape}) "
            f"for {pred.size} predictions (shape {pred.shape})"
        )
    labels = pred.reshape(-1) > threshold
    return float(np.mean(labels == (true.reshape(-1) > 0.5)))


def r2_score(pred: Any, target: Any) -> float:
    """The coefficient of determination, ``1 - SS_res / SS_tot`` (scikit-learn's ``r2_score``).

    ``(N,)`` and ``(N, 1)`` shapes may be mixed. For several outputs ``(N, K)`` the score is
    the mean over the K columns. A constant target scores 1.0 when predicted exactly and
    0.0 otherwise (scikit-learn's convention), so the result is always finite.

    Args:
        pred: predictions (Tensor or array).
        target: true values (Tensor or array).

    Returns:
        R² (1 is perfect, 0 is as good as predicting the mean, negative is worse).

    Raises:
        ValueError: when the shapes hold different numbers of values.
    """
    p = _numpy(pred).astype(np.float64)
    t = _numpy(target).astype(np.float64)
    if p.size != t.size:
        raise ValueError(f"r2_score: predictions of shape {p.shape} and targets of shape {t.shape} differ in size")
    if t.ndim <= 1 or (t.ndim == 2 and t.shape[1] == 1) or p.ndim <= 1:
        p, t = p.reshape(-1, 1), t.reshape(-1, 1)
    else:
        p, t = p.reshape(len(t), -1), t.reshape(len(t), -1)
    ss_res = ((t - p) ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    safe = np.where(ss_tot > 0, ss_tot, 1.0)
    scores = np.where(ss_tot > 0, 1.0 - ss_res / safe, np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())


_METRICS: dict[str, Metric] = {"accuracy": accuracy, "r2": r2_score}


def _resolve_metric(metric: str | Metric | None) -> tuple[str | None, Metric | None]:
    """``(name, function)`` for a metric given by name, as a callable, or None."""
    if metric is None:
        return None, None
    if isinstance(metric, str):
        if metric not in _METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {sorted(_METRICS)} or a callable")
        return metric, _METRICS[metric]
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    raise TypeError(f"metric must be None, a name or a callable, got {type(metric).__name__}")


# ───────────── history ─────────────


@dataclass
class History:
    """What `fit` recorded, one entry per completed epoch.

    ``history.train_loss`` etc. are plain lists (``history["val_loss"]`` works too), so
    ``plt.plot(h.epochs, h.train_loss); plt.plot(h.epochs, h.val_loss)`` draws the curves.
    Lists for things not measured (no validation data, no metric) stay empty.

    Attributes:
        epochs: epoch numbers, counting from 1.
        train_loss: mean training loss over each epoch's batches (weighted by batch size).
        val_loss: validation loss after each epoch.
        train_metric: the metric over each epoch's training batches, as the model
            predicted them while it trained.
        val_metric: the metric on the validation data after each epoch.
        lr: the optimizer's learning rate during each epoch (when it exposes one).
        metric_name: the metric's name, or None.
        best_epoch: the epoch with the lowest monitored loss (validation loss when there is
            validation data, else training loss), or None before any epoch.
        best_loss: that lowest loss.
        stopped_early: True when early stopping (or ``on_epoch_end``) ended training.
        restored_best: True when the weights of ``best_epoch`` were loaded back at the end.
    """

    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    metric_name: str | None = None
    best_epoch: int | None = None
    best_loss: float = math.inf
    stopped_early: bool = False
    restored_best: bool = False

    _SERIES = ("epochs", "train_loss", "val_loss", "train_metric", "val_metric", "lr")

    def __getitem__(self, key: str) -> list:
        if key not in self._SERIES:
            raise KeyError(f"History has no series {key!r}; it has {', '.join(self._SERIES)}")
        return getattr(self, key)

    def keys(self) -> list[str]:
        """The names of the series that hold values."""
        return [name for name in self._SERIES if getattr(self, name)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        """The number of completed epochs."""
        return len(self.epochs)

    def as_dict(self) -> dict[str, Any]:
        """Every series (copied lists) and the summary fields, in a plain dict."""
        out: dict[str, Any] = {name: list(getattr(self, name)) for name in self._SERIES}
        out.update(
            metric_name=self.metric_name,
            best_epoch=self.best_epoch,
            best_loss=self.best_loss,
            stopped_early=self.stopped_early,
            restored_best=self.restored_best,
        )
        return out


# ───────────── loops ─────────────


def _loader(data: Any, batch_size: int, shuffle: bool, rng: np.random.Generator | None, name: str) -> DataLoader:
    """A DataLoader for ``data``: a DataLoader is used as it is, ``(X, y)`` arrays are wrapped."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return DataLoader(tuple(data), batch_size=batch_size, shuffle=shuffle, rng=rng)
    raise TypeError(f"{name} must be a DataLoader or an (inputs, targets) pair of arrays, got {type(data).__name__}")


def _unpack(batch: Any) -> tuple[Any, Any]:
    """``(inputs, targets)`` from a batch."""
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError("each batch must be an (inputs, targets) pair; build the DataLoader from (X, y)")


def _batch_size(x: Any) -> int:
    """The number of samples in a batch of inputs."""
    return len(x) if not isinstance(x, (tuple, list)) else len(x[0])


def _output_array(output: Any) -> np.ndarray:
    """A model output as a detached ndarray."""
    return output.data if isinstance(output, Tensor) else np.asarray(output)


def _lr(optimizer: Any) -> float | None:
    """The optimizer's (first group's) learning rate, if it exposes one."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return groups[0].get("lr")
    lr = getattr(optimizer, "lr", None)
    return lr if isinstance(lr, (int, float)) else None


def _lrs(optimizer: Any) -> list[tuple[int, float]]:
    """``(group index, learning rate)`` for each parameter group that has one (group 0 for a bare ``lr``)."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return [(k, float(g["lr"])) for k, g in enumerate(groups) if isinstance(g.get("lr"), Real)]
    lr = getattr(optimizer, "lr", None)
    return [(0, float(lr))] if isinstance(lr, Real) else []


def _grad_norms(model: Any) -> dict[str, float]:
    """Parameter name -> Euclidean norm of its ``.grad``, for the parameters that have one."""
    named = getattr(model, "named_parameters", None)
    if named is None:
        return {}
    norms = {}
    for name, p in named():
        grad = getattr(p, "grad", None)
        if grad is not None:
            norms[name] = float(np.linalg.norm(_numpy(grad).astype(np.float64, copy=False).ravel()))
    return norms


def _log_epoch(
    writer: Any, epoch: int, history: History, lrs: list[tuple[int, float]], grad_norms: dict[str, float]
) -> None:
    """Write one epoch's numbers to ``writer``, with the epoch as the step, and flush it."""
    scalars = {"loss/train": history.train_loss[-1]}
    if history.val_loss:
        scalars["loss/val"] = history.val_loss[-1]
    if history.metric_name is not None:
        if history.train_metric:
            scalars[f"{history.metric_name}/train"] = history.train_metric[-1]
        if history.val_metric:
            scalars[f"{history.metric_name}/val"] = history.val_metric[-1]
    scalars.update({f"lr/group_{k}": lr for k, lr in lrs})
    scalars.update({f"grad_norm/{name}": norm for name, norm in grad_norms.items()})
    for tag, value in scalars.items():
        writer.add_scalar(tag, value, epoch)
    flush = getattr(writer, "flush", None)
    if flush is not None:
        flush()


class _EvalMode:
    """Context: the model in eval mode with recording off, its previous mode restored afterwards."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.no_grad = no_grad()

    def __enter__(self) -> None:
        self.was_training = getattr(self.model, "training", True)
        self.model.eval()
        self.no_grad.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.no_grad.__exit__(*exc)
        if self.was_training:
            self.model.train()


def evaluate(
    model: Any, loss_fn: Callable | None, data: Any, metric: str | Metric | None = None, batch_size: int = 256
) -> dict[str, float]:
    """The loss and metric of ``model`` on ``data``, computed in eval mode without recording a graph.

    Args:
        model: the model (see the module docstring for the interface).
        loss_fn: ``loss_fn(output, target)``, averaged over a batch; None skips the loss.
        data: a DataLoader yielding ``(x, y)`` or an ``(X, y)`` pair of arrays.
        metric: None, "accuracy", "r2", or ``metric(outputs, targets) -> float``; it sees
            all outputs and targets at once.
        batch_size: batch size when ``data`` is arrays.

    Returns:
        ``{"loss": mean loss over the samples}`` (when ``loss_fn`` is given) plus
        ``{metric name: value}`` (when ``metric`` is given).
    """
    name, metric_fn = _resolve_metric(metric)
    loader = _loader(data, batch_size, False, None, "data")
    total, count = 0.0, 0
    outputs, targets = [], []
    with _EvalMode(model):
        for batch in loader:
            x, y = _unpack(batch)
            out = model(x)
            n = _batch_size(x)
            if loss_fn is not None:
                total += float(loss_fn(out, y).item()) * n
            count += n
            if metric_fn is not None:
                outputs.append(_output_array(out))
                targets.append(_numpy(y))
    result: dict[str, float] = {}
    if loss_fn is not None:
        result["loss"] = total / count if count else math.nan
    if metric_fn is not None:
        result[name] = float(metric_fn(np.concatenate(outputs), np.concatenate(targets))) if count else math.nan
    return result


def predict(model: Any, X: Any, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for all of ``X``, batched, in eval mode without recording a graph.

    Args:
        model: the model.
        X: inputs (array or Tensor) with samples along the first axis.
        batch_size: samples per forward pass.

    Returns:
        The outputs concatenated along the first axis, as an ndarray.
    """
    loader = DataLoader(X, batch_size=batch_size, shuffle=False)
    with _EvalMode(model):
        outputs = [_output_array(model(x)) for x in loader]
    return np.concatenate(outputs) if outputs else np.empty((0,))


def _snapshot(model: Any) -> dict[str, np.ndarray]:
    """A copy of the model's weights that later training cannot change."""
    return {name: np.array(value, copy=True) for name, value in model.state_dict().items()}


def fit(
    model: Any,
    loss_fn: Callable,
    optimizer: Any,
    train_data: Any,
    epochs: int,
    val_data: Any = None,
    batch_size: int = 32,
    metric: str | Metric | None = None,
    patience: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    progress: bool = True,
    scheduler: Any = None,
    rng: np.random.Generator | None = None,
    on_epoch_end: Callable[[int, History], bool | None] | None = None,
    writer: Any = None,
) -> History:
    """Train ``model`` for up to ``epochs`` passes over ``train_data``.

    Each step: ``optimizer.zero_grad()``, ``loss = loss_fn(model(x), y)``,
    ``loss.backward()``, ``optimizer.step()``. After each epoch the model is evaluated on
    ``val_data`` (eval mode, no graph; then back to train mode), the scheduler steps, the
    history grows by one entry, the numbers go to ``writer`` and ``on_epoch_end(epoch, history)`` runs.

    Early stopping (``patience`` given) watches the validation loss, or the training loss
    when there is no validation data: an epoch improves on the best so far when its loss is
    lower by more than ``min_delta``; after ``patience`` epochs in a row without
    improvement training stops, and with ``restore_best`` the weights of the best epoch are
    loaded back (via ``state_dict``/``load_state_dict``).

    Args:
        model: the model (see the module docstring for the interface).
        loss_fn: ``loss_fn(output, target) -> scalar Tensor``, averaged over the batch.
        optimizer: has ``zero_grad()`` and ``step()``.
        train_data: a DataLoader yielding ``(x, y)``, or an ``(X, y)`` pair of arrays
            (then batched with ``batch_size``, shuffled each epoch with ``rng``).
        epochs: the most epochs to run.
        val_data: validation data in the same forms, or None.
        batch_size: batch size for array data (a DataLoader keeps its own).
        metric: None, "accuracy", "r2", or ``metric(outputs, targets) -> float``.
        patience: epochs without improvement before stopping; None never stops early.
        min_delta: the smallest decrease of the monitored loss that counts as improvement.
        restore_best: with early stopping, end with the weights of the best epoch.
        progress: show a tqdm progress bar (epoch, running loss); False prints nothing.
        scheduler: a learning-rate schedule with ``step()``, stepped after every epoch.
        rng: generator for shuffling array data; None uses the shared one.
        on_epoch_end: called as ``on_epoch_end(epoch, history)`` after every epoch;
            returning True stops training (``history.stopped_early`` is then True).
        writer: an `nn.SummaryWriter` (anything with ``add_scalar(tag, value, global_step)``;
            ``flush()`` is called when it has one) that gets, every epoch, with the epoch as
            the step: ``loss/train`` and ``loss/val``, ``<metric>/train`` and ``<metric>/val``,
            ``lr/group_<k>`` (each parameter group's learning rate during the epoch), and
            ``grad_norm/<parameter name>`` (the norm of each ``.grad`` after the epoch's last
            batch). None logs nothing.

    Returns:
        The `History` of the run.

    Raises:
        ValueError: for ``epochs < 0`` or ``patience < 1``.
        TypeError: for a ``writer`` without ``add_scalar``.
    """
    if epochs < 0:
        raise ValueError(f"fit: epochs must be >= 0, got {epochs}")
    if patience is not None and patience < 1:
        raise ValueError(f"fit: patience must be a positive number of epochs or None, got {patience}")
    if writer is not None and not callable(getattr(writer, "add_scalar", None)):
        raise TypeError(
            "fit: writer must have add_scalar(tag, value, global_step), such as an nn.SummaryWriter; "
            f"got {type(writer).__name__}"
        )
    train_loader = _loader(train_data, batch_size, True, rng, "train_data")
    val_loader = None if val_data is None else _loader(val_data, batch_size, False, None, "val_data")
    name, metric_fn = _resolve_metric(metric)
    history = History(metric_name=name)
    best_state: dict[str, np.ndarray] | None = None
    waited = 0

    bar = tqdm(total=epochs * len(train_loader), disable=not progress, unit="batch", dynamic_ncols=True)
    try:
        for epoch in range(1, epochs + 1):
            bar.set_description(f"epoch {epoch}/{epochs}")
            lr = _lr(optimizer)
            lrs = _lrs(optimizer) if writer is not None else []
            model.train()
            total, count = 0.0, 0
            outputs, targets = [], []
            for batch in train_loader:
                x, y = _unpack(batch)
                optimizer.zero_grad()
                out = model(x)
                loss = loss_fn(out, y)
                loss.backward()
                optimizer.step()
                n = _batch_size(x)
                total += float(loss.item()) * n
                count += n
                if metric_fn is not None:
                    outputs.append(_output_array(out))
                    targets.append(_numpy(y))
                bar.update(1)
                bar.set_postfix(loss=f"{total / count:.4g}", refresh=False)

            grad_norms = _grad_norms(model) if writer is not None else {}
            history.epochs.append(epoch)
            history.train_loss.append(total / count if count else math.nan)
            if lr is not None:
                history.lr.append(float(lr))
            if metric_fn is not None and count:
                history.train_metric.append(float(metric_fn(np.concatenate(outputs), np.concatenate(targets))))
            monitored = history.train_loss[-1]
            if val_loader is not None:
                result = evaluate(model, loss_fn, val_loader, metric)
                history.val_loss.append(result["loss"])
                if name is not None:
                    history.val_metric.append(result[name])
                monitored = result["loss"]
            bar.set_postfix(_summary(history), refresh=True)
            if writer is not None:
                _log_epoch(writer, epoch, history, lrs, grad_norms)

            if monitored < history.best_loss - min_delta:
                history.best_epoch, history.best_loss = epoch, monitored
                waited = 0
                if patience is not None and restore_best:
                    best_state = _snapshot(model)
            else:
                waited += 1
            if scheduler is not None:
                scheduler.step()
            if on_epoch_end is not None and on_epoch_end(epoch, history):
                history.stopped_early = True
                break
            if patience is not None and waited >= patience:
                history.stopped_early = True
                break
    finally:
        bar.close()

    if best_state is not None and history.best_epoch != history.epochs[-1]:
        model.load_state_dict(best_state)
        history.restored_best = True
    return history


def _summary(history: History) -> dict[str, str]:
    """The last epoch's numbers for the progress bar."""
    out = {"loss": f"{history.train_loss[-1]:.4g}"}
    if history.val_loss:
        out["val_loss"] = f"{history.val_loss[-1]:.4g}"
    if history.metric_name is not None:
        if history.train_metric:
            out[history.metric_name] = f"{history.train_metric[-1]:.4g}"
        if history.val_metric:
            out[f"val_{history.metric_name}"] = f"{history.val_metric[-1]:.4g}"
    return out
