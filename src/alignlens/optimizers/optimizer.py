"""One interface for every optimiser: built from its typed config (and, where it searches
an enumerated class, that class), called on a world with a key, it returns what it
learned.

    learned = PolicyGradient(PolicyGradientConfig(steps=100))(world, key=0)

The key is the random seed: the same key gives the same `Learned`, policy and trace
alike. Exhaustive search uses no randomness; its key is recorded as given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

from alignlens.learned import Learned
from alignlens.optimizers.evolution import EvolutionConfig, evolution
from alignlens.optimizers.exhaustive import ExhaustiveResult, TieBreak, exhaustive
from alignlens.optimizers.gradient_descent import GradientDescentConfig, gradient_descent
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, policy_gradient
from alignlens.optimizers.q_learning import QLearningConfig, q_learning
from alignlens.policies.enumerated import EnumeratedClass
from alignlens.world.model import World


@runtime_checkable
class Optimizer(Protocol):
    """An optimiser: ``optimizer(world, key) -> Learned``; ``name`` is how reports and
    sweep stores call it."""

    name: ClassVar[str]

    def __call__(self, world: World, key: int) -> Learned: ...


@dataclass(frozen=True)
class ExhaustiveConfig:
    """Settings of exhaustive search.

    Attributes:
        tie_break: which member of Opt(train, R) represents it: "worst-deployment" (worst
            in deployment under U, the default), "best-deployment", "first", or a list of
            member names in order of preference (enumerated classes).
    """

    tie_break: TieBreak = "worst-deployment"


@dataclass(frozen=True)
class Exhaustive:
    """The perfect optimiser: the whole class searched for Opt(train, R) (the tabular class
    when ``policy_class`` is None); the representative the tie-break picks is learned."""

    config: ExhaustiveConfig = field(default_factory=ExhaustiveConfig)
    policy_class: EnumeratedClass | None = None
    name: ClassVar[str] = "exhaustive"

    def __call__(self, world: World, key: int = 0) -> Learned:
        found = self.search(world)
        return Learned(found.policy, self.name, key, None, search=found)

    def search(self, world: World) -> ExhaustiveResult:
        """The search itself: Opt(train, R), the representative, and the solutions."""
        return exhaustive(world, self.policy_class, tie_break=self.config.tie_break)


@dataclass(frozen=True)
class PolicyGradient:
    """Exact-gradient softmax policy gradient, per state or as a mixture over the members of
    ``policy_class``."""

    config: PolicyGradientConfig = field(default_factory=PolicyGradientConfig)
    policy_class: EnumeratedClass | None = None
    name: ClassVar[str] = "policy-gradient"

    def __call__(self, world: World, key: int) -> Learned:
        return policy_gradient(world, self.config, seed=key, policy_class=self.policy_class)


@dataclass(frozen=True)
class GradientDescent:
    """Logistic regression by gradient descent on a contextual bandit's observations."""

    config: GradientDescentConfig = field(default_factory=GradientDescentConfig)
    name: ClassVar[str] = "gradient-descent"

    def __call__(self, world: World, key: int) -> Learned:
        return gradient_descent(world, self.config, seed=key)


@dataclass(frozen=True)
class QLearning:
    """Tabular Q-learning on sampled training transitions."""

    config: QLearningConfig = field(default_factory=QLearningConfig)
    name: ClassVar[str] = "q-learning"

    def __call__(self, world: World, key: int) -> Learned:
        return q_learning(world, self.config, seed=key)


@dataclass(frozen=True)
class Evolution:
    """Wright–Fisher evolution of a population over the members of ``policy_class``."""

    policy_class: EnumeratedClass
    config: EvolutionConfig = field(default_factory=EvolutionConfig)
    name: ClassVar[str] = "evolution"

    def __call__(self, world: World, key: int) -> Learned:
        return evolution(world, self.policy_class, self.config, seed=key)
