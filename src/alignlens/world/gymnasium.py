"""Worlds from Gymnasium environments: a training and a deployment environment read into one
exact tabular world (Gymnasium is an optional extra, imported lazily).

Two ways to read an environment:

- **table**: environments that expose their transition table (``env.unwrapped.P``, as
  FrozenLake, Taxi and CliffWalking do) are read exactly: ``P[s][a]`` lists
  ``(probability, next state, reward, terminated)``;
- **search**: deterministic environments with discrete actions are enumerated from
  ``reset`` by breadth-first search, saving and restoring the environment by deep copy;
  each (state, action) is stepped from the same saved copy under several random seeds,
  and any difference means the environment is stochastic, which search cannot enumerate
  (a stochastic environment whose randomness shows nowhere in those trials would pass).
  A state is known by its observation, or by ``state_key(env)`` where the observation
  does not identify it.

Either way:

- a transition that terminates the episode leads to one terminal state, ``end``;
- a time limit (Gymnasium's ``TimeLimit`` wrapper, which ``gymnasium.make`` adds where
  the environment is registered with ``max_episode_steps``) is honoured as the world's
  finite horizon by default: the world is time-augmented, so its exact returns are those
  of episodes cut where the environment cuts them. ``horizon=N`` sets another episode
  length, and ``horizon=None`` ignores time limits (discounting stands in for them);
- R is the environment's expected reward per (state, action); U (``intended``) and each
  goal are functions of (observation, action, next observation), or U is read from a
  named ``info`` key per step (``intended_info``, the hidden-reward convention of the AI
  Safety Gridworlds; search only); without either, U is R;
- a state that is the same in both environments (the same observation, or state key),
  shows the same observation in both, and where every objective has the same expected
  value per action is one shared state, whose dynamics may differ between the
  environments (the world then says so); otherwise each environment has its own copy
  (``train:`` and ``deploy:``), each showing what that environment shows there (a
  partial view of a shifted layout differs), so that policies acting on observations
  see in each environment what an agent there would see.

`GymWorld` keeps each observation as the environment produced it, for policies trained
elsewhere (`GymWorld.policy`).
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alignlens.errors import WorldError
from alignlens.policies.tabular import policy_from_callable
from alignlens.world.files import world_from_dict
from alignlens.world.gym_horizon import (
    TIME_LIMIT,
    Horizon,
    beyond_limits,
    resolve_horizon,
    time_limit,
)
from alignlens.world.gym_specs import world_name
from alignlens.world.horizon import END_OBSERVATION
from alignlens.world.model import World

END = "end"
STATE_LIMIT = 10_000
TRIALS = 4  # search steps each (state, action) this often, under different random seeds
START_PATIENCE = 100
START_FACTOR = 5
"""Without seeds, search resets until max(START_PATIENCE, START_FACTOR × starts found)
resets in a row find no new start state: with k equally likely starts, one is missed with
probability about e^−5 per start still unseen then."""
RESET_LIMIT = 100_000
AUGMENTED_LIMIT = 2_000_000
"""Most states a time-augmented world may have (the states read, once per step)."""
Objective = Callable[[Any, int, Any], float]


@dataclass(frozen=True, eq=False)
class GymWorld:
    """A world read from Gymnasium environments, with the raw observation of each
    observation name (what a policy trained on the environment sees), and what was read
    (`Reading`, for certifying the world against rollouts of the environments)."""

    world: World
    observations: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    reading: Reading | None = None

    def policy(self, act: Callable[[Any], Any], *, name: str = "policy"):
        """The tabular policy of ``act(observation) -> action index | probabilities``, called
        once per distinct observation (a `TabularPolicy` acting alike on states that look
        alike). The terminal states (``end``, and the end of a horizon) act uniformly (they
        take no action)."""

        def on_name(observation: Hashable) -> Any:
            if observation in (END, END_OBSERVATION):
                return np.full(self.world.n_actions, 1.0 / self.world.n_actions)
            return act(self.observations[str(observation)])

        return policy_from_callable(self.world, on_name, name=name)


@dataclass
class _Step:
    """One outcome of (state, action): probability, next state key, reward, terminated, and
    the intended reward when read from ``info``."""

    prob: float
    next_key: Hashable
    reward: float
    terminated: bool
    hidden: float | None = None


@dataclass
class _Read:
    """One environment read out: start keys, outcomes per state key, raw observations, and
    the reset seeds whose empirical start distribution ``start`` is (None where ``start``
    is the environment's own)."""

    start: dict[Hashable, float]
    outcomes: dict[Hashable, list[list[_Step]]]  # state → per action
    observation: dict[Hashable, Any]  # state and next-state keys → raw observation
    seeds: tuple[int, ...] | None = None


@dataclass(frozen=True, eq=False)
class Reading:
    """What a world was read from: the environments (as passed, wrappers included), each
    one's read-out, and how its objectives were made from the environments' steps."""

    envs: Mapping[str, Any]
    reads: Mapping[str, _Read]
    intended: Objective | None
    intended_info: str | None
    reward: Callable[[float], float] | None

    def rewards(
        self, step_reward: float, hidden: float | None, here: Any, action: int, there: Any
    ) -> tuple[float, float]:
        """(R, U) of one step from ``here`` by ``action`` to ``there`` that paid
        ``step_reward``, with ``hidden`` the value of the ``intended_info`` key."""
        return _rewards(self.reward, self.intended, hidden, step_reward, here, action, there)


def _rewards(
    reward: Callable[[float], float] | None,
    intended: Objective | None,
    hidden: float | None,
    step_reward: float,
    here: Any,
    action: int,
    there: Any,
) -> tuple[float, float]:
    """(R, U) of one step: R is the reward mapped by ``reward``; U is ``intended`` of the
    step, else the hidden reward read from info, else R."""
    r = float(reward(step_reward)) if reward is not None else float(step_reward)
    if intended is not None:
        return r, float(intended(here, action, there))
    return r, (float(hidden) if hidden is not None else r)


def world_from_gymnasium(
    train_env: Any,
    deploy_env: Any,
    *,
    intended: Objective | None = None,
    intended_info: str | None = None,
    goals: Mapping[str, Objective] | None = None,
    method: str = "auto",
    state_key: Callable[[Any], Hashable] | None = None,
    reward: Callable[[float], float] | None = None,
    seeds: Sequence[int] | None = None,
    state_limit: int = STATE_LIMIT,
    discount: float = 0.99,
    horizon: Horizon = TIME_LIMIT,
    deploy_share: float = 0.5,
    action_names: Sequence[str] | None = None,
    name: str | None = None,
) -> GymWorld:
    """The exact world of a training and a deployment environment (see the module).

    ``method`` is "table", "search" or "auto" (the table where there is one and U is not
    read from ``info``). Search starts from ``reset(seed=s)`` for each of ``seeds``
    (uniformly); without ``seeds`` it samples resets until the start set stops growing
    (`sample_starts`, whose finding `GymWorld.notes` states). Search stops with an error
    beyond ``state_limit`` states. ``reward`` maps
    the environment's reward to R (e.g. MiniGrid's time-dependent success reward to 1).
    ``horizon`` is the episode length: "time-limit" (the default) takes it from the
    environments' time limits (`time_limit`), an integer sets it, None ignores time limits.
    """
    envs = {"train": train_env, "deploy": deploy_env}
    n_actions = _check_actions(envs)
    limits = {e: time_limit(env) for e, env in envs.items()}
    horizon = resolve_horizon(limits, discount, horizon)
    notes: list[str] = beyond_limits(limits, horizon)
    if intended is not None and intended_info is not None:
        raise WorldError(
            "both intended and intended_info are given",
            field="intended",
            fix="give U either as a function or as an info key",
        )
    reads = {}
    for env_name, env in envs.items():
        how = method
        if how == "auto":
            how = "table" if _table(env) is not None and intended_info is None else "search"
        if how == "table":
            if intended_info is not None:
                raise WorldError(
                    "a transition table has no info to read U from",
                    field="intended_info",
                    fix="read the environment by search (method='search'), or give U as a "
                    "function of (observation, action, next observation)",
                )
            reads[env_name] = _read_table(env, env_name, notes)
        elif how == "search":
            reads[env_name] = _search(
                env, env_name, n_actions, state_key, intended_info, seeds, state_limit, notes
            )
        else:
            raise WorldError(
                f"unknown method {method!r}",
                field="method",
                fix='use "table", "search" or "auto"',
            )
    size = sum(len(read.observation) for read in reads.values()) * (horizon or 1)
    if size > AUGMENTED_LIMIT:
        raise WorldError(
            f"a horizon of {horizon} steps makes about {size:,} states (the states read, once "
            f"per step), more than {AUGMENTED_LIMIT:,}",
            field="horizon",
            fix="give a shorter episode length (horizon=N, --horizon N), or ignore the time "
            "limits (horizon=None, --horizon none) with a discount below 1",
        )
    document, observations = _document(
        reads, n_actions, intended, goals or {}, reward, action_names
    )
    document.update(
        name=name or world_name(train_env, deploy_env),
        discount=discount,
        deploy_share=deploy_share,
    )
    if horizon is not None:
        document["horizon"] = horizon

    reading = Reading(envs, reads, intended, intended_info, reward)
    world = world_from_dict(document, source="gymnasium")
    return GymWorld(world, observations, tuple(notes), reading)


def _check_actions(envs: Mapping[str, Any]) -> int:
    """The number of actions, the same discrete space in both environments."""
    from gymnasium import spaces

    counts = {}
    for env_name, env in envs.items():
        space = env.action_space
        if not isinstance(space, spaces.Discrete):
            raise WorldError(
                f"the {env_name} environment's action space is {space}, not discrete",
                field=f"{env_name}_env.action_space",
                fix="use an environment with a Discrete action space (or discretise it first)",
            )
        counts[env_name] = int(space.n)
    if counts["train"] != counts["deploy"]:
        raise WorldError(
            f"the environments have {counts['train']} and {counts['deploy']} actions",
            field="deploy_env.action_space",
            fix="use environments with the same actions",
        )
    return counts["train"]


def _table(env: Any) -> Any:
    return getattr(env.unwrapped, "P", None)


PASSIVE_WRAPPERS = ("TimeLimit", "OrderEnforcing", "PassiveEnvChecker", "RecordEpisodeStatistics")
"""Wrappers that change neither rewards, observations nor transitions (TimeLimit cuts
episodes: the world's horizon, `time_limit`)."""


def _wrapped(env: Any, env_name: str) -> tuple[list[Callable], list[Callable]]:
    """The reward and observation transforms of the wrappers around ``env``, innermost
    first, for reading its table: a wrapper that changes anything else (actions, steps)
    cannot be read from the table and is refused by name."""
    import gymnasium

    rewards: list[Callable] = []
    observations: list[Callable] = []
    layer = env
    while isinstance(layer, gymnasium.Wrapper):
        kind = type(layer).__name__
        if isinstance(layer, gymnasium.RewardWrapper):
            rewards.insert(0, layer.reward)
        elif isinstance(layer, gymnasium.ObservationWrapper):
            observations.insert(0, layer.observation)
        elif kind not in PASSIVE_WRAPPERS:
            raise WorldError(
                f"the {env_name} environment is wrapped in {kind}, which the transition "
                "table (env.unwrapped.P) does not see",
                field=f"{env_name}_env",
                fix="read it by search (method='search'), or apply the wrapper's effect "
                "with a reward or observation wrapper",
            )
        layer = layer.env
    return rewards, observations


def _through(transforms: Sequence[Callable], value: Any) -> Any:
    for transform in transforms:
        value = transform(value)
    return value


def _read_table(env: Any, env_name: str, notes: list[str]) -> _Read:
    """The transition table ``P[s][a] = [(p, s', r, terminated), ...]`` and the start
    distribution ``initial_state_distrib`` (or the reset state), with the rewards and
    observations passed through the wrappers around the environment, as an agent on the
    wrapped environment receives them."""
    rewards, observations = _wrapped(env, env_name)
    table = _table(env)
    if table is None:
        raise WorldError(
            f"the {env_name} environment has no transition table (env.unwrapped.P)",
            field="method",
            fix="read it by search (method='search'), for a deterministic environment",
        )
    start_table = getattr(env.unwrapped, "initial_state_distrib", None)
    if start_table is None:
        counts: dict[int, int] = {}

        def reset(seed: int) -> bool:
            state = int(env.unwrapped.reset(seed=seed)[0])
            counts[state] = counts.get(state, 0) + 1
            return counts[state] == 1

        seeds = tuple(range(sample_starts(reset, env_name, notes)))
        total = sum(counts.values())
        start = {s: n / total for s, n in counts.items()}
    else:
        seeds = None
        start = {int(s): float(p) for s, p in enumerate(np.asarray(start_table)) if p > 0}
    outcomes = {
        int(s): [
            [
                _Step(float(p), int(nxt), float(_through(rewards, float(r))), bool(done))
                for p, nxt, r, done in rows[a]
            ]
            for a in sorted(rows)
        ]
        for s, rows in table.items()
    }
    seen = {
        int(nxt)
        for rows in outcomes.values()
        for steps in rows
        for nxt in (x.next_key for x in steps)
    }
    shown = {s: _through(observations, s) for s in {*outcomes, *seen}}
    return _Read(start, outcomes, shown, seeds)


def _key(observation: Any) -> Hashable:
    """A hashable identity for an observation (arrays by shape, dtype and bytes)."""
    if isinstance(observation, np.ndarray):
        return ("array", observation.shape, observation.dtype.str, observation.tobytes())
    if isinstance(observation, Mapping):
        return ("dict", tuple((k, _key(v)) for k, v in sorted(observation.items())))
    if isinstance(observation, tuple | list):
        return ("seq", tuple(_key(v) for v in observation))
    if isinstance(observation, np.generic):
        return observation.item()
    return observation


def _search(
    env: Any,
    env_name: str,
    n_actions: int,
    state_key: Callable[[Any], Hashable] | None,
    intended_info: str | None,
    seeds: Sequence[int] | None,
    state_limit: int,
    notes: list[str],
) -> _Read:
    """Breadth-first search over reachable states, by deep copies of the environment."""

    def key_of(e: Any, observation: Any) -> Hashable:
        return state_key(e) if state_key is not None else _key(observation)

    saved: dict[Hashable, Any] = {}
    observation: dict[Hashable, Any] = {}
    counts: dict[Hashable, int] = {}

    def reset(seed: int) -> bool:
        """Reset a copy with ``seed``; whether it started in a state not seen before."""
        e = _copy(env)
        first, _ = e.reset(seed=seed)
        k = key_of(e, first)
        counts[k] = counts.get(k, 0) + 1
        if k in saved:
            return False
        saved[k], observation[k] = e, first
        return True

    if seeds is not None:
        used: tuple[int, ...] | None = tuple(int(seed) for seed in seeds)
        for seed in used:
            reset(seed)
    else:
        used = tuple(range(sample_starts(reset, env_name, notes)))
    total = sum(counts.values())
    start = {k: n / total for k, n in counts.items()}
    table = getattr(env.unwrapped, "initial_state_distrib", None)
    if seeds is None and state_key is None and table is not None:
        exact = {s: float(q) for s, q in enumerate(np.asarray(table)) if q > 0}
        if set(exact) == set(start):  # every start found: take the table's probabilities
            start, used = exact, None
            if notes and notes[-1].startswith(f"the {env_name} environment's resets"):
                notes[-1] = (
                    f"the {env_name} environment's resets are random: search found all "
                    f"{len(exact)} start states of its initial_state_distrib, whose "
                    "probabilities it uses"
                )
    outcomes: dict[Hashable, list[list[_Step]]] = {}
    todo = deque(saved)
    while todo:
        k = todo.popleft()
        rows = []
        for a in range(n_actions):
            results = []
            for trial in range(TRIALS):  # the same step under other random seeds
                e = _copy(saved[k])
                e.unwrapped.np_random = np.random.default_rng(trial)
                nxt, r, terminated, _, info = e.step(a)
                results.append((key_of(e, nxt), float(r), bool(terminated)))
                if trial == 0:
                    kept = (e, nxt, info)
            if len(set(results)) > 1:
                raise WorldError(
                    f"the {env_name} environment is stochastic: the same action from the same "
                    f"state gave different outcomes under different random seeds (action {a})",
                    field=f"{env_name}_env",
                    fix="use a deterministic environment for search, or one with a transition "
                    "table (env.unwrapped.P)",
                )
            (nk, r, terminated), (e, nxt, info) = results[0], kept
            hidden = None
            if intended_info is not None:
                if intended_info not in info:
                    raise WorldError(
                        f"the {env_name} environment's info has no key {intended_info!r} "
                        f"(it has {', '.join(map(repr, info)) or 'none'})",
                        field="intended_info",
                        fix="name a key the environment's step() puts in info",
                    )
                hidden = float(info[intended_info])
            observation.setdefault(nk, nxt)
            if not terminated and nk not in saved:
                if len(saved) >= state_limit:
                    raise WorldError(
                        f"the {env_name} environment has more than {state_limit} reachable states",
                        field="state_limit",
                        fix="raise `state_limit`, or use a smaller environment",
                    )
                saved[nk] = e
                todo.append(nk)
            rows.append([_Step(1.0, nk, r, terminated, hidden)])
        outcomes[k] = rows
    return _Read(start, outcomes, observation, used)


def sample_starts(reset: Callable[[int], bool], env_name: str, notes: list[str]) -> int:
    """Call ``reset(seed)`` (which says whether it found a new start state) for seeds 0, 1,
    … until max(`START_PATIENCE`, `START_FACTOR` × starts found) resets in a row find no
    new one; note the sampling when the resets turned out random. Returns the number of
    resets (seeds 0 to that number − 1)."""
    resets = quiet = found = 0
    while quiet < max(START_PATIENCE, START_FACTOR * found):
        if resets >= RESET_LIMIT:
            raise WorldError(
                f"{RESET_LIMIT} resets of the {env_name} environment kept finding new start states",
                field="seeds",
                fix="give the seeds of the resets to read (seeds=...), or read the "
                "environment's transition table",
            )
        new = reset(resets)
        found += new
        quiet = 0 if new else quiet + 1
        resets += 1
    if found > 1:
        notes.append(
            f"the {env_name} environment's resets are random: its start distribution is the "
            f"empirical one of {resets} resets (seeds 0–{resets - 1}), {found} distinct "
            f"start states, sampled until {quiet} resets in a row found no new one; the "
            "exact numbers are for that distribution"
        )
    return resets


def _name_of(key: Hashable, index: int) -> str:
    """A state's name: s5 for state 5 of a table, (x,y,d) for a tuple of integers (a state
    key such as MiniGrid's), else o and its index in discovery order."""
    if isinstance(key, int | np.integer):
        return f"s{key}"
    if isinstance(key, tuple) and all(isinstance(x, int | np.integer) for x in key):
        return "(" + ",".join(str(int(x)) for x in key) + ")"
    return f"o{index}"


def _copy(env: Any) -> Any:
    """A deep copy of an environment that shares its transition table, if it has one (a
    static table; copying Taxi's every step would dominate the search)."""
    table = _table(env)
    try:
        return copy.deepcopy(env, {} if table is None else {id(table): table})
    except Exception as e:  # whatever the environment holds that cannot be copied
        raise WorldError(
            f"search saves the environment by deep copy, and {type(env.unwrapped).__name__} "
            f"cannot be deep-copied ({type(e).__name__}: {e})",
            field="method",
            fix="make the environment deep-copyable, or read it from a transition table",
        ) from None


def _document(
    reads: Mapping[str, _Read],
    n_actions: int,
    intended: Objective | None,
    goals: Mapping[str, Objective],
    reward: Callable[[float], float] | None,
    action_names: Sequence[str] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The world document (states shared where both environments agree) and the raw
    observation of each observation name."""
    actions = list(action_names) if action_names else [f"a{j}" for j in range(n_actions)]
    if len(actions) != n_actions:
        raise WorldError(
            f"{len(actions)} action names for {n_actions} actions",
            field="action_names",
            fix="give one name per action",
        )
    names: dict[Hashable, str] = {}  # state key → state name
    seen: dict[Hashable, str] = {}  # observation → observation name
    raw: dict[str, Any] = {}
    for read in reads.values():
        for k, obs in read.observation.items():
            if k not in names:
                names[k] = _name_of(k, len(names))
            shown = _key(obs)
            if shown not in seen:
                seen[shown] = _name_of(shown, len(seen))
                raw[seen[shown]] = obs

    def observed(read: _Read, k: Hashable) -> str:
        """The name of what the state shows in this environment (a state key such as
        MiniGrid's position may show another view in the other environment)."""
        return seen[_key(read.observation[k])]

    kinds = ("base", "intended", *goals)

    def expected(read: _Read, k: Hashable) -> np.ndarray:
        """The expected value of every objective, per action [A, objectives]."""
        out = np.zeros((n_actions, len(kinds)))
        for a, steps in enumerate(read.outcomes[k]):
            for step in steps:
                here, there = read.observation[k], read.observation[step.next_key]
                r, u = _rewards(reward, intended, step.hidden, step.reward, here, a, there)
                out[a] += step.prob * np.array(
                    [r, u, *(float(f(here, a, there)) for f in goals.values())]
                )
        return out

    values = {e: {k: expected(read, k) for k in read.outcomes} for e, read in reads.items()}
    shared = {  # one state where it looks the same and every objective agrees there
        k
        for k in set(values["train"]) & set(values["deploy"])
        if np.array_equal(values["train"][k], values["deploy"][k])
        and observed(reads["train"], k) == observed(reads["deploy"], k)
    }

    def state(env_name: str, k: Hashable) -> str:
        return names[k] if k in shared else f"{env_name}:{names[k]}"

    states: dict[str, str] = {}  # state name → observation name
    environments = {}
    objective_rows: dict[str, list] = {name: [] for name in kinds}
    for env_name, read in reads.items():
        transitions = []
        for k, steps in read.outcomes.items():
            s = state(env_name, k)
            for a, outcomes in enumerate(steps):
                for step in outcomes:
                    target = END if step.terminated else state(env_name, step.next_key)
                    transitions.append([s, actions[a], target, step.prob])
            if s in states:
                continue  # a shared state's objectives are written once
            states[s] = observed(read, k)
            for a in range(n_actions):
                for name, v in zip(kinds, values[env_name][k][a], strict=True):
                    if v != 0.0:
                        objective_rows[name].append([s, actions[a], float(v)])
        start = {state(env_name, k): p for k, p in read.start.items()}
        environments[env_name] = {"start": start, "transitions": transitions, "terminal": [END]}
    # A state only one environment enters (say a deployment-only state) is listed by it;
    # the other environment gives it no transitions and never reaches it.
    document = {
        "states": [*states, END],
        "actions": actions,
        "observations": {**states, END: END},
        "train": environments["train"],
        "deploy": environments["deploy"],
        "objectives": {
            "base": objective_rows["base"],
            "intended": objective_rows["intended"],
            "goals": {g: objective_rows[g] for g in goals},
        },
    }
    return document, raw
