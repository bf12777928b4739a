"""How much memory a world may take: estimated from its declared sizes before anything is
allocated, and refused with the estimate and the fix when it will not fit.

The budget is half the memory available when alignlens starts (``MemAvailable`` on
Linux, else the physical memory; at most a container's memory limit and the process's
address-space limit), or what
``ALIGNLENS_MAX_MEMORY`` says (bytes, or with a K, M, G or T suffix), or what
``alignlens --max-memory SIZE`` sets for one command.
"""

from __future__ import annotations

import os
import re

from alignlens.errors import WorldError

SLOT_BYTES = 12  # one successor slot: an int32 state and a float64 probability
WORKING_COPIES = 6  # what solving takes beside the tables (values, Q, masks, copies)
STATE_BYTES = 600  # per state: its name, index maps, values (measured: 3·10⁶ time-augmented
# states of 2 actions peaked at 1.84 GiB, about 610 bytes a state with their tables)
CELL_BYTES = 400  # per gridworld cell, for parsing its levels (10⁶ cells: about 1 GiB in all)
FALLBACK = 8 * 2**30
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_budget: int | None = None


def parse_size(text: str, field: str = "--max-memory") -> int:
    """``8G``, ``512M``, ``1000000``: a number of bytes."""
    match = re.fullmatch(r"\s*(\d{1,15}(?:\.\d{1,6})?)\s*([KMGT]?)i?B?\s*", str(text), re.I)
    if not match:
        raise WorldError(
            f"{text!r} is not a size",
            field=field,
            fix="give a size such as 512M, 8G or a number of bytes",
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def set_budget(size: int | None) -> None:
    """Set the budget for this process (None: back to the default)."""
    global _budget
    _budget = size


def budget() -> int:
    """The memory a world may take, in bytes (see the module)."""
    if _budget is not None:
        return _budget
    configured = os.environ.get("ALIGNLENS_MAX_MEMORY")
    if configured:
        return parse_size(configured, "ALIGNLENS_MAX_MEMORY")
    return _available() // 2


def _available() -> int:
    """The memory this process can use: what the machine has free, and at most its own
    address-space limit (``ulimit -v``)."""
    free = _free()
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            return min(free, soft)
    except (ImportError, OSError, ValueError):
        pass
    return free


def _container_limit() -> int | None:
    """The memory limit of the process's cgroup (a container's), if it has one."""
    for name in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(name, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def _free() -> int:
    limit = _container_limit()
    free = _machine_free()
    return free if limit is None else min(free, limit)


def _machine_free() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK


def table_bytes(states: int, actions: int, successors: int) -> int:
    """The estimated memory of compiling and solving a world of this many states and
    successor slots (calibrated on measured peaks, see `STATE_BYTES`)."""
    per_state = int(actions) * int(successors) * SLOT_BYTES * WORKING_COPIES + STATE_BYTES
    return int(states) * per_state


def check_fits(estimate: int, what: str, *, field: str, fix: str, file: str | None = None) -> None:
    """Refuse work estimated at ``estimate`` bytes that exceeds the budget."""
    limit = budget()
    if estimate > limit:
        raise WorldError(
            f"{what} would take about {_size(estimate)} of memory, more than the "
            f"{_size(limit)} allowed",
            file=file,
            field=field,
            fix=f"{fix}, or allow more with --max-memory (or ALIGNLENS_MAX_MEMORY)",
        )


def _size(n: int) -> str:
    for unit in ("T", "G", "M", "K"):
        if n >= _UNITS[unit]:
            return f"{n / _UNITS[unit]:.3g} {unit}iB"
    return f"{n} bytes"
