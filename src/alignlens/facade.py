"""Package facades whose names load on first use (PEP 562).

A package that re-exports names from its modules imports them when the package is
imported, and any import of one of its modules imports the package first. A facade that
reaches into modules of a higher layer would then tie the layers into a cycle; one that
loads each name on first use keeps ``import alignlens`` cheap and the import graph
acyclic, while ``from alignlens.solve import analyze_world`` works as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    namespace: dict[str, Any], where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose ``namespace`` (its globals) offers
    each name of ``where`` from the module named there."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(where[name]), name)
            namespace[name] = value  # later lookups skip this function
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*namespace, *where])

    return __getattr__, __dir__
