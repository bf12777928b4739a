"""What a scenario is: one of the essay's cases as a world, the optimisers it runs with and
its expected verdicts, and the helpers its declaration uses (the catalogue of all of them
is `alignlens.scenarios.catalogue`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.lenses.shares import pieces_notation
from alignlens.optimizers.exhaustive import TieBreak, exhaustive, rule_of
from alignlens.policies.enumerated import EnumeratedClass
from alignlens.solve.exact.analyze import analyze_world
from alignlens.solve.exact.outer_sample import train_base_regrets
from alignlens.tolerances import Tolerances
from alignlens.verdict_range import enumerated_range, tabular_range
from alignlens.world.examples import examples_dir
from alignlens.world.files import load_world
from alignlens.world.model import World


@dataclass(frozen=True)
class Scenario:
    """One case of the essay and its thread.

    Attributes:
        id: the name `alignlens run ID` takes.
        title: a one-line card.
        card: the whole card (the module's docstring).
        expected: the expected category under each lens (its expected row).
        optimizers: the optimisers it can run; the first is its default.
        run: (optimizer, seed, **parameters) → the diagnosis of the policy that optimiser
            learns.
        parameters: the numeric parameters ``run`` accepts, with their defaults (the
            expected row is for the defaults).
        expected_by_share: for lenses whose verdict changes with the deployment share λ,
            the expected verdict as a function of λ (e.g. "outer for λ ∈ [0, 0.6], inner
            for λ ∈ (0.6, 1]").
    """

    id: str
    title: str
    card: str
    expected: Mapping[str, str]
    optimizers: tuple[str, ...]
    run: Callable[..., Diagnosis]
    parameters: Mapping[str, float] = field(default_factory=dict)
    expected_by_share: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expected", MappingProxyType(dict(self.expected)))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(
            self, "expected_by_share", MappingProxyType(dict(self.expected_by_share))
        )

    @property
    def default_optimizer(self) -> str:
        return self.optimizers[0]


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario run: which optimiser, seed and parameters, and the diagnosis."""

    scenario: Scenario
    optimizer: str
    seed: int
    diagnosis: Diagnosis = field(repr=False)
    parameters: Mapping[str, float] = field(default_factory=dict)

    def matches(self) -> bool:
        """Whether every lens gave the expected category (defined for the default
        parameters; a run with others may rightly differ)."""
        got = {name: str(v.category) for name, v in self.diagnosis.verdicts.items()}
        if got != dict(self.scenario.expected):
            return False
        if not self.scenario.expected_by_share:
            return True
        by_share = self.diagnosis.by_share()
        return all(
            pieces_notation(by_share.get(lens, [])) == want
            for lens, want in self.scenario.expected_by_share.items()
        )


def example_world(filename: str) -> World:
    """A world shipped in examples/ (every scenario's world is also a file there)."""
    return load_world(examples_dir() / filename)


def diagnose_exhaustive(
    world: World,
    policy_class: EnumeratedClass | None,
    optimizer: str,
    *,
    tie_break: TieBreak = "worst-deployment",
    noun: str = "members",
) -> Diagnosis:
    """Run the exhaustive optimiser and diagnose its representative (by default the member
    of Opt(train, R) worst in deployment under U) over the same class, reusing the
    objective-level analysis it computed; with every lens's verdicts over the whole of
    Opt(train, R) (``noun`` names its members in words)."""

    result = exhaustive(world, policy_class, tie_break=tie_break)
    rule = rule_of(tie_break)
    if policy_class is None or result.optimal is None or result.returns is None:
        over = tabular_range(world, result.objectives, rule, result.cache)
    else:
        over = enumerated_range(
            world,
            policy_class,
            result.objectives,
            result.optimal,
            rule,
            noun=noun,
            deploy_intended=result.returns["deploy", "intended"],
            cache=result.cache,
        )
    return diagnose(
        world,
        result.policy,
        policy_class=policy_class,
        objectives=result.objectives,
        optimizer=optimizer,
        over_optimal=over,
        cache=result.cache,
    )


NEURAL_RUNS = 8
NEURAL_PPO = {
    "total_steps": 60_000,
    "n_envs": 32,
    "n_steps": 16,
    "epochs": 4,
    "minibatches": 1,
    "learning_rate": 1e-2,
}
"""The PPO settings of the neural scenarios: an MLP of 64×64, each run 60,000 steps in
rollouts of 512 (so the loss reads the network once per state), four passes over each.
Both scenarios share them, and their worlds fall in one padding bucket, so one compiled
program trains both."""


def diagnose_ppo(world: World, seed: int, optimizer: str) -> Diagnosis:
    """Train `NEURAL_RUNS` networks by PPO at once (seeds ``seed``, ``seed + 1``, …) with
    `NEURAL_PPO` and diagnose the first that ends fully optimised in training (the choice
    reads training returns only, never deployment), with all runs as the sampled estimate
    of outer alignment. The learned policy is judged by its greedy version."""
    from alignlens.optimizers.ppo import PPOConfig, ppo_runs

    config = PPOConfig(**NEURAL_PPO)  # type: ignore[arg-type]
    runs = NEURAL_RUNS
    tolerances = Tolerances(deploy_share=world.deploy_share, policy_judged="greedy")
    sample = ppo_runs(world, config, range(seed, seed + runs))
    objectives = analyze_world(world, tolerances)
    regrets = train_base_regrets(world, sample, objectives)
    chosen = next(
        (r for r, g in zip(sample.results, regrets, strict=True) if g <= tolerances.epsilon),
        sample.results[0],
    )
    return diagnose(
        world,
        chosen.policy,
        tolerances=tolerances,
        objectives=objectives,
        optimizer=optimizer,
        runs=sample,
        trace=chosen.trace,
    )


def expected_row(
    w: str, h: str, n: str, s: str, two_d: str, *, split: str, safety: str, shimi: str
) -> dict[str, str]:
    """The expected verdict of each built-in lens: the essay's five, then the thread's
    other three (wentworth_split, shah_safety, shimi)."""
    return {
        "wentworth": w,
        "hubinger": h,
        "ngo": n,
        "shah": s,
        "two_d": two_d,
        "wentworth_split": split,
        "shah_safety": safety,
        "shimi": shimi,
    }
