"""gradwire's performance suite: training steps timed against hand-written NumPy and PyTorch.

Run it with ``python -m benchmarks`` (``--help`` lists the options). Each workload in
`benchmarks.workloads` has three implementations of the same training step, built from one
set of initial weights: gradwire (the library under test), a hand-written NumPy forward and
backward (the baseline every ratio divides by) and PyTorch (only when ``import torch``
works; never a dependency). ``python -m benchmarks --check`` runs one step of each in
float64 and compares losses, gradients and updated parameters, so the baseline is known to
compute what gradwire computes.

Importing this package imports nothing but the standard library: the runner sets the BLAS
thread variables before NumPy is first imported.
"""
