"""Many small worlds of one shape as stacked arrays, and the numbers the batched engine
computes for them: the records that pass between `alignlens.solve.batched.program` (the
compiled loop over worlds) and `alignlens.solve.batched.analyze` (one `Analysis` a world).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from jaxtyping import Bool, Float, Int

from alignlens.world.model import World

RANGES = (  # (optimal set, environment, objective), the order of `ManyNumbers.ranges`
    ("train", "deploy", "intended"),
    ("train", "deploy", "base"),
    ("train", "train", "intended"),
    ("deploy", "deploy", "intended"),
    ("mixture", "deploy", "intended"),
)
ENVS, OBJS = ("train", "deploy"), ("base", "intended")


@dataclass(frozen=True)
class StackedWorlds:
    """Small worlds of one shape as stacked arrays (environment axis: train, deploy).

    Attributes:
        names: each world's name.
        next_state, prob: successors [B, 2, S, A, K].
        terminal: terminal states [B, 2, S] (more become terminal if unreachable).
        start: start distributions [B, 2, S].
        reward: R and U [B, 2, S, A].
        discount: γ of each world [B].
    """

    names: tuple[str, ...]
    next_state: Int[np.ndarray, "B 2 S A K"]
    prob: Float[np.ndarray, "B 2 S A K"]
    terminal: Bool[np.ndarray, "B 2 S"]
    start: Float[np.ndarray, "B 2 S"]
    reward: Float[np.ndarray, "B 2 S A"]
    discount: Float[np.ndarray, " B"]

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def of_worlds(cls, worlds: list[World]) -> StackedWorlds:
        """Compiled worlds of one shape (states, actions), successors padded to one K."""
        k = max(e.next_state.shape[2] for w in worlds for e in (w.train, w.deploy))

        def pad(x: np.ndarray) -> np.ndarray:
            return np.pad(x, ((0, 0), (0, 0), (0, k - x.shape[2])))

        def both(f) -> np.ndarray:
            return np.stack([np.stack([f(w.train), f(w.deploy)]) for w in worlds])

        return cls(
            names=tuple(w.name for w in worlds),
            next_state=both(lambda e: pad(e.next_state)),
            prob=both(lambda e: pad(e.prob)),
            terminal=both(lambda e: e.terminal),
            start=both(lambda e: e.start),
            reward=np.stack([np.stack([w.base, w.intended]) for w in worlds]),
            discount=np.array([w.discount for w in worlds], dtype=np.float64),
        )


@dataclass(frozen=True)
class ManyNumbers:
    """What the batched engine computed, per world (first axis).

    Attributes:
        ok: whether every number is exact by the rules above (else use the per-world path).
        shared: whether the environments share dynamics.
        optimum, worst, random, returns: [B, env, objective] (env: train, deploy;
            objective: base, intended): class optima, worst values, the uniformly random
            policy's returns and the learned policy's.
        ranges: [B, 5, 2] the min and max return over each optimal set of `RANGES`
            (NaN for the mixture without shared dynamics).
        policy: [B, S] the exhaustive representative (with ``policies`` not given).
    """

    ok: Bool[np.ndarray, " B"]
    shared: Bool[np.ndarray, " B"]
    optimum: Float[np.ndarray, "B 2 2"]
    worst: Float[np.ndarray, "B 2 2"]
    random: Float[np.ndarray, "B 2 2"]
    returns: Float[np.ndarray, "B 2 2"]
    ranges: Float[np.ndarray, "B 5 2"]
    policy: Int[np.ndarray, "B S"]

    def take(self, rows: Sequence[int] | slice) -> ManyNumbers:
        """The numbers of some worlds only."""
        return ManyNumbers(**{k: v[rows] for k, v in vars(self).items()})
