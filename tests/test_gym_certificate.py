"""Time limits as horizons, and the rollout certificate of worlds read from Gymnasium and
MiniGrid environments: exact optima against pymdptoolbox's finite-horizon solver on worlds
built by hand, exact returns of stochastic policies against rollouts of the real
environments (wrapped and unwrapped), and a table that does not describe its environment
refused."""

from __future__ import annotations

import warnings

import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid environments)
import numpy as np
import pytest

from alignlens.errors import AlignlensError, WorldError
from alignlens.solve import analyze_world
from alignlens.world.gym_certificate import _actions_by_observation, _moments, certify
from alignlens.world.gymnasium import END, world_from_gymnasium
from alignlens.world.minigrid import minigrid_world
from oracles import DEPLOY_MAP, TRAIN_MAP, careful, frozen_lake, layout_of, steps_to_goal, taxi

GAMMA = 0.99


def finite_horizon_optimum(
    transitions: dict, reward: dict, start: dict, horizon: int, discount: float
) -> float:
    """J* of a hand-built world over ``horizon`` steps by pymdptoolbox's FiniteHorizon
    (backward induction on dense arrays, with "end" absorbing and paying nothing)."""
    import mdptoolbox.mdp

    states = sorted({s for s, _ in transitions} | {END})
    actions = sorted({a for _, a in transitions})
    index = {s: i for i, s in enumerate(states)}
    p = np.zeros((len(actions), len(states), len(states)))
    r = np.zeros((len(states), len(actions)))
    p[:, index[END], index[END]] = 1.0
    for (s, a), moves in transitions.items():
        for t, q in moves.items():
            p[actions.index(a), index[s], index[t]] += q
        r[index[s], actions.index(a)] = reward[s, a]
    solver = mdptoolbox.mdp.FiniteHorizon(p, r, discount, horizon)
    solver.run()
    return float(sum(q * solver.V[index[s], 0] for s, q in start.items()))


def test_a_time_limit_is_the_horizon_frozen_lake() -> None:
    """FrozenLake-v1 is registered with a 100-step TimeLimit: the world's horizon is 100 and
    J* is pymdptoolbox's 100-step optimum of the hand-built lake, not the endless one."""
    env = gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=True)
    world = world_from_gymnasium(env, env, discount=GAMMA).world
    assert world.horizon == 100
    transitions, reward = frozen_lake(TRAIN_MAP, slippery=True)
    want = finite_horizon_optimum(transitions, reward, {"s0": 1.0}, 100, GAMMA)
    assert analyze_world(world).optimum.train_base == pytest.approx(want, abs=1e-12)
    endless = world_from_gymnasium(env, env, discount=GAMMA, horizon=None).world
    assert endless.horizon is None
    assert analyze_world(endless).optimum.train_base > want + 1e-3  # the limit matters here
    short = world_from_gymnasium(env, env, discount=1.0, horizon=7).world  # γ = 1 is fine
    want_short = finite_horizon_optimum(transitions, reward, {"s0": 1.0}, 7, 1.0)
    assert analyze_world(short).optimum.train_base == pytest.approx(want_short, abs=1e-12)


def test_a_time_limit_is_the_horizon_rainy_taxi() -> None:
    """Taxi-v4 (200 steps) with rain: the hand-built Taxi's deterministic moves are not the
    rainy ones, so only the plain environment is compared with pymdptoolbox; the rainy one
    is certified against rollouts below."""
    env = gym.make("Taxi-v4")
    world = world_from_gymnasium(env, env, discount=GAMMA).world
    assert world.horizon == 200
    transitions, reward, start = taxi()
    want = finite_horizon_optimum(transitions, reward, start, 200, GAMMA)
    assert analyze_world(world).optimum.train_base == pytest.approx(want, abs=1e-9)


def test_horizon_errors_name_an_option_that_exists() -> None:
    lake, big = gym.make("FrozenLake-v1"), gym.make("FrozenLake8x8-v1")  # 100 and 200 steps
    with pytest.raises(WorldError, match="different lengths") as e:
        world_from_gymnasium(lake, big)
    assert e.value.field == "horizon" and "--horizon N" in e.value.fix
    both = world_from_gymnasium(lake, big, horizon=150).world
    assert both.horizon == 150
    cliff = gym.make("CliffWalking-v1")  # no time limit
    with pytest.raises(WorldError, match="discount 1 without a finite horizon") as e:
        world_from_gymnasium(cliff, cliff, discount=1.0)
    assert "--horizon N" in e.value.fix
    with pytest.raises(WorldError, match="more than 2,000,000") as e:
        world_from_gymnasium(gym.make("Taxi-v4"), gym.make("Taxi-v4"), horizon=10**6)
    assert e.value.field == "horizon" and "--horizon none" in e.value.fix
    for bad in (0, -3, "soon", True):
        with pytest.raises(WorldError, match="not a number of steps"):
            world_from_gymnasium(lake, lake, horizon=bad)


def test_a_horizon_past_the_time_limit_is_noted() -> None:
    lake = gym.make("FrozenLake-v1")
    assert world_from_gymnasium(lake, lake).notes == ()
    notes = world_from_gymnasium(lake, lake, horizon=150).notes
    assert notes and "cuts episodes after 100 steps" in notes[0]


def test_the_worlds_name_says_which_maps_differ() -> None:
    world = world_from_gymnasium(
        gym.make("FrozenLake-v1"), gym.make("FrozenLake-v1", map_name="8x8")
    ).world
    assert world.name == "FrozenLake-v1 (map_name=4x4) → FrozenLake-v1 (map_name=8x8)"
    desc = world_from_gymnasium(
        gym.make("FrozenLake-v1", desc=TRAIN_MAP), gym.make("FrozenLake-v1", desc=TRAIN_MAP)
    ).world
    assert desc.name == "FrozenLake-v1 → FrozenLake-v1"  # nothing differs
    cells = [np.array([list(row) for row in m]) for m in (TRAIN_MAP, DEPLOY_MAP)]
    arrays = world_from_gymnasium(
        gym.make("FrozenLake-v1", desc=cells[0]), gym.make("FrozenLake-v1", desc=cells[1])
    ).world  # arrays compared as arrays, shown row by row
    assert arrays.name == (
        "FrozenLake-v1 (desc=SFFF/FHFH/FFFH/HFFG) → FrozenLake-v1 (desc=SFFF/FFFH/FHFH/HFFG)"
    )


# --- The certificate: exact returns against rollouts --------------------------------------


def uniform(n: int):
    return lambda observation: np.full(n, 1.0 / n)


def one_hot_lake(desc_or_map: dict):
    """FrozenLake wrapped as an agent might see it: rewards 10r − 0.01, one-hot states."""
    from gymnasium.spaces import Box
    from gymnasium.wrappers import TransformObservation, TransformReward

    env = gym.make("FrozenLake-v1", is_slippery=True, **desc_or_map)
    n = env.observation_space.n
    env = TransformReward(env, lambda r: 10 * r - 0.01)
    return TransformObservation(env, lambda s: np.eye(n)[s], Box(0.0, 1.0, (n,)))


def lake_walker(observation) -> np.ndarray:
    """Mostly right and down, a little of everything, on integer or one-hot states."""
    s = int(np.argmax(observation)) if np.ndim(observation) else int(observation)
    p = np.array([0.1, 0.4, 0.4, 0.1]) if s % 2 else np.array([0.05, 0.5, 0.3, 0.15])
    return p


def taxi_policy(epsilon: float):
    """The optimal policy of the plain Taxi (value iteration on its table), mixed with a
    uniform choice ``epsilon`` of the time."""
    table = gym.make("Taxi-v4").unwrapped.P
    v = np.zeros(500)
    for _ in range(300):
        q = np.array(
            [
                [
                    sum(p * (r + GAMMA * v[n] * (not d)) for p, n, r, d in table[s][a])
                    for a in range(6)
                ]
                for s in range(500)
            ]
        )
        v = q.max(axis=1)
    best = q.argmax(axis=1)

    def act(observation) -> np.ndarray:
        p = np.full(6, epsilon / 6)
        p[best[int(observation)]] += 1 - epsilon
        return p

    return act


CASES = {
    "lake 4x4 → 8x8": (
        lambda: gym.make("FrozenLake-v1"),
        lambda: gym.make("FrozenLake-v1", map_name="8x8"),
        lake_walker,
        {},
    ),
    "lake wrapped": (
        lambda: one_hot_lake({}),
        lambda: one_hot_lake({"map_name": "8x8"}),
        lake_walker,
        {},
    ),
    "lake, U as a function": (
        lambda: gym.make("FrozenLake-v1"),
        lambda: gym.make("FrozenLake-v1", desc=["SFFF", "FFFH", "FHFH", "HFFG"]),
        lake_walker,
        {"intended": lambda here, a, there: -1.0 if there in (5, 7, 9, 11, 12) else 0.0},
    ),
    "cliff, no time limit": (
        lambda: gym.make("CliffWalking-v1"),
        lambda: gym.make("CliffWalking-v1", is_slippery=True),
        uniform(4),
        {"discount": 0.9},
    ),
    "rainy taxi": (
        lambda: gym.make("Taxi-v4"),
        lambda: gym.make("Taxi-v4", is_rainy=True),
        taxi_policy(0.2),
        {},
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_exact_returns_agree_with_rollouts(case: str) -> None:
    """Every exact return (R, and U where it is not R) of a stochastic policy lies within 4
    standard errors of 1,000 rollouts of the real environment, wrappers included."""
    train, deploy, act, options = CASES[case]
    gym_world = world_from_gymnasium(train(), deploy(), **{"discount": GAMMA, **options})
    certificate = certify(gym_world, act, episodes=1000, seed=0)
    n_objectives = 2 if "intended" in options else 1
    assert len(certificate.rows) == 2 * n_objectives
    assert certificate.passed
    for row in certificate.rows:
        assert abs(row.z) <= 4 and row.standard_error > 0
    if gym_world.world.horizon is None:  # cut where γ^t < 1e-3, against those steps' return
        assert all(row.steps == 66 for row in certificate.rows)  # ⌈ln 1e-3 / ln 0.9⌉
    assert certify(gym_world, act, episodes=1000, seed=0) == certificate  # deterministic


@pytest.mark.slow
def test_a_table_that_does_not_describe_its_environment_is_refused() -> None:
    """Taxi's table leaves out the fickle passenger, who changes destination once: the
    "exact" return of the optimal policy (about 6.33) meets rollouts near 6.88."""
    gym_world = world_from_gymnasium(
        gym.make("Taxi-v4"), gym.make("Taxi-v4", fickle_passenger=True), discount=GAMMA
    )
    act = taxi_policy(0.0)
    with pytest.raises(WorldError, match="the table does not describe the environment") as e:
        certify(gym_world, act, episodes=3000, seed=0)
    assert e.value.field == "deploy_env"
    report = certify(gym_world, act, episodes=3000, seed=0, refuse=False)
    train, deploy = report.rows
    assert abs(train.z) <= 4 and deploy.z > 4
    assert deploy.exact == pytest.approx(train.exact)  # the table cannot tell them apart


@pytest.mark.slow
def test_the_exact_variance_agrees_with_the_rollouts() -> None:
    """The second moment of the discounted return, from the read-out transitions, against
    the sample variance of 4,000 rollouts (within 4 standard errors of a variance
    estimate, sqrt((m4 − s⁴)/n))."""
    gym_world = world_from_gymnasium(
        gym.make("Taxi-v4"), gym.make("Taxi-v4", is_rainy=True), discount=GAMMA
    )
    act = taxi_policy(0.3)
    from alignlens.world.gym_certificate import _rollouts

    rows = _actions_by_observation(gym_world, gym_world.policy(act), "deploy")
    reading = gym_world.reading
    mean, variance = _moments(reading.reads["deploy"], reading, rows, GAMMA, 200)
    sample = _rollouts(reading, "deploy", rows, GAMMA, 200, 4000, np.random.default_rng(1))
    x = sample[:, 0]
    s2 = x.var(ddof=1)
    m4 = np.mean((x - x.mean()) ** 4)
    assert abs(s2 - variance[0]) <= 4 * np.sqrt((m4 - s2**2) / x.size)
    assert abs(x.mean() - mean[0]) <= 4 * np.sqrt(variance[0] / x.size)


def test_a_deterministic_return_has_no_variance() -> None:
    """Non-slippery 3×3 lake, right, right, down, down: one path, the goal on the fourth
    step, return γ^3, variance 0; the rollouts agree exactly (z = 0)."""
    env = gym.make("FrozenLake-v1", is_slippery=False, desc=["SFF", "FHF", "FFG"])
    gym_world = world_from_gymnasium(env, env, discount=GAMMA)

    def act(s) -> int:
        return 2 if int(s) in (0, 1) else 1  # right, right, down, down

    rows = _actions_by_observation(gym_world, gym_world.policy(act), "train")
    mean, variance = _moments(gym_world.reading.reads["train"], gym_world.reading, rows, GAMMA, 100)
    assert mean[0] == pytest.approx(GAMMA**3) and variance[0] == pytest.approx(0.0, abs=1e-15)
    certificate = certify(gym_world, act, episodes=20)
    assert all(row.z == 0.0 and row.standard_error == 0.0 for row in certificate.rows)


def test_certify_refuses_what_it_cannot_check() -> None:
    """Too few episodes, a bad seed, and a policy that acts on more than the agent sees (a
    finite-horizon optimum acts by step, which rollouts of the agent cannot know)."""
    from alignlens.errors import PolicyError

    env = gym.make("FrozenLake-v1")
    gym_world = world_from_gymnasium(env, env)
    with pytest.raises(AlignlensError, match="cannot estimate a standard error"):
        certify(gym_world, uniform(4), episodes=1)
    with pytest.raises(AlignlensError, match="not a whole number") as e:
        certify(gym_world, uniform(4), seed=-1)
    assert e.value.field == "seed"
    table = gym_world.policy(uniform(4))
    by_step = table.train.copy()
    world = gym_world.world
    late = np.flatnonzero([name.endswith("@50") for name in world.states])
    by_step[late] = [1.0, 0.0, 0.0, 0.0]
    stepwise = type(table).fixed("by step", by_step)
    with pytest.raises(PolicyError, match="acts differently on states that show the same"):
        certify(gym_world, stepwise)


def test_rollouts_without_a_horizon_are_cut() -> None:
    """γ = 0.9999 and no horizon: γ^T < 1e-3 needs 69,075 steps; rollouts stop at 1,000 and
    are compared with the exact return of those 1,000 steps."""
    cliff = gym.make("CliffWalking-v1")
    gym_world = world_from_gymnasium(cliff, cliff, discount=0.9999)
    certificate = certify(gym_world, uniform(4), episodes=20, seed=0)
    assert all(row.steps == 1000 for row in certificate.rows)
    assert certificate.passed


# --- MiniGrid: DistShift and a fixed-seed LavaGap ------------------------------------------


@pytest.mark.slow
def test_a_fixed_seed_lava_gap_against_search_and_rollouts() -> None:
    """LavaGapS5 draws its gap anew on each reset; fixed to seed 0 (MiniGrid's
    ReseedWrapper) it is a static world: J* = γ^(n − 1) for the fewest steps n found by an
    independent breadth-first search of its grid, within its 100-step limit, and a
    stochastic policy on the 7×7 view agrees with rollouts."""
    from minigrid.wrappers import ImgObsWrapper, ReseedWrapper

    def make():
        return ImgObsWrapper(ReseedWrapper(gym.make("MiniGrid-LavaGapS5-v0"), seeds=[0]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ReseedWrapper warns that it ignores reset seeds
        gym_world = minigrid_world(make(), make(), discount=0.95)
        world = gym_world.world
        assert world.horizon == 100
        n = steps_to_goal(layout_of(make()))
        assert analyze_world(world).optimum.train_base == pytest.approx(0.95 ** (n - 1))
        certificate = certify(gym_world, careful, episodes=500, seed=0)
        assert certificate.passed
        with pytest.raises(WorldError, match="ends these episodes after 100 steps") as e:
            minigrid_world(make(), make(), discount=0.95, horizon=150)
    assert e.value.field == "horizon"


# --- Optima of the registered toy-text environments against pymdptoolbox -----------------

TOY_TEXT = {
    "lake 4x4": ("FrozenLake-v1", {"is_slippery": False}),
    "lake 4x4 slippery": ("FrozenLake-v1", {}),
    "lake 8x8 slippery": ("FrozenLake8x8-v1", {}),
    "cliff": ("CliffWalking-v1", {}),
    "cliff slippery": ("CliffWalking-v1", {"is_slippery": True}),
    "taxi rainy": ("Taxi-v4", {"is_rainy": True}),
}


def arrays_from_table(env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense P [A, S+1, S+1] and R [S+1, A] straight from ``env.unwrapped.P`` (a terminating
    step goes to an absorbing state S), and the start distribution."""
    table = env.unwrapped.P
    n, a = len(table), env.action_space.n
    p, r = np.zeros((a, n + 1, n + 1)), np.zeros((n + 1, a))
    p[:, n, n] = 1.0
    for s, rows in table.items():
        for action, outcomes in rows.items():
            for q, nxt, reward, done in outcomes:
                p[action, s, n if done else nxt] += q
                r[s, action] += q * reward
    start = np.zeros(n + 1)
    distrib = getattr(env.unwrapped, "initial_state_distrib", None)
    if distrib is not None:
        start[:n] = distrib
    else:
        start[int(env.reset(seed=0)[0])] = 1.0  # these three start in one fixed state
    return p, r, start


@pytest.mark.slow
@pytest.mark.parametrize("case", list(TOY_TEXT))
def test_toy_text_optima_agree_with_pymdptoolbox(case: str) -> None:
    """J* in training of each registered environment, read with its time limit (backward
    induction by pymdptoolbox's FiniteHorizon) or without one (its PolicyIteration, whose
    evaluations are exact linear solves), to 1e-9."""
    import mdptoolbox.mdp

    env_id, kwargs = TOY_TEXT[case]
    env = gym.make(env_id, **kwargs)
    world = world_from_gymnasium(env, env, discount=GAMMA).world
    p, r, start = arrays_from_table(env)
    if world.horizon is not None:
        solver = mdptoolbox.mdp.FiniteHorizon(p, r, GAMMA, world.horizon)
        solver.run()
        want = float(start @ solver.V[:, 0])
    else:
        solver = mdptoolbox.mdp.PolicyIteration(p, r, GAMMA, eval_type=0, max_iter=1000)
        solver.run()
        want = float(start @ np.asarray(solver.V))
    assert analyze_world(world).optimum.train_base == pytest.approx(want, abs=1e-9)
