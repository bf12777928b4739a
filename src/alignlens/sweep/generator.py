"""Random tabular worlds for sweeps, deterministic in their seed.

A world has states s0…s{n−1} and one terminal state "T"; each state and action leads to
``successors`` states drawn uniformly (probabilities on a grid of thirds, so ties between
policies are common), with a chance of ending the episode. Rewards are small integers in
{−1, 0, 1} ("integers": ties, and so non-trivial optimal sets) or Gaussian ("normal").
With probability ``same_objective`` the intended objective is the base objective itself
(which makes outer alignment, and so the claims' premises, common). The shift between
training and deployment is one of:

- "start": the same dynamics; deployment starts in other states;
- "deploy-states": deployment starts in ``extra`` states that training never visits
  (they lead into the shared states), so training says nothing about them;
- "dynamics": deployment redraws the successors of every state (no shared dynamics).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from alignlens.errors import AlignlensError

Shift = Literal["start", "deploy-states", "dynamics"]
SHIFTS: tuple[str, ...] = ("start", "deploy-states", "dynamics")
REWARDS: tuple[str, ...] = ("integers", "normal")


@dataclass(frozen=True)
class WorldSpec:
    """The parameters of the random worlds of a sweep.

    Attributes:
        states: non-terminal states (deployment-only states come on top).
        actions: actions per state.
        successors: successor draws per state and action.
        rewards: "integers" (−1, 0, 1; each state-action rewarded with probability 0.6)
            or "normal" (standard normal everywhere).
        shift: the kind of shift between training and deployment (see the module).
        extra: the number of deployment-only states (for "deploy-states").
        discount: γ.
        end: the probability that a transition ends the episode.
        same_objective: the probability that U is R.
        deploy_share: λ.
    """

    states: int = 16
    actions: int = 4
    successors: int = 2
    rewards: str = "integers"
    shift: str = "start"
    extra: int = 2
    discount: float = 0.9
    end: float = 0.1
    same_objective: float = 0.5
    deploy_share: float = 0.5

    def __post_init__(self) -> None:
        checks = [
            ("states", self.states >= 2, "use at least 2"),
            ("actions", self.actions >= 1, "use at least 1"),
            ("successors", self.successors >= 1, "use at least 1"),
            ("rewards", self.rewards in REWARDS, f"use one of {', '.join(REWARDS)}"),
            ("shift", self.shift in SHIFTS, f"use one of {', '.join(SHIFTS)}"),
            ("extra", self.extra >= 1, "use at least 1"),
            ("discount", 0.0 < self.discount < 1.0, "use a value in (0, 1)"),
            ("end", 0.0 <= self.end < 1.0, "use a value in [0, 1)"),
            ("same_objective", 0.0 <= self.same_objective <= 1.0, "use a value in [0, 1]"),
            ("deploy_share", 0.0 <= self.deploy_share <= 1.0, "use a value in [0, 1]"),
        ]
        for name, ok, fix in checks:
            if not ok:
                raise AlignlensError(f"{name} = {getattr(self, name)!r}", field=name, fix=fix)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def random_world(spec: WorldSpec, seed: int) -> dict[str, Any]:
    """The world document of world ``seed`` under ``spec`` (validated when loaded)."""
    rng = np.random.default_rng(seed)
    shared = [f"s{i}" for i in range(spec.states)]
    only_deploy = [f"d{i}" for i in range(spec.extra)] if spec.shift == "deploy-states" else []
    states = [*shared, *only_deploy, "T"]
    actions = [f"a{j}" for j in range(spec.actions)]

    def transitions(sources: list[str]) -> list[list[Any]]:
        rows = []
        for s in sources:
            for a in actions:
                if rng.random() < spec.end:
                    rows.append([s, a, "T", 1.0])
                    continue
                succ = rng.choice(shared, size=spec.successors, replace=True)
                weights = rng.integers(1, 4, size=spec.successors).astype(float)
                for nxt, p in zip(succ, weights / weights.sum(), strict=True):
                    rows.append([s, a, str(nxt), float(p)])
        return rows

    def rewards() -> list[list[Any]]:
        sources = [*shared, *only_deploy]
        if spec.rewards == "normal":
            return [[s, a, float(rng.normal())] for s in sources for a in actions]
        return [
            [s, a, float(rng.integers(-1, 2))]
            for s in sources
            for a in actions
            if rng.random() < 0.6
        ]

    def start(pool: list[str]) -> dict[str, float]:
        picks = rng.choice(len(pool), size=min(2, len(pool)), replace=False)
        return {pool[i]: 1.0 / len(picks) for i in picks}

    train_rows = transitions(shared) + transitions(only_deploy)
    deploy_rows = (
        transitions(shared) + transitions(only_deploy) if spec.shift == "dynamics" else train_rows
    )
    base = rewards()
    intended = base if rng.random() < spec.same_objective else rewards()
    return {
        "name": f"random-{seed}",
        "discount": spec.discount,
        "deploy_share": spec.deploy_share,
        "states": states,
        "actions": actions,
        "train": {"start": start(shared), "transitions": train_rows, "terminal": ["T"]},
        "deploy": {
            "start": start(only_deploy or shared),
            "transitions": deploy_rows,
            "terminal": ["T"],
        },
        "objectives": {"base": base, "intended": intended},
    }
