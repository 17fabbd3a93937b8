"""Tests for nn.module (Parameter, Module, ModuleList, functional_call) and nn.checks.gradcheck_module."""

import copy
import pickle

import numpy as np
import pytest

import autograd as ag
from nn.checks import gradcheck_module
from nn.module import LoadResult, Module, ModuleList, Parameter, StateDictKeyError, functional_call

# ───────────── small modules used below ─────────────


class Affine(Module):
    """y = x * scale + shift, elementwise over the last axis."""

    def __init__(self, n, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.scale = Parameter(rng.standard_normal(n).astype(np.float32))
        self.shift = Parameter(rng.standard_normal(n).astype(np.float32))

    def forward(self, x):
        return x * self.scale + self.shift


class Net(Module):
    """Two nested levels: net.inner.a, net.inner.b, plus an own parameter."""

    def __init__(self):
        super().__init__()
        self.gain = Parameter(np.array([2.0], dtype=np.float32))
        self.inner = ModuleList([Affine(3, seed=1), Affine(3, seed=2)])
        self.last = Affine(3, seed=3)

    def forward(self, x):
        for block in self.inner:
            x = block(x).tanh()
        return self.last(x) * self.gain


def fresh_input(shape=(2, 3), seed=0):
    return ag.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# ───────────── Parameter ─────────────


def test_parameter_requires_grad_and_keeps_float_dtypes():
    p = Parameter([1.0, 2.0])
    assert p.requires_grad and p.is_leaf and isinstance(p, ag.Tensor)
    assert p.dtype == np.float32
    assert Parameter(np.zeros(3)).dtype == np.float64
    assert Parameter(np.arange(3)).dtype == np.float32  # integers become float32
    assert not Parameter(np.zeros(2), requires_grad=False).requires_grad


def test_parameter_copies_its_data():
    data = np.zeros(3, dtype=np.float32)
    p = Parameter(data)
    data[0] = 5.0
    assert p.data[0] == 0.0


def test_parameter_repr():
    assert repr(Parameter(np.zeros((2, 3), dtype=np.float32))) == "Parameter(shape=(2, 3), dtype=float32)"
    frozen = Parameter(np.zeros(4), requires_grad=False)
    assert repr(frozen) == "Parameter(shape=(4,), dtype=float64, requires_grad=False)"


def test_parameter_results_are_plain_tensors():
    p = Parameter([1.0, 2.0])
    assert type(p * 2) is ag.Tensor


def test_deepcopied_parameter_receives_its_own_gradient():
    p = Parameter([1.0, 2.0])
    q = copy.deepcopy(p)
    (q * 3).sum().backward()
    assert p.grad is None
    np.testing.assert_array_equal(q.grad.data, [3.0, 3.0])
    q.data[0] = 7.0
    assert p.data[0] == 1.0


def test_deepcopied_module_is_independent():
    net = Net()
    twin = copy.deepcopy(net)
    twin(fresh_input()).sum().backward()
    assert all(p.grad is None for p in net.parameters())
    assert all(p.grad is not None for p in twin.parameters())
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in net.named_parameters()]


def test_module_pickles():
    net = Net()
    clone = pickle.loads(pickle.dumps(net))
    for (name, p), (name2, q) in zip(net.named_parameters(), clone.named_parameters()):
        assert name == name2 and q.requires_grad
        np.testing.assert_array_equal(p.data, q.data)


# ───────────── registration ─────────────


def test_assignment_registers_parameters_and_modules_in_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "gain",
        "inner.0.scale",
        "inner.0.shift",
        "inner.1.scale",
        "inner.1.shift",
        "last.scale",
        "last.shift",
    ]
    assert [n for n, _ in net.named_children()] == ["inner", "last"]
    assert list(net.children()) == [net.inner, net.last]
    assert [n for n, _ in net.named_modules()] == ["", "inner", "inner.0", "inner.1", "last"]


def test_plain_tensors_and_other_values_are_not_registered():
    m = Affine(2)
    m.buffer = ag.Tensor([1.0, 2.0], requires_grad=True)
    m.count = 3
    assert [n for n, _ in m.named_parameters()] == ["scale", "shift"]
    assert m.count == 3


def test_reassigning_and_deleting_update_registration():
    m = Affine(2)
    m.scale = ag.Tensor([1.0, 1.0])  # a plain Tensor replaces the parameter: no longer registered
    assert [n for n, _ in m.named_parameters()] == ["shift"]
    m.scale = Parameter([3.0, 4.0])
    assert [n for n, _ in m.named_parameters()] == ["shift", "scale"]
    del m.shift
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    assert not hasattr(m, "shift")
    m.sub = Affine(2)
    assert [n for n, _ in m.named_parameters()] == ["scale", "sub.scale", "sub.shift"]
    m.sub = Parameter([0.0])  # a module name reused for a parameter
    assert list(m.children()) == []
    assert [n for n, _ in m.named_parameters()] == ["scale", "sub"]
    m.sub = None
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    assert m.sub is None


def test_assigning_before_init_is_a_clear_error():
    class Broken(Module):
        def __init__(self):
            self.w = Parameter([1.0])

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_register_parameter_checks_type_and_name():
    m = Module()
    with pytest.raises(TypeError, match="must be a Parameter"):
        m.register_parameter("w", ag.Tensor([1.0]))
    with pytest.raises(KeyError, match="without dots"):
        m.register_parameter("a.b", Parameter([1.0]))
    with pytest.raises(TypeError, match="must be a Module"):
        m.add_module("x", 3)


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        Module()(1)


def test_shared_parameters_and_modules_are_listed_once():
    shared = Affine(3)
    net = Module()
    net.a = shared
    net.b = shared
    net.tied = shared.scale
    assert [n for n, _ in net.named_parameters()] == ["tied", "a.shift"]
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_modules()] == ["", "a"]
    assert net.num_parameters() == 6


def test_named_parameters_prefix_and_recurse():
    net = Net()
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["gain"]
    assert next(iter(net.named_parameters(prefix="model")))[0] == "model.gain"
    assert [n for n, _ in net.inner.named_parameters()] == ["0.scale", "0.shift", "1.scale", "1.shift"]


def test_num_parameters_counts_scalars():
    net = Net()
    assert net.num_parameters() == 1 + 3 * 6
    net.last.requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 1 + 3 * 4
    assert not net.last.scale.requires_grad


def test_get_submodule_and_apply():
    net = Net()
    assert net.get_submodule("inner.1") is net.inner[1]
    assert net.get_submodule("") is net
    with pytest.raises(AttributeError, match="no sub-module 'nope'"):
        net.get_submodule("inner.nope")
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Affine", "Affine", "ModuleList", "Affine", "Net"]


# ───────────── modes and gradients ─────────────


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.inner.train()
    assert net.inner[0].training and not net.training and not net.last.training
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_to_none_or_zeros():
    net = Net()
    net(fresh_input()).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype
        np.testing.assert_array_equal(p.grad.data, 0.0)
    net(fresh_input()).sum().backward()  # accumulates onto the zeros
    assert any(np.any(p.grad.data != 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.zero_grad(set_to_none=False)  # no gradient yet: stays None, like PyTorch
    assert all(p.grad is None for p in net.parameters())


# ───────────── state dicts ─────────────


def test_state_dict_is_ordered_copies():
    net = Net()
    state = net.state_dict()
    assert list(state) == [n for n, _ in net.named_parameters()]
    for name, p in net.named_parameters():
        assert isinstance(state[name], np.ndarray) and state[name] is not p.data
        np.testing.assert_array_equal(state[name], p.data)
    state["gain"][0] = 100.0
    assert net.gain.data[0] == 2.0


def test_state_dict_round_trip_copies_into_existing_arrays():
    source, target = Net(), Net()
    target.last.scale.data[...] = 0.0
    arrays_before = [p.data for p in target.parameters()]
    result = target.load_state_dict(source.state_dict())
    assert result == LoadResult([], [])
    for (name, p), q in zip(source.named_parameters(), target.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert all(a is p.data for a, p in zip(arrays_before, target.parameters()))  # optimizers keep seeing them
    x = fresh_input()
    np.testing.assert_array_equal(source(x).data, target(x).data)


def test_load_state_dict_accepts_tensors():
    source, target = Affine(3, seed=5), Affine(3, seed=6)
    target.load_state_dict({name: ag.Tensor(p.data) for name, p in source.named_parameters()})
    np.testing.assert_array_equal(target.scale.data, source.scale.data)


def test_shared_parameters_appear_under_every_name_in_state_dict():
    shared = Affine(2)
    net = Module()
    net.a = shared
    net.b = shared
    assert list(net.state_dict()) == ["a.scale", "a.shift", "b.scale", "b.shift"]
    state = net.state_dict()
    net.load_state_dict(state)


def test_strict_load_names_missing_and_unexpected_keys():
    net = Net()
    state = net.state_dict()
    del state["inner.1.shift"]
    state["extra.weight"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(StateDictKeyError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: inner.1.shift" in message
    assert "unexpected keys: extra.weight" in message
    assert isinstance(info.value, KeyError)


def test_non_strict_load_reports_keys_and_loads_the_rest():
    net = Net()
    state = {"gain": np.array([9.0], dtype=np.float32), "bogus": np.zeros(1)}
    before = net.last.scale.data.copy()
    result = net.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["bogus"]
    assert "last.scale" in result.missing_keys and "gain" not in result.missing_keys
    assert net.gain.data[0] == 9.0
    np.testing.assert_array_equal(net.last.scale.data, before)


def test_shape_mismatch_names_the_parameter_and_both_shapes():
    net = Net()
    state = net.state_dict()
    state["last.shift"] = np.zeros(4, dtype=np.float32)
    with pytest.raises(ValueError, match=r"shape mismatch for 'last.shift'.*\(4,\).*\(3,\)"):
        net.load_state_dict(state)
    with pytest.raises(ValueError, match="shape mismatch"):
        net.load_state_dict(state, strict=False)


def test_dtype_mismatch_names_the_parameter_and_both_dtypes():
    net = Net()
    state = net.state_dict()
    state["gain"] = state["gain"].astype(np.float64)
    with pytest.raises(ValueError, match=r"dtype mismatch for 'gain'.*float64.*float32"):
        net.load_state_dict(state)


def test_failed_load_changes_nothing():
    net = Net()
    before = net.state_dict()
    state = {name: value + 1 for name, value in before.items()}
    state["last.shift"] = np.zeros(5, dtype=np.float32)  # the last key is bad; the others must not be loaded
    with pytest.raises(ValueError):
        net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# ───────────── repr ─────────────


class Scaled(Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def extra_repr(self):
        return f"factor={self.factor}"


def test_repr_is_nested_like_pytorch():
    outer = Module()
    outer.body = ModuleList([Scaled(2), Module()])
    outer.head = Scaled(0.5)
    assert repr(outer) == (
        "Module(\n"
        "  (body): ModuleList(\n"
        "    (0): Scaled(factor=2)\n"
        "    (1): Module()\n"
        "  )\n"
        "  (head): Scaled(factor=0.5)\n"
        ")"
    )


def test_repr_with_extra_repr_and_children():
    m = Scaled(3)
    m.child = Scaled(4)
    assert repr(m) == "Scaled(\n  factor=3\n  (child): Scaled(factor=4)\n)"


# ───────────── ModuleList ─────────────


def test_module_list_indexing_and_registration():
    blocks = ModuleList([Scaled(1), Scaled(2)])
    blocks.append(Scaled(3))
    blocks.extend([Scaled(4)])
    assert len(blocks) == 4
    assert [b.factor for b in blocks] == [1, 2, 3, 4]
    assert blocks[-1].factor == 4 and blocks[1].factor == 2
    assert [b.factor for b in blocks[1:3]] == [2, 3]
    assert isinstance(blocks[1:3], ModuleList)
    assert [n for n, _ in blocks.named_children()] == ["0", "1", "2", "3"]
    blocks[0] = Scaled(10)
    assert blocks[0].factor == 10
    with pytest.raises(IndexError, match="out of range"):
        blocks[4]
    with pytest.raises(NotImplementedError):
        blocks(1)


def test_module_list_parameters_are_named_by_position():
    blocks = ModuleList([Affine(2), Affine(2)])
    assert [n for n, _ in blocks.named_parameters()] == ["0.scale", "0.shift", "1.scale", "1.shift"]


# ───────────── functional_call ─────────────


def test_functional_call_uses_replacements_and_restores():
    m = Affine(3)
    scale = ag.Tensor(np.full(3, 2.0), requires_grad=True)
    x = ag.Tensor(np.ones(3))
    out = functional_call(m, {"scale": scale}, (x,))
    np.testing.assert_allclose(out.data, 2.0 + m.shift.data)
    out.sum().backward()
    np.testing.assert_array_equal(scale.grad.data, 1.0)
    assert m.shift.grad is not None and m.scale.grad is None
    assert isinstance(m.scale, Parameter) and dict(m.named_parameters())["scale"] is m.scale


def test_functional_call_restores_after_an_error():
    class Failing(Affine):
        def forward(self, x):
            raise RuntimeError("boom")

    m = Failing(2)
    original = m.scale
    with pytest.raises(RuntimeError, match="boom"):
        functional_call(m, {"scale": ag.Tensor(np.zeros(2))}, ag.Tensor(np.zeros(2)))
    assert m.scale is original and m._parameters["scale"] is original


def test_functional_call_replaces_tied_parameters_everywhere():
    seen = []

    class Probe(Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Affine(2), Affine(2)
            self.b.scale = self.a.scale

        def forward(self):
            seen.extend([self.a.scale, self.b.scale])

    probe = Probe()
    replacement = ag.Tensor(np.array([5.0, 5.0]))
    functional_call(probe, {"a.scale": replacement})
    assert seen[0] is replacement and seen[1] is replacement
    assert probe.b.scale is probe.a.scale and isinstance(probe.a.scale, Parameter)


def test_functional_call_rejects_unknown_names():
    with pytest.raises(KeyError, match="no parameters named nope"):
        functional_call(Affine(2), {"nope": ag.Tensor([1.0])}, ag.Tensor([1.0, 1.0]))


# ───────────── gradcheck_module ─────────────


def test_gradcheck_module_passes_a_correct_module_and_leaves_it_unchanged():
    net = Net()
    net.inner[1].eval()
    before = net.state_dict()
    assert gradcheck_module(net, fresh_input())
    for name, p in net.named_parameters():
        assert p.dtype == np.float32 and p.grad is None and isinstance(p, Parameter)
        np.testing.assert_array_equal(p.data, before[name])
    assert net.training and net.inner[0].training and not net.inner[1].training


def test_gradcheck_module_checks_parameters_without_grad_inputs():
    assert gradcheck_module(Affine(4), ag.Tensor(np.random.default_rng(1).standard_normal((3, 4))))


class LeakyData(Module):
    """A planted bug: the forward reads shift through .data, so no gradient reaches it."""

    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.array([1.5, -0.5]))
        self.shift = Parameter(np.array([0.3, 0.7]))

    def forward(self, x):
        return (x * self.scale + ag.Tensor(self.shift.data)).tanh()


def test_gradcheck_module_catches_a_forward_that_leaks_data():
    x = fresh_input((3, 2))
    with pytest.raises(ag.GradcheckError, match="'shift'"):
        gradcheck_module(LeakyData(), x)
    assert gradcheck_module(LeakyData(), x, raise_exception=False) is False


def test_gradcheck_module_names_a_nested_parameter():
    class Leaky(Net):
        def forward(self, x):
            x = self.inner[0](x)
            return x * ag.Tensor(self.inner[1].shift.data) + self.last(x)

    with pytest.raises(ag.GradcheckError, match=r"'inner\.1\.shift'"):
        gradcheck_module(Leaky(), fresh_input())


def test_gradcheck_module_runs_in_eval_mode_by_default():
    class Noisy(Affine):
        def forward(self, x):
            out = x * self.scale + self.shift
            if self.training:  # random in training, like dropout
                out = out * np.random.default_rng().uniform(0.5, 1.5, size=out.shape)
            return out

    m = Noisy(3)
    assert gradcheck_module(m, fresh_input())
    assert m.training
    with pytest.raises(ag.GradcheckError):
        gradcheck_module(m, fresh_input(), eval_mode=False)


def test_gradcheck_module_with_shared_parameter():
    net = Module()
    net.a = Affine(3, seed=1)
    net.b = Affine(3, seed=2)
    net.b.scale = net.a.scale

    class Chain(Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner.b(self.inner.a(x).tanh())

    assert gradcheck_module(Chain(net), fresh_input())


def test_deep_nesting_needs_no_recursion():
    root = current = Module()
    for _ in range(3000):
        current.child = Module()
        current = current.child
    current.w = Parameter([1.0])
    names = [n for n, _ in root.named_parameters()]
    assert names == [".".join(["child"] * 3000 + ["w"])]
    assert len(list(root.modules())) == 3001
    root.eval()
    assert not current.training


def test_named_modules_can_keep_duplicates():
    shared = Affine(2)
    net = Module()
    net.a = shared
    net.b = shared
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == ["", "a", "b"]
    assert [n for n, _ in net.named_modules(prefix="top")] == ["top", "top.a"]


# ───────────── buffers ─────────────


class Normed(Module):
    """A parameter, a persistent buffer (running mean), a non-persistent one (a mask) and a child."""

    def __init__(self):
        super().__init__()
        self.weight = Parameter(np.ones(3, dtype=np.float32))
        self.register_buffer("running_mean", np.zeros(3, dtype=np.float32))
        self.register_buffer("steps", np.array(0, dtype=np.int64))
        self.register_buffer("mask", np.tril(np.ones((2, 2), dtype=bool)), persistent=False)
        self.child = Affine(3)


def test_buffers_are_state_but_not_parameters():
    m = Normed()
    assert [n for n, _ in m.named_parameters()] == ["weight", "child.scale", "child.shift"]
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "steps", "mask"]
    assert all(not b.requires_grad for b in m.buffers())
    # PyTorch's order: own parameters, own persistent buffers, then the children
    assert list(m.state_dict()) == ["weight", "running_mean", "steps", "child.scale", "child.shift"]
    assert m.state_dict()["steps"].dtype == np.int64


def test_buffer_state_dict_order_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for state_dict order")

    class TorchNormed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(3))
            self.register_buffer("running_mean", torch.zeros(3))
            self.register_buffer("steps", torch.tensor(0))
            self.register_buffer("mask", torch.ones(2, 2).tril().bool(), persistent=False)
            self.child = torch.nn.Module()
            self.child.scale = torch.nn.Parameter(torch.ones(3))
            self.child.shift = torch.nn.Parameter(torch.ones(3))

    assert list(Normed().state_dict()) == list(TorchNormed().state_dict())


def test_assigning_to_a_buffer_replaces_it_and_load_fills_it_in_place():
    m = Normed()
    m.running_mean = np.full(3, 2.0, dtype=np.float32)
    assert isinstance(m.running_mean, ag.Tensor)
    np.testing.assert_array_equal(m.state_dict()["running_mean"], [2.0, 2.0, 2.0])
    held = m.running_mean.data
    state = m.state_dict()
    state["running_mean"] = np.arange(3, dtype=np.float32)
    state["steps"] = np.array(7, dtype=np.int64)
    m.load_state_dict(state)
    assert m.running_mean.data is held  # in place, like parameters
    np.testing.assert_array_equal(held, [0.0, 1.0, 2.0])
    assert m.steps.item() == 7


def test_loading_reports_a_missing_buffer_and_checks_its_dtype():
    m = Normed()
    state = m.state_dict()
    del state["steps"]
    with pytest.raises(StateDictKeyError, match="missing keys: steps"):
        m.load_state_dict(state)
    state = m.state_dict()
    state["steps"] = np.array(1.5)
    with pytest.raises(ValueError, match="dtype mismatch for 'steps'.*the module's buffer has int64"):
        m.load_state_dict(state)


def test_a_none_buffer_is_a_slot_left_out_of_the_state():
    m = Module()
    m.register_buffer("later", None)
    assert list(m.named_buffers()) == [] and m.state_dict() == {}
    m.later = np.ones(2)
    assert [n for n, _ in m.named_buffers()] == ["later"]


def test_deleting_or_reassigning_a_buffer_unregisters_it():
    m = Normed()
    del m.running_mean
    assert "running_mean" not in m.state_dict()
    m.weight = None  # a parameter slot assigned a non-parameter is unregistered too
    assert "weight" not in m.state_dict()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m: m.register_buffer("weight", np.ones(3)), KeyError, "'weight' is already a parameter"),
        (lambda m: m.register_buffer("child", np.ones(3)), KeyError, "'child' is already a sub-module"),
        (lambda m: m.register_buffer("a.b", np.ones(3)), KeyError, "dot"),
        (lambda m: m.register_buffer("p", Parameter(np.ones(3))), TypeError, "a Parameter is learned"),
        (lambda m: m.register_buffer("p", ag.tensor([1.0], requires_grad=True)), ValueError, "must not require grad"),
        (lambda m: m.register_buffer("p", [1.0, 2.0]), TypeError, "a Tensor, an ndarray or None, got list"),
        (lambda m: setattr(m, "running_mean", 3.0), TypeError, "Normed.running_mean: a buffer is a Tensor"),
    ],
)
def test_bad_buffers_are_refused_with_a_reason(call, error, message):
    with pytest.raises(error, match=message):
        call(Normed())


def test_shared_buffers_are_listed_once():
    m = Module()
    m.a, m.b = Normed(), Normed()
    m.b.running_mean = m.a.running_mean
    names = [n for n, _ in m.named_buffers()]
    assert "a.running_mean" in names and "b.running_mean" not in names
    assert "b.running_mean" in m.state_dict()  # every name is saved, as for tied parameters


# ───────────── ModuleDict ─────────────


def test_module_dict_registers_under_its_keys_in_order():
    from nn import ModuleDict

    d = ModuleDict({"wte": Affine(2), "h": ModuleList([Affine(2, seed=1)])})
    d["ln_f"] = Affine(2, seed=2)
    assert list(d) == ["wte", "h", "ln_f"] == d.keys()
    assert d.wte is d["wte"] and "h" in d and len(d) == 3
    assert list(d.state_dict()) == ["wte.scale", "wte.shift", "h.0.scale", "h.0.shift", "ln_f.scale", "ln_f.shift"]
    del d["h"]
    assert list(d) == ["wte", "ln_f"] and "h.0.scale" not in d.state_dict()


def test_module_dict_state_dict_keys_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for state_dict keys")
    from nn import Embedding, LayerNorm, ModuleDict

    ours = ModuleDict(dict(wte=Embedding(5, 3), h=ModuleList([LayerNorm(3)]), ln_f=LayerNorm(3)))
    theirs = torch.nn.ModuleDict(
        dict(wte=torch.nn.Embedding(5, 3), h=torch.nn.ModuleList([torch.nn.LayerNorm(3)]), ln_f=torch.nn.LayerNorm(3))
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_module_dict_errors_name_the_key():
    from nn import ModuleDict

    d = ModuleDict({"a": Affine(2)})
    with pytest.raises(KeyError, match="ModuleDict has no module 'b' \\(keys: a\\)"):
        d["b"]
    with pytest.raises(TypeError, match="ModuleDict\\['c'\\]: expected a Module, got int"):
        d["c"] = 3
    with pytest.raises(KeyError, match="without dots"):
        d["x.y"] = Affine(2)
    with pytest.raises(NotImplementedError, match="ModuleDict has no forward"):
        d(ag.tensor([1.0]))


# ───────────── forward hooks ─────────────


def test_forward_hooks_run_in_pytorch_order():
    m = Affine(3)
    events = []
    m.register_forward_pre_hook(lambda mod, args: events.append("pre 1"))
    m.register_forward_pre_hook(lambda mod, args: events.append("pre 2"))
    m.register_forward_pre_hook(lambda mod, args: events.append("pre 0"), prepend=True)
    m.register_forward_hook(lambda mod, args, out: events.append("post 1"))
    m.register_forward_hook(lambda mod, args, out: events.append("post 0"), prepend=True)
    original_forward = m.forward
    m.forward = lambda x: events.append("forward") or original_forward(x)
    m(fresh_input())
    assert events == ["pre 0", "pre 1", "pre 2", "forward", "post 0", "post 1"]


def test_forward_hooks_see_the_module_its_arguments_and_its_output():
    m = Affine(3)
    seen = {}
    m.register_forward_pre_hook(lambda mod, args: seen.update(pre=(mod, args)))
    m.register_forward_hook(lambda mod, args, out: seen.update(post=(mod, args, out)))
    x = fresh_input()
    y = m(x)
    assert seen["pre"][0] is m and seen["pre"][1] == (x,) and isinstance(seen["pre"][1], tuple)
    module, args, out = seen["post"]
    assert module is m and args[0] is x and out is y


def test_a_pre_hook_can_replace_the_arguments():
    m = Affine(3)
    x = fresh_input()
    expected = (2 * x.data) * m.scale.data + m.shift.data
    handle = m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # not a tuple: the single argument
    np.testing.assert_allclose(m(x).data, expected, rtol=1e-6)
    handle.remove()
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))  # a tuple: all the arguments
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(args[0]))
    np.testing.assert_allclose(m(x).data, expected, rtol=1e-6)
    np.testing.assert_allclose(seen[0].data, 2 * x.data)  # forward hooks see the replaced arguments


def test_forward_hooks_can_replace_the_output_in_turn_and_gradients_follow():
    m = Affine(3)
    m.register_forward_hook(lambda mod, args, out: out * 3)
    m.register_forward_hook(lambda mod, args, out: None)  # None keeps what the previous hook left
    m.register_forward_hook(lambda mod, args, out: out + 1)
    x = fresh_input()
    y = m(x)
    np.testing.assert_allclose(y.data, 3 * (x.data * m.scale.data + m.shift.data) + 1, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.broadcast_to(3 * m.scale.data, x.shape), rtol=1e-6)


def test_hooks_with_kwargs_see_and_replace_keyword_arguments():
    class Scaled(Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = Scaled()
    seen = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "scale": 5.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs), with_kwargs=True)
    x = fresh_input()
    np.testing.assert_allclose(m(x, scale=2.0).data, 5 * x.data)
    assert seen == [{"scale": 5.0}]
    m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="must return None or a tuple \\(args, kwargs\\)"):
        m(x)


def test_removing_hooks_stops_them_and_restores_the_fast_path():
    m = Affine(3)
    calls = []
    pre = m.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
    post = m.register_forward_hook(lambda mod, args, out: calls.append("post"))
    assert pre.id != post.id
    m(fresh_input())
    pre.remove()
    m(fresh_input())
    post.remove()
    post.remove()  # a second remove does nothing
    m(fresh_input())
    assert calls == ["pre", "post", "post"]
    assert not m._has_forward_hooks and "_has_forward_hooks" not in m.__dict__
    with m.register_forward_hook(lambda mod, args, out: calls.append("inside")):
        m(fresh_input())
    m(fresh_input())
    assert calls == ["pre", "post", "post", "inside"] and not m._has_forward_hooks


def test_a_hook_may_remove_itself_while_running():
    m = Affine(3)
    calls = []
    handles = []
    handles.append(m.register_forward_hook(lambda mod, args, out: calls.append("once") or handles[0].remove()))
    m.register_forward_hook(lambda mod, args, out: calls.append("always"))
    m(fresh_input())
    m(fresh_input())
    assert calls == ["once", "always", "always"]


def test_hooks_on_nested_modules_fire_in_call_order():
    net = Net()
    events = []
    for name, module in net.named_modules():
        module.register_forward_pre_hook(lambda mod, args, name=name: events.append(f"pre {name or 'net'}"))
        module.register_forward_hook(lambda mod, args, out, name=name: events.append(f"post {name or 'net'}"))
    x = fresh_input()
    net(x)
    # ModuleList is never called itself: its hooks never run
    assert events == [
        "pre net",
        "pre inner.0",
        "post inner.0",
        "pre inner.1",
        "post inner.1",
        "pre last",
        "post last",
        "post net",
    ]


def test_replacing_an_inner_output_changes_the_outer_result():
    net = Net()
    x = fresh_input()
    before = net(x).data
    handle = net.last.register_forward_hook(lambda mod, args, out: out * 0)
    np.testing.assert_array_equal(net(x).data, np.zeros_like(before))
    handle.remove()
    np.testing.assert_array_equal(net(x).data, before)


def test_forward_hooks_match_pytorch_on_a_nested_model():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle for the hook order")
    from nn import Linear, ReLU, Sequential

    def record(model, events):
        for name, module in model.named_modules():
            module.register_forward_pre_hook(lambda mod, args, name=name: events.append(("pre", name, len(args))))
            module.register_forward_hook(lambda mod, args, out, name=name: events.append(("post", name, out.shape)))

    ours, theirs = [], []
    gw = Sequential(Linear(2, 3), ReLU(), Sequential(Linear(3, 1)))
    pt = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(3, 1)))
    record(gw, ours)
    record(pt, theirs)
    gw(ag.tensor(np.ones((4, 2), dtype=np.float32)))
    pt(torch.ones(4, 2))
    theirs = [(kind, name, tuple(info) if kind == "post" else info) for kind, name, info in theirs]
    assert len(ours) == 10 and ours == theirs


def test_bad_hooks_are_refused_and_handles_do_not_keep_modules_alive():
    import gc
    import weakref

    m = Affine(3)
    with pytest.raises(TypeError, match="register_forward_hook: the hook must be callable, got int"):
        m.register_forward_hook(3)
    handle = m.register_forward_hook(lambda mod, args, out: None)
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
    handle.remove()  # the module is gone: nothing to do, no error
