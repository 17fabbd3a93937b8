"""gradwire's nn: modules, layers, losses and optimizers built on the autograd Tensor API."""
