"""Tessellating hills: gradient descent steered by small-scale structure in its loss.

The toy model of "demons in imperfect search" (DaemonicSigil, 2020). Over x ∈ R^{n+1},

    L(x) = −x₀ + ε Σ_{j=1..n} x_j · splotch_j(x),
    splotch_j(x) = Σ_{w=1..W} [s_jw sin θ_jw + c_jw cos θ_jw],
    θ_jw = Σ_{i=1..n} k_jwi x_i + k0_jw x₀,

with integer wavenumbers drawn from {−2, …, 2} and s, c ~ N(0, 1). The outer objective is
progress along x₀; the ε-terms are ripples that, once some x_j has grown, tilt the
gradient so that the descent also feeds x_j: a self-reinforcing structure (a demon) that
slows the walk down x₀. The optimiser is a normalised gradient step plus isotropic noise,
x ← x − η(∇L/‖∇L‖ + ξ/√(n+1)), ξ ~ N(0, I), from x = 0. The counterfactual removes only
the demon's channel: the same landscape and noise, with the gradient's components along
the demon coordinates x_j (j ≥ 1) dropped, so the search no longer feeds them.

Plain NumPy in float64: the gradient is written out analytically (`gradient`; the tests
check it against finite differences and automatic differentiation), and many landscapes
descend together, one vectorised step per iteration of a loop over the T steps, beside
their counterfactuals. All
randomness comes from a ``numpy.random.Generator`` seeded by the caller: a landscape
seed fixes its ripples and its noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from jaxtyping import Bool, Float, Int


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

    k: Int[np.ndarray, "n W n"]
    k0: Int[np.ndarray, "n W"]
    s: Float[np.ndarray, "n W"]
    c: Float[np.ndarray, "n W"]


def landscape(rng: np.random.Generator, hills: Hills) -> Landscape:
    """A landscape drawn from ``rng`` (k, then k0, then s, then c)."""
    n, w = hills.n, hills.waves
    return Landscape(
        k=rng.integers(-2, 3, size=(n, w, n)),
        k0=rng.integers(-2, 3, size=(n, w)),
        s=rng.standard_normal((n, w)),
        c=rng.standard_normal((n, w)),
    )


def loss(x: Float[np.ndarray, " n1"], land: Landscape, epsilon: float) -> float:
    """L(x) = −x₀ + ε Σ_j x_j splotch_j(x)."""
    x = np.asarray(x, dtype=np.float64)
    theta = np.einsum("jwi,i->jw", land.k, x[1:]) + land.k0 * x[0]
    splotch = (land.s * np.sin(theta) + land.c * np.cos(theta)).sum(axis=-1)
    return float(-x[0] + epsilon * np.dot(x[1:], splotch))


class _Batch(NamedTuple):
    """B landscapes, each with its ε, laid out for batched matrix products.

    With θ_jw = k̄_jw · x, where k̄_jw = (k0_jw, k_jw1, …, k_jwn), and
    u_jw = s_jw sin θ_jw + c_jw cos θ_jw (so splotch_j = Σ_w u_jw),
    v_jw = s_jw cos θ_jw − c_jw sin θ_jw,
    the gradient is ∂L/∂x_i = −[i = 0] + ε Σ_jw (x_j v_jw k̄_jwi + u_jw [i = j]): one
    matrix product [x v, u, 1] · D with D = [ε k̄; ε I ⊗ 1_W; −e₀], rows stacked over jw.

    Attributes:
        wavenumbers: k̄ [B, nW, n+1].
        amplitudes: (s, c) and (−c, s) [B, 2, 2, nW], so that (v, u) = a₀ cos θ + a₁ sin θ.
        feed: the coordinate j of each row jw [nW].
        design: D [B, 2nW + 1, n+1].
    """

    wavenumbers: Float[np.ndarray, "B nW n1"]
    amplitudes: Float[np.ndarray, "B 2 2 nW"]
    feed: Int[np.ndarray, " nW"]
    design: Float[np.ndarray, "B D n1"]


def _batch(lands: list[Landscape], epsilons: list[float]) -> _Batch:
    n, w = lands[0].k0.shape
    rows = n * w
    wavenumbers = np.stack(
        [np.concatenate([land.k0[..., None], land.k], axis=-1) for land in lands]
    ).reshape(len(lands), rows, n + 1)
    wavenumbers = wavenumbers.astype(np.float64)
    s = np.stack([land.s.reshape(rows) for land in lands]).astype(np.float64)
    c = np.stack([land.c.reshape(rows) for land in lands]).astype(np.float64)
    feed = 1 + np.arange(rows) // w
    own = np.zeros((rows, n + 1))
    own[np.arange(rows), feed] = 1.0
    slope = np.zeros((1, n + 1))
    slope[0, 0] = -1.0
    eps = np.asarray(epsilons, dtype=np.float64)[:, None, None]
    design = np.concatenate(
        [
            eps * wavenumbers,
            eps * own,
            np.broadcast_to(slope, (len(lands), 1, n + 1)),
        ],
        axis=1,
    )
    amplitudes = np.stack([np.stack([s, c], axis=1), np.stack([-c, s], axis=1)], axis=1)
    return _Batch(wavenumbers, amplitudes, feed, design)


def _gradient(x: Float[np.ndarray, "B n1"], b: _Batch) -> Float[np.ndarray, "B n1"]:
    """∇L for each of the B landscapes at its own point (see `_Batch`)."""
    batch, rows, _ = b.wavenumbers.shape
    theta = np.matmul(b.wavenumbers, x[:, :, None])[:, None, :, 0]  # [B, 1, nW]
    vu1 = np.empty((batch, 2 * rows + 1))
    vu = vu1[:, : 2 * rows].reshape(batch, 2, rows)
    np.multiply(b.amplitudes[:, 0], np.cos(theta), out=vu)
    vu += b.amplitudes[:, 1] * np.sin(theta)
    vu[:, 0] *= np.take(x, b.feed, axis=1)
    vu1[:, -1] = 1.0
    return np.matmul(vu1[:, None, :], b.design)[:, 0, :]


def gradient(
    x: Float[np.ndarray, " n1"], land: Landscape, epsilon: float
) -> Float[np.ndarray, " n1"]:
    """∇L(x), written out analytically (see `_Batch`)."""
    x = np.asarray(x, dtype=np.float64)
    return _gradient(x[None], _batch([land], [epsilon]))[0]


def _descend(
    b: _Batch, noise: Float[np.ndarray, "T B n1"], eta: float, *, channel: bool = True
) -> tuple[Float[np.ndarray, "T1 B n1"], Bool[np.ndarray, "T B"]]:
    """Paths x_0 … x_T of the B descents from x = 0, each driven by its own noise
    (already scaled by 1/√(n+1)): x ← x − η∇L/‖∇L‖ − ηξ; and, per step, whether the
    ripples' part of the gradient (∇L + e₀) outweighs the slope's (norm above 1). Without
    the ``channel`` the gradient's demon components ∂L/∂x_j (j ≥ 1) are removed: the
    landscape is the same, but the search no longer feeds the demon's coordinates."""
    steps, batch, n1 = noise.shape
    path = np.empty((steps + 1, batch, n1))
    path[0] = 0.0
    steered = np.empty((steps, batch), dtype=bool)
    np.multiply(noise, -eta, out=path[1:])  # −ηξ_t, to which x_t − η∇L/‖∇L‖ is added
    x = path[0]
    for t in range(1, steps + 1):
        g = _gradient(x, b)
        if not channel:
            g[:, 1:] = 0.0
        # ‖∇L + e₀‖² > 1: the ripples' pull outweighs the slope's
        steered[t - 1] = np.einsum("bi,bi->b", g[:, 1:], g[:, 1:]) + (g[:, 0] + 1.0) ** 2 > 1.0
        g *= (-eta / np.sqrt(np.einsum("bi,bi->b", g, g)))[:, None]
        g += x
        path[t] += g
        x = path[t]
    return path, steered


def _slope(noise: Float[np.ndarray, "T B n1"], eta: float) -> Float[np.ndarray, "T1 B n1"]:
    """The same descents with ε = 0, where ∇L = −e₀ is its own normalisation: the path is
    the running sum of the steps −η(−e₀ + ξ_t), all at once."""
    steps = noise.shape[0]
    step = noise.copy()
    step[..., 0] -= 1.0
    step *= -eta
    path = np.zeros((steps + 1, *noise.shape[1:]))
    np.cumsum(step, axis=0, out=path[1:])
    return path


def _noise(rng: np.random.Generator, hills: Hills) -> Float[np.ndarray, "T n1"]:
    return rng.standard_normal((hills.steps, hills.n + 1)) / np.sqrt(hills.n + 1)


def descend(
    rng: np.random.Generator, land: Landscape, hills: Hills, epsilon: float
) -> Float[np.ndarray, "T1 n1"]:
    """x_0, x_1, …, x_T of the noisy normalised descent from x = 0, its noise drawn from
    ``rng``."""
    noise = _noise(rng, hills)[:, None]
    if epsilon == 0:
        return _slope(noise, hills.eta)[:, 0]
    return _descend(_batch([land], [epsilon]), noise, hills.eta)[0][:, 0]


@dataclass(frozen=True, eq=False)
class HillsRuns:
    """Runs on several landscapes, each beside its counterfactual: the same landscape and
    noise with the demon's channel removed (the search no longer feeds the coordinates
    x_j, j ≥ 1; see `_descend`).

    Attributes:
        hills: the settings.
        seeds: the landscape seed of each run.
        x0: progress x₀ per step [R, T + 1].
        spread: max_j |x_j| per step [R, T + 1].
        grown: |x_j| at the end [R, n].
        x0_fair: x₀ per step of the counterfactual [R, T + 1].
        spread_fair: max_j |x_j| per step of the counterfactual [R, T + 1].
        steered: per run, the share of the last quarter's steps on which the ripples'
            pull outweighed the slope's (the demon steered the search) [R].
        steered_fair: the same for the counterfactual [R].
    """

    hills: Hills
    seeds: tuple[int, ...]
    x0: Float[np.ndarray, "R T1"]
    spread: Float[np.ndarray, "R T1"]
    grown: Float[np.ndarray, "R n"]
    x0_fair: Float[np.ndarray, "R T1"]
    spread_fair: Float[np.ndarray, "R T1"]
    steered: Float[np.ndarray, " R"]
    steered_fair: Float[np.ndarray, " R"]

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
        ends with less than half the ideal progress rate, and its counterfactual (no channel)
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
    """Descend on the landscape of each seed, with and without the demon's channel (the
    counterfactual), the runs side by side in one vectorised loop over the steps. Seed s
    draws its landscape and then its noise from ``numpy.random.default_rng(s)``; a run and
    its counterfactual share the noise, and the run is what ``descend`` gives with that
    generator."""
    lands, noises = [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        lands.append(landscape(rng, hills))
        noises.append(_noise(rng, hills))
    noise = np.stack(noises, axis=1)  # [T, R, n+1]
    batch = _batch(lands, [hills.epsilon] * len(lands))
    if hills.epsilon == 0:
        path = fair = _slope(noise, hills.eta)
        steered = fair_steered = np.zeros(noise.shape[:2], dtype=bool)
    else:
        path, steered = _descend(batch, noise, hills.eta)
        fair, fair_steered = _descend(batch, noise, hills.eta, channel=False)
    quarter = hills.steps // 4
    return HillsRuns(
        hills,
        tuple(seeds),
        np.ascontiguousarray(path[:, :, 0].T),
        np.ascontiguousarray(np.abs(path[:, :, 1:]).max(axis=2).T),
        np.abs(path[-1, :, 1:]),
        np.ascontiguousarray(fair[:, :, 0].T),
        np.ascontiguousarray(np.abs(fair[:, :, 1:]).max(axis=2).T),
        steered[-quarter:].mean(axis=0),
        fair_steered[-quarter:].mean(axis=0),
    )


def search_world() -> dict:
    """The search's end behaviour as a world document: one choice per step, "descend"
    (progress along x₀; R and U pay 1), "held" (a step the demon steers without progress;
    the goal "demon" pays 1) or "drift" (neither: noise). A search whose last quarter
    gained a fraction f of the ideal progress, and whose ripples outweighed the slope on a
    share c of those steps, is the policy that descends with probability f, is held with
    (1 − f)·c and drifts otherwise: J_R = f and J_demon = (1 − f)·c, the demon's control
    of the search, measured from the gradient, not from R (with no demon, c = 0)."""
    env = {
        "start": {"search": 1.0},
        "terminal": ["end"],
        "transitions": [["search", a, "end", 1.0] for a in ("descend", "held", "drift")],
    }
    return {
        "name": "tessellating-hills",
        "discount": 0.9,
        "deploy_share": 0.5,
        "states": ["search", "end"],
        "actions": ["descend", "held", "drift"],
        "train": env,
        "deploy": env,
        "objectives": {
            "base": [["search", "descend", 1.0]],
            "intended": [["search", "descend", 1.0]],
            "goals": {"demon": [["search", "held", 1.0]]},
        },
    }
