"""Checkpoints: `save` a state dict (or a module's) to an ``.npz`` file atomically, `load` it back safely.

The file is a standard NumPy ``.npz`` archive (``np.load`` reads it), one ``.npy`` member
per parameter, named by its dotted name. Nothing is pickled, in either direction:

- `save` writes to a temporary file beside the target, flushes and fsyncs it, then renames
  it over the target with ``os.replace`` (atomic on POSIX and Windows). If anything fails
  midway, the previous file at the path is untouched and the temporary file is removed.
- `load` reads with ``allow_pickle=False`` and accepts only archives of numeric arrays, so
  a checkpoint from an untrusted source cannot run code.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from autograd import Tensor

from .module import Module

_NUMERIC_KINDS = "biufc"  # bool, int, unsigned, float, complex


def _arrays(state: Module | Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays to write, checked: string keys, numeric values."""
    if isinstance(state, Module):
        state = state.state_dict()
    if not isinstance(state, Mapping):
        raise TypeError(f"save: expected a Module or a dict of arrays, got {type(state).__name__}")
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save: keys must be non-empty strings, got {name!r}")
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"save: {name!r} has dtype {array.dtype}; checkpoints hold numeric arrays only")
        arrays[name] = array
    return arrays


def _write_npz(file: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` archive (what ``np.savez`` writes), never pickling.

    Written member by member rather than with ``np.savez(file, **arrays)``, whose own
    keyword arguments (``file``, ``allow_pickle``) would clash with parameters of those names.
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _open_temporary(directory: str, base: str) -> tuple[int, str]:
    """Create a new hidden file beside the target; created with mode 0o666 so the umask applies as usual."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        path = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(state: Module | Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a state dict (or ``module.state_dict()``) to ``path`` as an ``.npz`` archive, atomically.

    The path is used exactly as given (no ``.npz`` is appended). Either the whole new file
    appears at ``path`` or, on any error, the previous file there stays as it was.

    Args:
        state: a `Module`, or a dict from name to ndarray/Tensor of a numeric dtype.
        path: where to write.
    """
    arrays = _arrays(state)
    path = os.fspath(path)
    directory, base = os.path.split(os.path.abspath(path))
    fd, temporary = _open_temporary(directory, base)
    try:
        with os.fdopen(fd, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a checkpoint written by `save` (or any ``.npz`` of numeric arrays), without unpickling.

    Args:
        path: the file.

    Returns:
        A dict from name to ndarray, in the file's order; pass it to `Module.load_state_dict`.

    Raises:
        FileNotFoundError: when there is no file at ``path``.
        ValueError: naming the path, when the file is not an ``.npz`` archive, or holds
            pickled objects or non-numeric arrays.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no checkpoint at {path!r}")
    try:
        contents = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        with open(path, "rb") as file:
            pickled = file.read(1) == b"\x80"  # the first byte of every pickle (protocol 2 and later)
        reason = (
            "it holds pickled Python objects, which are never loaded"
            if pickled
            else ("it is neither a .npz archive nor a .npy array" if "pickle" in str(error) else str(error))
        )
        raise ValueError(f"load: {path!r} is not a checkpoint (.npz archive of arrays): {reason}") from None
    if not isinstance(contents, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {path!r} is a single .npy array, not a checkpoint (.npz archive of named arrays)")
    state = {}
    with contents:
        for name in contents.files:
            try:
                array = contents[name]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
                raise ValueError(f"load: {path!r}: entry {name!r} cannot be read safely: {error}") from None
            if not isinstance(array, np.ndarray):  # a zip member that is not a .npy file comes back as bytes
                raise ValueError(f"load: {path!r}: entry {name!r} is not a NumPy array; this is not a checkpoint")
            if array.dtype.kind not in _NUMERIC_KINDS:
                raise ValueError(
                    f"load: {path!r}: entry {name!r} has dtype {array.dtype}; checkpoints hold numeric arrays only"
                )
            state[name] = array
    return state
