"""Checkpoints: `save` a state dict (or a module's) atomically, `load` it back safely, as ``.npz`` or ``.safetensors``.

The file's extension chooses the format, for writing and for reading alike:

- ``.npz``: a standard NumPy archive (``np.load`` reads it), one ``.npy`` member per
  parameter, named by its dotted name. Read with ``allow_pickle=False``.
- ``.safetensors``: the Hugging Face safetensors format (``safetensors.torch.load_file``
  reads it straight into PyTorch tensors, so weights move to PyTorch and back). It needs
  the optional ``safetensors`` package (``pip install 'gradwire[safetensors]'``), and
  can carry string metadata in its header (`save`'s ``metadata``, read by `load_metadata`).

Any other extension is a ``ValueError``. Nothing is pickled, in either direction:

- `save` writes to a temporary file beside the target, flushes and fsyncs it, then renames
  it over the target with ``os.replace`` (atomic on POSIX and Windows). If anything fails
  midway, the previous file at the path is untouched and the temporary file is removed.
- `load` accepts only files of numeric arrays, so a checkpoint from an untrusted source
  cannot run code.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import zipfile
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import IO, Any

import numpy as np

from autograd import Tensor

from .module import Module

_NUMERIC_KINDS = "biufc"  # bool, int, unsigned, float, complex
_FORMATS = {".npz": "npz", ".safetensors": "safetensors"}
_SUPPORTED = ".npz or .safetensors"
_EXTRA_HINT = "pip install 'gradwire[safetensors]'"
# NumPy dtypes a .safetensors file can hold, by their names in its header.
_SAFETENSORS_DTYPES = {
    "BOOL": np.dtype(bool),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
    "C64": np.dtype(np.complex64),
}


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


def _format(path: str, function: str) -> str:
    """``"npz"`` or ``"safetensors"``, from the extension of ``path`` (ValueError for any other)."""
    extension = os.path.splitext(path)[1]
    if extension.lower() in _FORMATS:
        return _FORMATS[extension.lower()]
    got = f"extension {extension!r}" if extension else "no extension"
    raise ValueError(
        f"{function}: cannot tell the checkpoint format of {path!r} ({got}); "
        f"the path must end in {_SUPPORTED} (NumPy archive or safetensors file)"
    )


def _safetensors(function: str) -> ModuleType:
    """The ``safetensors`` package (its NumPy API imported too), or an ImportError naming the extra."""
    try:
        importlib.import_module("safetensors.numpy")
        return importlib.import_module("safetensors")
    except ImportError as error:
        raise ImportError(
            f"{function}: .safetensors files need the optional safetensors package, which is not installed; "
            f"install it with: {_EXTRA_HINT}"
        ) from error


def _metadata_strings(metadata: Mapping[str, Any]) -> dict[str, str]:
    """``metadata`` as the str -> str dict a safetensors header holds: non-str values JSON-encoded."""
    if not isinstance(metadata, Mapping):
        raise TypeError(
            f"save: metadata must be a dict from str to str (or JSON-encodable), got {type(metadata).__name__}"
        )
    strings = {}
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise TypeError(f"save: metadata keys must be strings, got {key!r}")
        if isinstance(value, str):
            strings[key] = value
            continue
        try:
            strings[key] = json.dumps(value)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"save: metadata[{key!r}] is a {type(value).__name__}, "
                f"which is neither a str nor JSON-encodable ({error})"
            ) from None
    return strings


def _safetensors_bytes(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, Any] | None) -> bytes:
    """The whole ``.safetensors`` file for ``arrays``, every check made before any byte is written."""
    header = None if metadata is None else _metadata_strings(metadata)
    st = _safetensors("save")
    tensors = {}
    for name, array in arrays.items():
        if name == "__metadata__":
            raise ValueError("save: '__metadata__' cannot name an array in a .safetensors file (the header uses it)")
        if array.dtype.newbyteorder("=") not in _SAFETENSORS_DTYPES.values():
            raise TypeError(
                f"save: {name!r} has dtype {array.dtype}, which a .safetensors file cannot hold "
                f"(it holds {', '.join(str(d) for d in _SAFETENSORS_DTYPES.values())}); save it as .npz, or convert it"
            )
        # safetensors.numpy copies raw memory: hand it C-ordered, little-endian arrays only.
        tensors[name] = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")  # keeps 0-d arrays 0-d
    return st.numpy.save(tensors, metadata=header)


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


def _write_atomically(path: str, write: Callable[[IO[bytes]], Any]) -> None:
    """Run ``write`` on a temporary file beside ``path``, fsync it, and rename it over ``path``.

    On any error the temporary file is removed and ``path`` keeps its previous contents.
    """
    directory, base = os.path.split(os.path.abspath(path))
    fd, temporary = _open_temporary(directory, base)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
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


def save(
    state: Module | Mapping[str, Any], path: str | os.PathLike, *, metadata: Mapping[str, Any] | None = None
) -> None:
    """Write a state dict (or ``module.state_dict()``) to ``path``, atomically, in the format its extension names.

    ``.npz`` writes a NumPy archive; ``.safetensors`` a safetensors file (needs
    ``pip install 'gradwire[safetensors]'``), which PyTorch reads with
    ``safetensors.torch.load_file``. The path is used exactly as given. Either the whole
    new file appears at ``path`` or, on any error, the previous file there stays as it was.

    Args:
        state: a `Module`, or a dict from name to ndarray/Tensor of a numeric dtype
            (``.safetensors`` holds bool, (u)int8-64, float16/32/64 and complex64; not complex128).
        path: where to write; it must end in ``.npz`` or ``.safetensors``.
        metadata: only for ``.safetensors``: a dict from str to str stored in the file's header
            (read back with `load_metadata`). Values that are not strings are stored
            JSON-encoded (``{"config": {"n_layer": 2}}`` stores ``'{"n_layer": 2}'``; pass a
            dataclass config as ``dataclasses.asdict(config)``).

    Raises:
        ValueError: when the extension is neither ``.npz`` nor ``.safetensors``, or ``metadata``
            is given for a ``.npz`` file.
        TypeError: naming the key, for a non-string key, a non-numeric array, an array dtype
            the format cannot hold, or metadata that is neither a str nor JSON-encodable.
        ImportError: for ``.safetensors`` when the safetensors package is not installed.
    """
    path = os.fspath(path)
    kind = _format(path, "save")
    arrays = _arrays(state)
    if kind == "safetensors":
        payload = _safetensors_bytes(arrays, metadata)
        _write_atomically(path, lambda file: file.write(payload))
        return
    if metadata is not None:
        raise ValueError(f"save: metadata is stored only in .safetensors files, and {path!r} is a .npz archive")
    _write_atomically(path, lambda file: _write_npz(file, arrays))


def _sniff(path: str) -> str:
    """What the file's first bytes say it is: ``"pickle"``, ``"npy"``, ``"zip"``, ``"safetensors"`` or ``""``."""
    with open(path, "rb") as file:
        head = file.read(9)
    if head[:1] == b"\x80":  # the first byte of every pickle (protocol 2 and later)
        return "pickle"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if len(head) == 9 and head[8:9] == b"{":  # an 8-byte header length, then the JSON header
        return "safetensors"
    return ""


def _content_reason(path: str, fallback: str) -> str:
    """Why a file is not what its extension says, from its first bytes (``fallback`` when they say nothing)."""
    kind = _sniff(path)
    if kind == "pickle":
        return "it holds pickled Python objects, which are never loaded"
    if kind == "zip" and path.lower().endswith(".safetensors"):
        return "it looks like a .npz archive: rename it to end in .npz"
    if kind == "safetensors" and path.lower().endswith(".npz"):
        return "it looks like a .safetensors file: rename it to end in .safetensors"
    return fallback


def _unknown_extension(path: str, function: str) -> ValueError:
    """The error for reading a file whose extension names no format, saying what the file looks like."""
    extension = os.path.splitext(path)[1]
    supported = f"{function} reads files ending in {_SUPPORTED}"
    kind = _sniff(path)
    if kind == "pickle":
        reason = (
            "is not a checkpoint (.npz archive of arrays): it holds pickled Python objects, "
            f"which are never loaded; {supported}"
        )
    elif kind == "npy":
        reason = f"is a single .npy array, not a checkpoint (.npz archive of named arrays); {supported}"
    elif kind in ("zip", "safetensors"):
        suffix = ".npz" if kind == "zip" else ".safetensors"
        reason = (
            f"looks like a {suffix} file, but {function} chooses the format by its extension: "
            f"rename it to end in {suffix}"
        )
    else:
        got = f"its extension is {extension!r}" if extension else "it has no extension"
        reason = f"is not a checkpoint (.npz archive of arrays) or a .safetensors file: {got}; {supported}"
    return ValueError(f"{function}: {path!r} {reason}")


def _checked(path: str | os.PathLike, function: str) -> tuple[str, str]:
    """``path`` as a str, checked to name a file, and its format (``"npz"`` or ``"safetensors"``)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{function}: no checkpoint at {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"{function}: {path!r} is a directory, not a checkpoint file")
    try:
        return path, _format(path, function)
    except ValueError:
        raise _unknown_extension(path, function) from None


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a checkpoint written by `save` (or any ``.npz``/``.safetensors`` file of numeric arrays), never unpickling.

    Args:
        path: the file; ``.npz`` or ``.safetensors`` (needs the safetensors package), by extension.

    Returns:
        A dict from name to ndarray; pass it to `Module.load_state_dict`, which checks every
        shape and dtype. ``.npz`` entries come in the file's order, ``.safetensors`` ones
        sorted by name (the format keeps no order).

    Raises:
        FileNotFoundError: when there is no file at ``path``.
        ValueError: naming the path, for an extension other than ``.npz``/``.safetensors``, or a
            file that is not what its extension says, holds pickled objects or non-numeric
            arrays, or (``.safetensors``) holds a dtype NumPy lacks, such as bfloat16.
        ImportError: for ``.safetensors`` when the safetensors package is not installed.
    """
    path, kind = _checked(path, "load")
    return _load_safetensors(path) if kind == "safetensors" else _load_npz(path)


def _load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        contents = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        fallback = "it is neither a .npz archive nor a .npy array" if "pickle" in str(error) else str(error)
        reason = _content_reason(path, fallback)
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


def _open_safetensors(path: str, function: str) -> Any:
    """``safetensors.safe_open(path, framework="np")``, with a ValueError naming the path for a bad file."""
    st = _safetensors(function)
    try:
        return st.safe_open(path, framework="np")
    except (st.SafetensorError, OSError, ValueError) as error:
        reason = _content_reason(path, str(error))
        raise ValueError(f"{function}: {path!r} is not a .safetensors file: {reason}") from None


def _load_safetensors(path: str) -> dict[str, np.ndarray]:
    state = {}
    with _open_safetensors(path, "load") as file:
        for name in file.keys():
            dtype = file.get_slice(name).get_dtype()
            if dtype not in _SAFETENSORS_DTYPES:
                raise ValueError(
                    f"load: {path!r}: entry {name!r} has dtype {dtype}, which NumPy cannot hold; "
                    "convert it before saving (in PyTorch: {k: v.float() for k, v in state_dict.items()})"
                )
            state[name] = np.array(file.get_tensor(name))  # a writable array that owns its memory
    return state


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The string metadata in a checkpoint's header, as passed to ``save(..., metadata=...)``.

    Like ``safetensors.safe_open(path, "np").metadata()``, but an empty dict when there is none.
    Values come back as stored: decode JSON-encoded ones with ``json.loads``.

    Args:
        path: a ``.safetensors`` file (or a ``.npz`` one, which holds no metadata: ``{}``).

    Returns:
        A dict from str to str.

    Raises:
        FileNotFoundError: when there is no file at ``path``.
        ValueError: naming the path, for an unsupported extension or a file that is not a
            ``.safetensors`` file.
        ImportError: for ``.safetensors`` when the safetensors package is not installed.
    """
    path, kind = _checked(path, "load_metadata")
    if kind == "npz":
        return {}
    with _open_safetensors(path, "load_metadata") as file:
        return dict(file.metadata() or {})
