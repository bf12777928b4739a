"""Tessellating hills: gradient descent steered by small-scale structure in its loss.

The toy model of "demons in imperfect search" (DaemonicSigil, 2020). Over x ∈ R^{n+1},

    L(x) = −x₀ + ε Σ_{j=1..n} x_j · splotch_j(x),
    splotch_j(x) = Σ_{w=1..W} [s_jw sin θ_jw + c_jw cos θ_jw],
    θ_jw = Σ_{i=1..n} k_jwi x_i + k0_jw x₀,

with integer wavenumbers drawn from {−2, …, 2} and s, c ~ N(0, 1). The outer objective is
progress along x₀; the ε-terms are ripples that, once some x_j has grown, tilt the
gradient so that the descent also feeds x_j: a self-reinforcing structure (a demon) that
slows the walk down x₀. The optimiser is a normalised gradient step plus isotropic noise,
x ← x − η(∇L/‖∇L‖ + ξ/√(n+1)), ξ ~ N(0, I), from x = 0. The counterfactual is ε = 0,
a plain slope, where the walk advances η per step on average.

The whole run is one jitted scan; many landscapes (and their counterfactuals) run in one
vmapped call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from jaxtyping import Bool, Float, Int

if TYPE_CHECKING:
    from jax import Array  # JAX itself is imported when a landscape is descended


@dataclass(frozen=True)
class Hills:
    """The toy model's sizes and the optimiser's settings (the published defaults).

    Attributes:
        n: the number of demon coordinates x_1…x_n.
        epsilon: ε, the strength of the ripples.
        eta: η, the step length.
        steps: T, the number of steps.
        waves: W, the waves per coordinate.
    """

    n: int = 16
    epsilon: float = 0.0025
    eta: float = 0.2
    steps: int = 5000
    waves: int = 5


class Landscape(NamedTuple):
    """One draw of the ripples: wavenumbers k [n, W, n] and k0 [n, W], amplitudes s, c."""

    k: Int[Array, "n W n"]
    k0: Int[Array, "n W"]
    s: Float[Array, "n W"]
    c: Float[Array, "n W"]


def landscape(key: Array, hills: Hills) -> Landscape:
    """A landscape drawn from ``key``."""
    import jax

    k_k, k_k0, k_s, k_c = jax.random.split(key, 4)
    n, w = hills.n, hills.waves
    return Landscape(
        k=jax.random.randint(k_k, (n, w, n), -2, 3),
        k0=jax.random.randint(k_k0, (n, w), -2, 3),
        s=jax.random.normal(k_s, (n, w)),
        c=jax.random.normal(k_c, (n, w)),
    )


def loss(x: Float[Array, " n1"], land: Landscape, epsilon: float | Array) -> Float[Array, ""]:
    """L(x) = −x₀ + ε Σ_j x_j splotch_j(x)."""
    import jax.numpy as jnp

    theta = jnp.einsum("jwi,i->jw", land.k.astype(x.dtype), x[1:]) + land.k0.astype(x.dtype) * x[0]
    splotch = (land.s * jnp.sin(theta) + land.c * jnp.cos(theta)).sum(axis=-1)
    return -x[0] + epsilon * jnp.dot(x[1:], splotch)


def descend(
    key: Array, land: Landscape, hills: Hills, epsilon: float | Array
) -> Float[Array, "T1 n1"]:
    """x_0, x_1, …, x_T of the noisy normalised descent from x = 0."""
    import jax
    import jax.numpy as jnp

    grad = jax.grad(loss)
    scale = 1.0 / np.sqrt(hills.n + 1)

    def step(x: Array, k: Array) -> tuple[Array, Array]:
        g = grad(x, land, epsilon)
        noise = jax.random.normal(k, x.shape, dtype=x.dtype) * scale
        x = x - hills.eta * (g / jnp.linalg.norm(g) + noise)
        return x, x

    x0 = jnp.zeros(hills.n + 1)
    _, path = jax.lax.scan(step, x0, jax.random.split(key, hills.steps))
    return jnp.concatenate([x0[None], path])


@dataclass(frozen=True, eq=False)
class HillsRuns:
    """Runs on several landscapes, each beside its ε = 0 counterfactual (same noise).

    Attributes:
        hills: the settings.
        seeds: the landscape seed of each run.
        x0: progress x₀ per step [R, T + 1].
        spread: max_j |x_j| per step [R, T + 1].
        grown: |x_j| at the end [R, n].
        x0_fair: x₀ per step of the ε = 0 counterfactual [R, T + 1].
        spread_fair: max_j |x_j| per step of the counterfactual [R, T + 1].
    """

    hills: Hills
    seeds: tuple[int, ...]
    x0: Float[np.ndarray, "R T1"]
    spread: Float[np.ndarray, "R T1"]
    grown: Float[np.ndarray, "R n"]
    x0_fair: Float[np.ndarray, "R T1"]
    spread_fair: Float[np.ndarray, "R T1"]

    @property
    def demon(self) -> Float[np.ndarray, "R T1"]:
        """The demon's strength per step, ε · max_j |x_j|."""
        return self.hills.epsilon * self.spread

    @property
    def ideal(self) -> float:
        """x₀ of the ideal straight descent after T steps: ηT."""
        return self.hills.eta * self.hills.steps

    @property
    def progress(self) -> Float[np.ndarray, " R"]:
        """Final x₀ relative to the ideal, per run."""
        return self.x0[:, -1] / self.ideal

    @property
    def fair_progress(self) -> Float[np.ndarray, " R"]:
        return self.x0_fair[:, -1] / self.ideal

    @property
    def late_progress(self) -> Float[np.ndarray, " R"]:
        """x₀ gained over the last quarter of the run relative to the ideal ηT/4: the
        search's behaviour at the end (the demon, once formed, keeps it low)."""
        return _late(self.x0, self.hills)

    @property
    def fair_late_progress(self) -> Float[np.ndarray, " R"]:
        return _late(self.x0_fair, self.hills)

    @property
    def noise_bound(self) -> float:
        """Six standard deviations of a coordinate that noise alone moves: 6η√T/√(n+1)."""
        h = self.hills
        return 6.0 * h.eta * np.sqrt(h.steps) / np.sqrt(h.n + 1)

    @property
    def demons(self) -> Bool[np.ndarray, " R"]:
        """Runs that produced a demon: some x_j grew beyond what noise explains, the search
        ends with less than half the ideal progress rate, and its ε = 0 counterfactual
        keeps at least 0.9 of it."""
        return (
            (self.grown.max(axis=1) > self.noise_bound)
            & (self.late_progress < 0.5)
            & (self.fair_late_progress >= 0.9)
        )


def _late(x0: Float[np.ndarray, "R T1"], hills: Hills) -> Float[np.ndarray, " R"]:
    quarter = hills.steps // 4
    return (x0[:, -1] - x0[:, -1 - quarter]) / (hills.eta * quarter)


def run_hills(hills: Hills, seeds: tuple[int, ...]) -> HillsRuns:
    """Descend on the landscape of each seed and on its ε = 0 counterfactual, all in one
    jitted, vmapped call (the noise of a run and of its counterfactual is the same)."""
    import jax
    import jax.numpy as jnp

    from alignlens.solve import backup_jax  # noqa: F401  (float64 everywhere)

    def one(seed_key: Array) -> tuple[Array, ...]:
        k_land, k_noise = jax.random.split(seed_key)
        land = landscape(k_land, hills)
        path = descend(k_noise, land, hills, hills.epsilon)
        fair = descend(k_noise, land, hills, 0.0)
        spread = jnp.max(jnp.abs(path[:, 1:]), axis=1)
        spread_fair = jnp.max(jnp.abs(fair[:, 1:]), axis=1)
        return path[:, 0], spread, jnp.abs(path[-1, 1:]), fair[:, 0], spread_fair

    keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])
    x0, spread, grown, x0_fair, spread_fair = (np.asarray(a) for a in jax.jit(jax.vmap(one))(keys))
    return HillsRuns(hills, tuple(seeds), x0, spread, grown, x0_fair, spread_fair)


def search_world() -> dict:
    """The search's end behaviour as a world document: one choice per unit of motion,
    "descend" (progress along x₀; R and U pay 1) or "hold" (motion the demon diverts, no
    progress; the goal "demon" pays 1). A search whose last quarter gained a fraction f of
    the ideal progress is the policy descending with probability f: J_R = f, and
    J_demon = 1 − f, the share of the search the demon holds."""
    env = {
        "start": {"search": 1.0},
        "terminal": ["end"],
        "transitions": [["search", a, "end", 1.0] for a in ("descend", "hold")],
    }
    return {
        "name": "tessellating-hills",
        "discount": 0.9,
        "deploy_share": 0.5,
        "states": ["search", "end"],
        "actions": ["descend", "hold"],
        "train": env,
        "deploy": env,
        "objectives": {
            "base": [["search", "descend", 1.0]],
            "intended": [["search", "descend", 1.0]],
            "goals": {"demon": [["search", "hold", 1.0]]},
        },
    }
