"""`Module`, the base class of every layer and model, and `Parameter`, a Tensor it learns.

Assigning a `Parameter` or a `Module` to an attribute registers it (``self.fc = Linear(2, 3)``),
so `Module.parameters` can walk the whole tree, `Module.state_dict` can name every weight
(``layers.0.weight``) and `Module.train`/`Module.eval` reach every sub-module. Plain Tensors
and everything else stay ordinary attributes. `ModuleList` holds sub-modules in a list, and
`functional_call` runs a module with some parameters swapped for other tensors.
`Module.register_forward_hook` and `Module.register_forward_pre_hook` watch or change what a
module receives and returns (PyTorch's API; ``nn.watch`` uses them to see activations).

Registered parameters and modules are kept in ``_parameters``/``_modules`` *and* in the
instance ``__dict__``, so reading ``self.weight`` in a forward is a plain attribute lookup.

Imports only autograd's public Tensor API.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, record_scope


class Parameter(Tensor):
    """A Tensor that a `Module` learns: it requires grad, and assigning it to a module registers it.

    Args:
        data: the initial values (copied). Python numbers and lists become float32, a
            floating-point ndarray keeps its dtype, integer data becomes float32.
        requires_grad: False freezes the parameter (it is still registered and saved).
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data.data if isinstance(data, Tensor) else data)  # Tensor's rules: Python floats -> float32
        if self.data.dtype.kind != "f":
            self.data = self.data.astype(np.float32)
        if requires_grad:
            self.requires_grad = True

    def __repr__(self) -> str:
        frozen = "" if self.requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.shape}, dtype={self.dtype}{frozen})"


class LoadResult(NamedTuple):
    """What `Module.load_state_dict` found: keys the module has but the state lacked, and the reverse."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictKeyError(KeyError):
    """Raised by a strict `Module.load_state_dict` when keys are missing or unexpected."""

    def __str__(self) -> str:  # KeyError would show the message quoted, as if it were a key
        return str(self.args[0]) if self.args else ""


class Module:
    """Base class of layers and models: subclass it, assign parameters and sub-modules, write `forward`.

    Example::

        class Affine(Module):
            def __init__(self):
                super().__init__()
                self.scale = Parameter(np.ones(3))
                self.shift = Parameter(np.zeros(3))

            def forward(self, x):
                return x * self.scale + self.shift

    Subclasses must call ``super().__init__()`` before assigning parameters or modules.
    Assigning anything that is not a `Parameter` or `Module` (a plain Tensor, None, a
    number) to a registered name unregisters it. Modules start in training mode.

    Each call records which graph nodes the module produced (`autograd.record_scope`),
    so that `autograd.viz` can draw a model's graph clustered by module. Set
    ``Module.record_scopes = False`` to skip that bookkeeping.
    """

    training: bool
    record_scopes: bool = True  # class-wide switch for the scope records used by graph drawings

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ───────────── registration ─────────────

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        else:
            buffers = self.__dict__.get("_buffers")
            if buffers is not None and name in buffers:  # assigning to a buffer replaces its tensor, as in PyTorch
                self._buffers[name] = _as_buffer(value, f"{type(self).__name__}.{name}")
                object.__setattr__(self, name, self._buffers[name])
                return
            self._unregister(name)
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._unregister(name)
        object.__delattr__(self, name)

    def _unregister(self, name: str) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is not None:
            registry.pop(name, None)
            self.__dict__["_modules"].pop(name, None)
            self.__dict__.get("_buffers", {}).pop(name, None)  # .get: modules pickled before buffers existed
            self.__dict__.get("_non_persistent_buffers", set()).discard(name)

    def _registry(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: cannot assign a parameter or module before Module.__init__() has run "
                "(call super().__init__() first in your __init__)"
            )

    def register_parameter(self, name: str, param: Parameter) -> None:
        """Register ``param`` under ``name`` (what ``self.name = param`` does).

        Args:
            name: an attribute name without dots.
            param: the parameter.
        """
        self._registry()
        if not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter, got {type(param).__name__}")
        _check_name(name)
        self._unregister(name)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | np.ndarray | None, persistent: bool = True) -> None:
        """Register a tensor that belongs to the module's state but is not learned (running statistics, a mask).

        A buffer never requires grad and is not among `parameters`, so optimizers leave it
        alone. A persistent buffer is saved by `state_dict` and loaded by `load_state_dict`
        (after the module's own parameters, as in PyTorch); a non-persistent one (a causal mask
        rebuilt by ``__init__``) is not. Assigning ``self.name = tensor`` later replaces it.

        Args:
            name: an attribute name without dots, not already a parameter, sub-module or attribute.
            tensor: the value (an ndarray is wrapped in a Tensor), or None for a slot that is
                filled later (skipped by `state_dict`).
            persistent: include it in `state_dict`.
        """
        self._registry()
        if not isinstance(name, str):
            raise TypeError(f"register_buffer: the name must be a string, got {type(name).__name__}")
        _check_name(name)
        if name in self._parameters or name in self._modules:
            kind = "parameter" if name in self._parameters else "sub-module"
            raise KeyError(f"register_buffer: {name!r} is already a {kind} of {type(self).__name__}")
        if name not in self._buffers and name in self.__dict__:
            raise KeyError(f"register_buffer: attribute {name!r} already exists on {type(self).__name__}")
        value = _as_buffer(tensor, f"register_buffer({name!r})")
        self._buffers[name] = value
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as a sub-module under ``name`` (what ``self.name = module`` does).

        Args:
            name: an attribute name without dots (``ModuleList`` uses ``"0"``, ``"1"``, ...).
            module: the sub-module.
        """
        self._registry()
        if not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        _check_name(name)
        self._parameters.pop(name, None)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # ───────────── running ─────────────

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._has_forward_hooks:  # one lookup on the hot path: a class-level False until a hook is registered
            return self._call_with_hooks(args, kwargs)
        out = self.forward(*args, **kwargs)
        if Module.record_scopes:  # lets graph drawings cluster nodes by module (autograd.viz); the engine ignores it
            record_scope(out, self, (*args, *kwargs.values()) if kwargs else args)
        return out

    def _call_with_hooks(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """`__call__` when forward or forward-pre hooks are registered (PyTorch's order and rules)."""
        for hook, with_kwargs in tuple(self.__dict__.get("_forward_pre_hooks", {}).values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"forward pre-hook {_hook_name(hook)} of {type(self).__name__} was registered with "
                            f"with_kwargs=True: it must return None or a tuple (args, kwargs), got {result!r}"
                        )
                    args, kwargs = result
                    args = args if isinstance(args, tuple) else (args,)
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        if Module.record_scopes:
            record_scope(out, self, (*args, *kwargs.values()) if kwargs else args)
        for hook, with_kwargs in tuple(self.__dict__.get("_forward_hooks", {}).values()):
            result = hook(self, args, kwargs, out) if with_kwargs else hook(self, args, out)
            if result is not None:
                out = result
        return out

    # ───────────── hooks ─────────────

    _has_forward_hooks: bool = False  # set on an instance while it has hooks; read by __call__

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Run ``hook(module, args)`` before every `forward`; a returned value replaces the arguments.

        As in PyTorch: ``args`` is the tuple of positional arguments (keyword arguments go to
        `forward` untouched, and are not shown to the hook unless ``with_kwargs``). A hook that
        returns None leaves the arguments alone; one that returns a tuple replaces them, and
        any other value becomes the single argument. Hooks run in registration order.

        Args:
            hook: ``hook(module, args) -> None | new args``; with ``with_kwargs``,
                ``hook(module, args, kwargs) -> None | (new args, new kwargs)``.
            prepend: run this hook before the ones already registered (default: after them).
            with_kwargs: pass the keyword arguments to the hook too, and let it replace them.

        Returns:
            A `RemovableHandle`; its ``remove()`` unregisters the hook (it also works as a
            context manager that removes the hook on exit).
        """
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs, "register_forward_pre_hook")

    def register_forward_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Run ``hook(module, args, output)`` after every `forward`; a returned value replaces the output.

        As in PyTorch: ``args`` is the tuple of positional arguments `forward` received (after
        any pre-hooks changed them), ``output`` what it returned (or what an earlier forward
        hook returned instead). Hooks run in registration order, each seeing the output the
        previous one left. Use it to watch activations (``nn.watch`` does).

        Args:
            hook: ``hook(module, args, output) -> None | new output``; with ``with_kwargs``,
                ``hook(module, args, kwargs, output) -> None | new output``.
            prepend: run this hook before the ones already registered (default: after them).
            with_kwargs: pass the keyword arguments to the hook too.

        Returns:
            A `RemovableHandle`; its ``remove()`` unregisters the hook (it also works as a
            context manager that removes the hook on exit).
        """
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs, "register_forward_hook")

    def _add_hook(
        self, registry: str, hook: Callable, prepend: bool, with_kwargs: bool, caller: str
    ) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{caller}: the hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.get(registry)
        if hooks is None:  # created on first use: modules without hooks carry nothing extra
            hooks = {}
            object.__setattr__(self, registry, hooks)
        handle = RemovableHandle(self, registry)
        hooks[handle.id] = (hook, bool(with_kwargs))
        if prepend:
            hooks_in_order = {handle.id: hooks.pop(handle.id), **hooks}
            hooks.clear()
            hooks.update(hooks_in_order)
        object.__setattr__(self, "_has_forward_hooks", True)
        return handle

    def _hooks_changed(self) -> None:
        """Clear the fast-path flag once the last hook is gone."""
        if not self.__dict__.get("_forward_hooks") and not self.__dict__.get("_forward_pre_hooks"):
            self.__dict__.pop("_has_forward_hooks", None)

    # ───────────── walking the tree ─────────────

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, depth first, in assignment order.

        Args:
            prefix: prepended to every name (this module itself is named ``prefix``).
            remove_duplicate: yield a module shared by several parents only once, under its
                first name (False: under every name, as state dicts need).

        Returns:
            An iterator of ``(dotted name, module)``; this module comes first, named ``prefix``.
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module, tuple]] = [(prefix, self, ())]  # iterative: deep nesting is fine
        while stack:
            name, module, ancestors = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            elif id(module) in ancestors:  # a module containing itself: stop instead of looping forever
                continue
            yield name, module
            inside = (*ancestors, id(module)) if not remove_duplicate else ()
            children = [(f"{name}.{key}" if name else key, child, inside) for key, child in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, each once (the order of `named_modules`)."""
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) not in seen:
                seen.add(id(module))
                yield module
                stack.extend(reversed(module._modules.values()))

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-modules with their attribute names, in assignment order."""
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, in assignment order."""
        yield from self._modules.values()

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name (``layers.0.weight``).

        Each module's own parameters come first, then those of its sub-modules, in
        assignment order.

        Args:
            prefix: prepended to every name.
            recurse: include the parameters of sub-modules.
            remove_duplicate: yield a parameter shared by several modules only once, under
                its first name.

        Returns:
            An iterator of ``(dotted name, parameter)``.
        """
        seen: set[int] = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if remove_duplicate:
                    if id(param) in seen:
                        continue
                    seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each once even when shared (the order of `named_parameters`)."""
        seen: set[int] = set()
        for module in self.modules() if recurse else (self,):
            for param in module._parameters.values():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Every buffer (None slots left out) with its dotted name, in the order of `named_parameters`.

        Args:
            prefix: prepended to every name.
            recurse: include the buffers of sub-modules.
            remove_duplicate: yield a buffer shared by several modules only once.

        Returns:
            An iterator of ``(dotted name, tensor)``.
        """
        seen: set[int] = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, buffer in module.__dict__.get("_buffers", {}).items():
                if buffer is None or (remove_duplicate and id(buffer) in seen):
                    continue
                seen.add(id(buffer))
                yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer, each once (the order of `named_buffers`)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalars in the parameters (shared parameters counted once).

        Args:
            trainable_only: count only parameters that require grad.

        Returns:
            The total element count.
        """
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def get_submodule(self, target: str) -> Module:
        """The sub-module at a dotted path (``"blocks.0.attn"``; ``""`` is this module).

        Returns:
            The module.
        """
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no sub-module {part!r} (looking for {target!r})")
            module = child
        return module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module and then on this module (for custom initialisation).

        Returns:
            This module.
        """
        for child in self._modules.values():
            child.apply(fn)
        fn(self)
        return self

    # ───────────── modes and gradients ─────────────

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every sub-module.

        Returns:
            This module.
        """
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off); the same as ``train(False)``.

        Returns:
            This module.
        """
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter.

        Returns:
            This module.
        """
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter.

        Args:
            set_to_none: set ``.grad`` to None (the default, like PyTorch); False gives each
                parameter a gradient of zeros instead.
        """
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                # gradient arrays are read-only (they may be shared): replace, never write into
                param.grad = Tensor(np.zeros_like(param.data))

    # ───────────── saving and loading ─────────────

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter's and persistent buffer's values, by dotted name.

        Each module contributes its parameters, then its persistent buffers, then its
        sub-modules' entries (PyTorch's order). A parameter shared by several modules (tied
        weights) appears under each of its names, so that a model loads the same way whichever
        name it reaches it by (PyTorch does the same).

        Returns:
            A dict from name to a fresh ndarray.
        """
        return {name: tensor.data.copy() for name, tensor in self._state_tensors()}

    def _state_tensors(self) -> list[tuple[str, Tensor]]:
        """``(dotted name, tensor)`` of everything `state_dict` saves, every name of a shared tensor included."""
        entries = []
        for module_name, module in self.named_modules(remove_duplicate=False):
            dotted = f"{module_name}." if module_name else ""
            entries.extend((dotted + name, param) for name, param in module._parameters.items())
            entries.extend(
                (dotted + name, buffer)
                for name, buffer in module.__dict__.get("_buffers", {}).items()
                if buffer is not None and name not in module._non_persistent_buffers
            )
        return entries

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy values into the parameters and persistent buffers, in place, so optimizers holding them see them.

        Every check runs before anything is copied, so a failed load changes nothing.

        Args:
            state_dict: name to ndarray (or Tensor), as from `state_dict` or `nn.serialization.load`.
            strict: raise when the state lacks a parameter or has a key the module does not.

        Returns:
            A `LoadResult` with the missing and unexpected keys (both empty under ``strict``).

        Raises:
            StateDictKeyError: (a KeyError) with ``strict``, naming every missing and unexpected key.
            ValueError: when a value's shape or dtype differs from its parameter's (always checked).
        """
        own = dict(self._state_tensors())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if strict:
            raise_for_keys(f"load_state_dict for {type(self).__name__}", missing, unexpected)
        updates = []
        for name, param in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            value = value.data if isinstance(value, Tensor) else np.asarray(value)
            if value.shape != param.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: shape mismatch for {name!r}: "
                    f"the checkpoint has {value.shape}, the module's {_kind(param)} has {param.shape}"
                )
            if value.dtype != param.dtype:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: dtype mismatch for {name!r}: "
                    f"the checkpoint has {value.dtype}, the module's {_kind(param)} has {param.dtype}"
                )
            updates.append((param, value))
        for param, value in updates:
            param.data[...] = value
        return LoadResult(missing, unexpected)

    # ───────────── printing ─────────────

    def extra_repr(self) -> str:
        """The text shown inside this module's parentheses by ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = self.extra_repr().splitlines()
        for name, child in self._modules.items():
            lines.append(f"({name}): {child!r}")
        if not self._modules and len(lines) <= 1:
            return f"{type(self).__name__}({''.join(lines)})"
        body = "\n".join("  " + line for line in "\n".join(lines).splitlines())
        return f"{type(self).__name__}(\n{body}\n)"


def raise_for_keys(where: str, missing: list[str], unexpected: list[str], missing_label: str = "missing keys") -> None:
    """Raise `StateDictKeyError` naming every missing and unexpected key; nothing when both lists are empty.

    Args:
        where: the call, as the message starts (``"load_state_dict for MLP"``).
        missing: keys the receiver needs and the state lacks.
        unexpected: keys the state has and the receiver does not know.
        missing_label: how the missing keys are introduced (say whose names they are).
    """
    problems = []
    if missing:
        problems.append(f"{missing_label}: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {', '.join(unexpected)}")
    if problems:
        raise StateDictKeyError(f"{where}: {'; '.join(problems)}")


class RemovableHandle:
    """Returned by `Module.register_forward_hook` and `Module.register_forward_pre_hook` (PyTorch's name).

    ``remove()`` unregisters the hook; calling it again does nothing. ``with handle: ...``
    removes the hook when the block ends. The handle holds the module weakly, so a
    forgotten handle does not keep a model alive.

    Attributes:
        id: a number unique among handles, the hook's key in the module's registry.
    """

    _next_id = 0

    def __init__(self, module: Module, registry: str) -> None:
        self._module = weakref.ref(module)
        self._registry = registry
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Stop running the hook (a no-op when it is already removed or the module is gone)."""
        module = self._module()
        if module is None:
            return
        hooks = module.__dict__.get(self._registry)
        if hooks is not None and hooks.pop(self.id, None) is not None:
            module._hooks_changed()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def _hook_name(hook: Callable) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)


def _kind(tensor: Tensor) -> str:
    return "parameter" if isinstance(tensor, Parameter) else "buffer"


def _as_buffer(value: Any, where: str) -> Tensor | None:
    """A buffer's value as a Tensor that does not require grad (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Parameter):
        raise TypeError(f"{where}: a Parameter is learned; register it with register_parameter, not as a buffer")
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(f"{where}: a buffer must not require grad; pass tensor.detach()")
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    raise TypeError(f"{where}: a buffer is a Tensor, an ndarray or None, got {type(value).__name__}")


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(f"module attribute names must be non-empty strings without dots, got {name!r}")


class ModuleList(Module):
    """A list of sub-modules, registered as ``"0"``, ``"1"``, ... (``blocks.0.attn.qkv.weight``).

    Args:
        modules: the initial modules.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, index: int) -> str:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {n} modules")
        return str(index % n)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[self._index(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._index(index), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end.

        Returns:
            This list.
        """
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end.

        Returns:
            This list.
        """
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A ModuleList only holds modules; calling it is an error."""
        raise NotImplementedError("ModuleList has no forward: iterate over it in the owning module's forward")


class ModuleDict(Module):
    """An ordered dict of sub-modules, registered under their keys (``transformer.wte.weight``).

    Like PyTorch's ``nn.ModuleDict``: keys are strings without dots, iteration yields the
    keys in insertion order, and ``d.name`` works as well as ``d["name"]``.

    Args:
        modules: the initial modules, a mapping or an iterable of ``(key, module)`` pairs.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"ModuleDict has no module {key!r} (keys: {', '.join(self._modules) or 'none'})") from None

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict[{key!r}]: expected a Module, got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018  (raises the KeyError above for a missing key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._modules)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        """``(key, module)`` pairs, in insertion order."""
        return list(self._modules.items())

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from ``(key, module)`` pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """A ModuleDict only holds modules; calling it is an error."""
        raise NotImplementedError("ModuleDict has no forward: use its modules in the owning module's forward")


def functional_call(
    module: Module, parameters: Mapping[str, Tensor], args: Any = (), kwargs: Mapping[str, Any] | None = None
) -> Any:
    """Run ``module(*args, **kwargs)`` with some parameters replaced by other tensors, then put them back.

    Like PyTorch's ``torch.func.functional_call``: the replacements take part in the graph,
    so gradients flow to them, and the module is left exactly as it was (even if the
    forward raises). A parameter shared by several modules is replaced everywhere.

    Args:
        module: the module to run.
        parameters: dotted parameter name (as in `Module.named_parameters`) to the Tensor to use.
        args: positional arguments of the forward (a tuple, or a single non-tuple argument).
        kwargs: keyword arguments of the forward.

    Returns:
        What the forward returns.
    """
    own = dict(module.named_parameters(remove_duplicate=False))
    unknown = [name for name in parameters if name not in own]
    if unknown:
        raise KeyError(f"functional_call: {type(module).__name__} has no parameters named {', '.join(unknown)}")
    replacement = {id(own[name]): tensor for name, tensor in parameters.items()}
    swapped = []
    for owner in module.modules():
        for attr, param in owner._parameters.items():
            if id(param) in replacement:
                swapped.append((owner, attr, param))
    try:
        for owner, attr, param in swapped:
            # Write straight into the registry: __setattr__ would unregister a plain Tensor.
            owner._parameters[attr] = replacement[id(param)]
            owner.__dict__[attr] = replacement[id(param)]
        return module(*(args if isinstance(args, tuple) else (args,)), **(kwargs or {}))
    finally:
        for owner, attr, param in swapped:
            owner._parameters[attr] = param
            owner.__dict__[attr] = param
