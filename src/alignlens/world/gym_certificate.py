"""A certificate for a world read from Gymnasium environments: the exact returns of a policy
beside the mean return of rollouts of the real environments.

A transition table can describe another environment than the one that runs (Taxi's ``P``
leaves out its fickle passenger), and a search can miss what its trials did not show. No
reader can tell that from the table alone, so the exact numbers are checked against the
environments themselves: ``episodes`` rollouts of the policy in each environment, wrappers
included, each cut where the world cuts episodes, give the mean discounted return of R (and
of U where U is not R). A world without a horizon has endless episodes: its rollouts are
cut after the first T steps with γ^T < `TAIL` (at most `CUT_LIMIT`), and are compared with
the exact return of those T steps (the rest is the same dynamics further on).

Each row's z-score divides the difference by the standard error sqrt(σ²/n), where σ² is the
larger of the sample variance and the exact variance of the return *if the world is right*
(the second moment of the discounted return, from the read-out transitions and their
rewards). The exact variance keeps a rare event that a sample missed (a goal reached once in
a thousand episodes) from looking certain; the sample variance keeps a heavy tail from
looking like a lie. Beyond ``threshold`` standard errors (4 by default) the world does not
describe the environment, and `certify` refuses it. A certificate is about this policy's
returns: a table wrong only where the policy never goes passes. The exact mean of the
read-out is also checked against the world's own evaluation of the policy (a second
computation from the same read-out, which catches a world assembled wrongly).

The environments passed are the ones rolled out: `certify` resets and steps them, and
replaces their random generators.

Randomness comes from ``seed`` only: actions are drawn from the policy's probabilities,
resets use seeds drawn from the seeds behind the world's start distribution (where it is the
empirical one of sampled resets) or fresh ones, and each episode's steps get their own
random generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from jaxtyping import Float

from alignlens.errors import PolicyError, WorldError
from alignlens.policies.tabular import TabularPolicy
from alignlens.solve.exact.evaluation import evaluate
from alignlens.world.gymnasium import GymWorld, Reading, _key, _Read

THRESHOLD = 4.0
TAIL = 1e-3  # without a horizon, rollouts stop once γ^t falls below this
CUT_LIMIT = 1000  # ... or after this many steps, whichever comes first
AGREE = 1e-8  # relative agreement of the world's evaluation and the read-out's
ROUND_OFF = 1e-12  # a standard deviation below this (relative) is round-off: the return is certain
OBJECTIVE_NAMES = {"base": "R", "intended": "U"}


@dataclass(frozen=True)
class CheckRow:
    """One exact return beside its Monte-Carlo estimate.

    Attributes:
        environment: "train" or "deploy".
        objective: "base" (R) or "intended" (U).
        exact: the world's exact return of the policy.
        mean: mean discounted return of the rollouts.
        standard_error: sqrt(max(sample variance, exact variance) / episodes).
        z: (mean − expected) / standard_error.
        steps: where rollouts of a world without a horizon were cut, else None.
        expected: the exact return of the rollouts' episodes (``exact`` unless cut).
    """

    environment: str
    objective: str
    exact: float
    mean: float
    standard_error: float
    z: float
    steps: int | None = None
    expected: float | None = None


@dataclass(frozen=True)
class Certificate:
    """Exact returns against rollouts of the environments (see the module)."""

    rows: tuple[CheckRow, ...]
    episodes: int
    seed: int
    threshold: float = THRESHOLD

    @property
    def failed(self) -> tuple[CheckRow, ...]:
        return tuple(r for r in self.rows if not abs(r.z) <= self.threshold)

    @property
    def passed(self) -> bool:
        return not self.failed

    def document(self) -> dict[str, Any]:
        """The certificate as JSON-ready data (an infinite z is written as null)."""
        return {
            "episodes": self.episodes,
            "seed": self.seed,
            "threshold": self.threshold,
            "passed": self.passed,
            "rows": [
                {
                    "environment": r.environment,
                    "objective": r.objective,
                    "exact": r.exact,
                    "mean": r.mean,
                    "standard_error": r.standard_error,
                    "z": r.z if math.isfinite(r.z) else None,
                    "cut_after_steps": r.steps,
                    "expected": r.exact if r.expected is None else r.expected,
                }
                for r in self.rows
            ],
        }


def certify(
    gym_world: GymWorld,
    policy: TabularPolicy | Callable[[Any], Any],
    *,
    episodes: int = 1000,
    seed: int = 0,
    threshold: float = THRESHOLD,
    refuse: bool = True,
) -> Certificate:
    """Roll the policy (a tabular policy of ``gym_world``, or a function from an observation
    to an action index or probabilities, as for `GymWorld.policy`) ``episodes`` times in
    each environment and compare with its exact returns (see the module). With
    ``refuse`` (the default), a row beyond ``threshold`` standard errors is a `WorldError`
    saying that the world does not describe the environment."""
    reading = gym_world.reading
    if reading is None:
        raise WorldError(
            "this world does not say which environments it was read from",
            field="gym_world",
            fix="certify a world made by world_from_gymnasium or minigrid_world",
        )
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 2:
        raise WorldError(
            f"{episodes!r} episodes cannot estimate a standard error",
            field="episodes",
            fix="roll out at least 2 episodes per environment (1000 is a modest default)",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise WorldError(
            f"seed {seed!r} is not a whole number from 0 to 2^63 − 1",
            field="seed",
            fix="give a seed such as 0",
        )
    world = gym_world.world
    if not isinstance(policy, TabularPolicy):
        policy = gym_world.policy(policy, name="checked")
    objectives = ("base", "intended") if _has_own_u(reading) else ("base",)
    rng = np.random.default_rng(seed)
    g, horizon = world.discount, world.horizon
    cut = None
    if horizon is None:
        cut = min(CUT_LIMIT, max(1, math.ceil(math.log(TAIL) / math.log(g))))
    rows = []
    for env_name in ("train", "deploy"):
        read = reading.reads[env_name]
        acting = _actions_by_observation(gym_world, policy, env_name)
        mean, variance = _moments(read, reading, acting, g, horizon)
        expected = mean
        if cut is not None:
            expected, variance = _moments(read, reading, acting, g, cut)
        sample = _rollouts(reading, env_name, acting, g, horizon or cut, episodes, rng)
        for j, objective in enumerate(objectives):
            exact = _world_return(gym_world, policy, env_name, objective)
            scale = max(1.0, abs(exact))
            if abs(mean[j] - exact) > AGREE * scale:
                raise WorldError(
                    f"the world's exact {OBJECTIVE_NAMES[objective]} return in {env_name} "
                    f"({exact:.12g}) differs from the read-out transitions' ({mean[j]:.12g})",
                    field="gym_world",
                    fix="this is a fault in alignlens: please report it with the environments",
                )
            spread = max(float(variance[j]), float(sample[:, j].var(ddof=1)))
            if math.sqrt(spread) <= ROUND_OFF * scale:  # a certain return, up to round-off
                spread = 0.0
            error = math.sqrt(spread / episodes)
            difference = float(sample[:, j].mean()) - float(expected[j])
            if error > 0:
                z = difference / error
            else:
                z = 0.0 if abs(difference) <= AGREE * scale else math.copysign(math.inf, difference)
            rows.append(
                CheckRow(
                    environment=env_name,
                    objective=objective,
                    exact=exact,
                    mean=float(sample[:, j].mean()),
                    standard_error=error,
                    z=z,
                    steps=cut,
                    expected=float(expected[j]) if cut else None,
                )
            )
    certificate = Certificate(tuple(rows), episodes, seed, threshold)
    if refuse and not certificate.passed:
        worst = max(certificate.failed, key=lambda r: abs(r.z))
        raise WorldError(
            f"the table does not describe the environment: the exact "
            f"{OBJECTIVE_NAMES[worst.objective]} return in {worst.environment} is "
            f"{worst.exact:.6g}, {episodes} rollouts of the {worst.environment} environment "
            f"give {worst.mean:.6g} ± {worst.standard_error:.2g} (z = {worst.z:+.1f}, beyond "
            f"{threshold:g} standard errors)",
            field=f"{worst.environment}_env",
            fix="read the environment by search (method='search') if it is deterministic, or "
            "give it a transition table that describes what it does; a world you trust "
            "anyway can skip the check (--check 0)",
        )
    return certificate


def _has_own_u(reading: Reading) -> bool:
    return reading.intended is not None or reading.intended_info is not None


def _actions_by_observation(
    gym_world: GymWorld, policy: TabularPolicy, env_name: str
) -> dict[Hashable, np.ndarray]:
    """The policy's action probabilities in ``env_name`` per observation (by its identity,
    `_key`): rollouts know what the agent sees, so the policy must act on that alone."""
    world = gym_world.world
    table = policy.acting_in(env_name)
    live = ~world.environment(env_name).terminal
    out: dict[Hashable, np.ndarray] = {}
    for o, name in enumerate(world.observation_names):
        if name not in gym_world.observations:
            continue  # the terminal states
        states = np.flatnonzero((world.observation == o) & live)
        if states.size == 0:
            continue
        rows = table[states]
        if not np.allclose(rows, rows[0], rtol=0.0, atol=1e-12):
            raise PolicyError(
                f"policy {policy.name!r} acts differently on states that show the same "
                f"observation ({name}), by step or by state: rollouts cannot tell them apart",
                field="policy",
                fix="certify a policy of observations (a function of the observation, or "
                "GymWorld.policy of one)",
            )
        out[_key(gym_world.observations[name])] = rows[0]
    return out


def _world_return(
    gym_world: GymWorld, policy: TabularPolicy, env_name: str, objective: str
) -> float:

    world = gym_world.world
    reward = world.base if objective == "base" else world.intended
    return evaluate(world.environment(env_name), reward, policy.acting_in(env_name)).value


def _moments(
    read: _Read,
    reading: Reading,
    acting: Mapping[Hashable, np.ndarray],
    discount: float,
    horizon: int | None,
) -> tuple[Float[np.ndarray, " O"], Float[np.ndarray, " O"]]:
    """The exact mean and variance of the discounted return of R (and U) from the read-out
    transitions, rewards per outcome: V = r + γPV and M = E[r²] + 2γE[r·V'] + γ²PM (by
    backward induction over a horizon, else by sparse linear solves)."""
    keys = list(read.outcomes)
    index = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    n_objectives = 2 if _has_own_u(reading) else 1
    src, dst, weight, first, second = [], [], [], [], []
    ends = np.zeros((n, n_objectives))  # expected reward of steps that end the episode
    ends_sq = np.zeros((n, n_objectives))
    for k in keys:
        i = index[k]
        here = read.observation[k]
        if _key(here) not in acting:
            continue  # a state the world never reaches acts on nothing (0 if it is reached)
        probs = acting[_key(here)]
        for a, steps in enumerate(read.outcomes[k]):
            for step in steps:
                w = probs[a] * step.prob
                if w == 0.0:
                    continue
                there = read.observation[step.next_key]
                r = np.array(reading.rewards(step.reward, step.hidden, here, a, there))[
                    :n_objectives
                ]
                if step.terminated or step.next_key not in index:
                    ends[i] += w * r
                    ends_sq[i] += w * r * r
                else:
                    src.append(i)
                    dst.append(index[step.next_key])
                    weight.append(w)
                    first.append(r)
                    second.append(r * r)
    p = sp.csr_matrix((weight, (src, dst)), shape=(n, n))
    w_arr = np.asarray(weight)[:, None]
    r1 = ends + _row_sums(src, w_arr * np.asarray(first).reshape(-1, n_objectives), n)
    r2 = ends_sq + _row_sums(src, w_arr * np.asarray(second).reshape(-1, n_objectives), n)
    # Q[i, j] · V[j] sums w·r·V(next) over the steps from i to j, per objective.
    q = [
        sp.csr_matrix(
            (np.asarray(weight) * np.asarray(first).reshape(-1, n_objectives)[:, j], (src, dst)),
            shape=(n, n),
        )
        for j in range(n_objectives)
    ]
    start = np.zeros(n)
    for k, prob in read.start.items():
        start[index[k]] += prob
    g = discount
    if horizon is not None:
        v = np.zeros((n, n_objectives))
        m = np.zeros((n, n_objectives))
        for _ in range(horizon):
            cross = np.column_stack([q[j] @ v[:, j] for j in range(n_objectives)])
            v, m = r1 + g * (p @ v), r2 + 2 * g * cross + g * g * (p @ m)
    else:
        identity = sp.identity(n, format="csc")
        v = spla.spsolve((identity - g * p).tocsc(), r1).reshape(n, n_objectives)
        cross = np.column_stack([q[j] @ v[:, j] for j in range(n_objectives)])
        m = spla.spsolve((identity - g * g * p).tocsc(), r2 + 2 * g * cross).reshape(
            n, n_objectives
        )
    mean, second = start @ v, start @ m
    variance = second - mean**2  # cancels: round-off of the order of 1e-16 · second
    return mean, np.where(variance > ROUND_OFF * second, variance, 0.0)


def _row_sums(src: list[int], values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, values.shape[1]))
    if src:
        np.add.at(out, np.asarray(src), values)
    return out


def _rollouts(
    reading: Reading,
    env_name: str,
    acting: Mapping[Hashable, np.ndarray],
    discount: float,
    steps: int,
    episodes: int,
    rng: np.random.Generator,
) -> Float[np.ndarray, "N O"]:
    """Discounted returns of R (and U) of ``episodes`` rollouts of the real environment,
    each of at most ``steps`` steps."""
    env = reading.envs[env_name]
    read = reading.reads[env_name]
    n_objectives = 2 if _has_own_u(reading) else 1
    out = np.zeros((episodes, n_objectives))
    cumulative = {k: np.cumsum(row) for k, row in acting.items()}
    for episode in range(episodes):
        reset_seed = int(rng.choice(read.seeds)) if read.seeds else int(rng.integers(2**31 - 1))
        observation, _ = env.reset(seed=reset_seed)
        env.unwrapped.np_random = np.random.default_rng(int(rng.integers(2**63 - 1)))
        draws = rng.random(steps)
        weight = 1.0
        for t in range(steps):
            share = _row_for(cumulative, observation, env_name)
            action = min(
                int(np.searchsorted(share, draws[t] * share[-1], side="right")), share.size - 1
            )
            after, reward, terminated, _, info = env.step(action)
            hidden = None
            if reading.intended_info is not None:
                if reading.intended_info not in info:
                    raise WorldError(
                        f"a rollout of the {env_name} environment's step() gave no info key "
                        f"{reading.intended_info!r}",
                        field="intended_info",
                        fix="name a key the environment's step() always puts in info",
                    )
                hidden = float(info[reading.intended_info])
            r = reading.rewards(float(reward), hidden, observation, action, after)
            out[episode] += weight * np.asarray(r[:n_objectives])
            weight *= discount
            if terminated:
                break
            observation = after
    return out


def _row_for(
    cumulative: Mapping[Hashable, np.ndarray], observation: Any, env_name: str
) -> np.ndarray:
    """The cumulative action probabilities at ``observation``."""
    key = _key(observation)
    if key not in cumulative:
        raise WorldError(
            f"a rollout of the {env_name} environment reached an observation the world does "
            "not have: the table does not describe the environment",
            field=f"{env_name}_env",
            fix="read the environment by search (method='search') if it is deterministic, or "
            "give it a transition table that describes every state it reaches",
        )
    return cumulative[key]
