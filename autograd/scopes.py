"""`record_scope`: the public call a library makes to say which part of a model produced a tensor.

`nn.Module.__call__` calls it after every forward, so that `autograd.viz` can cluster a
graph by module. The records live on the output's node (see `autograd.graph.record_scope`);
the engine never reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .graph import state
from .tensor import Tensor


def record_scope(output: Any, owner: Any, inputs: Sequence[Any]) -> None:
    """Note that ``owner`` (a module, say) computed ``output`` from ``inputs``.

    The recorded ops between the inputs and the output belong to ``owner``; nested calls give
    nested scopes. Nothing is recorded for an output that is not a recorded result (a constant,
    a leaf, something that is not a Tensor) or that is one of the inputs (a module that
    returned its input made nothing).

    Args:
        output: what the owner returned.
        owner: the object to cluster by (drawings use its class name and its name in the model).
        inputs: the owner's arguments; those that are Tensors mark where its part of the graph starts.
    """
    if state.tracer is not None:  # a step being recorded: its replay must check the owner's mode (train/eval)
        state.tracer.note_owner(owner)
    if output.__class__ is not Tensor and not isinstance(output, Tensor):
        return
    node = output._node
    if node is None or node.prim is None:
        return
    if len(inputs) == 1:  # the usual call, without building a generator
        first = inputs[0]
        starts = [first._node] if isinstance(first, Tensor) else []
    else:
        starts = [x._node for x in inputs if isinstance(x, Tensor)]
    if node in starts:  # recording it would tie the node to itself in a cycle
        return
    records = node.scopes
    if records is None:
        node.scopes = [(owner, starts)]
    else:
        records.append((owner, starts))
