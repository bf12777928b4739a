"""The checkable claims (docs/model.md), read off one diagnosis, and their counts over a sweep.

1. outer_W ∧ full_opt ⇒ aligned.
2. outer_W′ ∧ robust_W ∧ full_opt ⇒ aligned.
3. bad ∧ outer_W ⇒ ¬full_opt (inner failures need imperfect optimisation).
4. Whether outer_H holds can change with λ: counted, not a law.

A claim is *checked* on a world when its premise holds (every condition in it decided);
it is *violated* when the premise holds and the conclusion does not. Claims 1–3 are
theorems, so a violation is a bug, printed with its world so it can be reproduced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from alignlens.analysis import Interval

if TYPE_CHECKING:
    from alignlens.diagnosis import Diagnosis


def claims(diagnosis: Diagnosis) -> dict[str, int]:
    """For each of claims 1–3, whether it was checked and whether it was violated (0/1), and
    for claim 4 whether it applies and whether outer_H depends on λ in this world."""
    c = diagnosis.verdicts["wentworth"].conditions
    decided = {name: cond.holds for name, cond in c.items()}
    aligned, full_opt = decided["aligned"], decided["full_opt"]
    premises = {
        "1": decided["outer_W"] is True and full_opt is True,
        "2": decided["outer_W_prime"] is True and decided["robust_W"] is True and full_opt is True,
        "3": aligned is False and decided["outer_W"] is True,
    }
    violated = {"1": aligned is False, "2": aligned is False, "3": full_opt is True}
    row = {}
    for claim, premise in premises.items():
        row[f"claim{claim}_checked"] = int(premise)
        row[f"claim{claim}_violated"] = int(premise and violated[claim])
    objectives = diagnosis.analysis.objectives
    shares = objectives.outer_aligned_shares
    everywhere = shares.intervals == (Interval(0.0, 1.0),)  # closed at both ends
    decided_everywhere = not objectives.undetermined_shares.intervals
    row["claim4_checked"] = int(decided_everywhere)
    row["claim4_lambda_dependent"] = int(
        decided_everywhere and bool(shares.intervals) and not everywhere
    )
    return row


def summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The sweep summary document: claim counts, verdicts per lens, lens disagreements, and
    per threshold (τ, κ, χ) the worlds whose verdict under each lens flips within a factor
    of 2 of it (in one pass over the rows, holding only the counts). The lenses are those
    the rows were judged by, in their order."""
    worlds = 0
    count: Counter[str] = Counter()
    verdicts: dict[str, Counter[str]] = {}
    pairs: Counter[tuple[str, str, str]] = Counter()
    flips: dict[str, Counter[str]] = {}
    for r in rows:
        worlds += 1
        for threshold, fragile in r["fragile"].items():
            flips.setdefault(threshold, Counter()).update(fragile)
        count.update({key: int(r[key]) for key in CLAIM_COLUMNS})
        judged = r["verdicts"]
        for lens, category in judged.items():
            verdicts.setdefault(lens, Counter())[category] += 1
        names = list(judged)
        for i, x in enumerate(names):
            for y in names[i + 1 :]:
                if judged[x] != judged[y]:
                    pairs[f"{x}/{y}", judged[x], judged[y]] += 1
    names = list(verdicts)
    disagreement: dict[str, dict[str, int]] = {
        f"{x}/{y}": {} for i, x in enumerate(names) for y in names[i + 1 :]
    }
    for (pair, a, b), n in sorted(pairs.items()):
        disagreement[pair][f"{a}/{b}"] = n
    return {
        "worlds": worlds,
        "claims": {
            **{
                c: {
                    "checked": count[f"claim{c}_checked"],
                    "violations": count[f"claim{c}_violated"],
                }
                for c in ("1", "2", "3")
            },
            "4": {
                "checked": count["claim4_checked"],
                "lambda_dependent": count["claim4_lambda_dependent"],
            },
        },
        "verdicts": {lens: dict(counts) for lens, counts in verdicts.items()},
        "disagreement": disagreement,
        "fragile": {
            threshold: {lens: counts[lens] for lens in names if counts[lens]}
            for threshold, counts in flips.items()
        },
    }


CLAIM_COLUMNS = (
    "claim1_checked",
    "claim1_violated",
    "claim2_checked",
    "claim2_violated",
    "claim3_checked",
    "claim3_violated",
    "claim4_checked",
    "claim4_lambda_dependent",
)


def violating_worlds(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every (world, claim) where one of claims 1–3 is violated: a bug, to reproduce."""
    return [
        {"world_seed": r["world_seed"], "spec": r["spec"], "claim": c}
        for r in rows
        for c in ("1", "2", "3")
        if r[f"claim{c}_violated"]
    ]
