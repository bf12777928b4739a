"""Tessellating hills: the analytic gradient against finite differences and automatic
differentiation, the ε = 0 counterfactual against its analytic distribution, and the
demons of the default model against the bound that noise alone would give."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

from alignlens import load_world, world_from_dict
from alignlens.cli import app
from alignlens.demons.tessellating_hills import (
    Hills,
    _batch,
    _descend,
    _slope,
    descend,
    gradient,
    landscape,
    loss,
    run_hills,
    search_world,
)
from alignlens.precision import float64
from alignlens.scenarios.tessellating_hills import search_policy
from alignlens.solve import evaluate
from alignlens.world.examples import examples_dir

SEEDS = tuple(range(8))


@pytest.fixture(scope="module")
def runs():
    return run_hills(Hills(), SEEDS)


def jax_loss(x, land, epsilon: float):
    """L(x) = −x₀ + ε Σ_j x_j splotch_j(x), transcribed to JAX for automatic
    differentiation (independently of the module's analytic gradient)."""
    jnp = jax.numpy
    k, k0, s, c = (jnp.asarray(a, dtype=jnp.float64) for a in land)
    theta = jnp.einsum("jwi,i->jw", k, x[1:]) + k0 * x[0]
    splotch = (s * jnp.sin(theta) + c * jnp.cos(theta)).sum(axis=-1)
    return -x[0] + epsilon * jnp.dot(x[1:], splotch)


def central_differences(x: np.ndarray, land, epsilon: float, h: float = 1e-5) -> np.ndarray:
    """(L(x + h e_i) − L(x − h e_i)) / 2h per coordinate, in float64: truncation error
    about h² |∂³L| / 6 ≲ 1e-8 here, round-off about 1e-16 |L| / h ≲ 1e-9."""
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (loss(x + e, land, epsilon) - loss(x - e, land, epsilon)) / (2 * h)
    return out


@pytest.mark.parametrize("epsilon", [0.0025, 0.01, 1.0])
def test_analytic_gradient_matches_finite_differences_and_autodiff(epsilon: float) -> None:
    """At random points (coordinates of size 5, where the ripples are far from flat) the
    analytic gradient agrees with central differences of the NumPy loss and with jax.grad
    of a JAX transcription of it."""
    hills = Hills()
    rng = np.random.default_rng(0)
    for seed in (3, 4):
        land = landscape(np.random.default_rng(seed), hills)
        for _ in range(3):
            x = rng.normal(size=hills.n + 1) * 5.0
            g = gradient(x, land, epsilon)
            with float64():  # JAX in 64 bits, as the NumPy loss is
                auto = np.asarray(jax.grad(jax_loss)(jax.numpy.asarray(x), land, epsilon))
                value = float(jax_loss(jax.numpy.asarray(x), land, epsilon))
            np.testing.assert_allclose(g, auto, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(
                g, central_differences(x, land, epsilon), rtol=1e-6, atol=1e-7
            )
            assert loss(x, land, epsilon) == pytest.approx(value, rel=1e-12)
    # ε = 0 is a plain slope: L = −x₀, ∇L = −e₀.
    assert loss(x, land, 0.0) == pytest.approx(-x[0])
    np.testing.assert_array_equal(gradient(x, land, 0.0), np.eye(hills.n + 1)[0] * -1.0)


def test_the_counterfactual_shortcut_is_the_descent_with_epsilon_zero() -> None:
    """The ε = 0 paths are summed directly (∇L = −e₀); the general loop with ε = 0 gives
    the same path up to round-off."""
    hills = Hills(steps=300)
    land = landscape(np.random.default_rng(1), hills)
    noise = np.random.default_rng(2).normal(size=(hills.steps, 1, hills.n + 1))
    looped, steered = _descend(_batch([land], [0.0]), noise, hills.eta)
    np.testing.assert_allclose(looped, _slope(noise, hills.eta), rtol=0, atol=1e-9)
    assert not steered.any()  # no ripples, nothing to outweigh the slope


def test_run_hills_runs_are_descend_with_the_seed_generator() -> None:
    """Run i of run_hills is descend on the landscape of default_rng(seed i), its noise
    drawn next from the same generator; the counterfactual uses the same noise. With the
    channel removed the gradient is ∂L/∂x₀·e₀ with ∂L/∂x₀ = −1 + ε Σ x_j(…), negative
    while the x_j are what noise makes them, so its normalisation is −e₀: the
    counterfactual is the ε = 0 walk (same landscape, same noise)."""
    hills = Hills(steps=300)
    seeds = (5, 9)
    runs = run_hills(hills, seeds)
    for i, seed in enumerate(seeds):
        for epsilon, x0 in ((hills.epsilon, runs.x0[i]), (0.0, runs.x0_fair[i])):
            rng = np.random.default_rng(seed)
            path = descend(rng, landscape(rng, hills), hills, epsilon)
            np.testing.assert_allclose(path[:, 0], x0, rtol=0, atol=1e-9)


def test_counterfactual_walks_straight_down_the_slope(runs) -> None:
    """With ε = 0 the normalised gradient is −e₀, so x₀ after T steps is ηT minus η times a
    sum of T normals scaled by 1/√(n + 1): mean ηT = 1000, standard deviation
    η√T/√(n + 1) ≈ 3.43. Every counterfactual run lies within 4.5 of those."""
    h = runs.hills
    sd = h.eta * np.sqrt(h.steps) / np.sqrt(h.n + 1)
    assert np.all(np.abs(runs.x0_fair[:, -1] - h.eta * h.steps) <= 4.5 * sd)


def test_default_landscapes_grow_demons_that_stall_the_descent(runs) -> None:
    """Noise alone moves each x_j as a random walk of standard deviation η√T/√(n + 1) ≈ 3.4
    after T steps; over 16 coordinates and 8 runs a max beyond 6 of those (≈ 20.6) has
    probability far below 1e-6. In every default landscape tried, some x_j grows beyond
    that (it feeds on the ripples), and x₀ ends well below the ideal, while the
    counterfactual does not stall."""
    h = runs.hills
    noise_bound = 6 * h.eta * np.sqrt(h.steps) / np.sqrt(h.n + 1)
    assert np.all(runs.grown.max(axis=1) > noise_bound)
    assert np.all(runs.progress < 0.75)
    assert np.all(runs.fair_progress > 0.98)
    # Early on the ripples are flat (x_j ≈ 0) and the walk is close to ideal.
    assert np.all(runs.x0[:, 500] / (h.eta * 500) > 0.95)


def test_same_seeds_same_runs(runs) -> None:
    again = run_hills(Hills(steps=200), SEEDS[:2])
    twice = run_hills(Hills(steps=200), SEEDS[:2])
    np.testing.assert_array_equal(again.x0, twice.x0)
    assert not np.array_equal(again.x0[0], again.x0[1])


def test_census_every_default_landscape_has_a_demon_and_a_flat_one_has_none(runs) -> None:
    """Seeds 0–7 at the defaults all produce a demon; with ε = 0 nothing can grow, the late
    progress is ideal up to noise, and no run counts as a demon."""
    assert runs.demons.all()
    # The demon steers: its ripples outweigh the slope on most late steps, never once
    # its channel is removed.
    assert np.all(runs.steered >= 0.7) and not runs.steered_fair.any()
    flat = run_hills(Hills(epsilon=0.0, steps=1000), SEEDS[:4])
    assert not flat.demons.any()
    np.testing.assert_allclose(flat.late_progress, 1.0, atol=0.05)


# --- the tessellating-hills scenario -----------------------------------------------------


def test_search_policy_returns_its_progress_and_the_demons_control() -> None:
    """Exact evaluation: J_R = f (clipped to [0, 1]) and J_demon = (1 − f)·c, the steps
    that made no progress and that the demon steered. The demon's objective is not 1 − R:
    a search that stalls with no demon (c = 0) gives the demon nothing."""
    world = world_from_dict(search_world())
    train = world.environment("train")
    for f, c in ((0.0, 1.0), (0.3, 0.5), (1.0, 0.9), (-0.02, 0.25), (1.01, 1.0), (0.2, 0.0)):
        table = search_policy(world, f, c, "f").train
        clipped = min(1.0, max(0.0, f))
        assert evaluate(train, world.base, table).value == pytest.approx(clipped)
        demon = evaluate(train, world.goals["demon"], table).value
        assert demon == pytest.approx((1 - clipped) * c)


def test_the_world_file_is_the_search_world() -> None:
    shipped = load_world(examples_dir() / "tessellating-hills.toml")
    built = world_from_dict(search_world())
    assert shipped.states == built.states and shipped.actions == built.actions
    np.testing.assert_array_equal(shipped.base, built.base)
    np.testing.assert_array_equal(shipped.goals["demon"], built.goals["demon"])


def test_run_json_carries_the_counterfactual(runs) -> None:
    """Landscape 0: the last quarter gains f = late progress of the ideal, the demon
    steers a share c of the steps (its ripples outweigh the slope) and so controls
    (1 − f)·c of the search; HACKED rests on the measured growth of the channel (its
    largest coordinate against the six-standard-deviation bound of noise, which is all
    that moves it at a training optimum) and on the counterfactual without the channel,
    whose regret is its shortfall 1 − f_fair."""
    result = CliRunner().invoke(app, ["run", "tessellating-hills", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    f = float(np.clip(runs.late_progress[0], 0, 1))
    assert doc["policy"]["train"]["base"] == pytest.approx(f)
    assert doc["mesa"]["competence"] == pytest.approx((1 - f) * runs.steered[0])
    assert doc["hack"]["inner_objective"] == pytest.approx(runs.grown[0].max())
    assert doc["hack"]["inner_objective_at_optimum"] == pytest.approx(runs.noise_bound)
    condition = doc["verdicts"]["wentworth"]["conditions"]["counterfactual_regret"]
    assert condition["holds"] is True
    assert condition["value"] == pytest.approx(max(0.0, 1 - runs.fair_late_progress[0]), abs=1e-9)
