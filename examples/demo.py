"""Demo: build a small expression graph, run backward, and print every gradient.

Run with ``make demo``.
"""

import numpy as np

import autograd as ag


def main() -> None:
    """Differentiate a small neuron-like expression and check one gradient by finite differences."""
    x = ag.tensor([[1.0, -2.0, 3.0]], requires_grad=True, name="x")
    w = ag.tensor([[0.5], [-1.0], [0.25]], requires_grad=True, name="w")
    b = ag.tensor([0.1], requires_grad=True, name="b")

    y = (x @ w + b).tanh()
    loss = (y * y).sum()
    loss.backward()

    print("loss    =", loss)
    print("dl/dx   =", x.grad)
    print("dl/dw   =", w.grad.numpy().ravel())
    print("dl/db   =", b.grad)

    # The same gradient for b by central differences, in float64.
    def f(bias: float) -> float:
        z = np.tanh(x.data.astype(np.float64) @ w.data.astype(np.float64) + bias)
        return float((z * z).sum())

    eps = 1e-6
    numeric = (f(0.1 + eps) - f(0.1 - eps)) / (2 * eps)
    print(f"finite differences agree on dl/db: {numeric:.6f}")
    print(
        "gradcheck(tanh(x @ w + b)) passes:",
        ag.gradcheck(lambda x, w, b: (x @ w + b).tanh(), (x.double(), w.double(), b.double())),
    )


if __name__ == "__main__":
    main()
