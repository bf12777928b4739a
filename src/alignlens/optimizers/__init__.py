"""Optimisers: the exhaustive (perfect) one, and imperfect ones with a budget."""

from alignlens.optimizers.exhaustive import ExhaustiveResult, exhaustive
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, policy_gradient
from alignlens.optimizers.q_learning import QLearningConfig, q_learning
from alignlens.optimizers.result import Trace, TrainingResult

__all__ = [
    "ExhaustiveResult",
    "PolicyGradientConfig",
    "QLearningConfig",
    "Trace",
    "TrainingResult",
    "exhaustive",
    "policy_gradient",
    "q_learning",
]
