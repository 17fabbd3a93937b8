"""W2: an MNIST-sized MLP 784-64-64-10, batch 32, ReLU, cross-entropy, Adam: overhead and BLAS both matter."""

from .mlp import mlp_workload

WORKLOAD = mlp_workload(
    key="W2",
    title="MNIST-sized MLP step",
    target=1.5,
    full=dict(sizes=(784, 64, 64, 10), batch=32, activation="relu", loss="cross_entropy", optimizer="adam", lr=1e-3),
    small=dict(sizes=(48, 16, 16, 10), batch=8, activation="relu", loss="cross_entropy", optimizer="adam", lr=1e-3),
)
