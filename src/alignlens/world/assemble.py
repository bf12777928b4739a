"""Validation and compilation of a `RawWorld` into the arrays of a `World`.

Checks every rule of DESIGN §6 that both file forms share, detects whether the two
environments agree on the states they share, and time-augments finite horizons.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from jaxtyping import Bool, Float, Int

from alignlens.errors import WorldError
from alignlens.world.graph import reachable_from, successor_reach
from alignlens.world.horizon import (
    unroll_dynamics,
    unroll_index,
    unroll_start,
    unroll_states,
)
from alignlens.world.model import Environment, World
from alignlens.world.raw import RawEnvironment, RawWorld

PROBABILITY_TOLERANCE = 1e-9
DYNAMICS_TOLERANCE = 1e-12


def assemble(raw: RawWorld) -> World:
    """Validate ``raw`` and compile it; raises `WorldError` naming the field and the fix."""
    try:
        return _assemble(raw)
    except WorldError as error:
        raise error if error.file else error.located(raw.source) from None


def _assemble(raw: RawWorld) -> World:
    _check_scalars(raw)
    n_states, n_actions = len(raw.states), len(raw.actions)
    train_matrix, train_present = _environment_matrix(raw, raw.train)
    deploy_matrix, deploy_present = _environment_matrix(raw, raw.deploy)
    _check_rewards(raw)

    both = train_present & deploy_present
    shared = _same_dynamics(raw, train_matrix, deploy_matrix, both)
    if shared:
        rows_train = np.repeat(train_present, n_actions)
        rows_deploy = np.repeat(deploy_present & ~train_present, n_actions)
        combined = (
            sp.diags(rows_train.astype(float)) @ train_matrix
            + sp.diags(rows_deploy.astype(float)) @ deploy_matrix
        )
        terminal = (raw.train.terminal & train_present) | (raw.deploy.terminal & deploy_present)
        terminal |= ~(train_present | deploy_present)
        dynamics = {"train": (combined, terminal), "deploy": (combined, terminal)}
    else:
        dynamics = {
            "train": (
                _keep_rows(train_matrix, train_present, n_actions),
                raw.train.terminal | ~train_present,
            ),
            "deploy": (
                _keep_rows(deploy_matrix, deploy_present, n_actions),
                raw.deploy.terminal | ~deploy_present,
            ),
        }

    observation_names = tuple(dict.fromkeys(raw.observations))
    obs_index = {name: i for i, name in enumerate(observation_names)}
    observation = np.array([obs_index[o] for o in raw.observations], dtype=np.int64)
    base_state = np.arange(n_states)
    states = raw.states
    rewards = {
        "base": raw.base,
        "intended": raw.intended,
        **{f"goal:{k}": v for k, v in raw.goals.items()},
    }
    starts = {"train": raw.train.start, "deploy": raw.deploy.start}
    compiled: dict[int, tuple] = {}  # one array set per distinct matrix: shared stays shared
    for matrix, terminal in dynamics.values():
        compiled.setdefault(id(matrix), (*_successors(matrix, n_states, n_actions), terminal))
    arrays = {name: compiled[id(matrix)] for name, (matrix, _) in dynamics.items()}

    depth = None
    if raw.horizon is not None:
        depth = raw.horizon + 1
        u = unroll_index(n_states, raw.horizon)
        unrolled = {id(a): unroll_dynamics(u, *a) for a in arrays.values()}
        arrays = {name: unrolled[id(a)] for name, a in arrays.items()}
        starts = {name: unroll_start(u, s) for name, s in starts.items()}
        rewards = {name: unroll_states(u, r) for name, r in rewards.items()}
        end_obs = len(observation_names)
        observation = unroll_states(u, observation, fill=end_obs)
        observation_names = (*observation_names, "<end>")
        base_state = u.base_state
        states = tuple(
            "end" if b < 0 else f"{raw.states[b]}@{t}"
            for b, t in zip(u.base_state, u.step, strict=True)
        )

    envs = {
        name: _environment(name, starts[name], *arrays[name], raw.discount, depth)
        for name in ("train", "deploy")
    }
    return World(
        name=raw.name,
        states=states,
        actions=raw.actions,
        train=envs["train"],
        deploy=envs["deploy"],
        base=rewards["base"],
        intended=rewards["intended"],
        goals={k: rewards[f"goal:{k}"] for k in raw.goals},
        observation=observation,
        observation_names=observation_names,
        base_state=base_state,
        base_states=raw.states,
        discount=raw.discount,
        horizon=raw.horizon,
        deploy_share=raw.deploy_share,
        shared_dynamics=shared,
        source=raw.source,
        grid=raw.grid,
    )


def _check_scalars(raw: RawWorld) -> None:
    g = raw.discount
    if not (isinstance(g, float | int) and math.isfinite(g) and 0.0 < g <= 1.0):
        raise WorldError(
            f"discount {g!r} is outside (0, 1]",
            field="discount",
            fix="use a discount greater than 0 and at most 1, for example 0.9",
        )
    if raw.horizon is not None and raw.horizon < 1:
        raise WorldError(
            f"horizon {raw.horizon} is not a positive number of steps",
            field="horizon",
            fix="use a horizon of at least 1, or remove it",
        )
    if g == 1.0 and raw.horizon is None:
        raise WorldError(
            "discount 1 needs a finite horizon, or returns can be infinite",
            field="horizon",
            fix="add `horizon = N` (the episode length) or use a discount below 1",
        )
    if not (math.isfinite(raw.deploy_share) and 0.0 <= raw.deploy_share <= 1.0):
        raise WorldError(
            f"deploy_share {raw.deploy_share!r} is outside [0, 1]",
            field="deploy_share",
            fix="give the fraction of the lifetime spent in deployment, between 0 and 1",
        )
    if not raw.states or not raw.actions:
        which = "states" if not raw.states else "actions"
        raise WorldError(
            f"no {which} are listed", field=which, fix=f"list at least one of the {which}"
        )
    for which, names in (("states", raw.states), ("actions", raw.actions)):
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise WorldError(
                    f"{name!r} is listed twice", field=which, fix="give each one a unique name"
                )
            seen.add(name)


def _environment_matrix(raw: RawWorld, env: RawEnvironment) -> tuple[sp.csr_matrix, np.ndarray]:
    """Validate one environment; return its transition matrix [S·A, S] and reachable states."""
    n_states, n_actions = len(raw.states), len(raw.actions)
    t = env.transitions
    bad = ~np.isfinite(t.prob) | (t.prob < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise WorldError(
            f"transition probability {t.prob[i]!r} is not a finite non-negative number",
            field=f"{env.field}.transitions[{i}]",
            fix="use a probability between 0 and 1",
        )
    rows = t.state * n_actions + t.action
    matrix = sp.csr_matrix((t.prob, (rows, t.next_state)), shape=(n_states * n_actions, n_states))
    matrix.sum_duplicates()
    defined = np.zeros(n_states * n_actions, dtype=bool)
    defined[rows] = True
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    off = defined & (np.abs(sums - 1.0) > PROBABILITY_TOLERANCE)
    if off.any():
        s, a = divmod(int(np.flatnonzero(off)[0]), n_actions)
        raise WorldError(
            f"the probabilities of state {raw.states[s]!r}, action {raw.actions[a]!r} "
            f"sum to {sums[s * n_actions + a]:.12g}, not 1",
            field=f"{env.field}.transitions",
            fix="make the next-state probabilities of each state and action sum to 1",
        )
    from_terminal = defined.reshape(n_states, n_actions).any(axis=1) & env.terminal
    if from_terminal.any():
        s = int(np.flatnonzero(from_terminal)[0])
        raise WorldError(
            f"terminal state {raw.states[s]!r} has transitions, but episodes end there",
            field=f"{env.field}.transitions",
            fix=f"remove the transitions of {raw.states[s]!r} or drop it from {env.field}.terminal",
        )
    _check_distribution(env.start, f"{env.field}.start")

    coo = matrix.tocoo()
    keep = (coo.data > 0) & ~env.terminal[coo.row // n_actions]
    present = reachable_from(env.start > 0, coo.row[keep] // n_actions, coo.col[keep])
    missing = (present & ~env.terminal)[:, None] & ~defined.reshape(n_states, n_actions)
    if missing.any():
        s, a = (int(x[0]) for x in np.nonzero(missing))
        raise WorldError(
            f"state {raw.states[s]!r} is reachable but has no transition for action "
            f"{raw.actions[a]!r}",
            field=f"{env.field}.transitions",
            fix=f"add a row [{raw.states[s]!r}, {raw.actions[a]!r}, NEXT, 1.0] or list "
            f"{raw.states[s]!r} in {env.field}.terminal",
        )
    return matrix, present


def _check_distribution(p: Float[np.ndarray, " B"], field: str) -> None:
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise WorldError(
            "a start probability is negative or not a number",
            field=field,
            fix="use probabilities between 0 and 1",
        )
    if abs(float(p.sum()) - 1.0) > PROBABILITY_TOLERANCE:
        raise WorldError(
            f"the start probabilities sum to {float(p.sum()):.12g}, not 1",
            field=field,
            fix="make the start probabilities sum to 1",
        )


def _check_rewards(raw: RawWorld) -> None:
    terminal = raw.train.terminal | raw.deploy.terminal
    named = {
        "base": raw.base,
        "intended": raw.intended,
        **{f"goals.{k}": v for k, v in raw.goals.items()},
    }
    for name, reward in named.items():
        field = f"{raw.objective_field}.{name}"
        if not np.all(np.isfinite(reward)):
            s, a = (int(x[0]) for x in np.nonzero(~np.isfinite(reward)))
            raise WorldError(
                f"the reward of state {raw.states[s]!r}, action {raw.actions[a]!r} is "
                f"{reward[s, a]!r}",
                field=field,
                fix="use a finite number",
            )
        at_terminal = terminal[:, None] & (reward != 0)
        if at_terminal.any():
            s = int(np.nonzero(at_terminal)[0][0])
            raise WorldError(
                f"terminal state {raw.states[s]!r} has a reward, but episodes end there and "
                "earn nothing",
                field=field,
                fix="give the reward on the action that enters the state instead",
            )


def _same_dynamics(
    raw: RawWorld, train: sp.csr_matrix, deploy: sp.csr_matrix, both: Bool[np.ndarray, " B"]
) -> bool:
    """Whether the environments agree (successors and terminal flags) on shared states."""
    if np.any((raw.train.terminal != raw.deploy.terminal) & both):
        return False
    rows = np.repeat(both & ~raw.train.terminal, len(raw.actions))
    diff = (train - deploy)[np.flatnonzero(rows)]
    return diff.nnz == 0 or float(np.abs(diff.data).max()) <= DYNAMICS_TOLERANCE


def _keep_rows(
    matrix: sp.csr_matrix, present: Bool[np.ndarray, " B"], n_actions: int
) -> sp.csr_matrix:
    keep = np.repeat(present, n_actions).astype(float)
    return sp.csr_matrix(sp.diags(keep) @ matrix)


def _successors(
    matrix: sp.csr_matrix, n_states: int, n_actions: int
) -> tuple[Int[np.ndarray, "S A K"], Float[np.ndarray, "S A K"]]:
    """Transition matrix [S·A, S] → successor format; empty slots point at the state itself."""
    matrix = sp.csr_matrix(matrix)
    matrix.eliminate_zeros()
    matrix.sort_indices()
    counts = np.diff(matrix.indptr)
    k = max(1, int(counts.max(initial=0)))
    rows = np.repeat(np.arange(n_states * n_actions), counts)
    slot = np.arange(matrix.nnz) - matrix.indptr[rows]
    own = np.repeat(np.arange(n_states), n_actions)
    next_state = np.repeat(own[:, None], k, axis=1).astype(np.int32)
    prob = np.zeros((n_states * n_actions, k))
    next_state[rows, slot] = matrix.indices
    prob[rows, slot] = matrix.data
    return next_state.reshape(n_states, n_actions, k), prob.reshape(n_states, n_actions, k)


def _environment(
    name: str,
    start: Float[np.ndarray, " S"],
    next_state: Int[np.ndarray, "S A K"],
    prob: Float[np.ndarray, "S A K"],
    terminal: Bool[np.ndarray, " S"],
    discount: float,
    depth: int | None,
) -> Environment:
    present = successor_reach(start > 0, next_state, prob, terminal)
    return Environment(name, start, next_state, prob, terminal, present, float(discount), depth)
