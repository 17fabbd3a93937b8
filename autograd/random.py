"""The one shared source of randomness: sampling (`autograd.multinomial`) and, through nn, init, dropout, data.

A function that samples takes an optional ``generator`` (a ``numpy.random.Generator``);
when it is left out, `default_generator` is used. ``autograd.manual_seed(seed)`` (or
``nn.manual_seed``, the same call) reseeds it in place, so a run that seeds once at the
start reproduces exactly, and a reference to `default_generator` held anywhere stays the
shared one, as ``torch.default_generator`` does. It starts from seed 0, so an unseeded run
reproduces too.
"""

from __future__ import annotations

import numpy as np

default_generator: np.random.Generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the shared generator: afterwards it draws exactly what ``numpy.random.default_rng(seed)`` would.

    Args:
        seed: anything ``numpy.random.default_rng`` accepts (a non-negative int, usually).

    Returns:
        The shared generator (`default_generator`).
    """
    default_generator.bit_generator.state = np.random.default_rng(seed).bit_generator.state
    return default_generator


def default_rng(generator: np.random.Generator | None = None) -> np.random.Generator:
    """The generator to use: ``generator`` when given, else the shared one.

    Raises:
        TypeError: ``generator`` is neither None nor a ``numpy.random.Generator``.
    """
    if generator is None:
        return default_generator
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator must be a numpy.random.Generator (np.random.default_rng(seed)) or None, "
            f"got {type(generator).__name__}"
        )
    return generator
