"""Tests for nn.datasets: generated data sets (shapes, dtypes, seeding, balance, learnability), IDX and MNIST files,
scikit-learn's real data sets and their fixed splits (skipped without scikit-learn), the shipped texts."""

import gzip
import struct
import sys

import numpy as np
import pytest

from nn.data import train_test_split
from nn.datasets import (
    TEXTS,
    IDXError,
    TrainTestSplit,
    breast_cancer_split,
    diabetes_split,
    digits_split,
    house_prices,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_idx,
    load_mnist,
    load_text,
    make_classification,
    make_regression,
    spirals,
    standardize,
    synthetic_mnist,
    write_idx,
    write_mnist,
    xor,
)
from nn.functional import cross_entropy, mse_loss
from nn.layers import MLP
from nn.optim import Adam
from nn.train import evaluate, fit


def rng(seed=0):
    return np.random.default_rng(seed)


# ───────────── xor ─────────────


def test_xor_is_the_truth_table():
    X, y = xor()
    assert X.dtype == np.float32 and y.dtype == np.float32
    assert X.shape == (4, 2) and y.shape == (4, 1)
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(X[:, 0], X[:, 1]))


# ───────────── make_classification ─────────────


def test_make_classification_shapes_dtypes_and_balance():
    X, y = make_classification(1000, n_features=10, flip_y=0.0, rng=rng())
    assert X.shape == (1000, 10) and X.dtype == np.float32
    assert y.shape == (1000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [500, 500]
    X3, y3 = make_classification(301, n_classes=3, n_clusters_per_class=1, flip_y=0.0, rng=rng())
    assert sorted(np.bincount(y3).tolist()) == [100, 100, 101]


def test_make_classification_is_seeded():
    a = make_classification(200, rng=rng(1))
    b = make_classification(200, rng=rng(1))
    c = make_classification(200, rng=rng(2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_make_classification_redundant_features_are_combinations_of_informative_ones():
    X, _ = make_classification(300, n_features=10, n_informative=5, n_redundant=2, rng=rng())
    X = X.astype(np.float64)
    informative, redundant, noise = X[:, :5], X[:, 5:7], X[:, 7:]
    coef, *_ = np.linalg.lstsq(informative, redundant, rcond=None)
    np.testing.assert_allclose(informative @ coef, redundant, atol=1e-4)
    np.testing.assert_allclose(noise.std(axis=0), 1.0, atol=0.15)  # standard normal noise


def test_make_classification_flip_y_flips_about_that_share():
    _, clean = make_classification(4000, flip_y=0.0, shuffle=False, rng=rng(5))
    _, noisy = make_classification(4000, flip_y=0.2, shuffle=False, rng=rng(5))
    # Same clusters (the flips are drawn after them); a flipped label lands on the other class half the time.
    assert 0.06 < np.mean(clean != noisy) < 0.14


def test_make_classification_rejects_impossible_settings():
    with pytest.raises(ValueError, match="n_informative"):
        make_classification(n_features=4, n_informative=3, n_redundant=2)
    with pytest.raises(ValueError, match="hypercube vertices"):
        make_classification(n_informative=2, n_classes=3, n_clusters_per_class=2)


def test_make_classification_is_learnable_by_a_small_mlp():
    X, y = make_classification(1000, rng=rng(3))
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, rng=rng(3))
    model = MLP([10, 32, 2], rng=rng(3))
    fit(model, cross_entropy, Adam(model.parameters(), lr=0.01), (Xtr, ytr), epochs=25, progress=False, rng=rng(3))
    assert evaluate(model, None, (Xte, yte), metric="accuracy")["accuracy"] >= 0.87


# ───────────── spirals ─────────────


def test_spirals_without_noise_lie_on_their_arms():
    X, y = spirals(50, n_classes=3, noise=0.0, turns=1.0, rng=rng())
    assert X.shape == (150, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    r = np.linspace(0, 1, 50)
    for k in range(3):
        arm = X[y == k].astype(np.float64)
        np.testing.assert_allclose(np.hypot(arm[:, 0], arm[:, 1]), r, atol=1e-6)
        theta = 2 * np.pi * k / 3 + 2 * np.pi * r
        np.testing.assert_allclose(arm, np.stack([r * np.cos(theta), r * np.sin(theta)], 1), atol=1e-6)


def test_spirals_noise_is_seeded_and_stays_in_the_unit_disc():
    a, _ = spirals(40, n_classes=2, noise=0.3, rng=rng(1))
    b, _ = spirals(40, n_classes=2, noise=0.3, rng=rng(1))
    np.testing.assert_array_equal(a, b)
    assert np.all(np.hypot(a[:, 0], a[:, 1]) <= 1.0 + 1e-6)


# ───────────── regression ─────────────


def test_make_regression_without_noise_is_exactly_linear():
    X, y, coef = make_regression(50, n_features=4, n_informative=2, bias=1.5, rng=rng())
    assert X.shape == (50, 4) and y.shape == (50, 1) and X.dtype == y.dtype == np.float32
    assert np.all(coef[2:] == 0) and np.all(coef[:2] != 0)
    np.testing.assert_allclose(y[:, 0], X.astype(np.float64) @ coef + 1.5, atol=1e-5)


def test_standardize_fits_and_reuses_statistics():
    data = rng().normal(5.0, 3.0, (200, 3))
    data[:, 2] = 7.0  # a constant column is only centred
    scaled, mean, std = standardize(data)
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled[:, :2].std(axis=0), 1.0)
    np.testing.assert_array_equal(scaled[:, 2], 0.0)
    again, _, _ = standardize(data[:10], mean, std)
    np.testing.assert_allclose(again, scaled[:10])


def test_house_prices_shapes_and_raw_units():
    X, y = house_prices(300, standardized=False, rng=rng())
    assert X.shape == (300, 3) and y.shape == (300, 1) and X.dtype == y.dtype == np.float32
    size, rooms, age = X.T
    assert size.min() >= 40 and size.max() <= 250
    assert set(np.unique(rooms)) <= set(range(1, 9))
    assert age.min() >= 0 and age.max() <= 80
    assert np.corrcoef(size, y[:, 0])[0, 1] > 0.8  # bigger houses cost more
    Xs, ys = house_prices(300, rng=rng())
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Xs.std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_array_equal(ys, y)


def test_house_prices_is_learnable_to_r2_above_0_9():
    X, y = house_prices(600, rng=rng(1))
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, rng=rng(1))
    model = MLP([3, 64, 1], rng=rng(1))
    fit(model, mse_loss, Adam(model.parameters(), lr=0.01), (Xtr, ytr), epochs=40, progress=False, rng=rng(1))
    assert evaluate(model, None, (Xte, yte), metric="r2")["r2"] >= 0.9


# ───────────── synthetic MNIST ─────────────


def test_synthetic_mnist_format_balance_and_seeding():
    images, labels = synthetic_mnist(105, rng=rng())
    assert images.shape == (105, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (105,) and labels.dtype == np.uint8
    assert sorted(np.bincount(labels).tolist()) == [10] * 5 + [11] * 5
    assert images.max() == 255 and np.median(images) < 40  # dark background, bright strokes
    again, labels2 = synthetic_mnist(105, rng=rng())
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(labels, labels2)


def test_synthetic_mnist_classes_are_learnable_by_a_linear_classifier():
    images, labels = synthetic_mnist(1000, rng=rng(2))
    X = images.reshape(len(images), -1).astype(np.float32) / 255
    Xtr, Xte, ytr, yte = train_test_split(X, labels.astype(np.int64), test_size=0.2, rng=rng(2))
    model = MLP([784, 10], rng=rng(2))
    opt = Adam(model.parameters(), lr=0.01)
    fit(model, cross_entropy, opt, (Xtr, ytr), epochs=5, batch_size=50, progress=False, rng=rng(2))
    assert evaluate(model, None, (Xte, yte), metric="accuracy")["accuracy"] >= 0.9


# ───────────── IDX files ─────────────


def idx_bytes(code, shape, payload):
    """An IDX file written by hand from the format's description."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + payload


def test_load_idx_reads_a_hand_written_file(tmp_path):
    values = np.array([[1, 2, 3], [250, 251, 252]], dtype=np.uint8)
    (tmp_path / "a.idx").write_bytes(idx_bytes(0x08, (2, 3), values.tobytes()))
    loaded = load_idx(tmp_path / "a.idx")
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, values)
    ints = np.array([-1, 70000], dtype=">i4")
    (tmp_path / "b.idx").write_bytes(idx_bytes(0x0C, (2,), ints.tobytes()))
    np.testing.assert_array_equal(load_idx(tmp_path / "b.idx"), [-1, 70000])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_write_idx_load_idx_round_trip(tmp_path, dtype, name):
    array = (rng().standard_normal((3, 4, 5)) * 50).astype(dtype)
    write_idx(tmp_path / name, array)
    loaded = load_idx(tmp_path / name)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)
    is_gzip = (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"
    assert is_gzip == name.endswith(".gz")


def test_write_idx_header_is_big_endian(tmp_path):
    write_idx(tmp_path / "x.idx", np.zeros((2, 300), dtype=np.int16))
    raw = (tmp_path / "x.idx").read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0B, 2])
    assert struct.unpack(">2I", raw[4:12]) == (2, 300)
    assert len(raw) == 12 + 2 * 300 * 2


def test_load_idx_recognises_gzip_by_content(tmp_path):
    values = np.arange(6, dtype=np.uint8)
    (tmp_path / "plain_name").write_bytes(gzip.compress(idx_bytes(0x08, (6,), values.tobytes())))
    np.testing.assert_array_equal(load_idx(tmp_path / "plain_name"), values)


def test_write_idx_rejects_unsupported_data(tmp_path):
    with pytest.raises(TypeError, match="IDX cannot hold"):
        write_idx(tmp_path / "x.idx", np.zeros(3, dtype=np.complex64))
    with pytest.raises(TypeError, match="int32"):
        write_idx(tmp_path / "x.idx", np.array([2**40]))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x.idx", np.array(3, dtype=np.uint8))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic number 0x12340801"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated header"),
        (idx_bytes(0x08, (2, 3), bytes(5)), "truncated: shape \\(2, 3\\) of uint8 needs 6 data bytes, found 5"),
        (idx_bytes(0x0D, (2,), bytes(9)), "trailing bytes"),
    ],
)
def test_load_idx_corrupt_files_raise_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=message):
        load_idx(path)


def test_load_idx_truncated_gzip_and_missing_file(tmp_path):
    path = tmp_path / "bad.idx.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (100,), bytes(100)))[:-12])
    with pytest.raises(IDXError, match="gzip"):
        load_idx(path)
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "missing.idx")


# ───────────── MNIST ─────────────


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_reads_the_standard_files(tmp_path, compress):
    images = rng().integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    suffix = ".gz" if compress else ""
    write = gzip.compress if compress else bytes
    (tmp_path / f"t10k-images-idx3-ubyte{suffix}").write_bytes(write(idx_bytes(0x08, (20, 28, 28), images.tobytes())))
    (tmp_path / f"t10k-labels-idx1-ubyte{suffix}").write_bytes(write(idx_bytes(0x08, (20,), bytes(labels.tolist()))))
    X, y = load_mnist(tmp_path, split="test")
    assert X.shape == (20, 784) and X.dtype == np.float32
    assert y.shape == (20,) and y.dtype == np.int64
    np.testing.assert_allclose(X, images.reshape(20, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert X.min() >= 0.0 and X.max() <= 1.0


def test_write_mnist_then_load_mnist_round_trips_synthetic_digits(tmp_path):
    images, labels = synthetic_mnist(20, rng=rng())
    paths = write_mnist(tmp_path / "mnist", "train", images, labels)
    assert [p.name for p in paths] == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    X, y = load_mnist(tmp_path / "mnist")
    np.testing.assert_array_equal(np.round(X * 255).astype(np.uint8).reshape(20, 28, 28), images)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="validation")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, dtype=np.uint8))
    with pytest.raises(IDXError, match="expected 5 labels"):
        load_mnist(tmp_path)


# ───────────── real data: scikit-learn's bundled data sets ─────────────

SKLEARN_REASON = "the real data sets need scikit-learn: pip install 'gradwire[datasets]'"


@pytest.fixture
def sklearn():
    return pytest.importorskip("sklearn", reason=SKLEARN_REASON)


def test_load_digits_shapes_dtypes_range_and_classes(sklearn):
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    counts = np.bincount(y)
    assert len(counts) == 10 and counts.sum() == 1797 and counts.min() >= 170
    raw, _ = load_digits(normalize=False)
    assert raw.dtype == np.float32 and raw.max() == 16.0
    np.testing.assert_array_equal(raw, np.round(raw))  # ink counts 0-16
    np.testing.assert_array_equal(X, raw / 16)
    images, y_images = load_digits(as_images=True)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float32
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(y_images, y)


def test_load_diabetes_shapes_dtypes_and_standardization(sklearn):
    X, y = load_diabetes()
    assert X.shape == (442, 10) and X.dtype == np.float32
    assert y.shape == (442, 1) and y.dtype == np.float32
    assert 25.0 <= y.min() and y.max() <= 346.0
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=0), 1.0, atol=1e-5)
    raw, y_raw = load_diabetes(standardize=False)
    assert set(np.unique(raw[:, 1])) == {1.0, 2.0}  # sex, coded 1/2 in the raw data
    assert 19 <= raw[:, 0].min() and raw[:, 0].max() <= 79  # age in years
    np.testing.assert_array_equal(y_raw, y)  # the target is never standardized


def test_load_breast_cancer_shapes_dtypes_and_classes(sklearn):
    X, y = load_breast_cancer()
    assert X.shape == (569, 30) and X.dtype == np.float32
    assert y.shape == (569,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [212, 357]  # 0 malignant, 1 benign
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(X.std(axis=0), 1.0, atol=1e-4)
    raw, _ = load_breast_cancer(standardize=False)
    assert raw.min() >= 0.0 and raw.max() > 1000  # areas in the thousands, smoothness below 1


def assert_partition(split: TrainTestSplit, n: int, n_test: int) -> None:
    """The split's rows are disjoint, cover 0..n-1, and have the sizes asked for."""
    assert split.train_index.dtype == split.test_index.dtype == np.int64
    assert len(split.test_index) == n_test and len(split.train_index) == n - n_test
    assert len(np.intersect1d(split.train_index, split.test_index)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([split.train_index, split.test_index])), np.arange(n))


def test_digits_split_is_fixed_stratified_and_disjoint(sklearn):
    split = digits_split()
    assert_partition(split, 1797, 450)
    again = digits_split(seed=0)
    np.testing.assert_array_equal(again.train_index, split.train_index)
    np.testing.assert_array_equal(again.test_index, split.test_index)
    other = digits_split(seed=1)
    assert not np.array_equal(other.test_index, split.test_index)
    X, y = load_digits()
    X_train, X_test, y_train, y_test = split  # unpacks in train_test_split's order
    np.testing.assert_array_equal(X_train, X[split.train_index])
    np.testing.assert_array_equal(X_test, X[split.test_index])
    np.testing.assert_array_equal(y_test, y[split.test_index])
    assert split.mean is None and split.std is None
    expected = np.bincount(y) * 450 / 1797  # each digit keeps its share, to within one sample
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - expected) < 1)
    assert np.all(np.abs(np.bincount(y_train, minlength=10) - np.bincount(y) * 1347 / 1797) < 1)
    assert_partition(digits_split(test_size=0.5), 1797, 899)  # the test share is rounded up


def test_digits_split_as_images_keeps_the_same_rows(sklearn):
    rows, images = digits_split(), digits_split(as_images=True)
    assert images.X_train.shape == (1347, 1, 8, 8) and images.X_test.shape == (450, 1, 8, 8)
    np.testing.assert_array_equal(images.test_index, rows.test_index)
    np.testing.assert_array_equal(images.X_test.reshape(450, 64), rows.X_test)


def test_split_standardization_uses_training_statistics_only(sklearn):
    for split, (raw, _) in [
        (breast_cancer_split(), load_breast_cancer(standardize=False)),
        (diabetes_split(), load_diabetes(standardize=False)),
        (digits_split(standardize=True), load_digits()),
    ]:
        train_rows = raw[split.train_index].astype(np.float64)
        np.testing.assert_allclose(split.mean, train_rows.mean(axis=0), rtol=1e-6, atol=1e-9)
        std = train_rows.std(axis=0)
        np.testing.assert_allclose(split.std, np.where(std > 0, std, 1.0), rtol=1e-6)
        assert not np.allclose(split.mean, raw.astype(np.float64).mean(axis=0))  # not the full data's statistics
        X_train = split.X_train.reshape(len(split.X_train), -1)
        X_test = split.X_test.reshape(len(split.X_test), -1)
        assert X_train.dtype == X_test.dtype == np.float32
        np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-5)
        np.testing.assert_allclose(X_train.std(axis=0)[std > 0], 1.0, atol=1e-4)
        expected = (raw[split.test_index].astype(np.float64) - split.mean) / split.std
        np.testing.assert_allclose(X_test, expected, rtol=1e-5, atol=1e-5)
        assert np.abs(X_test.mean(axis=0)).max() > 0.01  # test rows are scaled, not re-centred on themselves


def test_breast_cancer_and_diabetes_splits(sklearn):
    cancer = breast_cancer_split()
    assert_partition(cancer, 569, 143)
    assert cancer.X_train.shape == (426, 30) and cancer.y_train.dtype == np.int64
    assert abs(np.bincount(cancer.y_test)[0] - 212 * 143 / 569) < 1  # stratified
    np.testing.assert_array_equal(breast_cancer_split(seed=0).test_index, cancer.test_index)
    diabetes = diabetes_split()
    assert_partition(diabetes, 442, 111)
    assert diabetes.X_test.shape == (111, 10) and diabetes.y_test.shape == (111, 1)
    assert diabetes.y_test.dtype == np.float32
    np.testing.assert_array_equal(diabetes.y_test, load_diabetes()[1][diabetes.test_index])
    np.testing.assert_array_equal(diabetes_split(seed=0).test_index, diabetes.test_index)
    assert "standardized on the training rows" in repr(diabetes)


@pytest.mark.parametrize(
    "load", [load_digits, load_diabetes, load_breast_cancer, digits_split, diabetes_split, breast_cancer_split]
)
def test_real_data_without_scikit_learn_names_the_extra(monkeypatch, load):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # None in sys.modules makes the import fail
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'gradwire\[datasets\]'") as raised:
        load()
    assert "scikit-learn" in str(raised.value)


# ───────────── texts shipped in the package ─────────────


def test_load_text_returns_genesis():
    text = load_text()
    assert text == load_text("genesis") and "genesis" in TEXTS
    assert text.startswith("The First Book of Moses, called Genesis\n")
    assert len(text) > 50_000
    assert "In the beginning God created the heaven and the earth." in text
    assert text.count("Chapter ") == 50 and text.rstrip().endswith("in a coffin in Egypt.")
    assert text.isascii() and "\r" not in text


def test_load_text_reads_a_file_and_rejects_unknown_names(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("Tyger Tyger, burning bright \u2014\n", encoding="utf-8")
    assert load_text(path) == load_text(str(path)) == "Tyger Tyger, burning bright \u2014\n"
    with pytest.raises(FileNotFoundError, match="genesis"):
        load_text("exodus")
