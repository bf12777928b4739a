"""Worlds read from Gymnasium environments, against worlds built by hand from each
environment's published rules, and search against the transition table."""

from __future__ import annotations

import itertools
import threading

import gymnasium as gym
import numpy as np
import pytest

from alignlens.errors import AlignlensError, PolicyError
from alignlens.lenses import lens_names
from alignlens.world.gym_specs import parse_env_spec
from alignlens.world.gymnasium import END, world_from_gymnasium
from oracles import DEPLOY_MAP, TRAIN_MAP, frozen_lake, taxi


def rows_of(world, env_name: str) -> dict:
    """{(state, action): {next state: probability}} and {(state, action): R} of a world."""
    env = world.environment(env_name)
    out = {}
    for s, name in enumerate(world.states):
        if env.terminal[s] or not env.present[s]:
            continue
        for a, action in enumerate(world.actions):
            moves: dict[str, float] = {}
            for t, p in zip(env.next_state[s, a], env.prob[s, a], strict=True):
                if p > 0:
                    moves[world.states[t]] = moves.get(world.states[t], 0.0) + float(p)
            out[name, action] = moves
    return out


def assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for key, moves in want.items():
        assert set(got[key]) == set(moves), key
        for t, p in moves.items():
            assert got[key][t] == pytest.approx(p, abs=1e-15), (key, t)


# --- Hand-built worlds, from each environment's documented rules --------------------------


def cliff_walking() -> tuple[dict, dict]:
    """4 × 12; actions up, right, down, left; −1 a step; the cliff (row 3, columns 1–10)
    costs −100 and sends the agent back to the start (3, 0); the goal (3, 11) ends it."""
    moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]
    transitions, reward = {}, {}
    for r, c in itertools.product(range(4), range(12)):
        if r == 3 and c >= 1:
            continue  # the cliff and the goal: never stood on
        s = f"s{r * 12 + c}"
        for a, (dr, dc) in enumerate(moves):
            nr, nc = min(max(r + dr, 0), 3), min(max(c + dc, 0), 11)
            if nr == 3 and 1 <= nc <= 10:
                transitions[s, f"a{a}"], reward[s, f"a{a}"] = {"s36": 1.0}, -100.0
            elif (nr, nc) == (3, 11):
                transitions[s, f"a{a}"], reward[s, f"a{a}"] = {END: 1.0}, -1.0
            else:
                transitions[s, f"a{a}"], reward[s, f"a{a}"] = {f"s{nr * 12 + nc}": 1.0}, -1.0
    return transitions, reward


def base_rows(world) -> dict:
    return {
        (s, a): float(world.base[i, j])
        for i, s in enumerate(world.states)
        for j, a in enumerate(world.actions)
    }


def test_frozen_lake_pair_equals_the_hand_built_world() -> None:
    train = gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=True)
    deploy = gym.make("FrozenLake-v1", desc=DEPLOY_MAP, is_slippery=True)
    world = world_from_gymnasium(train, deploy, discount=0.95, horizon=None).world
    assert not world.shared_dynamics  # the holes moved: the same cells, other dynamics
    for env_name, desc in (("train", TRAIN_MAP), ("deploy", DEPLOY_MAP)):
        transitions, reward = frozen_lake(desc, slippery=True)
        got = rows_of(world, env_name)
        reachable = {k: v for k, v in got.items() if k in transitions}
        assert_same(reachable, transitions)
        base = base_rows(world)
        for key, pay in reward.items():
            assert base[key] == pytest.approx(pay, abs=1e-15)
        start = world.environment(env_name).start
        assert start[world.states.index("s0")] == 1.0
    assert world.intended.tolist() == world.base.tolist()  # no U given: U is R


def test_cliff_walking_equals_the_hand_built_world() -> None:
    env = gym.make("CliffWalking-v1")
    world = world_from_gymnasium(env, env, horizon=None).world
    transitions, reward = cliff_walking()
    got = rows_of(world, "train")
    assert_same({k: v for k, v in got.items() if k in transitions}, transitions)
    base = base_rows(world)
    for key, pay in reward.items():
        assert base[key] == pay


def test_taxi_equals_the_hand_built_world() -> None:
    env = gym.make("Taxi-v4")
    world = world_from_gymnasium(env, env, horizon=None).world
    transitions, reward, start = taxi()
    got = rows_of(world, "train")
    # Reachable: the 300 start states and the 100 with the passenger aboard (25 cells × 4
    # destinations); a delivered passenger ends the episode.
    assert len(got) == 400 * 6
    assert_same(got, {k: transitions[k] for k in got})
    base = base_rows(world)
    for key, pay in reward.items():
        assert base[key] == pay
    got_start = world.train.start
    for s, p in start.items():
        assert got_start[world.states.index(s)] == pytest.approx(p, abs=1e-15)
    assert got_start.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1"])
def test_search_agrees_with_the_transition_table(env_id: str) -> None:
    """Deterministic environments both ways: the reachable states, their transitions and
    rewards, and the optima agree."""
    from alignlens.solve import analyze_world

    kwargs = {"is_slippery": False} if env_id == "FrozenLake-v1" else {}
    env = gym.make(env_id, **kwargs)
    by_table = world_from_gymnasium(env, env, method="table", horizon=None).world
    by_search = world_from_gymnasium(env, env, method="search", horizon=None).world
    searched = rows_of(by_search, "train")
    assert_same({k: v for k, v in rows_of(by_table, "train").items() if k in searched}, searched)
    base = base_rows(by_table)
    for key, pay in base_rows(by_search).items():
        assert base[key] == pay
    a, b = analyze_world(by_table), analyze_world(by_search)
    assert a.optimum.train_base == pytest.approx(b.optimum.train_base, abs=1e-9)


def test_intended_and_goals_as_functions_of_observations() -> None:
    """U pays 1 for stepping onto cell 5 (a hole, which ends the episode) and nothing else;
    a goal pays for staying put. Their expected values follow the slip probabilities."""
    env = gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=True)

    def into_hole(obs, action, next_obs) -> float:
        return 1.0 if next_obs == 5 else 0.0

    def stay(obs, action, next_obs) -> float:
        return 1.0 if next_obs == obs else 0.0

    world = world_from_gymnasium(
        env, env, intended=into_hole, goals={"stay": stay}, horizon=None
    ).world
    s1, down = world.states.index("s1"), world.actions.index("a1")
    assert world.intended[s1, down] == pytest.approx(1 / 3)  # down from s1: s5 a third
    s0, left = world.states.index("s0"), world.actions.index("a0")
    assert world.goals["stay"][s0, left] == pytest.approx(2 / 3)  # left or up: stays


class HiddenReward(gym.Env):
    """A corridor 0–4: right (1) moves on, left (0) moves back; the episode ends at 4, paying
    1. Stepping on cell 2 is what we do not want: info["hidden"] is −1 there."""

    observation_space = gym.spaces.Discrete(5)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cell = 0
        return self.cell, {}

    def step(self, action):
        self.cell = max(0, min(4, self.cell + (1 if action == 1 else -1)))
        hidden = -1.0 if self.cell == 2 else 0.0
        return self.cell, float(self.cell == 4), self.cell == 4, False, {"hidden": hidden}


def test_intended_from_an_info_key_by_search() -> None:
    world = world_from_gymnasium(HiddenReward(), HiddenReward(), intended_info="hidden").world
    right = world.actions.index("a1")
    assert world.intended[world.states.index("s1"), right] == -1.0
    assert world.intended[world.states.index("s3"), world.actions.index("a0")] == -1.0
    assert world.base[world.states.index("s3"), right] == 1.0
    with pytest.raises(AlignlensError, match="no key 'reward_hidden'") as e:
        world_from_gymnasium(HiddenReward(), HiddenReward(), intended_info="reward_hidden")
    assert e.value.field == "intended_info"


def test_bad_environments_are_clear_errors() -> None:
    pendulum = gym.make("Pendulum-v1")
    with pytest.raises(AlignlensError, match="not discrete") as e:
        world_from_gymnasium(pendulum, pendulum)
    assert e.value.field == "train_env.action_space"
    slippery = gym.make("FrozenLake-v1", is_slippery=True)
    with pytest.raises(AlignlensError, match="stochastic") as e:
        world_from_gymnasium(slippery, slippery, method="search")
    cliff = gym.make("CliffWalking-v1")
    with pytest.raises(AlignlensError, match="more than 20 reachable states") as e:
        world_from_gymnasium(cliff, cliff, method="search", state_limit=20)
    assert e.value.field == "state_limit"
    locked = HiddenReward()
    locked.lock = threading.Lock()  # cannot be deep-copied, so search cannot save it
    with pytest.raises(AlignlensError, match="cannot be deep-copied") as e:
        world_from_gymnasium(locked, HiddenReward())
    assert e.value.field == "method"
    small = world_from_gymnasium(
        gym.make("FrozenLake-v1", is_slippery=False), gym.make("FrozenLake-v1", is_slippery=False)
    )
    with pytest.raises(PolicyError, match="out of range"):
        small.policy(lambda obs: 7)


def test_environment_specs_with_keyword_arguments() -> None:
    assert parse_env_spec("FrozenLake-v1") == ("FrozenLake-v1", {})
    assert parse_env_spec("FrozenLake-v1:is_slippery=false,map_name=8x8") == (
        "FrozenLake-v1",
        {"is_slippery": False, "map_name": "8x8"},
    )
    assert parse_env_spec('FrozenLake-v1:{"desc": ["SF", "FG"]}') == (
        "FrozenLake-v1",
        {"desc": ["SF", "FG"]},
    )
    with pytest.raises(AlignlensError, match="not key=value"):
        parse_env_spec("FrozenLake-v1:slippery")


# --- Agents trained elsewhere: a real Stable-Baselines3 model ------------------------------

GAMMA = 0.95


@pytest.fixture(scope="module")
def sb3_model(tmp_path_factory):
    """PPO trained for 4,096 steps (a few seconds) on the deterministic training map."""
    from stable_baselines3 import PPO

    env = gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=False)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, seed=0, device="cpu")
    model.learn(4096)
    path = tmp_path_factory.mktemp("sb3") / "frozen.zip"
    model.save(path)
    return model, path


def rollouts(model, desc: list[str], deterministic: bool, episodes: int) -> np.ndarray:
    """Discounted returns of the model acting in the environment itself (SB3's predict),
    episodes cut where FrozenLake's time limit cuts them (100 steps, the world's horizon)."""
    env = gym.make("FrozenLake-v1", desc=desc, is_slippery=False)
    returns = np.zeros(episodes)
    for episode in range(episodes):
        obs, _ = env.reset(seed=episode)
        model.set_random_seed(episode)
        weight, done = 1.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=deterministic)
            obs, r, terminated, truncated, _ = env.step(int(action))
            returns[episode] += weight * r
            weight *= GAMMA
            done = terminated or truncated
    return returns


@pytest.mark.slow
@pytest.mark.parametrize("deterministic", [False, True])
def test_an_sb3_model_exact_returns_agree_with_rollouts(sb3_model, deterministic: bool) -> None:
    """The diagnosed policy's exact returns in training and deployment agree with the mean
    discounted return of 400 rollouts of the same model within 4 standard errors."""
    from alignlens import diagnose
    from alignlens.policies.external import sb3_policy

    model, _ = sb3_model
    train = gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=False)
    deploy = gym.make("FrozenLake-v1", desc=DEPLOY_MAP, is_slippery=False)
    gym_world = world_from_gymnasium(train, deploy, discount=GAMMA)
    policy = gym_world.policy(sb3_policy(model, deterministic=deterministic), name="ppo")
    result = diagnose(gym_world.world, policy)
    for env_name, desc in (("train", TRAIN_MAP), ("deploy", DEPLOY_MAP)):
        sample = rollouts(model, desc, deterministic, 400)
        exact = result.analysis.returns.get(env_name, "base")
        error = sample.std(ddof=1) / np.sqrt(sample.size)
        assert abs(sample.mean() - exact) <= 4 * error + 1e-12, (env_name, exact, sample.mean())


def test_diagnose_gym_command(sb3_model) -> None:
    import json

    from typer.testing import CliRunner

    from alignlens.cli import app

    _, path = sb3_model
    train = 'FrozenLake-v1:{"desc": ["SFFF", "FHFH", "FFFH", "HFFG"], "is_slippery": false}'
    deploy = 'FrozenLake-v1:{"desc": ["SFFF", "FFFH", "FHFH", "HFFG"], "is_slippery": false}'
    args = ["diagnose-gym", "--train", train, "--deploy", deploy, "--policy", f"sb3:{path}"]
    result = CliRunner().invoke(app, [*args, "--json", "--discount", "0.95"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert list(document["verdicts"]) == list(lens_names())
    assert document["policy_name"] == "frozen.zip"
    # Checked against 1,000 rollouts of each environment by default, cut at 100 steps.
    certificate = document["certificate"]
    assert certificate["episodes"] == 1000 and certificate["passed"]
    assert [r["environment"] for r in certificate["rows"]] == ["train", "deploy"]
    for row in certificate["rows"]:
        assert row["exact"] == document["policy"][row["environment"]]["base"]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0 and "wentworth" in table.output
    assert "exact returns against 1000 rollouts" in table.output
    unchecked = CliRunner().invoke(app, [*args, "--check", "0", "--horizon", "none"])
    assert unchecked.exit_code == 0 and "not checked against rollouts" in unchecked.output


@pytest.mark.slow
def test_diagnose_gym_refuses_a_table_that_lies(tmp_path, monkeypatch) -> None:
    """Taxi's fickle passenger is not in its table: the command stops with exit status 2
    and says so, instead of printing verdicts on the wrong numbers."""
    from typer.testing import CliRunner

    from alignlens.cli import app

    (tmp_path / "taxi_driver.py").write_text(TAXI_DRIVER)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["diagnose-gym", "--train", "Taxi-v4", "--deploy", "Taxi-v4:fickle_passenger=true"]
    args += ["--policy", "taxi_driver:act", "--check", "3000"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "the table does not describe the environment" in result.output
    assert "deploy_env" in result.output and "Traceback" not in result.output
    assert "verdicts" not in result.output  # nothing printed on the wrong numbers


TAXI_DRIVER = """
import gymnasium as gym
import numpy as np

table = gym.make("Taxi-v4").unwrapped.P
v = np.zeros(500)
for _ in range(300):  # value iteration on the plain Taxi's table, γ = 0.99
    q = np.array(
        [[sum(p * (r + 0.99 * v[n] * (not d)) for p, n, r, d in table[s][a]) for a in range(6)]
         for s in range(500)]
    )
    v = q.max(axis=1)
best = q.argmax(axis=1)


def act(observation):
    return int(best[int(observation)])
"""


@pytest.mark.parametrize(
    "change, field",
    [
        ({"--train": "Pendulum-v1"}, "--train"),  # a continuous action space
        ({"--train": "NoSuchEnv-v0"}, "--train"),
        ({"--policy": "torch:model.pt"}, "--policy"),
        ({"--policy": "sb3:missing.zip"}, "missing.zip: no such model file"),
        ({"--train": "FrozenLake-v1:is_slippery=true", "--intended-info": "prob"}, "train_env"),
        (
            {
                "--train": "FrozenLake-v1:is_slippery=false",
                "--intended-info": "prob",
                "--state-limit": "3",
            },
            "--state-limit",
        ),
        ({"--check": "1"}, "--check"),
        ({"--check": "-5"}, "--check"),
        ({"--horizon": "soon"}, "--horizon"),
        ({"--horizon": "0"}, "--horizon"),
        ({"--horizon": "²"}, "--horizon"),
        ({"--horizon": "none", "--discount": "1"}, "--horizon N"),
        ({"--deploy": "FrozenLake-v1:is_slippery=false,max_episode_steps=50"}, "--horizon N"),
    ],
)
def test_diagnose_gym_bad_input(sb3_model, change: dict, field: str) -> None:
    """A continuous action space (the model's spaces differ), an unknown environment or
    policy scheme, a missing model, a stochastic environment that search cannot
    enumerate, a state limit exceeded: one message each, exit status 2."""
    from typer.testing import CliRunner

    from alignlens.cli import app

    _, path = sb3_model
    options = {
        "--train": "FrozenLake-v1:is_slippery=false",
        "--deploy": "FrozenLake-v1:is_slippery=false",
        "--policy": f"sb3:{path}",
        **change,
    }
    result = CliRunner().invoke(app, ["diagnose-gym", *itertools.chain(*options.items())])
    assert result.exit_code == 2, result.output
    assert field in result.output and "Fix:" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("seed", ["-1", "99999999999999999999", "1.5"])
def test_diagnose_gym_seed_out_of_range(seed: str) -> None:
    """Seeds are 32-bit: anything else is a usage error naming --seed, exit status 2."""
    from typer.testing import CliRunner

    from alignlens.cli import app

    args = ["diagnose-gym", "--train", "FrozenLake-v1", "--deploy", "FrozenLake-v1"]
    result = CliRunner().invoke(app, [*args, "--policy", "m:f", "--seed", seed])
    assert result.exit_code == 2 and "--seed" in result.output
    assert "Traceback" not in result.output


def test_alignlens_gridworld_envs_read_back_by_search_with_a_neural_policy(examples) -> None:
    """alignlens's own Gymnasium wrapper of red-door-exit, read back by search with U from
    info["intended"], has the original world's optima and worst values; and alignlens's
    neural policy, given as a callable on observations, has the same exact returns in both
    worlds."""
    import jax

    from alignlens import diagnose, load_world
    from alignlens.envs.gym import GridworldEnv
    from alignlens.policies.neural import action_logits, actor_critic, neural_policy
    from alignlens.solve import analyze_world
    from alignlens.world.observation import grid_observations

    world = load_world(examples / "red-door-exit.toml")
    read = world_from_gymnasium(
        GridworldEnv(world, "train"),
        GridworldEnv(world, "deploy"),
        method="search",
        intended_info="intended",
        discount=world.discount,
    )
    original, again = analyze_world(world), analyze_world(read.world)
    for table in ("optimum", "worst"):
        for env_name, objective in itertools.product(("train", "deploy"), ("base", "intended")):
            want = getattr(original, table).get(env_name, objective)
            assert getattr(again, table).get(env_name, objective) == pytest.approx(want)
    observations = grid_observations(world)
    model = actor_critic("mlp", observations.shape[1:], world.n_actions, key=jax.random.key(0))

    def act(observation: np.ndarray) -> np.ndarray:
        logits = np.asarray(action_logits(model, observation[None]), dtype=np.float64)[0]
        weights = np.exp(logits - logits.max())
        return weights / weights.sum()

    here = diagnose(world, neural_policy(model, observations, judged="stochastic"))
    there = diagnose(read.world, read.policy(act, name="neural"))
    for env_name in ("train", "deploy"):
        assert there.analysis.returns.get(env_name, "base") == pytest.approx(
            here.analysis.returns.get(env_name, "base"), abs=1e-9
        )


def test_reward_and_observation_wrappers_are_applied_to_the_table() -> None:
    """The table path reads env.unwrapped.P; the world must still be the wrapped
    environment's. TransformReward(10r − 0.01) makes R of every (state, action) 10 times
    the hand-built expected reward less 0.01 (probabilities sum to 1); a one-hot
    observation wrapper makes the policy see one-hot vectors, as an agent trained on the
    wrapped environment did, and a policy that reads them acts as the same policy on
    integers."""
    from gymnasium.spaces import Box
    from gymnasium.wrappers import TransformObservation, TransformReward

    def wrapped():
        env = gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=True)
        env = TransformReward(env, lambda r: 10 * r - 0.01)
        space = Box(0.0, 1.0, (16,))
        return TransformObservation(env, lambda s: np.eye(16)[s], space)

    lake = world_from_gymnasium(wrapped(), wrapped(), discount=0.95, horizon=None)
    _, reward = frozen_lake(TRAIN_MAP, slippery=True)
    base = base_rows(lake.world)
    for key, pay in reward.items():
        assert base[key] == pytest.approx(10 * pay - 0.01, abs=1e-12)
    seen = []

    def act(observation):
        seen.append(observation)
        return int(np.argmax(observation)) % 4

    one_hot = lake.policy(act)
    assert seen and all(np.asarray(o).shape == (16,) for o in seen)
    plain = world_from_gymnasium(
        gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=True),
        gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=True),
        discount=0.95,
        horizon=None,
    )
    on_ints = plain.policy(lambda s: int(s) % 4)
    np.testing.assert_array_equal(one_hot.train, on_ints.train)


def test_a_wrapper_the_table_cannot_see_is_refused_by_name() -> None:
    class Reversed(gym.ActionWrapper):
        def action(self, action):
            return 3 - action

    env = Reversed(gym.make("FrozenLake-v1", desc=TRAIN_MAP, is_slippery=True))
    with pytest.raises(AlignlensError, match="wrapped in Reversed"):
        world_from_gymnasium(env, env, method="table")


@pytest.mark.slow
def test_search_recovers_a_random_start_distribution() -> None:
    """Taxi resets to one of 300 states (taxi, passenger and destination drawn at random).
    Searching from reset(seed=0) alone found 101 states and J* = 4.25 where the table's
    uniform start over the 300 gives another number; without seeds, search now resets until
    the start set stops growing, finds all 300, takes their probabilities from the
    environment's initial_state_distrib, and agrees with the table to 1e-12 (the note
    says what it did)."""
    from alignlens.solve import analyze_world

    taxi = gym.make("Taxi-v4")
    table = world_from_gymnasium(taxi, taxi, discount=0.9, method="table")
    search = world_from_gymnasium(taxi, taxi, discount=0.9, method="search")
    want, got = analyze_world(table.world).optimum, analyze_world(search.world).optimum
    for env in ("train", "deploy"):
        assert got.get(env, "base") == pytest.approx(want.get(env, "base"), abs=1e-12)
    assert "found all 300 start states" in search.notes[0]


class ThreeStarts(gym.Env):
    """Starts in 0, 1 or 2 at random (no table); "a0" ends the episode paying the state's
    number, "a1" moves to the next state, mod 3."""

    observation_space = gym.spaces.Discrete(3)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = int(self.np_random.integers(3))
        return self.state, {}

    def step(self, action):
        if action == 0:
            return self.state, float(self.state), True, False, {}
        self.state = (self.state + 1) % 3
        return self.state, 0.0, False, False, {}


def test_sampled_random_starts_are_stated() -> None:
    """Without a table, the start distribution is the empirical one of the resets that
    search made; all three starts are found and the note says how many resets it took."""
    env = ThreeStarts()
    lake = world_from_gymnasium(env, env, discount=0.9, method="search")
    start = lake.world.environment("train").start
    assert np.count_nonzero(start) == 3 and start.sum() == pytest.approx(1.0)
    assert "empirical one of" in lake.notes[0] and "3 distinct start states" in lake.notes[0]
    fixed = world_from_gymnasium(env, env, discount=0.9, method="search", seeds=[0])
    assert np.count_nonzero(fixed.world.environment("train").start) == 1 and not fixed.notes
