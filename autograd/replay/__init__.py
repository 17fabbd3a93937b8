"""Recorded-step replay: `compile_step` records the primitive calls of a step and replays them over arrays.

Most training loops run the same graph every step. ``step = compile_step(fn)`` runs ``fn``
eagerly on its first two calls with a given signature (the shapes and dtypes of its
arguments and the grad mode) and records, each time, a tape of every primitive forward
that ran: the forward pass, and the forward calls that the gradient rules make during
``backward()``, and the gradients leaves accumulate. When the two tapes agree, later calls
with that signature replay the tape: one generated Python function of plain NumPy calls,
with no Tensor, node or engine work, whose results are bit-identical to eager mode (it
runs the same NumPy calls on the same arrays in the same order).

A call whose signature is new records again (eagerly); a signature whose two tapes do not
agree, or whose step did something a tape cannot hold, stays eager and warns once with
`ReplayWarning` (or raises `ReplayError` with ``strict=True``). See `CompiledStep` for what
makes a step replayable.
"""

from .step import CompiledStep, ReplayError, ReplayWarning, compile_step

__all__ = ["CompiledStep", "ReplayError", "ReplayWarning", "compile_step"]
