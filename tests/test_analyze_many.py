"""The batched analysis of many small worlds against the per-world path, number by number
and verdict by verdict, over hundreds of random worlds of every kind of shift; and the
array generator against the world documents it writes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alignlens import world_from_dict
from alignlens.analysis import Analysis, Range
from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.errors import AlignlensError, SolverError
from alignlens.lenses import apply_lenses
from alignlens.optimizers.exhaustive import exhaustive
from alignlens.policies.tabular import TabularPolicy
from alignlens.report.document import document_of
from alignlens.solve.batched import analyze as batched_analyze
from alignlens.solve.batched.analyze import analyses_many, numbers_many
from alignlens.solve.batched.stacked import ManyNumbers, StackedWorlds
from alignlens.solve.exact.extremes import CLOSE, restricted_extreme, witness_is_exact
from alignlens.solve.exact.optimal_set import optimal_set
from alignlens.sweep import runner
from alignlens.sweep.generator import WorldSpec, random_batch, world_document
from alignlens.tolerances import Tolerances
from alignlens.world.model import World
from worlds import offset_world, random_world_dict

EXHAUSTIVE = "exhaustive (worst-deployment)"


def numbers_of(analysis: Analysis) -> dict[str, float]:
    """Every number of an analysis, flattened by name."""
    o = analysis.objectives
    out: dict[str, float] = {}
    for label, returns in (
        ("optimum", o.optimum),
        ("worst", o.worst),
        ("random", o.random),
        ("returns", analysis.returns),
        ("regret", analysis.regret),
    ):
        for key, value in vars(returns).items():
            out[f"{label}.{key}"] = value
    for set_name, quantities in o.optimal_sets.items():
        for quantity, r in quantities.items():
            assert isinstance(r, Range)
            for end, value in (("min", r.min), ("max", r.max)):
                out[f"{set_name}.{quantity}.{end}"] = value
            for end, bounds in (("min", r.min_bounds), ("max", r.max_bounds)):
                out[f"{set_name}.{quantity}.{end}_bounds.low"] = bounds[0]
                out[f"{set_name}.{quantity}.{end}_bounds.high"] = bounds[1]
    return out


def assert_same_diagnosis(batched: Analysis, alone: Diagnosis) -> None:
    """Every number within round-off, the same λ-sets, and every lens's category,
    conditions (value and outcome) and flags."""
    want = numbers_of(alone.analysis)
    got = numbers_of(batched)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key], abs=1e-9), key
    a, b = batched.objectives, alone.analysis.objectives
    assert a.outer_aligned_shares == b.outer_aligned_shares
    assert a.undetermined_shares == b.undetermined_shares
    assert a.shared_dynamics == b.shared_dynamics
    assert batched.policy == alone.analysis.policy
    verdicts = apply_lenses(batched)
    for lens, verdict in alone.verdicts.items():
        other = verdicts[lens]
        assert other.category == verdict.category, lens
        assert other.flags == verdict.flags, lens
        assert other.conditions.keys() == verdict.conditions.keys()
        for name, c in verdict.conditions.items():
            assert other.conditions[name].holds == c.holds, (lens, name)
            assert other.conditions[name].value == pytest.approx(c.value, abs=1e-9)


def alone_exhaustive(world) -> Diagnosis:
    found = exhaustive(world, tie_break="worst-deployment")
    return diagnose(world, found.policy, objectives=found.objectives, optimizer="exhaustive")


@pytest.mark.slow
@pytest.mark.parametrize("rewards", ["integers", "normal"])
@pytest.mark.parametrize("shift", ["start", "deploy-states", "dynamics"])
def test_batched_analysis_equals_the_per_world_path(shift: str, rewards: str) -> None:
    """30 generated worlds of each kind (180 in all), read as drawn (`WorldBatch.stacked`), with the
    exhaustive optimiser's worst-deployment representative as the learned policy."""
    spec = WorldSpec(states=8, actions=3, shift=shift, rewards=rewards)
    batch = random_batch(spec, np.arange(30))
    tol = Tolerances(deploy_share=spec.deploy_share)
    stacked = batch.stacked()
    numbers = numbers_many(stacked, tol)
    analyses = analyses_many(stacked.names, numbers, tol, policy=EXHAUSTIVE, optimizer="exhaustive")
    assert numbers.ok.mean() >= 0.9  # the rest is left to the per-world path
    assert bool(numbers.shared.all()) is (shift != "dynamics")
    for i, analysis in enumerate(analyses):
        if analysis is not None:
            world = world_from_dict(world_document(batch, i))
            assert_same_diagnosis(analysis, alone_exhaustive(world))


@pytest.mark.slow
@pytest.mark.parametrize("shift", [False, True])
def test_batched_analysis_of_compiled_worlds_with_given_stochastic_policies(shift: bool) -> None:
    """Worlds from another generator (successors may be terminal, with any weight), stacked
    from their compiled form, each with a random stochastic policy."""
    rng = np.random.default_rng(7)
    worlds = [
        world_from_dict({**random_world_dict(rng, n_states=6, n_actions=3, shift=shift)})
        for _ in range(60)
    ]
    policies = rng.dirichlet(np.ones(3), size=(60, worlds[0].n_states))
    stacked = StackedWorlds.of_worlds(worlds)
    tol = Tolerances(deploy_share=worlds[0].deploy_share)
    numbers = numbers_many(stacked, tol, policies)
    analyses = analyses_many(stacked.names, numbers, tol, policy="given", optimizer="given")
    assert numbers.ok.mean() >= 0.9
    for world, policy, analysis in zip(worlds, policies, analyses, strict=True):
        if analysis is not None:
            alone = diagnose(world, TabularPolicy.fixed("given", policy))
            assert_same_diagnosis(analysis, alone)


def needs_search(world: World, tol: Tolerances) -> bool:
    """Whether the per-world path searches tied optimal choices for a range over
    Opt(train, R) in deployment: its witness mask is not known to be exact there, and the
    witness and sound extremes differ."""
    opt = optimal_set(world.train, world.base, tol.epsilon)
    if witness_is_exact(opt, world.deploy):
        return False
    for reward in (world.intended, world.base):
        for sense in ("min", "max"):
            w = restricted_extreme(world.deploy, reward, opt.witness_mask, sense)
            s = restricted_extreme(world.deploy, reward, opt.sound_mask, sense)
            if abs(w - s) > CLOSE * max(1.0, abs(w), abs(s)):
                return True
    return False


def test_sweep_rows_equal_per_world_rows_including_worlds_left_to_the_per_world_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every row of a batch equals the per-world path's: world 99 needs the tied-choice
    search (its witness and sound extremes differ), and world 1 is left to the per-world
    path on purpose here (its ``ok`` cleared, as for a world whose policy iteration did not
    converge), so its row comes from that path."""
    spec = WorldSpec(shift="dynamics")
    pick = [0, 1, 99]
    batch = random_batch(spec, pick)
    tol = Tolerances(deploy_share=spec.deploy_share)
    worlds = [world_from_dict(world_document(batch, i)) for i in range(len(pick))]
    assert [needs_search(w, tol) for w in worlds] == [False, False, True]
    real = batched_analyze.numbers_many

    def leaving_world_1(*args, **kwargs) -> ManyNumbers:
        numbers = real(*args, **kwargs)
        return replace(numbers, ok=numbers.ok & (np.arange(len(numbers.ok)) != 1))

    alone: list[int] = []
    per_world = runner._diagnose

    def counted(world, spec, seed, *args):
        alone.append(seed)
        return per_world(world, spec, seed, *args)

    monkeypatch.setattr(batched_analyze, "numbers_many", leaving_world_1)
    monkeypatch.setattr(runner, "_diagnose", counted)
    rows = runner._rows_of(spec, pick, "exhaustive")
    assert alone == [1]
    for world, row in zip(worlds, rows, strict=True):
        expected = alone_exhaustive(world)
        for lens, verdict in expected.verdicts.items():
            assert row["verdicts"][lens] == str(verdict.category)
        assert_close(row["document"], document_of(expected, by_share=False))


def test_batched_analysis_of_wide_worlds_equals_the_per_world_path() -> None:
    """70 states: the compiled loop's state sets take two 64-bit words."""
    spec = WorldSpec(states=70, actions=2, shift="dynamics", rewards="integers")
    batch = random_batch(spec, np.arange(6))
    tol = Tolerances(deploy_share=spec.deploy_share)
    stacked = batch.stacked()
    numbers = numbers_many(stacked, tol)
    analyses = analyses_many(stacked.names, numbers, tol, policy=EXHAUSTIVE, optimizer="exhaustive")
    assert all(a is not None for a in analyses)
    for i, analysis in enumerate(analyses):
        assert analysis is not None
        assert_same_diagnosis(analysis, alone_exhaustive(world_from_dict(world_document(batch, i))))


@pytest.mark.slow
@pytest.mark.parametrize("spec", [WorldSpec(), WorldSpec(shift="dynamics")])
def test_batched_analysis_settles_tied_choices_as_the_per_world_search_does(
    spec: WorldSpec,
) -> None:
    """Worlds whose witness and sound extremes differ (a start shift reaches states where
    tied optimal actions lead apart): the batched engine searches the tied choices itself.
    Its ranges and its worst-deployment pick must be the per-world path's, number by
    number and verdict by verdict."""
    batch = random_batch(spec, np.arange(800))
    stacked = batch.stacked()
    tol = Tolerances(deploy_share=spec.deploy_share)
    worlds = {i: world_from_dict(world_document(batch, i)) for i in range(len(batch))}
    searched = [i for i, world in worlds.items() if needs_search(world, tol)]
    assert len(searched) >= 3  # 5 and 6 of these 800 at the time of writing
    numbers = numbers_many(stacked, tol)
    analyses = analyses_many(
        [stacked.names[i] for i in searched],
        numbers.take(searched),
        tol,
        policy=EXHAUSTIVE,
        optimizer="exhaustive",
    )
    for i, analysis in zip(searched, analyses, strict=True):
        assert analysis is not None
        assert_same_diagnosis(analysis, alone_exhaustive(worlds[i]))


@pytest.mark.slow
def test_the_perfect_optimiser_is_fully_optimised_where_near_ties_once_let_it_fall_short() -> None:
    """Four of 10^6 default worlds where the worst-deployment pick took near-tied actions
    whose gaps added up to a training regret of 1.1–2.3·10⁻⁶ > ε, so Wentworth's lens
    called the perfect optimiser an optimisation failure. With the action tolerance
    ε·(V* − W)·(1 − γ), on the batched engine and the per-world path, the pick is fully
    optimised and no lens blames the search."""
    spec = WorldSpec()
    seeds = [320594, 332172, 833445, 921305]
    batch = random_batch(spec, seeds)
    stacked = batch.stacked()
    tol = Tolerances(deploy_share=spec.deploy_share)
    numbers = numbers_many(stacked, tol)
    analyses = analyses_many(stacked.names, numbers, tol, policy=EXHAUSTIVE, optimizer="exhaustive")
    for analysis in analyses:
        assert analysis is not None
        assert analysis.regret.train_base <= tol.epsilon
        assert apply_lenses(analysis)["wentworth"].category != "optimization"
    for i in range(len(seeds)):
        alone = alone_exhaustive(world_from_dict(world_document(batch, i)))
        assert alone.analysis.regret.train_base <= tol.epsilon
        assert alone.verdicts["wentworth"].category != "optimization"


def test_worlds_round_off_cannot_resolve_are_left_to_the_per_world_path() -> None:
    """Values near 1e10 (`offset_world`) make round-off's margin 1e-2, while ε's bound on a
    step's gap is 1e-4: an action 1e-3 worse than the best cannot be told from optimal.
    The batched engine leaves that world to the per-world path, which refuses it naming
    the discount; with a gap of 1 both settle it, with the same verdicts and regrets (to
    round-off of values near 1e10)."""
    doubtful, clear = (world_from_dict(offset_world(gap)) for gap in (1e-3, 1.0))
    stacked = StackedWorlds.of_worlds([doubtful, clear])
    tol = Tolerances(deploy_share=clear.deploy_share)
    numbers = numbers_many(stacked, tol)
    assert numbers.ok.tolist() == [False, True]
    with pytest.raises(SolverError, match="cannot be told apart") as e:
        alone_exhaustive(doubtful)
    assert e.value.field == "discount"
    analyses = analyses_many(stacked.names, numbers, tol, policy=EXHAUSTIVE, optimizer="exhaustive")
    assert analyses[0] is None and analyses[1] is not None
    alone = alone_exhaustive(clear)
    assert {k: v.category for k, v in apply_lenses(analyses[1]).items()} == {
        k: v.category for k, v in alone.verdicts.items()
    }
    for key, value in vars(alone.analysis.regret).items():
        assert getattr(analyses[1].regret, key) == pytest.approx(value, abs=1e-6)


def assert_close(got: object, want: object, where: str = "") -> None:
    """Equal documents, numbers within round-off."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for key in want:
            assert_close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert got == pytest.approx(want, abs=1e-9), where
    else:
        assert got == want, where


@pytest.mark.slow
def test_generated_arrays_are_the_documents_worlds() -> None:
    """The arrays of a batch, compiled from the document they write, give the same
    transition probabilities, starts and rewards; and a world is the same in any batch."""
    for shift in ("start", "deploy-states", "dynamics", "aliased"):
        spec = WorldSpec(states=7, actions=3, shift=shift, rewards="normal")
        batch = random_batch(spec, [11, 12, 13])
        shuffled = random_batch(spec, [12, 13, 11])
        for field in ("next_state", "prob", "start", "reward", "looks_like"):
            np.testing.assert_array_equal(getattr(batch, field)[1], getattr(shuffled, field)[0])
        for i in range(3):
            world = world_from_dict(world_document(batch, i))
            assert world.states == spec.state_names
            np.testing.assert_array_equal(world.base, batch.reward[i, 0])
            np.testing.assert_array_equal(world.intended, batch.reward[i, 1])
            shown = [world.observation_names[o] for o in world.observation]
            assert shown == [spec.state_names[k] for k in batch.looks_like[i]]
            for e, env in enumerate((world.train, world.deploy)):
                np.testing.assert_array_equal(env.start, batch.start[i, e])
                drawn = dense(batch.next_state[i, e], batch.prob[i, e])
                compiled = dense(env.next_state, env.prob)
                live = ~env.terminal
                np.testing.assert_allclose(compiled[live], drawn[live], atol=1e-15)


def dense(next_state: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """P[s, a, s'] from the successor format (duplicate successors summed)."""
    s, a, _ = next_state.shape
    out = np.zeros((s, a, s))
    for i in range(s):
        for j in range(a):
            np.add.at(out[i, j], next_state[i, j], prob[i, j])
    return out


@pytest.mark.slow
def test_batched_analysis_refuses_undiscounted_worlds_and_empty_batches() -> None:
    batch = random_batch(WorldSpec(states=4, actions=2), [0]).stacked()
    undiscounted = StackedWorlds(**{**vars(batch), "discount": np.array([1.0])})
    with pytest.raises(AlignlensError, match="discount"):
        numbers_many(undiscounted, Tolerances())
    with pytest.raises(AlignlensError, match="seed"):
        random_batch(WorldSpec(), [-1])
    with pytest.raises(AlignlensError, match="observation policies"):
        random_batch(WorldSpec(states=4, actions=2, shift="aliased"), [0]).stacked()
