"""Optimisers: the exhaustive (perfect) one, and imperfect ones with a budget."""

from alignlens.learned import Learned, Population, Trace
from alignlens.optimizers.evolution import EvolutionConfig, evolution
from alignlens.optimizers.exhaustive import ExhaustiveResult, exhaustive
from alignlens.optimizers.gradient_descent import GradientDescentConfig, gradient_descent
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, policy_gradient
from alignlens.optimizers.q_learning import QLearningConfig, q_learning

__all__ = [
    "EvolutionConfig",
    "ExhaustiveResult",
    "GradientDescentConfig",
    "Learned",
    "PolicyGradientConfig",
    "Population",
    "QLearningConfig",
    "Trace",
    "evolution",
    "exhaustive",
    "gradient_descent",
    "policy_gradient",
    "q_learning",
]
