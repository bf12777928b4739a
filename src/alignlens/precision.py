"""64-bit floating point in JAX, asked for where exact numbers need it.

JAX computes in 32 bits unless 64-bit types are enabled. The exact-gradient optimisers
(policy gradient, logistic regression) and the random worlds of a sweep need 64 bits:
their results are compared with exact solves at round-off. They run inside `float64()`,
JAX's own scoped switch, so importing or calling alignlens never changes the precision of
the rest of a JAX program. Neural networks (PPO) train inside `float32()`, so the networks
are the same whatever the caller's precision.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, ParamSpec, TypeVar

import numpy as np

P = ParamSpec("P")
T = TypeVar("T")


def float64() -> AbstractContextManager[None]:
    """A context in which JAX creates, traces and computes in 64 bits."""
    import jax

    return jax.enable_x64(True)


def in_float64(function: Callable[P, T]) -> Callable[P, T]:
    """``function``, called inside `float64()` each time (its JAX arrays and traces are
    64-bit whoever calls it)."""

    @functools.wraps(function)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> T:
        with float64():
            return function(*args, **kwargs)

    return wrapped


def as_numpy(function: Callable[P, Any]) -> Callable[P, Any]:
    """``function``, called inside `float64()` each time, its JAX arrays (a tuple of them,
    or one) returned as NumPy arrays: outside the 64-bit context, arithmetic on a 64-bit
    JAX array would silently continue in 32 bits."""

    @functools.wraps(function)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Any:
        with float64():
            out = function(*args, **kwargs)
        return tuple(np.asarray(x) for x in out) if isinstance(out, tuple) else np.asarray(out)

    return wrapped


@contextlib.contextmanager
def float32() -> Iterator[None]:
    """A context in which JAX computes in 32 bits whatever the process's settings: another
    part of a program may have switched JAX to 64 bits, which would change an optimiser's
    arithmetic (Optax's step count and schedule) and so the trained networks. Optax mixes
    its integer step count with floats, so standard dtype promotion is allowed here."""
    import jax

    with jax.enable_x64(False), jax.numpy_dtype_promotion("standard"):
        yield
