"""Random tabular worlds for sweeps, deterministic in their seed.

A world has states s0…s{n−1} and one terminal state "T"; each state and action leads to
``successors`` states drawn uniformly (weights 1–3, so probabilities on a coarse grid and
ties between policies are common), or with probability ``end`` ends the episode. Rewards
are small integers in {−1, 0, 1} ("integers": ties, and so non-trivial optimal sets) or
Gaussian ("normal"). With probability ``same_objective`` the intended objective is the
base objective itself (which makes outer alignment, and so the claims' premises, common).
The shift between training and deployment is one of:

- "start": the same dynamics; deployment starts in other states;
- "deploy-states": deployment starts in ``extra`` states that training never visits
  (they lead into the shared states), so training says nothing about them;
- "dynamics": deployment redraws the successors of every state (no shared dynamics);
- "aliased": as "deploy-states", but each deployment-only state looks like a distinct
  shared state (its twin: the same observation) while its rewards, and so its label under
  the intended objective, are its own. Policies act on observations, so the class is every
  deterministic map from observation to action (``actions ** states`` members, enumerated
  exhaustively): the training optimum also fixes what the policy does in the deployment-only
  states, as with the essay's MRI classifier, which sees the image and not the label.

Worlds are drawn as arrays (`random_batch`), many seeds in one vmapped JAX call with one
key per seed (so world i is the same whichever batch it is drawn in, and on any device);
`random_world` writes one of them as a world document.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from jaxtyping import Float, Int

from alignlens.errors import AlignlensError
from alignlens.precision import in_float64
from alignlens.world.assemble import DISCOUNT_GAP

if TYPE_CHECKING:
    from alignlens.solve.batched.analyze import StackedWorlds

Shift = Literal["start", "deploy-states", "dynamics", "aliased"]
Rewards = Literal["integers", "normal"]
SHIFTS: tuple[str, ...] = get_args(Shift)
REWARDS: tuple[str, ...] = get_args(Rewards)
REWARDED = 0.6  # the chance that a state-action has a non-default integer reward draw
MAX_SEED = 2**31 - 1
CLASS_LIMIT = 2**16  # the most observation policies an "aliased" world may enumerate


@dataclass(frozen=True)
class WorldSpec:
    """The parameters of the random worlds of a sweep.

    Attributes:
        states: non-terminal states (deployment-only states come on top).
        actions: actions per state.
        successors: successor draws per state and action.
        rewards: "integers" (−1, 0, 1; each state-action rewarded with probability 0.6)
            or "normal" (standard normal everywhere).
        shift: the shift between training and deployment: start, deploy-states, dynamics, or
            aliased (small worlds only: its class is every observation policy).
        extra: the number of deployment-only states (for "deploy-states" and "aliased").
        discount: γ.
        end: the probability that a transition ends the episode.
        same_objective: the probability that U is R.
        deploy_share: λ, the share of the lifetime deployed.
    """

    states: int = 16
    actions: int = 4
    successors: int = 2
    rewards: Rewards = "integers"
    shift: Shift = "start"
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
            (
                "discount",
                0.0 < self.discount <= 1.0 - DISCOUNT_GAP,
                f"use a value in (0, {1.0 - DISCOUNT_GAP:g}]",
            ),
            ("end", 0.0 <= self.end < 1.0, "use a value in [0, 1)"),
            ("same_objective", 0.0 <= self.same_objective <= 1.0, "use a value in [0, 1]"),
            ("deploy_share", 0.0 <= self.deploy_share <= 1.0, "use a value in [0, 1]"),
        ]
        for name, ok, fix in checks:
            if not ok:
                raise AlignlensError(f"{name} = {getattr(self, name)!r}", field=name, fix=fix)
        if self.shift == "aliased":
            self._check_aliased()

    def _check_aliased(self) -> None:
        """Each deployment-only state needs its own twin, and the class must be enumerable."""
        if self.extra > self.states:
            raise AlignlensError(
                f"extra = {self.extra}: the aliased shift gives each deployment-only state its "
                f"own twin among the {self.states} shared states",
                field="extra",
                fix=f"use at most {self.states} deployment-only states",
            )
        if self.class_size > CLASS_LIMIT:
            raise AlignlensError(
                f"the aliased shift enumerates every observation policy: actions ** states = "
                f"{self.actions} ** {self.states} = {self.class_size:,} members",
                field="states",
                fix=f"use fewer `states` or `actions` (at most {CLASS_LIMIT:,} members), "
                "e.g. 6 states and 3 actions",
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def only_deploy(self) -> int:
        """The number of deployment-only states."""
        return self.extra if self.shift in ("deploy-states", "aliased") else 0

    @property
    def class_size(self) -> int:
        """The number of observation policies of an "aliased" world (one observation per
        shared state)."""
        return self.actions**self.states

    @property
    def state_names(self) -> tuple[str, ...]:
        """Shared states, deployment-only states, then the terminal state "T"."""
        shared = [f"s{i}" for i in range(self.states)]
        return (*shared, *(f"d{i}" for i in range(self.only_deploy)), "T")

    @property
    def action_names(self) -> tuple[str, ...]:
        return tuple(f"a{j}" for j in range(self.actions))


@dataclass(frozen=True)
class WorldBatch:
    """Random worlds of one spec as stacked arrays (environment axis: train, deploy).

    Attributes:
        spec: the parameters they were drawn with.
        seeds: each world's seed.
        next_state, prob: successors [B, 2, S, A, K] (an ending transition leads to "T";
            unused slots have probability 0).
        start: start distributions [B, 2, S].
        reward: base and intended objectives [B, 2, S, A].
        looks_like: the state whose observation each state shows [B, S]: itself, except
            for the deployment-only states of an "aliased" world (their twins).
    """

    spec: WorldSpec
    seeds: Int[np.ndarray, " B"]
    next_state: Int[np.ndarray, "B 2 S A K"]
    prob: Float[np.ndarray, "B 2 S A K"]
    start: Float[np.ndarray, "B 2 S"]
    reward: Float[np.ndarray, "B 2 S A"]
    looks_like: Int[np.ndarray, "B S"]

    def __len__(self) -> int:
        return len(self.seeds)

    def stacked(self) -> StackedWorlds:
        """The worlds as the batched analysis takes them ("T" is the only terminal state).
        Its class is the tabular one, so aliased worlds are refused."""
        from alignlens.solve.batched.analyze import StackedWorlds

        if self.spec.shift == "aliased":
            raise AlignlensError(
                "the batched analysis ranges over the tabular class; an aliased world's class "
                "is its observation policies",
                field="shift",
                fix="diagnose aliased worlds one by one (alignlens.sweep.runner.diagnose_alone)",
            )

        terminal = np.zeros(self.start.shape, dtype=bool)
        terminal[..., -1] = True
        return StackedWorlds(
            names=tuple(f"random-{int(s)}" for s in self.seeds),
            next_state=self.next_state,
            prob=self.prob,
            terminal=terminal,
            start=self.start,
            reward=self.reward,
            discount=np.full(len(self.seeds), self.spec.discount),
        )


def random_batch(spec: WorldSpec, seeds: Int[np.ndarray, " B"] | Sequence[int]) -> WorldBatch:
    """The worlds of ``seeds`` under ``spec``, drawn in one vmapped call."""
    import jax.numpy as jnp

    seeds = np.asarray(seeds, dtype=np.int64)
    if seeds.size and (seeds.min() < 0 or seeds.max() > MAX_SEED):
        bad = int(seeds.min() if seeds.min() < 0 else seeds.max())
        raise AlignlensError(
            f"world seed {bad} is out of range",
            field="seed",
            fix=f"use seeds from 0 to {MAX_SEED}",
        )
    arrays = draw_program(spec)(jnp.asarray(seeds, dtype=jnp.uint32))  # 64-bit inside
    return WorldBatch(spec, seeds, *(np.asarray(a) for a in arrays))


@functools.cache
def draw_program(spec: WorldSpec) -> Callable:
    """The jitted, vmapped draw of one spec: uint32 seeds → (next_state, prob, start, reward,
    looks_like) as device arrays, computed in 64 bits (probabilities and rewards are
    float64; uniforms are drawn as float32, so the draws do not depend on the precision)."""
    import jax
    import jax.numpy as jnp

    n, live = spec.states, spec.states + spec.only_deploy
    terminal = live  # the index of "T"
    shape = (2, live, spec.actions)
    deploy_pool = n if spec.only_deploy == 0 else spec.only_deploy
    deploy_offset = 0 if spec.only_deploy == 0 else n

    def one(seed):
        keys = jax.random.split(jax.random.key(seed), 9)
        uniform = functools.partial(jax.random.uniform, dtype=jnp.float32)
        ends = uniform(keys[0], shape) < spec.end
        successors = jax.random.randint(keys[1], (*shape, spec.successors), 0, n, jnp.int32)
        weights = jax.random.randint(keys[2], (*shape, spec.successors), 1, 4, jnp.int32)
        if spec.shift != "dynamics":  # one draw of the dynamics serves both environments
            ends, successors, weights = (
                jnp.stack([x[0], x[0]]) for x in (ends, successors, weights)
            )
        weights = weights.astype(jnp.float64)
        prob = weights / jnp.sum(weights, axis=-1, keepdims=True)
        first = jnp.arange(spec.successors) == 0
        prob = jnp.where(ends[..., None], jnp.where(first, 1.0, 0.0), prob)
        next_state = jnp.where(ends[..., None], terminal, successors)
        pad = ((0, 0), (0, 1), (0, 0), (0, 0))  # "T" has no transitions
        next_state = jnp.pad(next_state, pad, constant_values=terminal)
        prob = jnp.pad(prob, pad)

        if spec.rewards == "normal":
            reward = jax.random.normal(keys[3], shape, dtype=jnp.float32).astype(jnp.float64)
        else:
            rewarded = uniform(keys[3], shape) < REWARDED
            values = jax.random.randint(keys[4], shape, -1, 2, jnp.int32)
            reward = jnp.where(rewarded, values, 0).astype(jnp.float64)
        same = uniform(keys[5], ()) < spec.same_objective
        reward = jnp.stack([reward[0], jnp.where(same, reward[0], reward[1])])
        reward = jnp.pad(reward, ((0, 0), (0, 1), (0, 0)))

        def start(key, pool: int, offset: int):
            picks = jax.random.permutation(key, pool)[: min(2, pool)] + offset
            return jnp.zeros(terminal + 1).at[picks].set(1.0 / picks.shape[0])

        starts = jnp.stack([start(keys[6], n, 0), start(keys[7], deploy_pool, deploy_offset)])
        looks_like = jnp.arange(terminal + 1, dtype=jnp.int32)
        if spec.shift == "aliased":  # distinct twins among the shared states
            twins = jax.random.permutation(keys[8], n)[: spec.only_deploy].astype(jnp.int32)
            looks_like = looks_like.at[n:terminal].set(twins)
        return next_state, prob, starts, reward, looks_like

    return in_float64(jax.jit(jax.vmap(one)))


def random_world(spec: WorldSpec, seed: int) -> dict[str, Any]:
    """The world document of world ``seed`` under ``spec`` (validated when loaded)."""
    return world_document(random_batch(spec, [seed]), 0)


def world_document(batch: WorldBatch, i: int) -> dict[str, Any]:
    """World ``i`` of a batch as a world document."""
    spec = batch.spec
    states, actions = spec.state_names, spec.action_names
    live = len(states) - 1

    def environment(e: int) -> dict[str, Any]:
        rows = [
            [states[s], actions[a], states[int(batch.next_state[i, e, s, a, k])], float(p)]
            for s in range(live)
            for a in range(spec.actions)
            for k, p in enumerate(batch.prob[i, e, s, a])
            if p > 0
        ]
        start = {states[s]: float(p) for s, p in enumerate(batch.start[i, e]) if p > 0}
        return {"start": start, "transitions": rows, "terminal": ["T"]}

    def objective(o: int) -> list[list[Any]]:
        r = batch.reward[i, o]
        return [
            [states[s], actions[a], float(r[s, a])]
            for s in range(live)
            for a in range(spec.actions)
            if r[s, a] != 0
        ]

    document = {
        "name": f"random-{int(batch.seeds[i])}",
        "discount": spec.discount,
        "deploy_share": spec.deploy_share,
        "states": list(states),
        "actions": list(actions),
        "train": environment(0),
        "deploy": environment(1),
        "objectives": {"base": objective(0), "intended": objective(1)},
    }
    if spec.shift == "aliased":
        shows = batch.looks_like[i]
        document["observations"] = {s: states[int(o)] for s, o in zip(states, shows, strict=True)}
    return document
