"""The analysis of many small worlds at once (the batch axis is worlds): every number a
diagnosis needs, from one compiled loop over the worlds (`alignlens.solve.batched.program`),
then one `Analysis` per world for the lenses.

The program follows `analyze_world` and `analyze_policy` step for step, over the tabular
class, on worlds of one shape given as stacked arrays (environment axis: train, deploy):

1. like world assembly, states that neither environment reaches become terminal, and
   the environments share dynamics when they agree on every state both reach;
2. best and worst values of R and U in each distinct dynamics (policy iteration);
3. Opt(train, R), Opt(deploy, R) and, with shared dynamics, Opt(λ, R) for λ inside
   (0, 1): ε-optimal actions, the states optimal actions reach, and for Opt(train, R)
   the states no optimal policy avoids; their witness and sound masks;
4. the restricted extremes over each mask (policy iteration warm-started from step 2),
   and the rules of `alignlens.solve.exact.extremes` that say when the witness extremes
   are exact; where they are not, the per-world path's search over tied optimal choices;
5. exact returns of the uniformly random policy and of the learned policy: given as
   action probabilities, or the exhaustive optimiser's representative that is worst in
   deployment (the witness minimiser of intended return in deployment).

A world that the search over tied choices cannot settle within its budget, whose policy
iteration did not converge, or whose optimal sets round-off could blur (the guard of
`alignlens.solve.exact.optimal_set.optimal_actions`), is marked not ``ok``: its analysis
is left to the per-world path, which settles it or refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jaxtyping import Float

from alignlens.analysis import Analysis, Range, Returns
from alignlens.errors import AlignlensError
from alignlens.solve.batched.program import numbers_compiled
from alignlens.solve.batched.stacked import RANGES, ManyNumbers, StackedWorlds
from alignlens.solve.exact.analyze import interior_share, world_analysis
from alignlens.solve.exact.policy_analysis import regrets_of
from alignlens.tolerances import Tolerances


def numbers_many(
    worlds: StackedWorlds,
    tolerances: Tolerances,
    policies: Float[np.ndarray, "B S A"] | None = None,
) -> ManyNumbers:
    """Every number of the worlds' analyses; the learned policy is ``policies`` (action
    probabilities per state) or, when None, the exhaustive optimiser's worst-deployment
    representative. The worlds run on all of Numba's threads."""
    if len(worlds) == 0:
        raise AlignlensError("no worlds to analyse", field="worlds", fix="give at least one")
    if float(np.max(worlds.discount)) >= 1.0:
        raise AlignlensError(
            "batched analysis needs discounting",
            field="discount",
            fix="use γ < 1, or the per-world path (alignlens.diagnose)",
        )
    return numbers_compiled(
        worlds, policies, tolerances.epsilon, interior_share(tolerances.deploy_share)
    )


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


def _returns(x: list[list[float]]) -> Returns:
    """[env][objective] as `Returns`."""
    return Returns(x[0][0], x[0][1], x[1][0], x[1][1])
