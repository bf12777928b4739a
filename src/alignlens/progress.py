"""Progress of long work, told to whoever listens.

Library code calls `report` at its stages ("training 8 networks by PPO", 3 of 10
records); nothing happens unless a caller listens (`listening`), as the command line does
to draw progress bars. The listener is held in a context variable, so concurrent work in
threads or worker processes each reports to its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

Amount = int | float | None  # how far along a stage is (done, total), if it says
Listener = Callable[[str, Amount, Amount], None]

_listener: ContextVar[Listener | None] = ContextVar("alignlens_progress", default=None)


def report(stage: str, done: Amount = None, total: Amount = None) -> None:
    """Tell the listener, if any, which stage the work is at (and how far along it, as
    ``done`` of ``total``)."""
    listener = _listener.get()
    if listener is not None:
        listener(stage, done, total)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every `report` made inside the block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
