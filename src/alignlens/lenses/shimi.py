"""adamShimi's existential criterion from the essay's thread.

An objective is outer aligned when *some* model optimal for it is aligned; a misaligned
model it produced is then an inner failure (the data pushed training towards a misaligned
optimum), and only when no optimum is aligned is the objective at fault. His red-door
example calls "+1 for reaching red objects" an outer failure although, on training mazes
whose exits are all red, it has an aligned optimum: the optima it means are those of the
data the model meets including deployment, so the lens quantifies over Opt(λ, R), as
Hubinger's does, and the two differ in the quantifier alone (some member, every member).
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import aligned
from alignlens.lenses.protocol import LensCard, LensDef
from alignlens.lenses.verdict import (
    Category,
    Verdict,
    aligned_verdict,
    some_at_most,
    undetermined_flags,
)

NAME = "shimi"


def shimi(a: Analysis) -> Verdict:
    """Misaligned and some member of Opt(λ, R) aligned (outer_exists) → INNER; no aligned
    member → OUTER (adamShimi, comment on the essay, 2020)."""
    c = {
        "aligned": aligned(a),
        "outer_exists": some_at_most(
            a.over("mixture_base", "deploy_intended_regret"), a.tolerances.tau
        ),
    }
    flags = undetermined_flags(c)
    basis = ("aligned", "outer_exists")
    if c["aligned"].holds:
        return aligned_verdict(NAME, c, flags)
    if c["outer_exists"].holds:
        reason = (
            "Some policy optimal for the objective on the data of the model's lifetime "
            f"(λ = {a.tolerances.deploy_share:g}) is aligned, yet training produced a "
            "misaligned one: an inner alignment failure."
        )
        return Verdict(NAME, Category.INNER, reason, c, flags, basis=basis)
    share = f"(λ = {a.tolerances.deploy_share:g})"
    if c["outer_exists"].holds is None:
        reason = (
            "Whether some policy optimal for the objective on the data of the model's "
            f"lifetime {share} is aligned is undetermined (the optima are only bracketed), "
            "so no aligned optimum is established: read as an outer alignment failure."
        )
    else:
        reason = (
            f"No policy optimal for the objective on the data of the model's lifetime {share} "
            "is aligned, so no training could end aligned: an outer alignment failure."
        )
    return Verdict(NAME, Category.OUTER, reason, c, flags, basis=basis)


LENS = LensDef(
    NAME,
    "Sh",
    LensCard(
        title="adamShimi (some optimum aligned)",
        source="adamShimi, comment on the essay",
        quote="for an outer-alignment failure, it's generally not possible for the training to "
        "end up with an aligned model, whereas for an inner alignment failure, there is "
        "actually an optimal model that is aligned, but the data/environments provided push "
        "towards a misaligned optimal model.",
        rule="bad and some member of Opt(λ, R) aligned (outer_exists) → inner; no member "
        "aligned → outer.",
        categories=(Category.OUTER, Category.INNER),
        frame="Opt(λ, R)",
    ),
    shimi,
)
