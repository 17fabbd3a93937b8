"""Small algorithmic sequence tasks for `MiniGPT`: sorting digits, and scoring by exact match.

The sorting task is minGPT's ``SortDataset`` (Karpathy): a prompt of ``length`` digits is
followed by the same digits sorted, and the model learns to write the sorted half one token
at a time. For a prompt ``2 0 1 2 0 0`` the full sequence is ``2 0 1 2 0 0 | 0 0 0 1 2 2``;
the model sees it without its last token and is trained to predict each next token::

    x = 2 0 1 2 0 0 0 0 0 1 2       (the sequence without its last token)
    y = . . . . . 0 0 0 1 2 2       (the sequence shifted by one; "." is IGNORE_INDEX)

Targets inside the prompt are ``IGNORE_INDEX`` (-100, what `nn.functional.cross_entropy`
skips by default): the prompt is random, so only the sorted half can be learned. A model
for the task needs ``vocab_size >= num_digits`` and ``block_size >= 2 * length - 1``.

`exact_sequence_accuracy` scores a model the strict way: greedy decoding
(``MiniGPT.generate(temperature=0)``) from each prompt, counting a prompt as solved only
when every generated token is right.

This file imports only NumPy and `nn.random`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .random import default_rng

__all__ = ["IGNORE_INDEX", "exact_sequence_accuracy", "random_digits", "sorting_examples", "sorting_task"]

IGNORE_INDEX = -100  # the target value cross_entropy leaves out (its default ignore_index)


def _row_keys(digits: np.ndarray) -> list[bytes]:
    """One hashable key per row of an integer array (rows with equal values have equal keys)."""
    return [row.tobytes() for row in np.ascontiguousarray(digits, dtype=np.int64)]


def random_digits(
    n: int,
    length: int = 6,
    num_digits: int = 3,
    rng: np.random.Generator | None = None,
    exclude: Any = None,
) -> np.ndarray:
    """``n`` prompts of ``length`` digits, each uniform in ``0 .. num_digits - 1``.

    Args:
        n: number of prompts.
        length: digits per prompt.
        num_digits: the size of the digit alphabet.
        rng: the generator; None uses the shared one (`nn.random`).
        exclude: prompts (an integer array ``(m, length)``) never to draw, e.g. a held-out
            test set; rows that hit one are drawn again.

    Returns:
        An int64 array ``(n, length)``.

    Raises:
        ValueError: for ``n < 0``, ``length < 1``, ``num_digits < 1``, or an ``exclude``
            that leaves no prompt to draw.
    """
    if n < 0 or length < 1 or num_digits < 1:
        raise ValueError(
            f"random_digits: need n >= 0, length >= 1 and num_digits >= 1, got {n}, {length}, {num_digits}"
        )
    rng = default_rng(rng)
    digits = rng.integers(0, num_digits, size=(n, length), dtype=np.int64)
    if exclude is None or n == 0:
        return digits
    exclude = np.asarray(exclude, dtype=np.int64).reshape(-1, length)
    banned = set(_row_keys(exclude))
    if len(banned) >= num_digits**length:
        raise ValueError(f"random_digits: exclude holds all {num_digits**length} possible prompts")
    redraw = np.array([key in banned for key in _row_keys(digits)], dtype=bool)
    while redraw.any():
        fresh = rng.integers(0, num_digits, size=(int(redraw.sum()), length), dtype=np.int64)
        digits[redraw] = fresh
        redraw[redraw] = [key in banned for key in _row_keys(fresh)]
    return digits


def sorting_examples(digits: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets that teach sorting the given prompts (minGPT's ``SortDataset`` layout).

    Args:
        digits: integer prompts ``(n, length)``.

    Returns:
        ``(x, y)``, both int64 ``(n, 2 * length - 1)``: ``x`` is prompt + sorted prompt
        without its last token, ``y`` the same sequence shifted left by one, with
        `IGNORE_INDEX` on the first ``length - 1`` positions (those predict prompt digits).

    Raises:
        ValueError: for anything but a 2-D array of non-negative integers.
    """
    digits = np.asarray(digits)
    if digits.ndim != 2 or digits.dtype.kind not in "iu" or (digits.size and digits.min() < 0):
        raise ValueError(
            f"sorting_examples: digits must be non-negative integers (n, length), got {digits.dtype} {digits.shape}"
        )
    digits = digits.astype(np.int64)
    length = digits.shape[1]
    sequence = np.concatenate([digits, np.sort(digits, axis=1)], axis=1)  # (n, 2 * length)
    x = sequence[:, :-1].copy()
    y = sequence[:, 1:].copy()
    y[:, : length - 1] = IGNORE_INDEX
    return x, y


def sorting_task(
    n: int,
    length: int = 6,
    num_digits: int = 3,
    rng: np.random.Generator | None = None,
    exclude: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sorting examples: `sorting_examples` of `random_digits`.

    The prompt of example ``i`` is ``x[i, :length]``.

    Args:
        n: number of examples.
        length: digits per prompt.
        num_digits: the size of the digit alphabet (the model's vocabulary).
        rng: the generator; None uses the shared one.
        exclude: prompts ``(m, length)`` never to draw (a held-out set).

    Returns:
        ``(x, y)``, int64 ``(n, 2 * length - 1)`` each, ready for
        ``cross_entropy(model(x), y)`` (targets to ignore are `IGNORE_INDEX`).
    """
    return sorting_examples(random_digits(n, length, num_digits, rng, exclude))


def exact_sequence_accuracy(model: Any, digits: Any, batch_size: int = 500) -> float:
    """The share of prompts whose sorted continuation the model writes exactly, decoding greedily.

    Each prompt is continued by ``length`` tokens with ``model.generate(prompt, length,
    temperature=0)`` (the most likely token at every step, so the result is deterministic),
    and counts only when all of them equal ``np.sort(prompt)``.

    Args:
        model: a `MiniGPT` (anything with ``generate(idx, max_new_tokens, temperature=...)``).
        digits: integer prompts ``(n, length)``.
        batch_size: prompts decoded together.

    Returns:
        The accuracy, a float in [0, 1] (nan for no prompts).
    """
    digits = np.asarray(digits, dtype=np.int64)
    if digits.ndim != 2:
        raise ValueError(f"exact_sequence_accuracy: digits must be (n, length), got shape {digits.shape}")
    n, length = digits.shape
    if n == 0:
        return float("nan")
    solved = 0
    for start in range(0, n, batch_size):
        prompts = digits[start : start + batch_size]
        out = model.generate(prompts, length, temperature=0)
        solved += int(np.all(out[:, length:] == np.sort(prompts, axis=1), axis=1).sum())
    return solved / n
