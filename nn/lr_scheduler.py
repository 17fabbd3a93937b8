"""Learning-rate schedules: `StepLR`, `CosineAnnealingLR`, `LambdaLR` and `CosineWithWarmup`.

A scheduler sets ``group['lr']`` of each of an optimizer's parameter groups from a closed-form
function of the step count, ``lr = f(base_lr, last_epoch)``, where ``base_lr`` is the group's
learning rate when the scheduler was made (kept as ``group['initial_lr']``, as PyTorch does).
Use it like PyTorch's::

    scheduler = CosineWithWarmup(optimizer, warmup_steps=100, total_steps=5000)
    for batch in batches:
        ...
        optimizer.step()
        scheduler.step()

Making a scheduler already sets the learning rate for step 0. Unlike PyTorch's chainable
(recursive) forms, every schedule here is the closed form, so it does not compose with a
second scheduler on the same optimizer, and it overrides learning rates changed by hand.

``state_dict()`` holds only numbers and lists of numbers (each storable with
``np.asarray`` in an ``.npz``); ``load_state_dict`` accepts them back as arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .optim import Optimizer

__all__ = ["CosineAnnealingLR", "CosineWithWarmup", "LRScheduler", "LambdaLR", "StepLR", "warmup_cosine"]


class LRScheduler:
    """Base class: keeps the step count and writes each group's learning rate.

    A subclass implements `lr_at`, the learning rate of one group at a given step.

    Args:
        optimizer: the optimizer whose learning rates to set.
        last_epoch: the index of the last step taken; -1 (the default) starts a fresh schedule.
            To resume, pass the saved count: every group must then have ``'initial_lr'``.
    """

    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming an optimizer")
        self.base_lrs: list[float] = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def lr_at(self, base_lr: float, step: int, group_index: int) -> float:
        """The learning rate of group ``group_index`` (base rate ``base_lr``) at step ``step``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The learning rate of every group at the current step (``last_epoch``)."""
        return [self.lr_at(base, self.last_epoch, i) for i, base in enumerate(self.base_lrs)]

    def step(self) -> None:
        """Advance one step and set every group's learning rate for it."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [float(group["lr"]) for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates the last `step` set, one per parameter group.

        Returns:
            A list of floats.
        """
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every attribute except the optimizer (and functions).

        Returns:
            A dict of numbers and lists of numbers.
        """
        return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state from `state_dict` (values may be the NumPy arrays an ``.npz`` gives back).

        Args:
            state_dict: as returned by `state_dict`.
        """
        for key, value in state_dict.items():
            if isinstance(value, (np.ndarray, np.generic)):
                value = value.tolist()
            setattr(self, key, value)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps: ``base * gamma ** (step // step_size)``.

    Args:
        optimizer: the optimizer whose learning rates to set.
        step_size: the number of steps between decays.
        gamma: the decay factor.
        last_epoch: see `LRScheduler`.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if int(step_size) != step_size or step_size <= 0:
            raise ValueError(f"step_size must be a positive integer, got {step_size}")
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, step: int, group_index: int) -> float:
        """The learning rate of each group at epoch ``epoch`` (closed form)."""
        return base_lr * self.gamma ** (step // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base rate to ``eta_min`` over ``T_max`` steps (closed form, as PyTorch's).

    ``lr = eta_min + (base - eta_min) * (1 + cos(pi * step / T_max)) / 2``; past ``T_max`` the
    cosine carries on (the rate rises again), as in PyTorch.

    Args:
        optimizer: the optimizer whose learning rates to set.
        T_max: the number of steps of one half period.
        eta_min: the smallest learning rate.
        last_epoch: see `LRScheduler`.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if not T_max > 0:
            raise ValueError(f"T_max must be positive, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, step: int, group_index: int) -> float:
        """The learning rate of each group at epoch ``epoch`` (closed form)."""
        return self.eta_min + (base_lr - self.eta_min) * (1.0 + math.cos(math.pi * step / self.T_max)) / 2.0


class LambdaLR(LRScheduler):
    """The base rate times a factor you compute: ``lr = base * lr_lambda(step)``.

    Args:
        optimizer: the optimizer whose learning rates to set.
        lr_lambda: a function of the step count, or a list of them (one per parameter group).
        last_epoch: see `LRScheduler`.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        count = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != count:
                raise ValueError(f"expected {count} lr_lambdas (one per parameter group), but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * count
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, step: int, group_index: int) -> float:
        """The learning rate of each group at epoch ``epoch`` (closed form)."""
        return base_lr * self.lr_lambdas[group_index](step)


class CosineWithWarmup(LRScheduler):
    """Linear warm-up to the base rate, then cosine decay to ``min_lr`` (the schedule nanoGPT trains with).

    At step ``s``::

        s < warmup_steps:           lr = base * (s + 1) / warmup_steps
        warmup_steps <= s < total:  lr = min_lr + (base - min_lr) * (1 + cos(pi * p)) / 2,
                                    p = (s - warmup_steps) / (total_steps - warmup_steps)
        s >= total_steps:           lr = min_lr

    The first step already has a non-zero rate, and the warm-up ends on the full base rate.

    Args:
        optimizer: the optimizer whose learning rates to set.
        warmup_steps: the number of warm-up steps (0 for none).
        total_steps: the step at which the decay reaches ``min_lr``.
        min_lr: the final learning rate (the same absolute value for every group).
        last_epoch: see `LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not 0 <= warmup_steps <= total_steps or total_steps <= 0:
            raise ValueError(
                f"need 0 <= warmup_steps <= total_steps and total_steps > 0, got {warmup_steps}, {total_steps}"
            )
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr = min_lr
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, step: int, group_index: int) -> float:
        """The learning rate of each group at epoch ``epoch`` (closed form)."""
        if step < self.warmup_steps:
            return base_lr * (step + 1) / self.warmup_steps
        if step >= self.total_steps:
            return self.min_lr
        progress = (step - self.warmup_steps) / (self.total_steps - self.warmup_steps)
        return self.min_lr + (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * progress)) / 2.0


def warmup_cosine(optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> CosineWithWarmup:
    """Linear warm-up then cosine decay: the same as ``CosineWithWarmup(optimizer, warmup_steps, total_steps, min_lr)``.

    Returns:
        The scheduler (it has already set the learning rate of step 0).
    """
    return CosineWithWarmup(optimizer, warmup_steps, total_steps, min_lr)
