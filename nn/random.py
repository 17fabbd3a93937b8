"""The seeded source of randomness for nn: initialisation, dropout, shuffling, data sets.

Every random function in nn takes an optional ``rng`` (a ``numpy.random.Generator``); when
it is left out, autograd's shared generator (``autograd.default_generator``, which
``autograd.multinomial`` samples from too) is used. ``nn.manual_seed(seed)`` reseeds it,
so a run that seeds once at the start reproduces exactly: one seed, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

import autograd


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the shared generator (the same as ``autograd.manual_seed``).

    Returns:
        The shared generator.
    """
    return autograd.manual_seed(seed)


def default_rng(rng: np.random.Generator | None = None) -> np.random.Generator:
    """The generator to use: ``rng`` when given, else the shared one."""
    return autograd.default_generator if rng is None else rng
