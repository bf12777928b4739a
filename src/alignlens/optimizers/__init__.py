"""Optimisers: the exhaustive (perfect) one now; imperfect ones follow."""

from alignlens.optimizers.exhaustive import ExhaustiveResult, exhaustive

__all__ = ["ExhaustiveResult", "exhaustive"]
