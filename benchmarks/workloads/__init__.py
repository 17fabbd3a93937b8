"""The workloads, in report order: `WORKLOADS` maps each key (``"W1"`` ... ``"W7"``) to its `Workload`.

Each module defines ``WORKLOAD`` with its NumPy, gradwire and PyTorch implementations;
W1-W3 are configs of the shared MLP step in `mlp`.
"""

from __future__ import annotations

from ..common import Workload
from . import (
    w1_tiny_mlp,
    w2_mnist_mlp,
    w3_wide_mlp,
    w4_transformer_block,
    w5_minigpt,
    w6_elementwise_chain,
    w7_conv_net,
)

WORKLOADS: dict[str, Workload] = {
    module.WORKLOAD.key: module.WORKLOAD
    for module in (
        w1_tiny_mlp,
        w2_mnist_mlp,
        w3_wide_mlp,
        w4_transformer_block,
        w5_minigpt,
        w6_elementwise_chain,
        w7_conv_net,
    )
}
