"""Built-in toy data sets and the MNIST IDX file format.

Generated data sets (each seeded by ``rng``, a NumPy Generator; None uses the shared one in
`nn.random`): `xor`, `make_classification` (in the spirit of scikit-learn's), `spirals`,
`make_regression`, `house_prices` (a small nonlinear regression), `synthetic_mnist`
(digit-like 28x28 images in MNIST's format), and `standardize`.

Files: `load_idx`/`write_idx` read and write the IDX format MNIST is shipped in (plain or
gzip-compressed), `load_mnist` reads the four standard MNIST files from a folder and
`write_mnist` writes them.

Real data, from the small data sets scikit-learn ships inside its package (nothing is
downloaded; needs the optional extra ``pip install 'gradwire[datasets]'``): `load_digits`
(8x8 handwritten digits, as features or as images for a CNN), `load_diabetes` (regression)
and `load_breast_cancer` (binary classification), and the fixed train/test splits
`digits_split`, `diabetes_split` and `breast_cancer_split` (a `TrainTestSplit`).
`load_text` returns a public-domain book shipped in the package (``nn/texts/``), for the
sequence models.

Conventions: features are float32 ``(N, F)`` (images ``(N, C, H, W)``); class labels are
int64 ``(N,)``; regression targets are float32 ``(N, 1)``, the shape a ``Linear(..., 1)``
output has, so a loss never broadcasts ``(N, 1)`` against ``(N,)`` into ``(N, N)`` by accident.

This file imports NumPy, the standard library, `nn.random` and `nn.data` (for
`train_test_split`); scikit-learn only inside the functions that need it.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .data import train_test_split
from .random import default_rng

__all__ = [
    "TEXTS",
    "IDXError",
    "TrainTestSplit",
    "breast_cancer_split",
    "diabetes_split",
    "digits_split",
    "house_prices",
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "load_idx",
    "load_mnist",
    "load_text",
    "make_classification",
    "make_regression",
    "spirals",
    "standardize",
    "synthetic_mnist",
    "write_idx",
    "write_mnist",
    "xor",
]

# ───────────── small generated data sets ─────────────


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four points of XOR.

    Returns:
        ``(X, y)``: X float32 ``(4, 2)`` with rows 00, 01, 10, 11; y float32 ``(4, 1)`` = 0, 1, 1, 0.
    """
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return X, y


def _hypercube_vertices(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct vertices of the ``{-1, 1}^dim`` hypercube, in random order (``n <= 2**dim``)."""
    if dim <= 30:
        codes = rng.choice(2**dim, size=n, replace=False)
    else:  # too many vertices to enumerate; collisions are then astronomically unlikely
        codes = rng.integers(0, 2**30, size=n)
    bits = (codes[:, None] >> np.arange(dim)) & 1
    return (2.0 * bits - 1.0).astype(np.float64)


def make_classification(
    n_samples: int = 1000,
    n_features: int = 10,
    n_informative: int = 5,
    n_redundant: int = 2,
    n_classes: int = 2,
    n_clusters_per_class: int = 2,
    class_sep: float = 1.0,
    flip_y: float = 0.01,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters on hypercube vertices, after scikit-learn's ``make_classification``.

    Each class owns ``n_clusters_per_class`` clusters centred on distinct vertices of a
    hypercube with side ``2 * class_sep`` in an ``n_informative``-dimensional subspace; each
    cluster is a standard normal cloud under its own random linear map, with entries uniform
    in ``±sqrt(3 / n_informative)`` so that each coordinate has variance about 1 in any
    dimension (scikit-learn draws them in ±1, which spreads clusters wider as the dimension
    grows). ``n_redundant``
    features are random linear combinations of the informative ones, the rest are standard
    normal noise; the columns are informative, redundant, noise, in that order (only the
    rows are shuffled). A share ``flip_y`` of labels is then replaced at random.

    Args:
        n_samples: number of samples, spread as evenly as possible over the classes.
        n_features: total number of features.
        n_informative: dimension of the subspace the clusters live in.
        n_redundant: features that are linear combinations of the informative ones.
        n_classes: number of classes.
        n_clusters_per_class: clusters (hypercube vertices) per class.
        class_sep: half the hypercube side: larger separates the classes more.
        flip_y: share of labels replaced by uniformly random ones (label noise).
        shuffle: shuffle the rows.
        rng: the generator; None uses the shared one.

    Returns:
        ``(X, y)``: X float32 ``(n_samples, n_features)``, y int64 ``(n_samples,)``.

    Raises:
        ValueError: for inconsistent feature counts or too many clusters for the hypercube.
    """
    if n_informative < 1 or n_redundant < 0 or n_informative + n_redundant > n_features:
        raise ValueError(
            f"make_classification: need 1 <= n_informative and n_informative + n_redundant <= n_features, "
            f"got n_informative={n_informative}, n_redundant={n_redundant}, n_features={n_features}"
        )
    n_clusters = n_classes * n_clusters_per_class
    if n_classes < 2 or n_clusters > 2**n_informative:
        raise ValueError(
            f"make_classification: n_classes * n_clusters_per_class = {n_clusters} clusters need "
            f"n_classes >= 2 and at most 2**n_informative = {2**n_informative} hypercube vertices"
        )
    if not 0.0 <= flip_y <= 1.0:
        raise ValueError(f"make_classification: flip_y must be in [0, 1], got {flip_y}")
    rng = default_rng(rng)

    sizes = np.full(n_clusters, n_samples // n_clusters)
    sizes[: n_samples % n_clusters] += 1
    centroids = _hypercube_vertices(n_clusters, n_informative, rng) * class_sep
    X = np.empty((n_samples, n_features))
    y = np.empty(n_samples, dtype=np.int64)
    start = 0
    for k, size in enumerate(sizes):
        rows = slice(start, start + size)
        A = (2.0 * rng.random((n_informative, n_informative)) - 1.0) * np.sqrt(3.0 / n_informative)
        X[rows, :n_informative] = rng.standard_normal((size, n_informative)) @ A + centroids[k]
        y[rows] = k % n_classes
        start += size
    B = 2.0 * rng.random((n_informative, n_redundant)) - 1.0
    X[:, n_informative : n_informative + n_redundant] = X[:, :n_informative] @ B
    X[:, n_informative + n_redundant :] = rng.standard_normal((n_samples, n_features - n_informative - n_redundant))

    flip = rng.random(n_samples) < flip_y
    y[flip] = rng.integers(0, n_classes, size=int(flip.sum()))
    if shuffle:
        order = rng.permutation(n_samples)
        X, y = X[order], y[order]
    return X.astype(np.float32), y


def spirals(
    n_per_class: int = 100,
    n_classes: int = 2,
    noise: float = 0.2,
    turns: float = 1.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the CS231n toy problem).

    Arm ``k`` has points at radius ``r`` from 0 to 1 and angle
    ``2*pi*k/n_classes + 2*pi*turns*r + noise * N(0, 1)``.

    Args:
        n_per_class: points per arm.
        n_classes: number of arms (classes), e.g. 2 or 3.
        noise: standard deviation of the angle noise, in radians.
        turns: how many full turns each arm winds.
        rng: the generator; None uses the shared one.

    Returns:
        ``(X, y)``: X float32 ``(n_per_class * n_classes, 2)`` inside the unit disc, y int64
        class labels; rows are grouped by class (shuffle with a `DataLoader` or a split).
    """
    if n_classes < 1 or n_per_class < 1:
        raise ValueError(f"spirals: need n_classes >= 1 and n_per_class >= 1, got {n_classes} and {n_per_class}")
    rng = default_rng(rng)
    r = np.linspace(0.0, 1.0, n_per_class)
    X = np.empty((n_per_class * n_classes, 2))
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    for k in range(n_classes):
        theta = 2 * np.pi * k / n_classes + 2 * np.pi * turns * r + noise * rng.standard_normal(n_per_class)
        X[k * n_per_class : (k + 1) * n_per_class] = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    return X.astype(np.float32), y


def make_regression(
    n_samples: int = 100,
    n_features: int = 5,
    n_informative: int | None = None,
    noise: float = 0.0,
    bias: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A linear regression problem: ``y = X @ coef + bias + noise * N(0, 1)``, X standard normal.

    Args:
        n_samples: number of samples.
        n_features: number of features.
        n_informative: features with a non-zero coefficient (the first ones); None means all.
        noise: standard deviation of the Gaussian noise on y.
        bias: the intercept.
        rng: the generator; None uses the shared one.

    Returns:
        ``(X, y, coef)``: X float32 ``(n_samples, n_features)``, y float32 ``(n_samples, 1)``,
        coef float64 ``(n_features,)`` (the true coefficients, uniform in [-1, 1] then zeroed
        past ``n_informative``).
    """
    informative = n_features if n_informative is None else n_informative
    if not 0 <= informative <= n_features:
        raise ValueError(f"make_regression: n_informative={n_informative} must be in [0, n_features={n_features}]")
    rng = default_rng(rng)
    X = rng.standard_normal((n_samples, n_features))
    coef = np.zeros(n_features)
    coef[:informative] = rng.uniform(-1.0, 1.0, informative)
    y = X @ coef + bias + noise * rng.standard_normal(n_samples)
    return X.astype(np.float32), y[:, None].astype(np.float32), coef


def standardize(
    X: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each column to mean 0 and standard deviation 1.

    Fit on the training data, then pass the returned ``mean`` and ``std`` to scale test data
    the same way. Constant columns are only centred (their std counts as 1).

    Args:
        X: ``(N, F)`` data.
        mean: column means to use instead of X's own.
        std: column standard deviations to use instead of X's own.

    Returns:
        ``(X_scaled, mean, std)``; X_scaled keeps X's floating dtype (float32 for integer X).
    """
    X = np.asarray(X)
    dtype = X.dtype if X.dtype.kind == "f" else np.float32
    mean = X.mean(axis=0) if mean is None else np.asarray(mean)
    if std is None:
        std = X.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    return ((X - mean) / std).astype(dtype), mean, np.asarray(std)


def house_prices(
    n_samples: int = 500, noise: float = 0.1, standardized: bool = True, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A small, smooth, nonlinear regression: house size, rooms and age to price.

    size is uniform in 40-250 m²; rooms is about one per 30 m² (1 to 8); age is 0-80
    years. The price, in units of 100,000, is

        price = 0.5 + 1.8 * (size / 100) ** 1.5 + 0.15 * rooms * exp(-((rooms - 4) / 3) ** 2)
                - 0.8 * (1 - exp(-age / 25)) + 0.25 * exp(-((age - 60) / 10) ** 2) + noise * N(0, 1)

    (bigger is dearer and faster than linearly, a middling number of rooms adds most, new
    houses lose value quickly, old ones near 60 years regain some as "period" homes).

    Args:
        n_samples: number of houses.
        noise: standard deviation of the price noise (in units of 100,000).
        standardized: return features scaled to mean 0, std 1 (by `standardize`);
            False returns them in m², rooms and years.
        rng: the generator; None uses the shared one.

    Returns:
        ``(X, y)``: X float32 ``(n_samples, 3)`` with columns size, rooms, age; y float32
        ``(n_samples, 1)``, the price (never standardized).
    """
    rng = default_rng(rng)
    size = rng.uniform(40.0, 250.0, n_samples)
    rooms = np.clip(np.round(size / 30.0 + rng.normal(0.0, 0.7, n_samples)), 1, 8)
    age = rng.uniform(0.0, 80.0, n_samples)
    price = (
        0.5
        + 1.8 * (size / 100.0) ** 1.5
        + 0.15 * rooms * np.exp(-(((rooms - 4.0) / 3.0) ** 2))
        - 0.8 * (1.0 - np.exp(-age / 25.0))
        + 0.25 * np.exp(-(((age - 60.0) / 10.0) ** 2))
        + noise * rng.standard_normal(n_samples)
    )
    X = np.stack([size, rooms, age], axis=1)
    if standardized:
        X = standardize(X)[0]
    return X.astype(np.float32), price[:, None].astype(np.float32)


# ───────────── synthetic MNIST ─────────────

# Each digit as strokes (polylines) in a unit box: x to the right, y downwards.


def _ring(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, stop: float = 360.0, n: int = 14) -> list:
    """Points along an ellipse arc (degrees, 0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start, stop, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


_DIGIT_STROKES: list[list[list[tuple[float, float]]]] = [
    [_ring(0.5, 0.5, 0.32, 0.47)],  # 0
    [[(0.3, 0.22), (0.55, 0.0), (0.55, 1.0)]],  # 1
    [_ring(0.5, 0.3, 0.32, 0.28, 190, 370, 8) + [(0.72, 0.5), (0.15, 1.0), (0.9, 1.0)]],  # 2
    [_ring(0.45, 0.26, 0.33, 0.25, 200, 450, 9), _ring(0.45, 0.74, 0.37, 0.26, 270, 520, 9)],  # 3
    [[(0.7, 1.0), (0.7, 0.0), (0.1, 0.68), (0.92, 0.68)]],  # 4
    [[(0.85, 0.0), (0.25, 0.0), (0.2, 0.45)] + _ring(0.47, 0.68, 0.35, 0.3, 240, 500, 10)],  # 5
    [[(0.72, 0.0), (0.3, 0.45)] + _ring(0.5, 0.72, 0.3, 0.27, 180, 540, 12)],  # 6
    [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)], [(0.3, 0.5), (0.75, 0.5)]],  # 7
    [_ring(0.5, 0.25, 0.27, 0.24), _ring(0.5, 0.73, 0.33, 0.26)],  # 8
    [_ring(0.5, 0.3, 0.3, 0.28), [(0.8, 0.3), (0.6, 1.0)]],  # 9
]


def _segments(strokes: list[list[tuple[float, float]]]) -> np.ndarray:
    """The line segments of a digit's strokes, as an array ``(S, 2, 2)`` of (start, end) points."""
    segs = [(p, q) for stroke in strokes for p, q in zip(stroke[:-1], stroke[1:])]
    return np.array(segs, dtype=np.float64)


_DIGIT_SEGMENTS = [_segments(strokes) for strokes in _DIGIT_STROKES]
_PIXELS = (np.stack(np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="xy"), axis=-1).reshape(-1, 2) + 0.5).astype(
    np.float32
)


def _render(segments: np.ndarray, n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` randomly jittered renderings of one digit's segments as float images in [0, 1], ``(n, 28, 28)``."""
    # The unit box maps to a box of about 14 x 20 pixels centred in the image (as MNIST fits
    # digits into 20 x 20), under a random scale, slant, rotation, shift and pen width.
    scale = rng.uniform(0.85, 1.1, (n, 1, 1)) * np.array([14.0, 20.0])
    slant = rng.uniform(-0.3, 0.3, n)
    angle = rng.uniform(-0.15, 0.15, n)
    shift = rng.uniform(-2.0, 2.0, (n, 2)) + 14.0
    width = rng.uniform(0.8, 1.6, (n, 1, 1))
    points = (segments[None] - 0.5) * scale[:, None]  # (n, S, 2, 2)
    x = points[..., 0] - slant[:, None, None] * points[..., 1]
    y = points[..., 1]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    points = np.stack([cos * x - sin * y, sin * x + cos * y], axis=-1) + shift[:, None, None]
    points = points.astype(np.float32)
    ax, ay = points[:, :, 0, 0, None], points[:, :, 0, 1, None]  # segment starts, (n, S, 1)
    abx, aby = points[:, :, 1, 0, None] - ax, points[:, :, 1, 1, None] - ay
    inv_len2 = 1.0 / np.maximum(abx * abx + aby * aby, 1e-9)
    # Distance from every pixel centre to every segment, (n, S, 784): x and y kept apart
    # because NumPy is much slower on a trailing axis of length 2.
    apx, apy = _PIXELS[:, 0] - ax, _PIXELS[:, 1] - ay
    t = np.clip((apx * abx + apy * aby) * inv_len2, 0.0, 1.0)
    dx, dy = apx - t * abx, apy - t * aby
    dist = np.sqrt((dx * dx + dy * dy).min(axis=1))  # (n, 784)
    ink = np.clip(width[:, :, 0] + 0.5 - dist, 0.0, 1.0) * rng.uniform(0.75, 1.0, (n, 1))
    ink = ink + noise * rng.standard_normal(ink.shape)
    return np.clip(ink, 0.0, 1.0).reshape(n, 28, 28)


def synthetic_mnist(
    n: int = 1000, noise: float = 0.05, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Digit-like 28x28 images in MNIST's format, for tests and demos where MNIST is absent.

    Each image draws its class's digit as pen strokes under a random scale, slant,
    rotation, shift, pen width and ink intensity, plus Gaussian pixel noise. The ten
    classes are as balanced as ``n`` allows and in random order.

    Args:
        n: number of images.
        noise: standard deviation of the pixel noise (on the [0, 1] scale, before the
            conversion to bytes).
        rng: the generator; None uses the shared one.

    Returns:
        ``(images, labels)``: uint8 ``(n, 28, 28)`` (0 = background, 255 = ink) and uint8
        ``(n,)`` digits 0-9, the arrays the MNIST IDX files hold (see `write_mnist`).
    """
    rng = default_rng(rng)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = np.zeros((n, 28, 28))
    chunk = 256  # bounds the (chunk, segments, 784) work arrays
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        for start in range(0, len(where), chunk):
            index = where[start : start + chunk]
            images[index] = _render(_DIGIT_SEGMENTS[digit], len(index), noise, rng)
    return np.round(images * 255.0).astype(np.uint8), labels


# ───────────── IDX files (MNIST) ─────────────

# IDX type codes and the big-endian dtypes they stand for.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file is not a well-formed IDX file (bad header, unknown type code, wrong length)."""


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip (recognised by its magic bytes, not its name)."""
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise IDXError(f"{path}: corrupt or truncated gzip data ({error})") from error


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the format MNIST is shipped in), gzip-compressed or not.

    The header is two zero bytes, a type code (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int,
    0x0D float, 0x0E double), the number of dimensions, then each dimension as a big-endian
    uint32; the big-endian data follows.

    Args:
        path: the file; gzip data is recognised by its content, whatever the name.

    Returns:
        The array, in native byte order (uint8 for MNIST images and labels).

    Raises:
        FileNotFoundError: when the file does not exist.
        IDXError: for a bad magic number, an unknown type code, or data shorter or longer
            than the dimensions say.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"{path}: bad magic number 0x{raw[:4].hex()} (an IDX file starts with two zero bytes)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02X} (known: {known})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, the file has {len(raw)}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        problem = "truncated" if found < expected else "has trailing bytes"
        raise IDXError(f"{path}: {problem}: shape {shape} of {dtype.name} needs {expected} data bytes, found {found}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as an IDX file; gzip-compress it when ``path`` ends in ``.gz``.

    Args:
        path: the file to write (parent folders must exist).
        array: uint8, int8, int16, int32, float32 or float64 data with 1 to 255 dimensions
            (int64 data whose values fit is written as int32).

    Raises:
        TypeError: for a dtype IDX cannot hold.
        ValueError: for a 0-d array or one with more than 255 dimensions.
    """
    array = np.asarray(array)
    if array.dtype == np.int64 and array.size and (array.min() < -(2**31) or array.max() >= 2**31):
        raise TypeError("write_idx: int64 values do not fit IDX's int32")
    if array.dtype == np.int64:
        array = array.astype(np.int32)
    native = array.dtype.newbyteorder("=")
    if native not in _IDX_CODES:
        raise TypeError(
            f"write_idx: IDX cannot hold {array.dtype} data (use uint8, int8, int16, int32, float32 or float64)"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got {array.ndim}")
    code = _IDX_CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=_IDX_DTYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload, mtime=0) if path.suffix == ".gz" else payload)


_MNIST_PREFIX = {"train": "train", "test": "t10k"}


def _mnist_file(root: Path, prefix: str, kind: str, rank: int) -> Path:
    """The first MNIST file for ``prefix``/``kind`` that exists under ``root``, in any usual spelling."""
    tried = []
    for sep in ("-", "."):  # the original names, and the "train-images.idx3-ubyte" spelling some mirrors use
        for suffix in ("", ".gz"):
            candidate = root / f"{prefix}-{kind}{sep}idx{rank}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
            tried.append(candidate.name)
    raise FileNotFoundError(f"load_mnist: none of {', '.join(tried)} is in {root}")


def load_mnist(root: str | os.PathLike, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read MNIST (or any data set in its format, such as Fashion-MNIST) from a folder.

    Looks for ``train-images-idx3-ubyte`` / ``train-labels-idx1-ubyte`` (split "train") or
    ``t10k-images-idx3-ubyte`` / ``t10k-labels-idx1-ubyte`` (split "test"), each plain or
    with ``.gz``.

    Args:
        root: the folder holding the files.
        split: "train" or "test".

    Returns:
        ``(X, y)``: X float32 ``(N, rows * cols)`` (784 for MNIST), pixels scaled to [0, 1];
        y int64 ``(N,)``.

    Raises:
        ValueError: for an unknown split.
        FileNotFoundError: when a file is missing (the message lists the names tried).
        IDXError: for corrupt files, or images and labels that do not match.
    """
    if split not in _MNIST_PREFIX:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    image_path = _mnist_file(root, _MNIST_PREFIX[split], "images", 3)
    label_path = _mnist_file(root, _MNIST_PREFIX[split], "labels", 1)
    images, labels = load_idx(image_path), load_idx(label_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IDXError(f"{image_path}: expected uint8 images (N, rows, cols), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise IDXError(f"{label_path}: expected {len(images)} labels to match the images, got shape {labels.shape}")
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
    return X, labels.astype(np.int64)


def write_mnist(
    root: str | os.PathLike, split: str, images: np.ndarray, labels: Sequence[int], compress: bool = True
) -> tuple[Path, Path]:
    """Write images and labels as the two MNIST IDX files of ``split`` (what `load_mnist` reads).

    Args:
        root: the folder (created if missing).
        split: "train" or "test".
        images: uint8 ``(N, rows, cols)``.
        labels: ``(N,)`` digits (stored as uint8).
        compress: gzip the files (``.gz`` names).

    Returns:
        The paths of the image file and the label file.
    """
    if split not in _MNIST_PREFIX:
        raise ValueError(f"write_mnist: split must be 'train' or 'test', got {split!r}")
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"write_mnist: images must be uint8 (N, rows, cols), got {images.dtype} {images.shape}")
    if labels.shape != (len(images),) or labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise ValueError(f"write_mnist: labels must be ({len(images)},) values in 0-255, got shape {labels.shape}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    gz = ".gz" if compress else ""
    prefix = _MNIST_PREFIX[split]
    image_path = root / f"{prefix}-images-idx3-ubyte{gz}"
    label_path = root / f"{prefix}-labels-idx1-ubyte{gz}"
    write_idx(image_path, images)
    write_idx(label_path, labels.astype(np.uint8))
    return image_path, label_path


# ───────────── real data: scikit-learn's bundled data sets ─────────────

DATASETS_EXTRA = "pip install 'gradwire[datasets]'"


def _sklearn_datasets(caller: str) -> Any:
    """``sklearn.datasets``, imported on first use; an ImportError naming the extra when scikit-learn is missing."""
    try:
        from sklearn import datasets
    except ImportError as error:
        raise ImportError(
            f"{caller} needs scikit-learn, gradwire's optional extra for real data sets: {DATASETS_EXTRA}"
        ) from error
    return datasets


def _standardized(X: np.ndarray) -> np.ndarray:
    """X scaled by its own column statistics (`standardize`, for the loaders whose flag shadows its name)."""
    return standardize(X)[0]


def load_digits(*, as_images: bool = False, normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The real 8x8 handwritten digits (UCI's optical recognition set, as scikit-learn ships it).

    1,797 images of the digits 0-9 (about 180 of each), written by 43 people and
    downsampled to 8x8 cells that each count the ink pixels of a 4x4 block (0 to 16).
    Needs scikit-learn (the ``datasets`` extra); nothing is downloaded.

    Args:
        as_images: return ``(N, 1, 8, 8)`` images (channels first, for a CNN) instead of
            ``(N, 64)`` feature rows (row-major, the same pixels either way).
        normalize: divide by 16, so values are in [0, 1]; False keeps the counts 0-16.

    Returns:
        ``(X, y)``: X float32 ``(1797, 64)`` or ``(1797, 1, 8, 8)``; y int64 ``(1797,)``
        digits 0-9.

    Raises:
        ImportError: when scikit-learn is not installed.
    """
    bunch = _sklearn_datasets("load_digits").load_digits()
    X = bunch.data.astype(np.float32)
    if normalize:
        X /= np.float32(16.0)
    if as_images:
        X = X.reshape(-1, 1, 8, 8)
    return X, bunch.target.astype(np.int64)


def load_diabetes(*, standardize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The diabetes regression data (Efron et al., 2004): disease progression a year after baseline.

    442 patients, 10 baseline features: age, sex, body mass index, average blood pressure
    and six blood serum measurements (s1-s6). The target is a quantitative measure of
    disease progression one year later (25 to 346). A linear model explains about half of
    the variance: least squares scores a test R² of 0.47 on average over random 25% test
    splits (0.30 to 0.62 over 100 of them; 0.37 on `diabetes_split`'s fixed one). The data
    set is small and noisy, so more capacity barely helps. Needs scikit-learn (the
    ``datasets`` extra).

    Args:
        standardize: scale each feature to mean 0, std 1 over all 442 patients (by
            `standardize`); False returns the raw values (years, sex coded 1/2, kg/m², ...).
            For an honest test score fit the statistics on training data only, as
            `diabetes_split` does.

    Returns:
        ``(X, y)``: X float32 ``(442, 10)``; y float32 ``(442, 1)`` (never standardized).

    Raises:
        ImportError: when scikit-learn is not installed.
    """
    bunch = _sklearn_datasets("load_diabetes").load_diabetes(scaled=False)
    X = _standardized(bunch.data) if standardize else bunch.data
    return X.astype(np.float32), bunch.target.astype(np.float32)[:, None]


def load_breast_cancer(*, standardize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The Wisconsin diagnostic breast cancer data: is a tumour malignant or benign?

    569 tumours, 30 features computed from a digitised image of a fine-needle aspirate
    (mean, standard error and worst value of ten cell-nucleus measurements: radius,
    texture, perimeter, area, smoothness, ...). Labels follow scikit-learn: 0 = malignant
    (212), 1 = benign (357). Needs scikit-learn (the ``datasets`` extra).

    Args:
        standardize: scale each feature to mean 0, std 1 over all 569 samples (the raw
            column means run from 0.004 to 881); False returns the raw values. For an
            honest test score fit the statistics on training data only, as
            `breast_cancer_split` does.

    Returns:
        ``(X, y)``: X float32 ``(569, 30)``; y int64 ``(569,)`` labels 0/1 (for
        ``binary_cross_entropy_with_logits`` use ``y.astype(np.float32)[:, None]``).

    Raises:
        ImportError: when scikit-learn is not installed.
    """
    bunch = _sklearn_datasets("load_breast_cancer").load_breast_cancer()
    X = _standardized(bunch.data) if standardize else bunch.data
    return X.astype(np.float32), bunch.target.astype(np.int64)


@dataclass(frozen=True, eq=False)
class TrainTestSplit:
    """A fixed train/test split of a data set; unpacks as ``X_train, X_test, y_train, y_test``.

    The order is `nn.data.train_test_split`'s, so
    ``X_train, X_test, y_train, y_test = digits_split()`` works; the attributes say how the
    split was made.

    Attributes:
        X_train, X_test, y_train, y_test: the two parts.
        train_index, test_index: int64 row numbers into the full data set (what the
            ``load_*`` function returns), disjoint and together covering every row.
        mean, std: the per-feature statistics the features were standardized with,
            computed on the training rows only; None when they were not standardized.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))

    def __repr__(self) -> str:
        scaled = "standardized on the training rows" if self.mean is not None else "not standardized"
        return (
            f"TrainTestSplit(train {self.X_train.shape}, test {self.X_test.shape}, "
            f"labels {self.y_train.dtype}, {scaled})"
        )


def _fixed_split(
    X: np.ndarray, y: np.ndarray, seed: int, test_size: float, stratified: bool, standardized: bool
) -> TrainTestSplit:
    """Split rows with `train_test_split` seeded by ``seed``; standardize with the training rows' statistics."""
    train_index, test_index = train_test_split(
        np.arange(len(y), dtype=np.int64),
        test_size=test_size,
        rng=np.random.default_rng(seed),
        stratify=y if stratified else None,
    )
    X_train, X_test = X[train_index], X[test_index]
    mean = std = None
    if standardized:  # per feature (per pixel for images), in float64, on the training rows only
        rows_train = X_train.reshape(len(X_train), -1).astype(np.float64)
        rows_test = X_test.reshape(len(X_test), -1).astype(np.float64)
        rows_train, mean, std = standardize(rows_train)
        rows_test = standardize(rows_test, mean, std)[0]
        X_train = rows_train.astype(np.float32).reshape(X_train.shape)
        X_test = rows_test.astype(np.float32).reshape(X_test.shape)
    return TrainTestSplit(X_train, X_test, y[train_index], y[test_index], train_index, test_index, mean, std)


def digits_split(
    seed: int = 0, test_size: float = 0.25, as_images: bool = False, standardize: bool = False
) -> TrainTestSplit:
    """`load_digits` split into a fixed, stratified training part and test part (1,347 and 450 rows by default).

    Made by `nn.data.train_test_split` of the row numbers with
    ``rng=np.random.default_rng(seed)`` and ``stratify=y`` (each digit keeps its share in
    both parts, to within one sample): the same seed and ``test_size`` always give the same
    rows. Pixels are scaled to [0, 1] by the fixed factor 1/16.

    Args:
        seed: the seed of the split's own generator (nothing else is drawn from it).
        test_size: the share of samples in the test part (rounded up), or a count.
        as_images: images ``(N, 1, 8, 8)`` (for a CNN) instead of ``(N, 64)`` rows.
        standardize: also scale each pixel to mean 0, std 1 with the statistics of the
            training rows only (kept in ``mean`` and ``std``, shape ``(64,)``; pixels that
            are blank in every training image are only centred).

    Returns:
        A `TrainTestSplit` (``mean`` and ``std`` None unless ``standardize``); unpack it as
        ``X_train, X_test, y_train, y_test``.

    Raises:
        ImportError: when scikit-learn is not installed.
    """
    X, y = load_digits(as_images=as_images)
    return _fixed_split(X, y, seed, test_size, stratified=True, standardized=standardize)


def diabetes_split(seed: int = 0, test_size: float = 0.25) -> TrainTestSplit:
    """`load_diabetes` split into a fixed training part and test part (331 and 111 rows by default).

    As `breast_cancer_split`, but not stratified (the target is continuous): a seeded
    shuffle of the row numbers by `nn.data.train_test_split` with
    ``rng=np.random.default_rng(seed)``, then the features standardized with the training
    rows' statistics (kept in ``mean`` and ``std``). The targets stay in their own units.

    Args:
        seed: the seed of the split's own generator (nothing else is drawn from it).
        test_size: the share of samples in the test part (rounded up), or a count.

    Returns:
        A `TrainTestSplit`; unpack it as ``X_train, X_test, y_train, y_test``.

    Raises:
        ImportError: when scikit-learn is not installed.
    """
    X, y = load_diabetes(standardize=False)
    return _fixed_split(X, y, seed, test_size, stratified=False, standardized=True)


def breast_cancer_split(seed: int = 0, test_size: float = 0.25) -> TrainTestSplit:
    """`load_breast_cancer` split into a fixed, stratified training part and test part (426 and 143 rows by default).

    Made by `nn.data.train_test_split` of the row numbers with
    ``rng=np.random.default_rng(seed)`` and ``stratify=y`` (malignant and benign keep their
    shares in both parts, to within one sample): the same seed and ``test_size`` always give
    the same rows. The features are then standardized (mean 0, std 1) with the statistics of
    the training rows only, kept in ``mean`` and ``std``; the test rows are scaled with the
    same numbers, so nothing about them leaks into training.

    Args:
        seed: the seed of the split's own generator (nothing else is drawn from it).
        test_size: the share of samples in the test part (rounded up), or a count.

    Returns:
        A `TrainTestSplit`; unpack it as ``X_train, X_test, y_train, y_test``.

    Raises:
        ImportError: when scikit-learn is not installed.
    """
    X, y = load_breast_cancer(standardize=False)
    return _fixed_split(X, y, seed, test_size, stratified=True, standardized=True)


# ───────────── texts shipped in the package ─────────────

TEXTS = {"genesis": "genesis_kjv.txt"}  # name -> file in nn/texts/ (public domain)


def load_text(name_or_path: str | os.PathLike = "genesis") -> str:
    """The text of a book shipped in the package, or of any UTF-8 file, for the sequence models.

    Shipped (public domain, in ``nn/texts/``): ``"genesis"``, the Book of Genesis in the
    King James Version (about 197,000 characters, 72 distinct ones; plain ASCII, one verse
    per line under "Chapter N" headings).

    Args:
        name_or_path: a name from `TEXTS`, or the path of a text file.

    Returns:
        The whole text as a str.

    Raises:
        FileNotFoundError: for a name that is neither shipped nor an existing file.
    """
    if isinstance(name_or_path, str) and name_or_path in TEXTS:
        return (resources.files(__package__) / "texts" / TEXTS[name_or_path]).read_text(encoding="utf-8")
    path = Path(name_or_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"load_text: {str(name_or_path)!r} is neither a shipped text ({', '.join(sorted(TEXTS))}) nor a file"
        )
    return path.read_text(encoding="utf-8")
