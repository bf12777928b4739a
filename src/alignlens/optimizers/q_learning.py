"""Tabular Q-learning: ε-greedy exploration on sampled transitions, with a step budget.

Episodes start from the training start distribution and end at terminal states (or after
``max_episode_steps``). Pairs that are never tried keep their initial value, so in states
the agent never visited — deployment-only states above all — the greedy policy is
indifferent among all actions: what a Q-learner that never saw lava does near lava.

Every step depends on the last and the tables are small, so training is a plain Python
loop over lists, its randomness drawn in blocks from ``numpy.random.default_rng(seed)``;
the greedy policy is snapshot every ``trace_every`` steps and each snapshot evaluated
exactly (`trace_of`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float, Int

from alignlens.learned import Learned
from alignlens.optimizers.trace import trace_of
from alignlens.policies.planner import indifferent
from alignlens.policies.tabular import TabularPolicy
from alignlens.world.model import World


@dataclass(frozen=True)
class QLearningConfig:
    """Settings of tabular Q-learning.

    Attributes:
        steps: the budget, in environment steps (a multiple of ``trace_every``).
        learning_rate: α, the step size of each update.
        exploration: ε, the probability of a uniformly random action.
        initial_value: Q of every state and action before any update.
        max_episode_steps: episodes are cut after this many steps (and restarted).
        trace_every: record the greedy policy's exact returns every this many steps.
    """

    steps: int = 50_000
    learning_rate: float = 0.5
    exploration: float = 0.2
    initial_value: float = 0.0
    max_episode_steps: int = 200
    trace_every: int = 1000


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """Uniform over the actions of highest Q (all of them where nothing was learned)."""
    return indifferent(q, float(np.abs(q).max(initial=0.0)))


_Sampler = int | tuple[list[float], list[int]] | None


def _sampler(probs: Float[np.ndarray, " K"], outcomes: Int[np.ndarray, " K"]) -> _Sampler:
    """The outcome itself when it is certain, else (cumulative probabilities, outcomes) of
    those with positive probability, for inverse-CDF sampling with `_draw`; None when
    nothing can follow (the rows of terminal states, where no action is taken)."""
    keep = probs > 0
    outcomes = [int(o) for o in outcomes[keep]]
    if len(outcomes) <= 1:
        return outcomes[0] if outcomes else None
    cumulative = np.cumsum(probs[keep])
    return [float(c) for c in cumulative / cumulative[-1]], outcomes


def _draw(sampler: _Sampler, u: float) -> int:
    """The outcome that the uniform ``u`` in [0, 1) selects."""
    if isinstance(sampler, int):
        return sampler
    if sampler is None:  # validated worlds give every reachable non-terminal state one
        raise RuntimeError("a state with no successor was reached")
    cumulative, outcomes = sampler
    return outcomes[min(bisect.bisect_right(cumulative, u), len(outcomes) - 1)]


def train_q(
    world: World, config: QLearningConfig, rng: np.random.Generator
) -> tuple[Float[np.ndarray, "S A"], Float[np.ndarray, "records S A"]]:
    """Q [S, A] after ``records · trace_every`` steps (records = max(1, steps //
    trace_every)), and the Q snapshot after every ``trace_every`` steps [records, S, A].

    Each step draws four uniforms from ``rng``: the start state (used only when the
    episode restarts), whether to explore, the action (uniform over all actions when
    exploring, else uniform over the actions of highest Q), and the successor."""
    env = world.train
    n_states, n_actions = world.n_states, world.n_actions
    successor = [
        [_sampler(env.prob[s, a], env.next_state[s, a]) for a in range(n_actions)]
        for s in range(n_states)
    ]
    start = _sampler(env.start, np.arange(n_states))
    terminal = [bool(t) for t in env.terminal]
    reward = world.base.tolist()
    gamma, alpha = world.discount, config.learning_rate
    exploration, horizon = config.exploration, config.max_episode_steps
    records = max(1, config.steps // config.trace_every)

    q = [[float(config.initial_value)] * n_actions for _ in range(n_states)]
    s, t = _draw(start, float(rng.random())), 0
    snapshots = np.empty((records, n_states, n_actions))
    for record in range(records):
        for u_reset, u_explore, u_action, u_next in rng.random((config.trace_every, 4)).tolist():
            if terminal[s] or t >= horizon:
                s, t = _draw(start, u_reset), 0
            row = q[s]
            if u_explore < exploration:
                a = int(u_action * n_actions)
            else:
                best = max(row)
                a = row.index(best)
                if row.count(best) > 1:
                    ties = [i for i, v in enumerate(row) if v == best]
                    a = ties[int(u_action * len(ties))]
            s_next = successor[s][a]
            if type(s_next) is not int:  # a stochastic transition
                s_next = _draw(s_next, u_next)
            target = reward[s][a]
            if not terminal[s_next]:
                target += gamma * max(q[s_next])
            row[a] += alpha * (target - row[a])
            s, t = s_next, t + 1
        snapshots[record] = q
    return snapshots[-1].copy(), snapshots


def q_learning(world: World, config: QLearningConfig | None = None, *, seed: int = 0) -> Learned:
    """Learn Q on sampled training transitions; the policy is greedy in the final Q. All
    randomness comes from ``numpy.random.default_rng(seed)``."""
    config = config or QLearningConfig()
    q, snapshots = train_q(world, config, np.random.default_rng(seed))
    tables = np.stack([greedy_policy(s) for s in snapshots])
    policy = TabularPolicy.fixed(f"Q-learning ({config.steps} steps)", greedy_policy(q))
    steps = config.trace_every * np.arange(1, len(tables) + 1)
    return Learned(policy, "q-learning", seed, trace_of(world, tables, steps))
