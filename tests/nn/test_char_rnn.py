"""The character-level GRU/LSTM language model of `examples/char_rnn.py` learns Genesis and samples from it."""

from __future__ import annotations

import numpy as np
import pytest
from example_loader import load_example

import autograd as ag

char_rnn = load_example("char_rnn")


@pytest.mark.parametrize("cell, bound", [("gru", 2.0), ("lstm", 2.1)])
def test_the_loss_falls_below_a_stated_value_in_100_steps(cell, bound):
    run = char_rnn.train(cell, steps=100, seed=0)
    first, last = np.mean(run.losses[:5]), np.mean(run.losses[-10:])
    assert first > 3.5  # log(72) = 4.28 for a uniform guess over the 72 characters
    assert last < bound, f"{cell}: loss {first:.2f} -> {last:.2f} in 100 steps"


def test_feeding_one_character_at_a_time_with_the_state_gives_the_full_sequence_logits():
    model = char_rnn.CharRNN(vocab_size=9, hidden_size=8, cell="lstm")
    ids = np.random.default_rng(3).integers(0, 9, (1, 7))
    full, _ = model(ids)
    state, steps = None, []
    for t in range(ids.shape[1]):
        logits, state = model(ids[:, t : t + 1], state)
        steps.append(logits.data[:, 0])
    np.testing.assert_allclose(np.stack(steps, axis=1), full.data, rtol=1e-5, atol=1e-6)


def test_generate_samples_reproducibly_from_the_vocabulary():
    run = char_rnn.train("gru", steps=5, hidden_size=16, seq_len=16, batch_size=4, seed=1)
    start = [run.chars.index(c) for c in "And"]
    a = run.model.eval().generate(start, 40, generator=np.random.default_rng(7))
    b = run.model.generate(start, 40, generator=np.random.default_rng(7))
    assert a == b and a[:3] == start and len(a) == 43
    assert all(0 <= i < len(run.chars) for i in a)
    assert run.decode(a).startswith("And")
    assert ag.is_grad_enabled()  # generate ran under no_grad and left grad mode as it was


def test_a_wrong_cell_is_refused():
    with pytest.raises(ValueError, match="cell must be 'gru' or 'lstm'"):
        char_rnn.CharRNN(5, cell="rnn")
