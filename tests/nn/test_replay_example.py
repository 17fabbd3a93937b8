"""examples/replay_training.py: eager and replayed training end with the same weights, bit for bit."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _example():
    spec = importlib.util.spec_from_file_location("replay_training_example", ROOT / "examples" / "replay_training.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_replayed_training_ends_with_the_eager_weights(capsys):
    result = _example().main(["--steps", "60"])
    assert result["replays"] == 58  # all but the two recording steps
    assert result["largest_weight_difference"] == 0.0
    assert result["replay_accuracy"] == result["eager_accuracy"]
    assert result["eager_accuracy"] > 0.5  # it learned something (chance is 1/3)
    assert "replayed" in capsys.readouterr().out
