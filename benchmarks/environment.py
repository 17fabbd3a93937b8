"""Thread limits and a description of the machine, BLAS and libraries a benchmark ran on.

BLAS libraries read their thread count from the environment when they are loaded, so
`set_thread_env` must run before NumPy (or torch) is first imported; `limit_threads` then
enforces the limit at run time as well (with threadpoolctl when it is installed, otherwise
through OpenBLAS's own ``set_num_threads`` found with ctypes), which also covers a process
that imported NumPy earlier (a test, say).

Imports only the standard library at module level.
"""

from __future__ import annotations

import ctypes
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
# Variables that change which kernels OpenBLAS picks; recorded with every result.
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_VERBOSE", "MKL_DEBUG_CPU_TYPE")

_limiter: Any = None  # keeps a threadpoolctl limit alive for the life of the process


def set_thread_env(threads: int) -> None:
    """Set the usual BLAS/OpenMP thread variables (takes effect for libraries loaded afterwards)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def _openblas_libraries() -> list[str]:
    """Paths of the OpenBLAS shared libraries loaded in this process (from /proc/self/maps)."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    paths = []
    for line in lines:
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if "openblas" in Path(path).name.lower() and path not in paths:
            paths.append(path)
    return paths


def _openblas_function(lib: ctypes.CDLL, name: str) -> Any:
    """``openblas_<name>`` under the prefixes and suffixes that NumPy's and SciPy's builds use, or None."""
    for prefix in ("openblas_", "scipy_openblas_"):
        for suffix in ("", "64_", "_64_"):
            try:
                return getattr(lib, f"{prefix}{name}{suffix}")
            except AttributeError:
                continue
    return None


def _openblas_ctypes_info() -> list[dict[str, Any]]:
    """What threadpoolctl would say about the loaded OpenBLAS libraries, read with ctypes."""
    info = []
    for path in _openblas_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        entry: dict[str, Any] = {"internal_api": "openblas", "filepath": path, "source": "ctypes"}
        for key, name, restype in (
            ("architecture", "get_corename", ctypes.c_char_p),
            ("config", "get_config", ctypes.c_char_p),
            ("num_threads", "get_num_threads", ctypes.c_int),
        ):
            function = _openblas_function(lib, name)
            if function is not None:
                function.restype = restype
                value = function()
                entry[key] = value.decode() if isinstance(value, bytes) else value
        info.append(entry)
    return info


def limit_threads(threads: int) -> str:
    """Limit the BLAS/OpenMP pools of this process to ``threads``; return how it was done."""
    global _limiter
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        _limiter = threadpool_limits(limits=threads)
        return "threadpoolctl"
    done = False
    for path in _openblas_libraries():
        try:
            function = _openblas_function(ctypes.CDLL(path), "set_num_threads")
        except OSError:
            continue
        if function is not None:
            function.argtypes = [ctypes.c_int]
            function(threads)
            done = True
    return "environment variables + openblas_set_num_threads (ctypes)" if done else "environment variables"


# glibc's mallopt parameters (malloc.h) and the values `pin_allocator` sets.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
PINNED_ALLOCATOR = {"M_MMAP_THRESHOLD": 32 * 2**20, "M_TRIM_THRESHOLD": 2**30, "M_TOP_PAD": 64 * 2**20}


def pin_allocator() -> str:
    """Keep freed memory in the process (glibc only), so a step's timing does not depend on the allocator's history.

    By default glibc hands large freed blocks back to the OS (``munmap``, heap trimming) and
    maps them again on the next step: thousands of page faults a step for code that allocates
    its temporaries (gradwire, PyTorch), none for the NumPy floor (which allocates nothing),
    and how many depends on what ran before in the process (W7: 1.20 after W3, 2.01 alone).
    Blocks up to 32 MiB now come from the heap, which is trimmed only past 1 GiB free. Every
    implementation of a run shares the setting. Returns a description for the report.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "default (not glibc)"
    codes = {"M_MMAP_THRESHOLD": _M_MMAP_THRESHOLD, "M_TRIM_THRESHOLD": _M_TRIM_THRESHOLD, "M_TOP_PAD": _M_TOP_PAD}
    done = [f"{name}={value}" for name, value in PINNED_ALLOCATOR.items() if mallopt(codes[name], value) == 1]
    return "glibc mallopt " + ", ".join(done) if done else "default (mallopt refused)"


def blas_info() -> list[dict[str, Any]]:
    """The thread pools loaded in this process: threadpoolctl's ``threadpool_info()``, else an OpenBLAS probe."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return _openblas_ctypes_info()
    return [dict(entry, source="threadpoolctl") for entry in threadpool_info()]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_revision() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def describe(threads: int, thread_method: str, torch_version: str | None) -> dict[str, Any]:
    """Everything about this run's machine and libraries that a result depends on (for the JSON file)."""
    import numpy as np

    try:
        numpy_blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # show_config's layout is not a stable API
        numpy_blas = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numpy": np.__version__,
        "numpy_blas_build": numpy_blas,
        "blas_runtime": blas_info(),
        "threads": threads,
        "thread_limit_method": thread_method,
        "thread_env": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "blas_env": {name: os.environ.get(name) for name in BLAS_VARIABLES},
        "torch": torch_version,
        "gradwire_revision": _git_revision(),
    }


def blas_summary(info: list[dict[str, Any]]) -> str:
    """One line naming each BLAS pool's library, version, kernel (core type) and threads."""
    parts = []
    for entry in info:
        if entry.get("internal_api") == "openmp" or entry.get("user_api") == "openmp":
            continue
        name = entry.get("internal_api", "?")
        version = entry.get("version") or (entry.get("config") or "").split(" ")[1:2]
        version = version if isinstance(version, str) else "".join(version)
        kernel = entry.get("architecture") or "?"
        parts.append(f"{name} {version} kernel={kernel} threads={entry.get('num_threads', '?')}")
    return "; ".join(parts) or "no BLAS pool found"
