"""The JAX gridworld, the Gymnasium wrapper, neural policies and PPO, each checked against
the exact tabular model: Monte-Carlo returns within confidence bounds of exact policy
evaluation, check_env, determinism for a key, and the network's table against its own
forward pass."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from alignlens.envs import env_params, per_level, reset, step
from alignlens.envs.functional import cumulative, draw, per_level_axes
from alignlens.envs.gym import GridworldEnv
from alignlens.errors import WorldError
from alignlens.optimizers.ppo import PPOConfig, make_train, ppo
from alignlens.policies.neural import action_logits, actor_critic, neural_policy
from alignlens.solve import evaluate
from alignlens.world import load_world, world_from_dict
from alignlens.world.examples import examples_dir
from alignlens.world.observation import aliased_states, grid_observations

EPISODES = 4000
MAX_STEPS = 400  # γ^400 ≈ 1e-9 at γ = 0.95: truncation costs nothing measurable


@pytest.fixture(scope="module")
def coin():
    return load_world(examples_dir() / "coin.toml")


def rollout_returns(params, policy_fn, key, episodes: int, gamma: float) -> np.ndarray:
    """Discounted returns of R, U and each goal over the first episode of each of
    ``episodes`` JAX environments; ``policy_fn(key, obs) -> action``."""

    def one(key):
        k_reset, k_run = jax.random.split(key)
        obs, state = reset(k_reset, params)

        def body(carry, k):
            obs, state, total, discount, live = carry
            k_act, k_env = jax.random.split(k)
            action = policy_fn(k_act, obs)
            obs, state, reward, done, info = step(k_env, state, action, params)
            rewards = jnp.concatenate([reward[None], info["intended"][None], info["goals"]])
            total = total + live * discount * rewards
            live = live * (1 - done.astype(jnp.float32))
            return (obs, state, total, discount * gamma, live), None

        n = params.rewards.shape[0]
        init = (obs, state, jnp.zeros(n, jnp.float32), jnp.float32(1.0), jnp.float32(1.0))
        (_, _, total, _, _), _ = jax.lax.scan(body, init, jax.random.split(k_run, MAX_STEPS))
        return total

    return np.asarray(jax.jit(jax.vmap(one))(jax.random.split(key, episodes)), dtype=np.float64)


def assert_within_confidence(samples: np.ndarray, exact: np.ndarray) -> None:
    """Each column's mean within 4.5 standard errors (plus float32 slack) of the exact value."""
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])
    assert np.all(np.abs(mean - exact) <= 4.5 * se + 1e-4), (mean, exact, se)


def exact_returns(world, env: str, table: np.ndarray) -> np.ndarray:
    rewards = [world.base, world.intended, *world.goals.values()]
    return np.array([evaluate(world.environment(env), r, table).value for r in rewards])


SLIPPERY = {
    "name": "slippery",
    "discount": 0.9,
    "gridworld": {
        "legend": {"#": "wall", ".": "floor", "A": "start", "G": "goal", "L": "lava"},
        "terminal": ["goal", "lava"],
        "slip": 0.3,
        "step_cost": -0.05,
        "train": ["#####\n#A.G#\n#.L.#\n#####"],
        "deploy": ["#####\n#A..#\n#LL.#\n#..G#\n#####"],
    },
    "objectives": {"base": {"goal": 1.0}, "intended": {"goal": 1.0, "lava": -1.0}},
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "env"), [("coin", "train"), ("coin", "deploy"), ("slippery", "deploy")]
)
def test_random_policy_rollouts_agree_with_exact_evaluation(coin, name: str, env: str) -> None:
    world = coin if name == "coin" else world_from_dict(SLIPPERY)
    params = env_params(world, env, max_steps=MAX_STEPS)
    samples = rollout_returns(
        params,
        lambda k, obs: jax.random.randint(k, (), 0, world.n_actions),
        jax.random.PRNGKey(len(name) + len(env)),
        EPISODES,
        world.discount,
    )
    uniform = np.full((world.n_states, world.n_actions), 1.0 / world.n_actions)
    assert_within_confidence(samples, exact_returns(world, env, uniform))


@pytest.mark.slow
def test_learned_network_rollouts_agree_with_its_exact_table(coin) -> None:
    # The network acts on observations in the JAX environment; its table comes from one
    # batched forward pass. Both must describe the same stochastic policy.
    trainer = make_train(coin, PPOConfig(total_steps=4096, n_envs=8, n_steps=16, records=1))
    with jax.numpy_dtype_promotion("standard"):
        params, _ = trainer.train(jax.random.PRNGKey(0))
    model = trainer.model(params)
    table = neural_policy(model, grid_observations(coin), judged="stochastic").train
    env = env_params(coin, "deploy", max_steps=MAX_STEPS)
    samples = rollout_returns(
        env,
        lambda k, obs: jax.random.categorical(k, model(obs)[0]),
        jax.random.PRNGKey(3),
        EPISODES,
        coin.discount,
    )
    assert_within_confidence(samples, exact_returns(coin, "deploy", table))


def test_same_key_same_trajectory(coin) -> None:
    params = env_params(coin, "train")

    def trajectory(key):
        _, state = reset(key, params)

        def body(state, k):
            _, state, reward, _, info = step(k, state, jnp.int32(3), params)
            return state, (state.state, reward, info["intended"])

        return jax.lax.scan(body, state, jax.random.split(key, 30))[1]

    a, b = trajectory(jax.random.PRNGKey(5)), trajectory(jax.random.PRNGKey(5))
    c = trajectory(jax.random.PRNGKey(6))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_vmap_over_levels_starts_each_level(coin) -> None:
    params = per_level(coin, env_params(coin, "deploy"), "deploy")
    _, states = jax.vmap(reset, in_axes=(None, per_level_axes()))(jax.random.PRNGKey(0), params)
    levels = coin.grid.level[coin.base_state[np.asarray(states.state)]]
    assert sorted(levels.tolist()) == sorted(set(levels.tolist())) and len(levels) == 3
    names = [coin.grid.level_names[j] for j in levels]
    assert all(n.startswith("deploy") for n in names)


def test_vmap_over_environments(coin) -> None:
    both = jax.tree.map(
        lambda a, b: jnp.stack([a, b]), env_params(coin, "train"), env_params(coin, "deploy")
    )
    _, states = jax.vmap(reset, in_axes=(None, 0))(jax.random.PRNGKey(0), both)
    train_start, deploy_start = np.asarray(states.state)
    assert coin.train.start[train_start] > 0 and coin.deploy.start[deploy_start] > 0


@pytest.mark.parametrize(
    "name",
    ["coin.toml", "red-door-exit.toml", "red-door-exit-neural.toml", "lava.toml", "slippery"],
)
def test_gymnasium_wrapper_passes_check_env(examples, name: str) -> None:
    world = world_from_dict(SLIPPERY) if name == "slippery" else load_world(examples / name)
    for env in ("train", "deploy"):
        gym_env = GridworldEnv(world, env, render_mode="rgb_array")
        check_env(gym_env, skip_render_check=False)
        gym_env.reset(seed=0)
        picture = gym_env.render()
        height = max(level.shape[0] for level in world.grid.levels)
        assert picture.dtype == np.uint8 and picture.shape[2] == 3
        assert picture.shape[0] <= 8 * height and picture.std() > 0


def test_gymnasium_rollouts_agree_with_exact_evaluation(coin) -> None:
    gym_env = GridworldEnv(coin, "deploy", max_episode_steps=MAX_STEPS)
    gym_env.reset(seed=0)
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(1500):
        gym_env.reset()
        total, discount, done = np.zeros(2 + len(coin.goals)), 1.0, False
        while not done:
            _, reward, terminated, truncated, info = gym_env.step(rng.integers(4))
            total += discount * np.array([reward, info["intended"], *info["goals"].values()])
            discount *= coin.discount
            done = terminated or truncated
        samples.append(total)
    uniform = np.full((coin.n_states, coin.n_actions), 0.25)
    assert_within_confidence(np.array(samples), exact_returns(coin, "deploy", uniform))


def test_gymnasium_seeded_reset_is_reproducible(coin) -> None:
    a, b = GridworldEnv(coin, "deploy"), GridworldEnv(coin, "deploy")
    for seed in range(5):
        assert a.reset(seed=seed)[1] == b.reset(seed=seed)[1]


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["mlp", "cnn"])
def test_network_table_is_its_forward_pass(coin, architecture) -> None:
    obs = grid_observations(coin)
    model = actor_critic(architecture, obs.shape[1:], 4, (32, 32), key=jax.random.PRNGKey(0))
    logits = np.asarray(action_logits(model, jnp.asarray(obs)), dtype=np.float64)
    one = np.asarray(model(jnp.asarray(obs[7]))[0], dtype=np.float64)
    np.testing.assert_allclose(logits[7], one, rtol=1e-5)
    greedy = neural_policy(model, obs).train
    assert np.array_equal(greedy.argmax(axis=1), logits.argmax(axis=1))
    stochastic = neural_policy(model, obs, judged="stochastic").train
    np.testing.assert_allclose(stochastic.sum(axis=1), 1.0)


@pytest.mark.slow
def test_tiny_ppo_trains_many_seeds_at_once(coin) -> None:
    config = PPOConfig(total_steps=2048, n_envs=8, n_steps=16, records=2)
    trainer = make_train(coin, config)
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    with jax.numpy_dtype_promotion("standard"):
        _, tables = jax.vmap(trainer.train)(keys)
        _, again = trainer.train(keys[1])
    assert tables.shape == (3, 2, coin.n_states, coin.n_actions)
    np.testing.assert_allclose(np.asarray(tables[1]), np.asarray(again), rtol=1e-5, atol=1e-6)
    assert not np.allclose(np.asarray(tables[0]), np.asarray(tables[2]))


@pytest.mark.parametrize("name", ["coin.toml", "red-door-exit-neural.toml"])
def test_tiny_ppo_trace_has_every_objective_in_both_environments(examples, name: str) -> None:
    """A tiny-budget run of each neural scenario's world: the trace has R, U and every goal
    in both environments, at the steps the config implies."""
    world = load_world(examples / name)
    result = ppo(world, PPOConfig(total_steps=2048, n_envs=8, n_steps=16, records=2))
    expected = {
        f"{e}_{o}"
        for e in ("train", "deploy")
        for o in ("base", "intended", *(f"goal:{g}" for g in world.goals))
    }
    assert set(result.trace.returns) == expected
    assert result.trace.step.tolist() == [1024, 2048]
    # In both worlds one goal pays what R pays, so their exact returns coincide.
    same = "get_coin" if "get_coin" in world.goals else "reach_exit"
    np.testing.assert_array_equal(
        result.trace.returns[f"deploy_goal:{same}"], result.trace.returns["deploy_base"]
    )


def test_observations_need_a_gridworld(examples) -> None:
    with pytest.raises(WorldError, match="gridworld"):
        grid_observations(load_world(examples / "two-doors.toml"))


def test_declared_features_make_tiles_look_alike(coin) -> None:
    # The coin world declares that the level's end shows nothing: the deployment levels
    # then look like training levels with the coin moved, and no two states alias.
    obs = grid_observations(coin)
    assert "end" not in coin.grid.features
    assert aliased_states(obs) == 0
    assert obs.shape[-1] == len(coin.grid.features) + 1
    np.testing.assert_array_equal(obs[..., -1].sum(axis=(1, 2)), 1.0)


def test_red_object_looks_like_the_red_exit(examples) -> None:
    """red-door-exit-neural: deployment level 0 has the red object where training level 0
    has the red exit (row 1, column 1) and a blue exit elsewhere. With the agent on the
    same cell, the two observations differ only in the blue channel, which no training
    observation lights."""
    world = load_world(examples / "red-door-exit-neural.toml")
    obs = grid_observations(world)
    features = list(world.grid.features)
    blue = features.index("blue")
    assert "red" in features and "exit" not in features and "red_exit" not in features
    train = world.states.index("train[0]:(3,4)")
    deploy = world.states.index("deploy[0]:(3,4)")
    others = [f for f in range(obs.shape[-1]) if f != blue]
    np.testing.assert_array_equal(obs[train][..., others], obs[deploy][..., others])
    assert obs[deploy][..., blue].sum() == 1.0
    level_names = np.array(world.grid.level_names)[world.grid.level[world.base_state]]
    in_training = np.char.startswith(level_names.astype(str), "train")
    assert in_training.sum() > 0 and obs[in_training][..., blue].sum() == 0.0
    assert aliased_states(obs) == 0


def test_inverse_cdf_draws_only_possible_outcomes() -> None:
    """One uniform u ∈ [0, 1) per draw picks the i with cdf[i − 1] ≤ u < cdf[i]; the cdf is
    exactly 1 from the last possible outcome on, so u just below 1 never lands on an
    impossible one, and u = 0 skips leading impossible ones."""
    p = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.1, 0.2, 0.7]])
    cdf = cumulative(p)
    np.testing.assert_array_equal(np.asarray(cdf[:2]), [[0.5, 1.0, 1.0], [0.0, 1.0, 1.0]])
    below_one = np.nextafter(np.float32(1.0), np.float32(0.0))
    cases = [(0, 0.0, 0), (0, 0.5, 1), (0, below_one, 1), (1, 0.0, 1), (1, below_one, 1)]
    cases += [(2, 0.05, 0), (2, 0.15, 1), (2, 0.31, 2)]
    for row, u, expected in cases:
        assert int(draw(cdf[row], jnp.float32(u))) == expected, (row, u)


@pytest.mark.slow
def test_state_lookup_is_the_same_training_as_per_sample_passes(coin) -> None:
    """With 256 samples per rollout and per minibatch and 182 states, both lookups are on;
    they change only how often the network runs, so two updates give the same tables up
    to float round-off."""
    tables = []
    for lookup in (True, False):
        config = PPOConfig(
            total_steps=512, n_envs=16, n_steps=16, minibatches=1, records=2, state_lookup=lookup
        )
        assert config.batch // config.minibatches >= coin.n_states
        with jax.numpy_dtype_promotion("standard"):
            _, t = make_train(coin, config).train(jax.random.PRNGKey(4))
        tables.append(np.asarray(t))
    np.testing.assert_allclose(tables[0], tables[1], rtol=1e-4, atol=1e-6)
    assert not np.allclose(tables[0][0], tables[0][1])  # training moved the policy


def test_both_neural_scenarios_share_one_compiled_program(examples) -> None:
    """The neural scenarios' worlds fall in one padding bucket: their training environments
    have the same array shapes and dtypes, so one jitted program (one compilation) trains
    both."""
    from alignlens.optimizers.ppo import training_env
    from alignlens.scenarios.scenario import NEURAL_PPO

    config = PPOConfig(**NEURAL_PPO)
    shapes = [
        [(x.shape, x.dtype) for x in training_env(load_world(examples / name), config)]
        for name in ("coin.toml", "red-door-exit-neural.toml")
    ]
    assert shapes[0] == shapes[1]


def test_padding_changes_nothing_the_agent_can_reach_or_see(coin) -> None:
    """Padded states are terminal and never drawn as starts or successors; the network acts
    the same on an observation and on its zero-padded flat form."""
    from alignlens.optimizers.ppo import training_env

    env = training_env(coin, PPOConfig())
    n = coin.n_states
    assert env.observations.shape[0] > n
    assert bool(jnp.all(env.terminal[n:]))
    assert int(jnp.max(env.next_state[:n])) < n  # real states lead to real states
    assert float(env.start_cdf[n - 1]) == 1.0  # the start draw never passes the real states
    assert bool(jnp.all(env.rewards[:, n:] == 0.0))
    model = actor_critic(
        "mlp", env.observations.shape[1:], coin.n_actions, key=jax.random.PRNGKey(1)
    )
    obs = grid_observations(coin)
    for s in (0, 7, n - 1):
        a = model(jnp.asarray(obs[s]))
        b = model(env.observations[s])
        np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))
        np.testing.assert_array_equal(np.asarray(a[1]), np.asarray(b[1]))


@pytest.mark.slow
def test_ppo_gives_the_same_networks_whatever_the_process_precision(coin) -> None:
    """Other parts of a program switch JAX to 64 bits; PPO's runs must not change with it
    (the tour's worker processes and a user's session differ in what they imported)."""
    from alignlens.optimizers.ppo import ppo_runs

    config = PPOConfig(total_steps=2048, n_envs=8, n_steps=16, records=2, learning_rate=1e-2)
    tables = []
    for wide in (False, True):
        with jax.enable_x64(wide):
            runs = ppo_runs(coin, config, [3])
        tables.append(runs.results[0].trace.returns["train_base"])
    np.testing.assert_array_equal(tables[0], tables[1])
