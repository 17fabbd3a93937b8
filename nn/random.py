"""The one seeded source of randomness for nn: initialisation, dropout, shuffling, data sets.

Every random function in nn takes an optional ``rng`` (a ``numpy.random.Generator``); when
it is left out, the shared generator here is used. ``nn.manual_seed(seed)`` resets it, so a
run that seeds once at the start reproduces exactly.
"""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the shared generator to ``seed``.

    Returns:
        The new shared generator.
    """
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_rng(rng: np.random.Generator | None = None) -> np.random.Generator:
    """The generator to use: ``rng`` when given, else the shared one."""
    return _generator if rng is None else rng
