"""examples/replay_training.py: eager and replayed training end with the same weights, bit for bit."""

from __future__ import annotations

from example_loader import load_example


def test_replayed_training_ends_with_the_eager_weights(capsys):
    result = load_example("replay_training").main(["--steps", "60"])
    assert result["replays"] == 58  # all but the two recording steps
    assert result["largest_weight_difference"] == 0.0
    assert result["replay_accuracy"] == result["eager_accuracy"]
    assert result["eager_accuracy"] > 0.5  # it learned something (chance is 1/3)
    assert "replayed" in capsys.readouterr().out
