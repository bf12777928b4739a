"""Validation and compilation of a `RawWorld` into the arrays of a `World`.

Checks every rule of the world file schema (docs/world-files.md) that both file forms
share, detects whether the two environments agree on the states they share, and
time-augments finite horizons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from jaxtyping import Bool, Float, Int

from alignlens.errors import Problem, Problems, WorldError
from alignlens.limits import budget, check_fits, table_bytes
from alignlens.world.graph import reachable_from, successor_reach
from alignlens.world.horizon import (
    END_OBSERVATION,
    unroll_dynamics,
    unroll_index,
    unroll_start,
    unroll_states,
)
from alignlens.world.model import Environment, World
from alignlens.world.raw import RawEnvironment, RawWorld

PROBABILITY_TOLERANCE = 1e-9
DYNAMICS_TOLERANCE = 1e-12
DISCOUNT_GAP = 1e-5
"""Without a horizon, 1 − γ must be at least this: a policy's evaluation is certified to
1e-10 of the value scale from a residual that round-off makes about 2e-16/(1 − γ) of it,
and the solver's round-off margins are fractions of that scale too; closer to 1 neither
would mean anything (an optimum could come out below a policy of the class)."""
REWARD_FLOOR = 1e-6
"""The largest |reward| of an objective, if not 0, must be at least this."""
RETURN_LIMIT = 1e100
"""The largest |return| a world may reach: every intermediate of an analysis (differences,
sums over policies, squares) then stays far from float64's overflow at 1.8e308."""


def episode_weight(discount: float, horizon: int | None) -> float:
    """The total discount weight of an episode, Σ γ^t over its steps: 1/(1 − γ), or the
    sum over ``horizon`` steps."""
    if horizon is None:
        return 1.0 / (1.0 - discount) if discount < 1.0 else math.inf
    if discount == 1.0:
        return float(horizon)
    return -math.expm1(horizon * math.log(discount)) / (1.0 - discount)


def reward_limit(discount: float, horizon: int | None) -> float:
    """The largest |reward| whose returns stay within `RETURN_LIMIT`."""
    return RETURN_LIMIT / episode_weight(discount, horizon)


def assemble(raw: RawWorld) -> World:
    """Validate ``raw`` and compile it; raises `WorldError` naming the field and the fix."""
    try:
        return _assemble(raw)
    except WorldError as error:
        raise error if error.file else error.located(raw.source) from None


def _assemble(raw: RawWorld) -> World:
    # Every check that does not need another to pass first runs, and one error reports
    # every problem found; the checks of the environments need the names to be valid.
    problems = Problems()
    problems.extend(scalar_problems(raw.discount, raw.horizon, raw.deploy_share))
    names = _name_problems(raw)
    problems.extend(names)
    if names:
        problems.raise_if_any(WorldError)
    n_states, n_actions = len(raw.states), len(raw.actions)
    train_matrix, train_present = _environment_matrix(raw, raw.train, problems)
    deploy_matrix, deploy_present = _environment_matrix(raw, raw.deploy, problems)
    _check_rewards(raw, problems)
    problems.raise_if_any(WorldError)

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
    _check_size(raw, {id(m): m for m, _ in dynamics.values()}.values())
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
        observation_names = (*observation_names, END_OBSERVATION)
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
        policy_class=raw.policy_class,
    )


def scalar_problems(discount: float, horizon: int | None, deploy_share: float) -> list[Problem]:
    """The problems of the numbers every world file has (they need no names to check)."""
    out = []
    g = discount
    if not (isinstance(g, float | int) and math.isfinite(g) and 0.0 < g <= 1.0):
        out.append(
            Problem(
                "discount",
                f"discount {g!r} is outside (0, 1]",
                "use a discount greater than 0 and at most 1, for example 0.9",
            )
        )
    if horizon is not None and horizon < 1:
        out.append(
            Problem(
                "horizon",
                f"horizon {horizon} is not a positive number of steps",
                "use a horizon of at least 1, or remove it",
            )
        )
    if isinstance(g, float | int) and 1.0 - DISCOUNT_GAP < g < 1.0 and horizon is None:
        out.append(
            Problem(
                "discount",
                f"discount {g!r} is too close to 1 to solve exactly in 64-bit floating point "
                f"(values reach {1 / (1 - g):.3g} × the rewards, and round-off grows with them)",
                f"use a discount of at most {1 - DISCOUNT_GAP:g}, or discount 1 with "
                "`horizon = N` (the episode length)",
            )
        )
    if g == 1.0 and horizon is None:
        out.append(
            Problem(
                "horizon",
                "discount 1 needs a finite horizon, or returns can be infinite",
                "add `horizon = N` (the episode length) or use a discount below 1",
            )
        )
    if not (math.isfinite(deploy_share) and 0.0 <= deploy_share <= 1.0):
        out.append(
            Problem(
                "deploy_share",
                f"deploy_share {deploy_share!r} is outside [0, 1]",
                "give the fraction of the lifetime spent in deployment, between 0 and 1",
            )
        )
    return out


def _name_problems(raw: RawWorld) -> list[Problem]:
    out = []
    for which, names in (("states", raw.states), ("actions", raw.actions)):
        if not names:
            out.append(
                Problem(which, f"no {which} are listed", f"list at least one of the {which}")
            )
        seen: set[str] = set()
        for name in names:
            if name in seen:
                out.append(
                    Problem(which, f"{name!r} is listed twice", "give each one a unique name")
                )
            seen.add(name)
    return out


def _environment_matrix(
    raw: RawWorld, env: RawEnvironment, problems: Problems
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Validate one environment, adding what is wrong to ``problems``; return its
    transition matrix [S·A, S] and reachable states."""
    n_states, n_actions = len(raw.states), len(raw.actions)
    t = env.transitions
    bad = ~np.isfinite(t.prob) | (t.prob < 0)
    for i in np.flatnonzero(bad):
        problems.add(
            f"transition probability {float(t.prob[i])!r} is not a finite non-negative number",
            field=f"{env.field}.transitions[{i}]",
            fix="use a probability between 0 and 1",
        )
    rows = t.state * n_actions + t.action
    matrix = sp.csr_matrix((t.prob, (rows, t.next_state)), shape=(n_states * n_actions, n_states))
    matrix.sum_duplicates()
    defined = np.zeros(n_states * n_actions, dtype=bool)
    defined[rows] = True
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    bad_rows = np.zeros(n_states * n_actions, dtype=bool)
    bad_rows[rows[bad]] = True  # already reported: their sums mean nothing
    off = defined & ~bad_rows & (np.abs(sums - 1.0) > PROBABILITY_TOLERANCE)
    for row in np.flatnonzero(off):
        s, a = divmod(int(row), n_actions)
        problems.add(
            f"the probabilities of state {raw.states[s]!r}, action {raw.actions[a]!r} "
            f"sum to {sums[row]:.12g}, not 1",
            field=f"{env.field}.transitions",
            fix="make the next-state probabilities of each state and action sum to 1",
        )
    from_terminal = defined.reshape(n_states, n_actions).any(axis=1) & env.terminal
    for s in np.flatnonzero(from_terminal):
        problems.add(
            f"terminal state {raw.states[s]!r} has transitions, but episodes end there",
            field=f"{env.field}.transitions",
            fix=f"remove the transitions of {raw.states[s]!r} or drop it from {env.field}.terminal",
        )
    problems.extend(_distribution_problems(env.start, f"{env.field}.start"))

    coo = matrix.tocoo()
    keep = (coo.data > 0) & ~env.terminal[coo.row // n_actions]
    present = reachable_from(env.start > 0, coo.row[keep] // n_actions, coo.col[keep])
    missing = (present & ~env.terminal)[:, None] & ~defined.reshape(n_states, n_actions)
    for s in np.flatnonzero(missing.any(axis=1)):
        state, actions = raw.states[s], [raw.actions[a] for a in np.flatnonzero(missing[s])]
        which = "action" if len(actions) == 1 else "actions"
        problems.add(
            f"state {state!r} is reachable but has no transition for {which} "
            f"{', '.join(map(repr, actions))}",
            field=f"{env.field}.transitions",
            fix=f"add a row [{state!r}, {actions[0]!r}, NEXT, 1.0]"
            f"{' for each of them' if len(actions) > 1 else ''} or list {state!r} in "
            f"{env.field}.terminal",
        )
    return matrix, present


def _distribution_problems(p: Float[np.ndarray, " B"], field: str) -> list[Problem]:
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        return [
            Problem(
                field,
                "a start probability is negative or not a number",
                "use probabilities between 0 and 1",
            )
        ]
    if abs(float(p.sum()) - 1.0) > PROBABILITY_TOLERANCE:
        return [
            Problem(
                field,
                f"the start probabilities sum to {float(p.sum()):.12g}, not 1",
                "make the start probabilities sum to 1",
            )
        ]
    return []


def _check_rewards(raw: RawWorld, problems: Problems) -> None:
    terminal = raw.train.terminal | raw.deploy.terminal
    named = {
        "base": raw.base,
        "intended": raw.intended,
        **{f"goals.{k}": v for k, v in raw.goals.items()},
    }
    for name, reward in named.items():
        field = f"{raw.objective_field}.{name}"
        for s in np.flatnonzero(~np.all(np.isfinite(reward), axis=1)):
            a = np.flatnonzero(~np.isfinite(reward[s]))
            actions = ", ".join(repr(raw.actions[i]) for i in a)
            values = ", ".join(repr(float(v)) for v in reward[s, a])
            problems.add(
                f"the reward of state {raw.states[s]!r}, action {actions} is {values}"
                if a.size == 1
                else f"the rewards of state {raw.states[s]!r}, actions {actions} are {values}",
                field=field,
                fix="use a finite number",
            )
        finite = np.where(np.isfinite(reward), np.abs(reward), 0.0)
        top = float(finite.max(initial=0.0))
        if 0.0 < top < REWARD_FLOOR:
            problems.add(
                f"the largest reward is {top:.3g}: so small that alignlens's round-off "
                "margins (1e-12 of the larger of 1 and the return scale) would read real "
                "differences as ties",
                field=field,
                fix=f"rescale the rewards so that the largest is at least {REWARD_FLOOR:g} in "
                "size; verdicts do not change with scale",
            )
        if _scalars_ok(raw) and finite.max(initial=0.0) > reward_limit(raw.discount, raw.horizon):
            s, a = np.unravel_index(int(np.argmax(finite)), finite.shape)
            problems.add(
                f"the reward {float(reward[s, a]):.6g} of state {raw.states[s]!r}, action "
                f"{raw.actions[a]!r} makes returns overflow what alignlens computes exactly "
                f"(|return| ≤ {RETURN_LIMIT:.0e})",
                field=field,
                fix=f"rescale the rewards to |reward| ≤ "
                f"{reward_limit(raw.discount, raw.horizon):.3g} (with this discount"
                f"{' and horizon' if raw.horizon else ''}); verdicts do not change with scale",
            )
        at_terminal = terminal & np.any((reward != 0) & np.isfinite(reward), axis=1)
        for s in np.flatnonzero(at_terminal):
            problems.add(
                f"terminal state {raw.states[s]!r} has a reward, but episodes end there and "
                "earn nothing",
                field=field,
                fix="give the reward on the action that enters the state instead",
            )


def _scalars_ok(raw: RawWorld) -> bool:
    return not scalar_problems(raw.discount, raw.horizon, raw.deploy_share)


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


def _check_size(raw: RawWorld, matrices: Iterable[sp.csr_matrix]) -> None:
    """Refuse, before the successor tables are built, a world whose tables (every
    state-action row as wide as the widest, once per step of a horizon) will not fit."""
    n_states, n_actions = len(raw.states), len(raw.actions)
    steps = raw.horizon or 1
    widths = [max(1, int(np.diff(m.indptr).max(initial=0))) for m in matrices]
    estimate = sum(table_bytes(n_states * steps, n_actions, k) for k in widths)
    widest = max(widths)
    mean = max(m.nnz for m in matrices) / max(1, n_states * n_actions)
    what = f"{n_states:,} states × {n_actions} actions × {widest:,} successors"
    if raw.horizon:
        what += f" × {raw.horizon:,} steps"
    if widest > 4 * max(1.0, mean):
        what += f" (one state-action has {widest:,} successors, and every row is as wide)"
    fits = table_bytes(n_states, n_actions, widest) * len(widths) <= budget()
    check_fits(
        estimate,
        f"the world's successor tables, {what},",
        field="horizon" if raw.horizon and fits else "transitions",
        fix="give a shorter horizon" if raw.horizon and fits else "give a smaller world",
    )


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
