"""Optimisers: the exhaustive (perfect) one, and imperfect ones with a budget."""

from alignlens.optimizers.exhaustive import ExhaustiveResult, exhaustive
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, policy_gradient
from alignlens.optimizers.result import Trace, TrainingResult

__all__ = [
    "ExhaustiveResult",
    "PolicyGradientConfig",
    "Trace",
    "TrainingResult",
    "exhaustive",
    "policy_gradient",
]
