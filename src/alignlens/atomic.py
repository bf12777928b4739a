"""Atomic writes of the files people share (reports, exports).

A file is written to a temporary file in the same folder, flushed to disk, given the
permissions a plain ``open(path, "w")`` would give (0o666 less the umask, not the 0o600
of a temporary file) and renamed over the target. A reader never sees half a file, and
a write that fails leaves neither the file nor the temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from alignlens.errors import AlignlensError


def check_writable(path: str | Path, option: str) -> Path:
    """Refuse, before any work is done, an output path that cannot be written: a folder,
    a file in a missing folder, or one in a folder (or over a file) without write access."""
    out = Path(path)
    if out.is_dir():
        raise AlignlensError(
            f"{str(out)!r} is a folder", field=option, fix="give the path of a file to write"
        )
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise AlignlensError(
            f"the folder {str(parent)!r} does not exist",
            field=option,
            fix="write the file into an existing folder",
        )
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise AlignlensError(
            f"cannot write {str(out)!r} (no permission)",
            field=option,
            fix="write the file into a folder you can write to",
        )
    return out


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open ``path`` for writing (``mode`` "w" or "wb", ``kwargs`` as for `open`); the file
    appears at ``path`` only when the ``with`` block ends without an exception."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    out = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    except FileNotFoundError:
        raise AlignlensError(
            f"the folder {str(out.parent)!r} does not exist",
            file=str(out),
            fix="write the file into an existing folder",
        ) from None
    except OSError as error:
        raise AlignlensError(
            f"cannot write in the folder {str(out.parent)!r} ({error.strerror or error})",
            file=str(out),
            fix="write the file into a folder you can write to",
        ) from None
    try:
        with os.fdopen(handle, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            _set_mode(f.fileno(), temporary, 0o666 & ~current_umask())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return Path(path)


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)  # set and restore at once; 0o077 is safe if another thread writes
    os.umask(mask)
    return mask


def _set_mode(fd: int, path: str, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # pragma: no cover - Windows before Python 3.13
        os.chmod(path, mode)
