"""Where the command line keeps compiled programs between runs.

JAX's persistent compilation cache and Numba's cache live in one user cache folder
(``$XDG_CACHE_HOME/alignlens``, by default ``~/.cache/alignlens``), so the second run of a
command loads the programs the first one compiled instead of compiling them again. The
settings are environment variables read when JAX and Numba are first imported; a value
the user has set already is left alone.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder() -> Path:
    """The user cache folder of alignlens."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "alignlens"


def use_persistent_caches() -> None:
    """Point JAX's and Numba's caches at the user cache folder (before either is imported).
    JAX keeps every program, however quick it was to compile: the small ones add up at
    start-up."""
    folder = cache_folder()
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(folder / "jax"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    os.environ.setdefault("NUMBA_CACHE_DIR", str(folder / "numba"))
