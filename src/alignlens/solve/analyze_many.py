"""The analysis of many small worlds at once: every number a diagnosis needs, in one
vmapped JAX program (or, by default on a CPU, the same program as a compiled loop:
`alignlens.solve.analyze_compiled`), then one `Analysis` per world for the lenses.

The program follows `analyze_world` and `analyze_policy` step for step, over the tabular
class, on worlds of one shape given as stacked arrays (environment axis: train, deploy):

1. like world assembly, states that neither environment reaches become terminal, and
   the environments share dynamics when they agree on every state both reach (worlds
   are grouped by that, since it decides which problems there are);
2. best and worst values of R and U in each distinct dynamics (policy iteration);
3. Opt(train, R), Opt(deploy, R) and, with shared dynamics, Opt(λ, R) for λ inside
   (0, 1): ε-optimal actions, the states optimal actions reach, and for Opt(train, R)
   the states no optimal policy avoids; their witness and sound masks;
4. the restricted extremes over each mask (policy iteration warm-started from step 2),
   and the rules of `alignlens.solve.extremes` that say when the witness extremes are
   exact;
5. exact returns of the uniformly random policy and of the learned policy: given as
   action probabilities, or the exhaustive optimiser's representative that is worst in
   deployment (the witness minimiser of intended return in deployment).

A world whose witness and sound extremes differ (the per-world path then searches tied
choices, as the compiled loop also does), or whose policy iteration did not converge, is
marked not ``ok``: its analysis is left to the per-world path.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from jaxtyping import Array, Bool, Float, Int

from alignlens.analysis import TIE, Analysis, Range, Returns
from alignlens.errors import AlignlensError
from alignlens.solve.analyze import interior_share, world_analysis
from alignlens.solve.extremes import CLOSE
from alignlens.solve.many import (
    FIRST_SWEEPS,
    ROUND_OFF,
    evaluate,
    margin_of,
    reach,
    solve,
    unavoidable,
)
from alignlens.solve.policy_analysis import regrets_of
from alignlens.tolerances import Tolerances
from alignlens.world.model import World

WARM_SWEEPS = 4  # value-iteration sweeps from the unrestricted solution (restricted problems)
CHUNK = 1024  # worlds per call
STEP = 128  # worlds per vmapped step of a CPU call (each waits for its slowest world)
RANGES = (  # (optimal set, environment, objective), the order of `ManyNumbers.ranges`
    ("train", "deploy", "intended"),
    ("train", "deploy", "base"),
    ("train", "train", "intended"),
    ("deploy", "deploy", "intended"),
    ("mixture", "deploy", "intended"),
)
ENVS, OBJS = ("train", "deploy"), ("base", "intended")


@dataclass(frozen=True)
class StackedWorlds:
    """Small worlds of one shape as stacked arrays (environment axis: train, deploy).

    Attributes:
        names: each world's name.
        next_state, prob: successors [B, 2, S, A, K].
        terminal: terminal states [B, 2, S] (more become terminal if unreachable).
        start: start distributions [B, 2, S].
        reward: R and U [B, 2, S, A].
        discount: γ of each world [B].
    """

    names: tuple[str, ...]
    next_state: Int[np.ndarray, "B 2 S A K"]
    prob: Float[np.ndarray, "B 2 S A K"]
    terminal: Bool[np.ndarray, "B 2 S"]
    start: Float[np.ndarray, "B 2 S"]
    reward: Float[np.ndarray, "B 2 S A"]
    discount: Float[np.ndarray, " B"]

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def of_worlds(cls, worlds: list[World]) -> StackedWorlds:
        """Compiled worlds of one shape (states, actions), successors padded to one K."""
        k = max(e.next_state.shape[2] for w in worlds for e in (w.train, w.deploy))

        def pad(x: np.ndarray) -> np.ndarray:
            return np.pad(x, ((0, 0), (0, 0), (0, k - x.shape[2])))

        def both(f) -> np.ndarray:
            return np.stack([np.stack([f(w.train), f(w.deploy)]) for w in worlds])

        return cls(
            names=tuple(w.name for w in worlds),
            next_state=both(lambda e: pad(e.next_state)),
            prob=both(lambda e: pad(e.prob)),
            terminal=both(lambda e: e.terminal),
            start=both(lambda e: e.start),
            reward=np.stack([np.stack([w.base, w.intended]) for w in worlds]),
            discount=np.array([w.discount for w in worlds], dtype=np.float64),
        )


@dataclass(frozen=True)
class ManyNumbers:
    """What the batched program computed, per world (first axis).

    Attributes:
        ok: whether every number is exact by the rules above (else use the per-world path).
        shared: whether the environments share dynamics.
        optimum, worst, random, returns: [B, env, objective] (env: train, deploy;
            objective: base, intended): class optima, worst values, the uniformly random
            policy's returns and the learned policy's.
        ranges: [B, 5, 2] the min and max return over each optimal set of `RANGES`
            (NaN for the mixture without shared dynamics).
        policy: [B, S] the exhaustive representative (with ``policies`` not given).
    """

    ok: Bool[np.ndarray, " B"]
    shared: Bool[np.ndarray, " B"]
    optimum: Float[np.ndarray, "B 2 2"]
    worst: Float[np.ndarray, "B 2 2"]
    random: Float[np.ndarray, "B 2 2"]
    returns: Float[np.ndarray, "B 2 2"]
    ranges: Float[np.ndarray, "B 5 2"]
    policy: Int[np.ndarray, "B S"]

    def take(self, rows: Sequence[int] | slice) -> ManyNumbers:
        """The numbers of some worlds only."""
        return ManyNumbers(**{k: v[rows] for k, v in vars(self).items()})


def numbers_many(
    worlds: StackedWorlds,
    tolerances: Tolerances,
    policies: Float[np.ndarray, "B S A"] | None = None,
    *,
    engine: Literal["compiled", "jax"] | None = None,
    chunk: int = CHUNK,
    step: int | None = None,
) -> ManyNumbers:
    """Every number of the worlds' analyses; the learned policy is ``policies`` (action
    probabilities per state) or, when None, the exhaustive optimiser's worst-deployment
    representative.

    The ``engine`` runs the program: ``"compiled"``, a Numba loop over worlds
    (`alignlens.solve.analyze_compiled`), or ``"jax"``, the vmapped JAX program; by
    default the compiled loop when JAX's backend is the CPU, JAX on an accelerator. JAX
    calls take ``chunk`` worlds; within a call, ``step`` worlds run as one vmapped step
    (default: `STEP` on a CPU, where small steps stay in cache and wait less for their
    slowest world; the whole call on an accelerator)."""
    import jax
    import jax.numpy as jnp

    from alignlens.solve import backup_jax  # noqa: F401  (float64 everywhere)

    if engine is None:
        engine = "compiled" if jax.default_backend() == "cpu" else "jax"
    if step is None:
        step = STEP if jax.default_backend() == "cpu" else chunk
    if len(worlds) == 0:
        raise AlignlensError("no worlds to analyse", field="worlds", fix="give at least one")
    if float(np.max(worlds.discount)) >= 1.0:
        raise AlignlensError(
            "batched analysis needs discounting",
            field="discount",
            fix="use γ < 1, or the per-world path (alignlens.diagnose)",
        )
    if engine == "compiled":
        from alignlens.solve.analyze_compiled import numbers_compiled

        return ManyNumbers(
            *numbers_compiled(
                worlds.next_state,
                worlds.prob,
                worlds.terminal,
                worlds.start,
                worlds.reward,
                worlds.discount,
                policies,
                tolerances.epsilon,
                interior_share(tolerances.deploy_share),
            )
        )
    arrays = (
        jnp.asarray(worlds.next_state, dtype=jnp.int32),
        jnp.asarray(worlds.prob, dtype=jnp.float64),
        jnp.asarray(worlds.terminal),
        jnp.asarray(worlds.start, dtype=jnp.float64),
    )
    shared = np.asarray(_shared_program()(*arrays))
    given = policies is not None
    if policies is None:
        policies = np.zeros(worlds.reward.shape[:1] + worlds.reward.shape[2:])
    inputs = (
        *arrays,
        jnp.asarray(worlds.reward, dtype=jnp.float64),
        jnp.asarray(worlds.discount, dtype=jnp.float64),
        jnp.asarray(policies, dtype=jnp.float64),
    )
    fields: list[np.ndarray] = []
    for flag in (True, False):
        rows = np.flatnonzero(shared == flag)
        program = _analysis_program(flag, given, step)
        for at in range(0, rows.size, chunk):
            part = rows[at : at + chunk]
            padded = np.resize(part, _padded_size(part.size, chunk))  # few shapes to compile
            out = program(
                *(x[padded] for x in inputs),
                tolerances.epsilon,
                interior_share(tolerances.deploy_share),
            )
            if not fields:
                fields = [np.zeros((len(worlds), *o.shape[1:]), o.dtype) for o in out]
            for f, o in zip(fields, out, strict=True):
                f[part] = np.asarray(o)[: part.size]
    ok, optimum, worst, random, returns, ranges, policy = fields
    return ManyNumbers(ok, shared, optimum, worst, random, returns, ranges, policy)


def analyses_many(
    names: Sequence[str],
    numbers: ManyNumbers,
    tolerances: Tolerances,
    *,
    policy: str,
    optimizer: str,
) -> list[Analysis | None]:
    """One `Analysis` per world (named ``names``) from the batched numbers (None where not
    ``ok``)."""
    if tolerances.normaliser != "range":
        raise AlignlensError(
            f"the batched analysis normalises regrets by the class range, not "
            f"{tolerances.normaliser!r}",
            field="normaliser",
            fix="diagnose the worlds one by one (alignlens.diagnose) for another normaliser",
        )
    # Python lists of Python floats: indexing them is far cheaper than NumPy scalars.
    ok, shared = numbers.ok.tolist(), numbers.shared.tolist()
    optimum, worst = numbers.optimum.tolist(), numbers.worst.tolist()
    random, returns, ranges = (
        numbers.random.tolist(),
        numbers.returns.tolist(),
        numbers.ranges.tolist(),
    )
    out: list[Analysis | None] = []
    for i, name in enumerate(names):
        if not ok[i]:
            out.append(None)
            continue
        objectives = world_analysis(
            name,
            tolerances,
            _returns(optimum[i]),
            _returns(worst[i]),
            _returns(random[i]),
            {
                key: Range.exact_range(low, high)
                for key, (low, high) in zip(RANGES, ranges[i], strict=True)
                if shared[i] or key[0] != "mixture"
            },
            goals={},
            shared_dynamics=shared[i],
        )
        learned = _returns(returns[i])
        out.append(
            Analysis(
                objectives=objectives,
                policy=policy,
                optimizer=optimizer,
                returns=learned,
                regret=regrets_of(learned, objectives),
                competence={},
                goal_is_base={},
            )
        )
    return out


def _padded_size(n: int, chunk: int) -> int:
    """The call size for n ≤ ``chunk`` worlds: a power of two from 32, at most ``chunk``."""
    return min(chunk, max(32, 1 << (n - 1).bit_length()))


def _returns(x: list[list[float]]) -> Returns:
    """[env][objective] as `Returns`."""
    return Returns(x[0][0], x[0][1], x[1][0], x[1][1])


@functools.cache
def _shared_program():
    """Whether each world's environments share dynamics (as world assembly decides)."""
    import jax
    import jax.numpy as jnp

    def one(next_state, prob, terminal, start):
        present = _present(next_state, prob, terminal, start)
        both = present[0] & present[1]
        n = next_state.shape[1]
        dense = jnp.einsum(
            "esak,esakt->esat", prob, jax.nn.one_hot(next_state, n, dtype=prob.dtype)
        )
        rows = both & ~terminal[0]
        differ = jnp.max(jnp.abs(dense[0] - dense[1]), axis=(1, 2)) > 1e-12
        return ~jnp.any((terminal[0] != terminal[1]) & both) & ~jnp.any(rows & differ)

    return jax.jit(jax.vmap(one))


def _present(
    next_state: Int[Array, "2 S A K"],
    prob: Float[Array, "2 S A K"],
    terminal: Bool[Array, "2 S"],
    start: Float[Array, "2 S"],
) -> Bool[Array, "2 S"]:
    """The states each environment reaches from its start under any actions [2, S]."""
    import jax.numpy as jnp

    everything = jnp.ones(next_state.shape[1:3], dtype=bool)
    return jnp.stack(
        [reach(next_state[e], prob[e], terminal[e], start[e] > 0, everything) for e in (0, 1)]
    )


@functools.cache
def _analysis_program(shared: bool, given: bool, step: int):
    """The jitted program for worlds that do (or do not) share dynamics, with the learned
    policy given (or the exhaustive representative), ``step`` worlds at a time."""
    import jax

    def program(next_state, prob, terminal, start, reward, discount, policy, epsilon, inside):
        def one(*x):
            return _one_world(*x, epsilon, inside, shared=shared, given=given)

        arrays = (next_state, prob, terminal, start, reward, discount, policy)
        return jax.lax.map(lambda x: one(*x), arrays, batch_size=step)

    return jax.jit(program)


def _one_world(
    next_state: Int[Array, "2 S A K"],
    prob: Float[Array, "2 S A K"],
    raw_terminal: Bool[Array, "2 S"],
    start: Float[Array, "2 S"],
    reward: Float[Array, "2 S A"],
    discount: Float[Array, ""],
    policy: Float[Array, "S A"],
    epsilon: Float[Array, ""],
    inside: Float[Array, ""],
    *,
    shared: bool,
    given: bool,
) -> tuple[Array, ...]:
    """Every number of one world's analysis (see the module); traced once per program."""
    import jax
    import jax.numpy as jnp

    present = _present(next_state, prob, raw_terminal, start)
    if shared:  # one dynamics: each state's rows from an environment that reaches it
        pick = present[0][:, None, None]
        envs = [
            (
                jnp.where(pick, next_state[0], next_state[1]),
                jnp.where(pick, prob[0], prob[1]),
                (raw_terminal[0] & present[0])
                | (raw_terminal[1] & present[1])
                | ~(present[0] | present[1]),
            )
        ]
        dynamics = {"train": 0, "deploy": 0}
    else:
        envs = [(next_state[e], prob[e], raw_terminal[e] | ~present[e]) for e in (0, 1)]
        dynamics = {"train": 0, "deploy": 1}
    starts = {"train": start[0], "deploy": start[1]}
    if shared:
        starts["mixture"] = (1.0 - inside) * start[0] + inside * start[1]
    margins = [margin_of(reward[f], discount) for f in (0, 1)]
    everything = jnp.ones(reward.shape[1:], dtype=bool)
    ok = jnp.array(True)

    def solve_all(problems, sweeps: int):
        """Solve (env, objective, sign, allowed, initial values) problems in one vmap."""
        nonlocal ok
        stacked = [
            jnp.stack(x)
            for x in zip(
                *[
                    (*envs[e], sign * reward[f], allowed, values, margins[f])
                    for e, f, sign, allowed, values in problems
                ],
                strict=True,
            )
        ]
        ns, pr, term, r, allowed, initial, margin = stacked
        values, q, chosen, converged = jax.vmap(
            functools.partial(solve, sweeps=sweeps), (0, 0, 0, None, 0, 0, 0, 0)
        )(ns, pr, term, discount, r, allowed, initial, margin)
        ok = ok & jnp.all(converged)
        return values, q, chosen

    # 2. Best and worst values of R (f = 0) and U (f = 1) in each distinct dynamics.
    first = [(e, f, sign) for e in range(len(envs)) for f in (0, 1) for sign in (1.0, -1.0)]
    zero = jnp.zeros(reward.shape[1])
    values1, q1, _ = solve_all(
        [(e, f, sign, everything, zero) for e, f, sign in first], FIRST_SWEEPS
    )
    best = {key: (values1[i], q1[i]) for i, key in enumerate(first)}  # in the sign's terms

    def extreme(env: str, start_of: str, f: int, sign: float) -> Array:
        return sign * (starts[start_of] @ best[dynamics[env], f, sign][0])

    # 3. Optimal sets of R.
    def optimal_set(env: str, start_of: str) -> tuple[Array, Array]:
        e = dynamics[env]
        v_best, q_best = best[e, 0, 1.0]
        top, bottom = extreme(env, start_of, 0, 1.0), extreme(env, start_of, 0, -1.0)
        tie = top - bottom <= TIE * jnp.maximum(1.0, jnp.abs(top))
        tolerance = jnp.maximum(  # ε·(V* − W)/T, T = 1/(1 − γ) (`alignlens.solve.optimal_set`)
            epsilon * (top - bottom) * (1.0 - discount),
            ROUND_OFF * jnp.maximum(1.0, jnp.max(jnp.abs(v_best))),
        )
        actions = tie | (q_best >= v_best[:, None] - tolerance) | envs[e][2][:, None]
        reached = reach(*envs[e], starts[start_of] > 0, actions)
        return actions, reached

    sets = {name: optimal_set("train" if name == "mixture" else name, name) for name in starts}
    witness = {name: jnp.where(r[:, None], a, True) for name, (a, r) in sets.items()}
    actions_t, reached_t = sets["train"]
    unavoided = unavoidable(*envs[0], starts["train"] > 0, actions_t)
    sound_t = jnp.where(unavoided[:, None], actions_t, True)

    # 4. Restricted extremes over the masks, warm-started from step 2.
    d, t = dynamics["deploy"], dynamics["train"]
    masks = {"witness": witness["train"], "sound": sound_t}
    second = [(m, d, f, s) for m in masks for f in (1, 0) for s in (-1.0, 1.0)]
    second += [("witness", t, 1, s) for s in (-1.0, 1.0) if ("witness", t, 1, s) not in second]
    masks |= {f"witness {name}": witness[name] for name in starts if name != "train"}
    second += [
        (f"witness {name}", d, 1, s) for name in starts if name != "train" for s in (-1.0, 1.0)
    ]
    values2, _, chosen2 = solve_all(
        [(e, f, s, masks[m], best[e, f, s][0]) for m, e, f, s in second], WARM_SWEEPS
    )
    index = {key: i for i, key in enumerate(second)}

    def over(mask: str, env: str, start_of: str, f: int) -> tuple[Array, Array]:
        e = dynamics[env]
        return tuple(  # type: ignore[return-value]
            s * (starts[start_of] @ values2[index[mask, e, f, s]]) for s in (-1.0, 1.0)
        )

    loose = reached_t & ~unavoided & ~jnp.all(actions_t, axis=1)
    deployed = reach(*envs[d], starts["deploy"] > 0, sound_t)
    same_start = jnp.all((starts["deploy"] > 0) <= (starts["train"] > 0))
    witness_exact = (shared & same_start) | ~jnp.any(loose & deployed)

    def close(a: Array, b: Array, scale: Array) -> Array:
        return jnp.abs(a - b) <= CLOSE * jnp.maximum(1.0, scale)

    ranges = []
    for opt, env, objective in RANGES:
        f = OBJS.index(objective)
        if opt == "mixture" and not shared:
            ranges.append(jnp.full(2, jnp.nan))
            continue
        mask = "witness" if opt == "train" else f"witness {opt}"
        low, high = over(mask, env, env, f)
        if (opt, env) == ("train", "deploy"):
            sound_low, sound_high = over("sound", env, env, f)
            scale = jnp.maximum(jnp.abs(sound_low), jnp.abs(sound_high))
            ok = ok & (
                witness_exact | (close(low, sound_low, scale) & close(high, sound_high, scale))
            )
        ranges.append(jnp.stack([low, high]))

    # 5. The learned policy and the uniformly random one.
    representative = chosen2[index["witness", d, 1, -1.0]]
    # Where deployment ends (or never goes) but training does not, any action serves
    # deployment: take the first one Opt(train, R) allows, as `stays_optimal` does.
    idle = envs[d][2] & ~envs[t][2]
    representative = jnp.where(idle, jnp.argmax(witness["train"], axis=1), representative)
    if given:
        learned = policy
    else:
        found = over("witness", "deploy", "deploy", 1)[0]
        bound = over("sound", "deploy", "deploy", 1)[0]
        ok = ok & close(found, bound, jnp.abs(bound))
        learned = jax.nn.one_hot(representative, reward.shape[2], dtype=reward.dtype)
    uniform = jnp.full(reward.shape[1:], 1.0 / reward.shape[2])

    def returns_of(pi: Array) -> Array:
        values = [evaluate(*envs[e], discount, pi, reward) for e in range(len(envs))]
        return jnp.stack(
            [jnp.stack([starts[env] @ values[dynamics[env]][f] for f in (0, 1)]) for env in ENVS]
        )

    optimum = jnp.stack([jnp.stack([extreme(env, env, f, 1.0) for f in (0, 1)]) for env in ENVS])
    worst = jnp.stack([jnp.stack([extreme(env, env, f, -1.0) for f in (0, 1)]) for env in ENVS])
    return (
        ok,
        optimum,
        worst,
        returns_of(uniform),
        returns_of(learned),
        jnp.stack(ranges),
        representative,
    )
