"""W3: a wide MLP 1024-2048-2048-10, batch 256, ReLU, cross-entropy, SGD: matrix products dominate (BLAS-bound)."""

from .mlp import mlp_workload

WORKLOAD = mlp_workload(
    key="W3",
    title="wide MLP step (BLAS-bound)",
    target=1.10,
    full=dict(
        sizes=(1024, 2048, 2048, 10), batch=256, activation="relu", loss="cross_entropy", optimizer="sgd", lr=0.01
    ),
    small=dict(sizes=(64, 128, 128, 10), batch=16, activation="relu", loss="cross_entropy", optimizer="sgd", lr=0.01),
)
