"""gradwire's nn: modules, layers, a mini Transformer, losses, optimizers, data and training.

Everything here is built from the public `autograd` Tensor API.

    import nn
    model = nn.MLP([2, 16, 1], activation="tanh")
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    loss = nn.functional.mse_loss(model(x), y)

Submodules: `nn.functional` (also as ``nn.F``), `nn.init`, `nn.optim`, `nn.lr_scheduler`,
`nn.data`, `nn.datasets`, `nn.train`, `nn.tasks`, `nn.transformer`, `nn.serialization`,
`nn.convert` (state-dict names between `MiniGPT` and nanoGPT / GPT-2).

`nn.SummaryWriter` (in `nn.tensorboard`) writes TensorBoard logs, as PyTorch's; it needs the
optional extra ``pip install 'gradwire[tensorboard]'``, loaded on first use: ``import nn`` does
not import ``tensorboard``.
"""

from typing import Any

from . import data, datasets, functional, init, lr_scheduler, optim, tasks, train
from . import functional as F
from .checks import gradcheck_module
from .conv import AvgPool2d, Conv1d, Conv2d, Flatten, MaxPool2d
from .convert import minigpt_to_nanogpt, nanogpt_to_minigpt
from .data import ArrayDataset, DataLoader, random_split, train_test_split, train_val_split
from .diagnostics import GradientFlowWarning, GradientMonitor, watch
from .layers import GELU, MLP, Dropout, Embedding, LayerNorm, Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import LoadResult, Module, ModuleDict, ModuleList, Parameter, StateDictKeyError, functional_call
from .normalization import BatchNorm1d, BatchNorm2d
from .random import default_rng, manual_seed
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .serialization import load, load_metadata, save
from .train import History, accuracy, evaluate, fit, predict, r2_score
from .transformer import FeedForward, GPTConfig, MiniGPT, MultiHeadAttention, TransformerBlock

__all__ = [
    "GELU",
    "GRU",
    "LSTM",
    "MLP",
    "RNN",
    "ArrayDataset",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "DataLoader",
    "Dropout",
    "Embedding",
    "F",
    "FeedForward",
    "Flatten",
    "GPTConfig",
    "GRUCell",
    "GradientFlowWarning",
    "GradientMonitor",
    "History",
    "LSTMCell",
    "LayerNorm",
    "Linear",
    "LoadResult",
    "MaxPool2d",
    "MiniGPT",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiHeadAttention",
    "Parameter",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StateDictKeyError",
    "SummaryWriter",
    "Tanh",
    "TransformerBlock",
    "accuracy",
    "data",
    "datasets",
    "default_rng",
    "evaluate",
    "fit",
    "functional",
    "functional_call",
    "gradcheck_module",
    "init",
    "load",
    "load_metadata",
    "lr_scheduler",
    "manual_seed",
    "minigpt_to_nanogpt",
    "nanogpt_to_minigpt",
    "optim",
    "predict",
    "r2_score",
    "random_split",
    "save",
    "tasks",
    "train",
    "train_test_split",
    "train_val_split",
    "watch",
]


def __getattr__(name: str) -> Any:
    # nn.SummaryWriter needs the optional tensorboard package: load nn.tensorboard on first use only.
    if name == "SummaryWriter":
        from .tensorboard import SummaryWriter

        return SummaryWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
