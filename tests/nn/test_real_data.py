"""The seed tasks of `examples/real_data.py` reach their targets on real data, with fixed seeds and fixed splits.

Each task trains on the fixed split of `nn.datasets` (``*_split(seed=0)``) and is held to
the target written next to it in the example; the test prints the measured number and
the time (``pytest -s`` or ``pytest -rP`` shows them). The three take about 1 s together
on one core, plus about 1 s for scikit-learn's first import. They need scikit-learn (the
``datasets`` extra) and are skipped without it. The last test checks that the character
codec of `examples/char_lm.py` handles the shipped Genesis text, the corpus of the
sequence models.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from example_loader import load_example

from nn.datasets import diabetes_split, load_text

SKLEARN_REASON = "the real data sets need scikit-learn: pip install 'gradwire[datasets]'"

real_data = load_example("real_data")


@pytest.fixture
def sklearn():
    return pytest.importorskip("sklearn", reason=SKLEARN_REASON)


def run(task, seed: int = 0):
    """Run a task, print its result line (with the time), and return the `Result`."""
    start = time.perf_counter()
    result = task(seed=seed)
    print(f"\n{result.line()} (test wall time {time.perf_counter() - start:.1f} s)")
    return result


def test_digits_mlp_reaches_96_percent_on_the_fixed_split(sklearn):
    """64-256-10 MLP on the real 8x8 digits: 0.978 with seed 0 (0.973-0.980 over seeds 0-5), about 1 s."""
    result = run(real_data.digits_mlp)
    assert result.target == real_data.DIGITS_TARGET == 0.96
    assert result.value >= 0.96 and result.met
    assert len(result.losses) == 40 and result.losses[-1] < 0.1 * result.losses[0]
    assert len(result.val_losses) == 40


def test_digits_cnn_reaches_98_percent_on_the_fixed_split(sklearn):
    """Two conv layers with BatchNorm, a max-pool and a Linear on (N, 1, 8, 8) digits: 0.987 with seed 0
    (0.991 with seeds 1 and 2), about 5 s on one core."""
    result = run(real_data.digits_cnn)
    assert result.target == real_data.DIGITS_CNN_TARGET == 0.98
    assert result.value >= 0.98 and result.met
    assert result.seconds < 60
    assert len(result.losses) == 15 and result.losses[-1] < 0.1 * result.losses[0]


def test_diabetes_linear_regression_matches_least_squares(sklearn):
    """Linear(10, 1) by full-batch Adam: test R² 0.372 on the fixed split, where exact least squares gets 0.373.

    Honest numbers: a linear model explains about half the variance of this data set on
    average over random splits (0.47 over 100 split seeds, 0.30-0.62), but the fixed
    split's test quarter is a harder one. The target, 0.35, is a little below what is measured.
    """
    result = run(real_data.diabetes_linear)
    X_train, X_test, y_train, y_test = diabetes_split(real_data.SPLIT_SEED)
    optimum = real_data.least_squares_r2(X_train, y_train, X_test, y_test)
    assert optimum == pytest.approx(0.3728, abs=1e-3)
    assert result.target == real_data.DIABETES_TARGET == 0.35
    assert result.value >= 0.35 and result.met
    assert abs(result.value - optimum) < 0.01  # gradient descent found the least-squares solution


def test_breast_cancer_logistic_regression_reaches_95_percent(sklearn):
    """Logistic regression on 30 standardized features: 0.986 test accuracy (141 of 143) with seeds 0-5."""
    result = run(real_data.breast_cancer_logistic)
    assert result.target == real_data.BREAST_CANCER_TARGET == 0.95
    assert result.value >= 0.95 and result.met
    assert result.losses[-1] < result.losses[0]


def test_main_prints_a_table_of_the_tasks(sklearn, tmp_path, capsys):
    assert real_data.main(["--quick", "--only", "diabetes,breast_cancer", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "diabetes linear: test R² = " in out and "breast cancer logistic: test accuracy = " in out
    assert "example" in out and "seconds" in out and "digits" not in out
    with pytest.raises(SystemExit):
        real_data.parse_args(["--only", "mnist"])


def test_the_char_codec_round_trips_genesis():
    """`examples/char_lm.py`'s `CharCodec` (the project's character tokenizer) on the shipped text."""
    char_lm = load_example("char_lm")
    text = load_text("genesis")
    codec = char_lm.CharCodec.of(text)
    assert codec.chars == "".join(sorted(set(text))) and len(codec.chars) == 72
    tokens = codec.encode(text)
    assert tokens.dtype == np.int64 and tokens.shape == (len(text),)
    assert tokens.min() == 0 and tokens.max() == len(codec.chars) - 1
    assert codec.decode(tokens[:500]) == text[:500]
