"""Tests for nn.data: DataLoader batching, shuffling and seeding; random_split and the train/val/test splits."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.random
from autograd import Tensor
from nn.data import ArrayDataset, DataLoader, random_split, train_test_split, train_val_split


def make_xy(n=10):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)  # row i is [2i, 2i + 1]
    y = np.arange(n, dtype=np.int64)
    return X, y


def collect(loader):
    return [tuple(np.asarray(t) for t in batch) for batch in loader]


# ───────────── DataLoader ─────────────


def test_batches_in_order_with_a_short_last_batch():
    X, y = make_xy(10)
    batches = collect(DataLoader((X, y), batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)


def test_batches_are_tensors_that_keep_dtype_and_do_not_require_grad():
    X, y = make_xy(6)
    xb, yb = next(iter(DataLoader((X, y), batch_size=4)))
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert xb.shape == (4, 2) and yb.shape == (4,)
    assert not xb.requires_grad and not yb.requires_grad


def test_single_array_yields_single_tensors_and_as_tensor_false_yields_arrays():
    X, _ = make_xy(5)
    batches = list(DataLoader(X, batch_size=2))
    assert all(isinstance(b, Tensor) for b in batches)
    np.testing.assert_array_equal(np.concatenate([b.data for b in batches]), X)
    raw = list(DataLoader(X, batch_size=2, as_tensor=False))
    assert all(type(b) is np.ndarray for b in raw)


def test_len_and_drop_last():
    X, y = make_xy(10)
    assert len(DataLoader((X, y), batch_size=4)) == 3
    assert len(DataLoader((X, y), batch_size=5)) == 2
    assert len(DataLoader((X, y), batch_size=32)) == 1
    loader = DataLoader((X, y), batch_size=4, drop_last=True)
    assert len(loader) == 2 and loader.num_samples == 8
    assert [len(b[0]) for b in collect(loader)] == [4, 4]
    assert len(DataLoader((X, y), batch_size=11, drop_last=True)) == 0
    assert list(DataLoader((X, y), batch_size=11, drop_last=True)) == []


def test_shuffle_visits_every_sample_once_and_keeps_arrays_aligned():
    X, y = make_xy(23)
    batches = collect(DataLoader((X, y), batch_size=5, shuffle=True, rng=np.random.default_rng(0)))
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    assert sorted(ys.tolist()) == list(range(23))
    assert not np.array_equal(ys, np.arange(23))
    np.testing.assert_array_equal(xs, X[ys])  # each x stays with its own y


def test_each_epoch_reshuffles_and_a_seeded_rng_repeats():
    X, y = make_xy(30)

    def epochs(loader, n=3):
        return [np.concatenate([b[1] for b in collect(loader)]) for _ in range(n)]

    first = epochs(DataLoader((X, y), batch_size=8, shuffle=True, rng=np.random.default_rng(7)))
    again = epochs(DataLoader((X, y), batch_size=8, shuffle=True, rng=np.random.default_rng(7)))
    other = epochs(DataLoader((X, y), batch_size=8, shuffle=True, rng=np.random.default_rng(8)))
    assert not np.array_equal(first[0], first[1])
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_manual_seed_makes_the_shared_generator_repeat():
    X, y = make_xy(30)
    loader = DataLoader((X, y), batch_size=30, shuffle=True)  # rng=None: the shared generator
    nn.random.manual_seed(123)
    a = collect(loader)[0][1]
    nn.random.manual_seed(123)
    b = collect(loader)[0][1]
    np.testing.assert_array_equal(a, b)


def test_no_shuffle_by_default_leaves_order_and_generator_alone():
    X, y = make_xy(12)
    nn.random.manual_seed(5)
    state = nn.random.default_rng().bit_generator.state
    for _ in range(2):
        np.testing.assert_array_equal(np.concatenate([b[1] for b in collect(DataLoader((X, y), batch_size=5))]), y)
    assert nn.random.default_rng().bit_generator.state == state


def test_dataset_objects_are_collated():
    class Squares:
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i % 2

    batches = collect(DataLoader(Squares(), batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 2), (3, 2), (1, 2)]
    xs = np.concatenate([b[0] for b in batches])
    np.testing.assert_array_equal(xs[:, 1], np.arange(7) ** 2)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), np.arange(7) % 2)


def test_array_dataset_and_tensor_inputs():
    X, y = make_xy(4)
    ds = ArrayDataset(Tensor(X), y.tolist())
    assert len(ds) == 4
    x2, y2 = ds[2]
    np.testing.assert_array_equal(x2, X[2])
    assert y2 == 2
    assert len(collect(DataLoader(ds, batch_size=3))) == 2


def test_misaligned_arrays_and_bad_batch_sizes_are_clear_errors():
    X, y = make_xy(10)
    with pytest.raises(ValueError, match=r"different numbers of samples \[10, 9\]"):
        DataLoader((X, y[:9]))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader((X, y), batch_size=0)
    with pytest.raises(ValueError, match="0-d"):
        DataLoader((X, np.float32(1.0)))
    with pytest.raises(TypeError, match="DataLoader"):
        DataLoader(42)


# ───────────── splits ─────────────


def test_random_split_with_counts_partitions_aligned_arrays():
    X, y = make_xy(10)
    parts = random_split((X, y), [6, 3, 1], rng=np.random.default_rng(0))
    assert [len(p[1]) for p in parts] == [6, 3, 1]
    all_y = np.concatenate([p[1] for p in parts])
    assert sorted(all_y.tolist()) == list(range(10))
    for px, py in parts:
        np.testing.assert_array_equal(px, X[py])


def test_random_split_with_fractions_and_a_single_array():
    _, y = make_xy(10)
    a, b = random_split(y, [0.75, 0.25], rng=np.random.default_rng(0))
    assert (len(a), len(b)) == (8, 2)  # floor gives 7 + 2; the remainder goes to the first part
    assert sorted(np.concatenate([a, b]).tolist()) == list(range(10))
    x1, x2 = random_split(y, [0.75, 0.25], rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a, x1)


def test_random_split_rejects_lengths_that_do_not_add_up():
    X, y = make_xy(10)
    with pytest.raises(ValueError, match="sum to the 10 samples"):
        random_split((X, y), [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split((X, y), [0.5, 0.4])
    with pytest.raises(ValueError, match="different numbers of samples"):
        random_split((X, y[:3]), [5, 5])


def test_train_val_split_sizes_alignment_and_seeding():
    X, y = make_xy(25)
    (Xtr, ytr), (Xva, yva) = train_val_split((X, y), val_fraction=0.1, rng=np.random.default_rng(1))
    assert (len(ytr), len(yva)) == (22, 3)  # ceil(2.5) = 3 held out
    assert sorted(np.concatenate([ytr, yva]).tolist()) == list(range(25))
    np.testing.assert_array_equal(Xtr, X[ytr])
    np.testing.assert_array_equal(Xva, X[yva])
    (_, ytr2), _ = train_val_split((X, y), val_fraction=0.1, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(ytr, ytr2)


def test_train_val_split_without_shuffle_holds_out_the_tail():
    _, y = make_xy(10)
    train, val = train_val_split(y, val_fraction=0.3, shuffle=False)
    np.testing.assert_array_equal(train, np.arange(7))
    np.testing.assert_array_equal(val, np.arange(7, 10))


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 10, 0])
def test_train_val_split_rejects_fractions_leaving_a_part_empty(bad):
    X, y = make_xy(10)
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split((X, y), val_fraction=bad)


def test_train_test_split_returns_sklearn_order():
    X, y = make_xy(20)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, rng=np.random.default_rng(0))
    assert Xtr.shape == (15, 2) and Xte.shape == (5, 2) and ytr.shape == (15,) and yte.shape == (5,)
    np.testing.assert_array_equal(Xtr, X[ytr])
    np.testing.assert_array_equal(Xte, X[yte])
    assert set(ytr.tolist()).isdisjoint(yte.tolist())
    _, Xte4, _, _ = train_test_split(X, y, test_size=4, rng=np.random.default_rng(0))
    assert len(Xte4) == 4


def test_train_test_split_stratify_keeps_class_shares():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, rng=np.random.default_rng(3))
    assert np.bincount(yte).tolist() == [12, 6, 2]
    assert np.bincount(ytr).tolist() == [48, 24, 8]
    np.testing.assert_array_equal(y[Xte], yte)


def test_train_test_split_errors():
    X, y = make_xy(10)
    with pytest.raises(ValueError, match="different numbers of samples"):
        train_test_split(X, y[:5])
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="shuffle"):
        train_test_split(X, y, stratify=y, shuffle=False)


def test_one_seed_covers_nn_and_autograd_sampling_as_in_pytorch():
    assert nn.random.default_rng() is ag.default_generator  # one shared generator
    draws = []
    for _ in range(2):
        nn.manual_seed(7)
        weights = nn.init.normal_(ag.zeros((4,))).data.copy()
        picks = ag.multinomial(ag.tensor([0.2, 0.3, 0.5]), 5, replacement=True).data
        draws.append((weights, picks))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    np.testing.assert_array_equal(draws[0][1], draws[1][1])
    # reseeding in place draws what a fresh generator of that seed draws
    nn.manual_seed(11)
    np.testing.assert_array_equal(ag.default_generator.standard_normal(3), np.random.default_rng(11).standard_normal(3))
