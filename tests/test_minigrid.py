"""MiniGrid's DistShift pair as an exact world: states against MiniGrid's own grid, the
optimum against breadth-first search over (position, direction), and a Stable-Baselines3
agent trained on the training strip, diagnosed on the shifted one."""

from __future__ import annotations

import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid environments)
import numpy as np
import pytest

from alignlens import diagnose
from alignlens.errors import AlignlensError
from alignlens.lenses import lens_names
from alignlens.world.minigrid import minigrid_world
from oracles import careful, layout_of, steps_to_goal

GAMMA = 0.95


def cells(env_id: str) -> dict[tuple[int, int], str]:
    """Every cell's object type, from MiniGrid's own grid ("empty" for floor)."""
    return layout_of(gym.make(env_id))


@pytest.fixture(scope="module")
def distshift():
    train, deploy = gym.make("MiniGrid-DistShift1-v0"), gym.make("MiniGrid-DistShift2-v0")
    return minigrid_world(train, deploy, discount=GAMMA)


@pytest.mark.slow
def test_distshift_states_and_optima_against_the_grid(distshift) -> None:
    from alignlens.solve import analyze_world

    world = distshift.world
    assert world.actions == ("left", "right", "forward", "pickup", "drop", "toggle", "done")
    analysis = analyze_world(world)
    for env_name, env_id in (
        ("train", "MiniGrid-DistShift1-v0"),
        ("deploy", "MiniGrid-DistShift2-v0"),
    ):
        layout = cells(env_id)
        floor = sum(kind == "empty" for kind in layout.values())
        env = world.environment(env_name)
        live = {int(world.base_state[s]) for s in np.flatnonzero(env.present & ~env.terminal)}
        assert len(live) == 4 * floor  # every floor cell, 4 ways
        # MiniGrid cuts episodes after max_steps = 4 · width · height steps: the horizon.
        assert world.horizon == gym.make(env_id).unwrapped.max_steps == 4 * 9 * 7
        # R pays 1 on entering the goal, so J* = γ^(n − 1) for the fewest steps n.
        n = steps_to_goal(layout)
        assert analysis.optimum.get(env_name, "base") == pytest.approx(GAMMA ** (n - 1))
    assert not world.shared_dynamics  # the second lava strip moved


def test_a_layout_drawn_anew_on_every_reset_is_refused() -> None:
    crossing = gym.make("MiniGrid-LavaCrossingS9N1-v0")
    with pytest.raises(AlignlensError, match="new layout") as e:
        minigrid_world(crossing, crossing)
    assert e.value.field == "train_env"


@pytest.mark.slow
def test_an_sb3_agent_on_the_shifted_strip(distshift) -> None:
    """PPO on the flattened image observation for 2,048 steps (far from converged), judged
    on both strips; its exact returns lie between the class's worst and best."""
    from minigrid.wrappers import FlatObsWrapper
    from stable_baselines3 import PPO

    from alignlens.policies.external import sb3_policy

    train = FlatObsWrapper(gym.make("MiniGrid-DistShift1-v0"))
    deploy = FlatObsWrapper(gym.make("MiniGrid-DistShift2-v0"))
    model = PPO("MlpPolicy", train, n_steps=512, batch_size=64, seed=0, device="cpu")
    model.learn(2048)
    gym_world = minigrid_world(train, deploy, discount=GAMMA)
    assert gym_world.world.states == distshift.world.states  # the wrapper changes no state
    result = diagnose(gym_world.world, gym_world.policy(sb3_policy(model), name="ppo"))
    objectives = result.analysis.objectives
    for env_name in ("train", "deploy"):
        value = result.analysis.returns.get(env_name, "base")
        low = objectives.worst.get(env_name, "base")
        high = objectives.optimum.get(env_name, "base")
        assert low - 1e-9 <= value <= high + 1e-9
    assert list(result.verdicts) == list(lens_names())
    observation = next(iter(gym_world.observations.values()))
    assert np.asarray(observation).shape == train.observation_space.shape


@pytest.mark.slow
def test_partial_views_keep_each_environments_own_observations() -> None:
    """DistShift1 against DistShift2 through the agent's 7×7 view (`ImgObsWrapper`): where
    the lava moved, a position shows another view in deployment than in training, and
    the deployed policy must be judged on what it sees there. A stochastic policy that
    avoids the lava it sees: its exact deployment return agrees with the discounted return
    of 300 rollouts of the real environment within 4 standard errors (MiniGrid's time
    limit, 252 steps, leaves γ^252 < 1e-5 of the return out). Judged on the training
    views, it walked into deployment's moved lava."""
    from minigrid.wrappers import ImgObsWrapper

    def make(env_id: str):
        return ImgObsWrapper(gym.make(env_id))

    lake = minigrid_world(
        make("MiniGrid-DistShift1-v0"), make("MiniGrid-DistShift2-v0"), discount=GAMMA
    )
    world = lake.world
    train_views = {
        world.states[s].removeprefix("train:"): world.observation[s]
        for s in range(world.n_states)
        if world.states[s].startswith("train:")
    }
    moved = [
        s
        for s in range(world.n_states)
        if world.states[s].startswith("deploy:")
        and world.observation[s]
        != train_views.get(world.states[s].removeprefix("deploy:"), world.observation[s])
    ]
    assert moved, "no position shows a different view in deployment"

    act = careful
    exact = diagnose(world, lake.policy(act)).analysis.returns.deploy_base
    env = make("MiniGrid-DistShift2-v0")
    rng = np.random.default_rng(0)
    returns = []
    for episode in range(300):
        view, _ = env.reset(seed=episode)
        total, discount, done = 0.0, 1.0, False
        while not done:
            view, r, terminated, truncated, _ = env.step(int(rng.choice(7, p=act(view))))
            total += discount * float(r > 0)
            discount *= GAMMA
            done = terminated or truncated
        returns.append(total)
    mean, se = float(np.mean(returns)), float(np.std(returns, ddof=1) / np.sqrt(len(returns)))
    assert abs(exact - mean) <= 4 * se + 1e-5, (exact, mean, se)


@pytest.mark.slow
def test_diagnose_gym_reads_minigrid_ids_and_a_policy_function(tmp_path, monkeypatch) -> None:
    """From the command line, with nothing imported first: the MiniGrid ids register
    themselves, the pair is read as a MiniGrid world, and the policy is a function named
    MODULE:FUNCTION (here one that always moves forward: from (1, 1) facing east it enters
    the lava at (3, 1) on its second step in both layouts, so it never reaches the goal:
    return 0, regret 1, as bad as the class allows)."""
    import json

    from typer.testing import CliRunner

    from alignlens.cli import app

    (tmp_path / "straight.py").write_text("def forward(observation):\n    return 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["diagnose-gym", "--train", "MiniGrid-DistShift1-v0", "--deploy"]
    args += ["MiniGrid-DistShift2-v0", "--policy", "straight:forward", "--json"]
    result = CliRunner().invoke(app, [*args, "--discount", str(GAMMA)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["policy_name"] == "straight:forward"
    assert doc["policy"]["train"]["base"] == 0.0 and doc["policy"]["deploy"]["base"] == 0.0
    assert doc["regret"]["train"]["base"] == 1.0
    bad = CliRunner().invoke(app, [*args[:-1], "--policy", "straight:backward"])
    assert bad.exit_code == 2 and "has no function 'backward'" in bad.output
    missing = CliRunner().invoke(app, [*args, "--import", "no_such_module_here"])
    assert missing.exit_code == 2 and "cannot import 'no_such_module_here'" in missing.output
