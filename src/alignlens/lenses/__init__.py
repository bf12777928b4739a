"""The lenses: one definition each, a small pure function from an Analysis to a Verdict.

`registry` lists every lens (built in, then registered by other packages); `protocol`
says what a lens is, for those who write one.
"""

from __future__ import annotations

from alignlens.lenses.hubinger import hubinger
from alignlens.lenses.ngo import ngo
from alignlens.lenses.protocol import Lens, LensCard, LensDef
from alignlens.lenses.registry import apply_lenses, lens_names, lens_registry, lenses
from alignlens.lenses.shah import shah
from alignlens.lenses.shah_safety import shah_safety
from alignlens.lenses.shimi import shimi
from alignlens.lenses.two_d import two_d
from alignlens.lenses.verdict import (
    Category,
    Condition,
    Verdict,
    all_at_most,
    at_least,
    at_most,
    some_at_most,
)
from alignlens.lenses.wentworth import wentworth
from alignlens.lenses.wentworth_split import wentworth_split

__all__ = [
    "Category",
    "Condition",
    "Lens",
    "LensCard",
    "LensDef",
    "Verdict",
    "all_at_most",
    "apply_lenses",
    "at_least",
    "at_most",
    "hubinger",
    "lens_names",
    "lens_registry",
    "lenses",
    "ngo",
    "shah",
    "shah_safety",
    "shimi",
    "some_at_most",
    "two_d",
    "wentworth",
    "wentworth_split",
]
