"""Batching and splitting: `ArrayDataset`, `DataLoader`, `random_split`, `train_val_split`, `train_test_split`.

Data here is NumPy arrays whose first axis indexes samples ("aligned" arrays share that
length). A `DataLoader` cuts them into mini-batches and hands each batch out as
`autograd.Tensor`s (float features stay float, integer labels stay integer; none require
grad), so ``model(x)`` and ``loss_fn(out, y)`` take them directly. Shuffles draw from a
NumPy Generator (`nn.random.default_rng`), so a seeded run repeats exactly.

This file imports only NumPy, autograd's `Tensor` and `nn.random`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from autograd import Tensor

from .random import default_rng

__all__ = ["ArrayDataset", "DataLoader", "random_split", "train_test_split", "train_val_split"]


def _as_array(value: Any) -> np.ndarray:
    """An ndarray for an array, a Tensor (its data) or a nested list."""
    if isinstance(value, Tensor):
        return value.data
    return np.asarray(value)


def _check_aligned(arrays: Sequence[np.ndarray], where: str) -> int:
    """The common first-axis length of ``arrays``, or a ValueError naming every length."""
    if not arrays:
        raise ValueError(f"{where}: needs at least one array")
    for i, array in enumerate(arrays):
        if array.ndim == 0:
            raise ValueError(f"{where}: array {i} is 0-d; every array needs a first (sample) axis")
    lengths = [len(array) for array in arrays]
    if len(set(lengths)) != 1:
        shapes = ", ".join(str(array.shape) for array in arrays)
        raise ValueError(
            f"{where}: arrays have different numbers of samples {lengths} (shapes {shapes}); "
            "every array must have the same length along its first axis"
        )
    return lengths[0]


def _split_arrays(arrays: Any) -> tuple[tuple[np.ndarray, ...], bool]:
    """``(arrays as a tuple of ndarrays, True if a single array was given)``.

    A tuple always holds several arrays; a list does when every item is an ndarray or a
    Tensor (otherwise it is one array written as a nested list).
    """
    several = isinstance(arrays, tuple) or (
        isinstance(arrays, list) and len(arrays) > 0 and all(isinstance(a, (np.ndarray, Tensor)) for a in arrays)
    )
    if several:
        return tuple(_as_array(a) for a in arrays), False
    return (_as_array(arrays),), True


class ArrayDataset:
    """Aligned arrays seen as one data set: item ``i`` is ``(a[i] for a in arrays)``.

    Args:
        *arrays: ndarrays (or Tensors, or nested lists) with the same length along axis 0.

    Raises:
        ValueError: when the arrays have different lengths.
    """

    def __init__(self, *arrays: Any) -> None:
        self.arrays = tuple(_as_array(a) for a in arrays)
        self.n = _check_aligned(self.arrays, "ArrayDataset")

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        """The samples at ``index`` (an int, a slice or an integer array) from every array."""
        return tuple(array[index] for array in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(str(array.shape) for array in self.arrays)
        return f"ArrayDataset({shapes})"


class DataLoader:
    """Iterate over mini-batches of aligned arrays (or of a data set), optionally shuffled.

    ``DataLoader((X, y), batch_size=32, shuffle=True)`` yields ``(xb, yb)`` tuples of
    `autograd.Tensor`; ``DataLoader(X)`` (a single array) yields single Tensors. Batch
    Tensors keep their array's dtype and never require grad. Every pass (epoch) with
    ``shuffle=True`` draws a fresh permutation from the generator, so epochs differ, while
    a loader built with ``rng=np.random.default_rng(seed)`` (or run after
    ``nn.random.manual_seed(seed)`` with ``rng=None``) repeats the same sequence of epochs.

    Any object with ``__len__`` and ``__getitem__(int)`` can stand in for the arrays (as a
    PyTorch ``Dataset``): its items (arrays or tuples of arrays) are stacked along a new
    first axis into batches.

    Args:
        arrays_or_dataset: one array, a tuple/list of aligned arrays, an `ArrayDataset`,
            or a data set object.
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: visit the samples in a new random order each epoch.
        drop_last: leave out a last batch smaller than ``batch_size``.
        rng: the generator for the shuffles; None uses the shared one (`nn.random`),
            looked up at the start of each epoch.
        as_tensor: yield `autograd.Tensor`s (default) or plain ndarrays.

    Raises:
        ValueError: for misaligned arrays or a ``batch_size`` below 1.
    """

    def __init__(
        self,
        arrays_or_dataset: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        rng: np.random.Generator | None = None,
        as_tensor: bool = True,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        source = arrays_or_dataset
        self.single = False
        if isinstance(source, ArrayDataset):
            self.dataset = source
        elif isinstance(source, (np.ndarray, Tensor, tuple, list)):
            arrays, self.single = _split_arrays(source)
            self.dataset = ArrayDataset(*arrays)
        elif hasattr(source, "__len__") and hasattr(source, "__getitem__"):
            self.dataset = source
        else:
            raise TypeError(
                f"DataLoader: expected arrays or a data set with __len__ and __getitem__, got {type(source).__name__}"
            )
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rng = rng
        self.as_tensor = as_tensor

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def num_samples(self) -> int:
        """The number of samples one epoch visits (fewer than the data set when ``drop_last`` drops some)."""
        n = len(self.dataset)
        return (n // self.batch_size) * self.batch_size if self.drop_last else n

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = default_rng(self.rng).permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            yield self._batch(order[b * self.batch_size : (b + 1) * self.batch_size])

    def _batch(self, indices: np.ndarray) -> Any:
        """The batch at ``indices``, as the loader hands it out."""
        if isinstance(self.dataset, ArrayDataset):
            fields = self.dataset[indices]
        else:
            fields = _collate([self.dataset[int(i)] for i in indices])
        if self.as_tensor:
            fields = tuple(Tensor(field) for field in fields)
        return fields[0] if self.single else fields

    def __repr__(self) -> str:
        return (
            f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, batches={len(self)})"
        )


def _collate(items: list[Any]) -> tuple[np.ndarray, ...]:
    """Stack data set items (arrays or tuples of arrays) into one array per field."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(np.stack([_as_array(item[k]) for item in items]) for k in range(len(first)))
    return (np.stack([_as_array(item) for item in items]),)


def _counts(n: int, sizes: Sequence[float], where: str) -> list[int]:
    """Sample counts for ``sizes`` given as counts (summing to n) or fractions (summing to 1)."""
    if len(sizes) == 0:
        raise ValueError(f"{where}: needs at least one size")
    if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
        counts = [int(s) for s in sizes]
        if any(c < 0 for c in counts) or sum(counts) != n:
            raise ValueError(f"{where}: lengths {counts} must be non-negative and sum to the {n} samples")
        return counts
    fractions = [float(s) for s in sizes]
    if any(f < 0 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(f"{where}: fractions {fractions} must be non-negative and sum to 1")
    counts = [math.floor(f * n) for f in fractions]
    # Hand the remainder out one sample at a time, round-robin, as PyTorch's random_split does.
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(arrays: Any, lengths: Sequence[float], rng: np.random.Generator | None = None) -> list[Any]:
    """Split aligned arrays into random, non-overlapping parts.

    Args:
        arrays: one array or a tuple/list of aligned arrays.
        lengths: the size of each part, as sample counts summing to the number of samples
            or as fractions summing to 1 (a remainder from rounding goes to the first parts).
        rng: the generator for the permutation; None uses the shared one.

    Returns:
        One entry per part: a tuple of arrays (in the order given), or a single array when a
        single array was given.

    Raises:
        ValueError: for misaligned arrays or lengths that do not add up.
    """
    parts, single = _split_arrays(arrays)
    n = _check_aligned(parts, "random_split")
    counts = _counts(n, lengths, "random_split")
    order = default_rng(rng).permutation(n)
    out = []
    start = 0
    for count in counts:
        index = order[start : start + count]
        start += count
        taken = tuple(array[index] for array in parts)
        out.append(taken[0] if single else taken)
    return out


def _holdout_count(n: int, size: float, name: str, where: str) -> int:
    """How many of ``n`` samples go to the held-out part: ``size`` is a fraction in (0, 1) or a count."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        count = int(size)
    elif 0.0 < float(size) < 1.0:
        count = math.ceil(float(size) * n)
    else:
        raise ValueError(f"{where}: {name} must be a fraction in (0, 1) or a sample count, got {size!r}")
    if not 0 < count < n:
        raise ValueError(f"{where}: {name}={size!r} of {n} samples leaves one of the two parts empty")
    return count


def train_val_split(
    arrays: Any, val_fraction: float = 0.1, rng: np.random.Generator | None = None, shuffle: bool = True
) -> tuple[Any, Any]:
    """Split aligned arrays into a training part and a validation part.

    Args:
        arrays: one array or a tuple/list of aligned arrays, e.g. ``(X, y)``.
        val_fraction: the share of samples held out for validation (rounded up), or an int count.
        rng: the generator for the shuffle; None uses the shared one.
        shuffle: shuffle before splitting; False holds out the last samples.

    Returns:
        ``(train, val)``, each a tuple of arrays like ``(X_train, y_train)`` (a single array
        when a single array was given).

    Raises:
        ValueError: for misaligned arrays or a fraction that leaves a part empty.
    """
    parts, single = _split_arrays(arrays)
    n = _check_aligned(parts, "train_val_split")
    n_val = _holdout_count(n, val_fraction, "val_fraction", "train_val_split")
    order = default_rng(rng).permutation(n) if shuffle else np.arange(n)
    train = tuple(array[order[: n - n_val]] for array in parts)
    val = tuple(array[order[n - n_val :]] for array in parts)
    return (train[0], val[0]) if single else (train, val)


def train_test_split(
    *arrays: Any,
    test_size: float = 0.25,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    stratify: Any = None,
) -> list[np.ndarray]:
    """scikit-learn's ``train_test_split``: ``X_train, X_test, y_train, y_test = train_test_split(X, y)``.

    Args:
        *arrays: aligned arrays.
        test_size: the share of samples in the test part (rounded up), or an int count.
        rng: the generator for the shuffle; None uses the shared one.
        shuffle: shuffle before splitting; False takes the last samples as the test part.
        stratify: class labels (aligned with the arrays); each class then keeps (about)
            its share of samples in both parts. Needs ``shuffle=True``.

    Returns:
        A flat list: the train and test part of each array in turn.

    Raises:
        ValueError: for misaligned arrays or a size that leaves a part empty.
    """
    parts = tuple(_as_array(a) for a in arrays)
    n = _check_aligned(parts, "train_test_split")
    n_test = _holdout_count(n, test_size, "test_size", "train_test_split")
    generator = default_rng(rng)
    if stratify is None:
        order = generator.permutation(n) if shuffle else np.arange(n)
        train_index, test_index = order[: n - n_test], order[n - n_test :]
    else:
        if not shuffle:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        train_index, test_index = _stratified(_as_array(stratify), n, n_test, generator)
    out = []
    for array in parts:
        out.extend([array[train_index], array[test_index]])
    return out


def _stratified(labels: np.ndarray, n: int, n_test: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class split in (about) the overall proportion."""
    if len(labels) != n:
        raise ValueError(f"train_test_split: stratify has {len(labels)} labels for {n} samples")
    classes, label_index = np.unique(labels, return_inverse=True)
    members = [rng.permutation(np.flatnonzero(label_index == k)) for k in range(len(classes))]
    # Largest-remainder rounding so the per-class test counts add up to exactly n_test.
    exact = np.array([len(m) * n_test / n for m in members])
    take = np.floor(exact).astype(int)
    for k in np.argsort(-(exact - take), kind="stable")[: n_test - take.sum()]:
        take[k] += 1
    test_index = np.concatenate([m[:t] for m, t in zip(members, take)])
    train_index = np.concatenate([m[t:] for m, t in zip(members, take)])
    return rng.permutation(train_index), rng.permutation(test_index)
