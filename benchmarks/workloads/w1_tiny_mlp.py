"""W1: a tiny MLP 2-16-16-1, batch 4, tanh, MSE, SGD: almost no arithmetic, so it measures per-op overhead."""

from .mlp import mlp_workload

WORKLOAD = mlp_workload(
    key="W1",
    title="tiny MLP step (overhead-bound)",
    target=2.5,
    replay_target=1.3,
    full=dict(sizes=(2, 16, 16, 1), batch=4, activation="tanh", loss="mse", optimizer="sgd", lr=0.1),
    small=dict(sizes=(2, 16, 16, 1), batch=4, activation="tanh", loss="mse", optimizer="sgd", lr=0.1),
)
