"""Why two lenses disagree: the conditions that separate their verdicts in one world.

Two lenses read the same numbers; they disagree because their definitions rest on
different conditions. For every pair of lenses with different categories, the
explanation names what each verdict rests on (its `Verdict.basis`, less what the other
also rests on), says it in words with the numbers, and, where the two conditions are
the same question asked of two sets of optima, draws the conclusion about the sets: the
learned policy is a member of one and not of the other, or one set holds a misaligned
member that the other does not. Lenses whose cards name the sets they quantify over
are compared on those sets too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alignlens.lenses.protocol import Lens
from alignlens.lenses.verdict import Condition, Verdict

# What a condition says when it holds and when it fails, in words.
MEANINGS: dict[str, tuple[str, str]] = {
    "aligned": ("the policy is aligned in deployment", "the policy is misaligned in deployment"),
    "full_opt": (
        "the policy is optimal for R in training",
        "the policy is not optimal for R in training",
    ),
    "inner_H": (
        "the policy is optimal for R on its lifetime mixture",
        "the policy is not optimal for R on its lifetime mixture",
    ),
    "rewarded": (
        "the policy is optimal for R in deployment (R rewards what it does there)",
        "the policy is not optimal for R in deployment",
    ),
    "outer_W": (
        "every member of Opt(train, R) is aligned in deployment",
        "Opt(train, R) holds a member misaligned in deployment",
    ),
    "outer_H": (
        "every member of Opt(λ, R) is aligned in deployment",
        "Opt(λ, R) holds a member misaligned in deployment",
    ),
    "outer_W_prime": (
        "every member of Opt(deploy, R) is aligned in deployment",
        "Opt(deploy, R) holds a member misaligned in deployment",
    ),
    "outer_exists": (
        "Opt(λ, R) holds a member aligned in deployment",
        "no member of Opt(λ, R) is aligned in deployment",
    ),
    "robust_W": (
        "every member of Opt(train, R) is optimal for R in deployment",
        "some member of Opt(train, R) is not optimal for R in deployment",
    ),
    "outer_S": (
        "every member of Opt(train, R) behaves well in training",
        "Opt(train, R) holds a member that behaves badly in training",
    ),
    "mesa": (
        "the policy is a mesa-optimiser competent at its own objective",
        "the policy is no competent mesa-optimiser",
    ),
    "other_goal_competence": (
        "the policy is competent at a goal other than R in deployment",
        "the policy is competent at no goal other than R in deployment",
    ),
    "hack_evidence": (
        "an inner optimiser steered the search",
        "no inner optimiser is shown to have steered the search",
    ),
    "useful": ("the policy behaves well in training", "the policy behaves badly in training"),
    "safe": (
        "the policy is not catastrophic in deployment",
        "the policy is catastrophic in deployment",
    ),
}

# Conditions that say the learned policy is a member of a set of optima.
MEMBERSHIP = {"full_opt": "Opt(train, R)", "inner_H": "Opt(λ, R)", "rewarded": "Opt(deploy, R)"}
# Conditions that say every member of a set of optima is aligned in deployment.
ALL_ALIGNED = {
    "outer_W": "Opt(train, R)",
    "outer_H": "Opt(λ, R)",
    "outer_W_prime": "Opt(deploy, R)",
}


@dataclass(frozen=True)
class Disagreement:
    """Two lenses with different verdicts, and why.

    Attributes:
        lenses: the two lenses' names.
        categories: their categories.
        conditions: for each lens, the conditions its verdict rests on that the other's
            does not.
        explanation: the reasons in words, with the numbers.
    """

    lenses: tuple[str, str]
    categories: tuple[str, str]
    conditions: Mapping[str, tuple[str, ...]]
    explanation: str


def disagreements(
    verdicts: Mapping[str, Verdict], lenses: Mapping[str, Lens]
) -> list[Disagreement]:
    """Every pair of lenses (in the order of ``verdicts``) whose categories differ."""
    names = list(verdicts)
    return [
        explain(verdicts[x], verdicts[y], lenses.get(x), lenses.get(y))
        for i, x in enumerate(names)
        for y in names[i + 1 :]
        if verdicts[x].category != verdicts[y].category
    ]


def explain(x: Verdict, y: Verdict, x_lens: Lens | None, y_lens: Lens | None) -> Disagreement:
    """Why ``x`` and ``y`` differ: each one's own decisive conditions, and what follows."""
    own = {
        x.lens: tuple(c for c in x.decisive if c not in y.decisive),
        y.lens: tuple(c for c in y.decisive if c not in x.decisive),
    }
    sentences = [f"{x.lens} says {x.category}, {y.lens} says {y.category}."]
    frames = (_frame(x_lens), _frame(y_lens))
    if all(frames) and frames[0] != frames[1]:
        sentences.append(f"{x.lens} quantifies over {frames[0]}, {y.lens} over {frames[1]}.")
    for verdict, other in ((x, y), (y, x)):
        reasons = [_phrase(name, verdict.conditions[name]) for name in own[verdict.lens]]
        shared = [_phrase(n, verdict.conditions[n]) for n in verdict.decisive if n != "aligned"]
        if reasons:
            sentences.append(f"{verdict.lens} rests on: {'; '.join(reasons)}.")
        elif shared:
            sentences.append(
                f"{verdict.lens} rests on {'; '.join(shared)} alone, which {other.lens} reads too."
            )
    sentences.extend(_conclusions(x, y, own))
    return Disagreement(
        (x.lens, y.lens), (str(x.category), str(y.category)), own, " ".join(sentences)
    )


def _frame(lens: Lens | None) -> str | None:
    return None if lens is None else lens.card.frame


SIGNS = {"<=": ("≤", ">"), ">=": ("≥", "<"), ">": (">", "≤"), "<": ("<", "≥")}


def _phrase(name: str, c: Condition) -> str:
    """What a condition says in this world, with its number (the comparison written the
    way it comes out: 0.26 > 1e-06 where ≤ fails)."""
    holds, fails = MEANINGS.get(name, (f"{name} holds", f"{name} fails"))
    if c.holds is None:
        return f"it is undetermined whether {holds} ({name}: its bracket straddles {c.threshold:g})"
    met, unmet = SIGNS.get(c.comparison, (c.comparison, f"not {c.comparison}"))
    sign = met if c.holds else unmet
    return f"{holds if c.holds else fails} ({name}: {c.value:.4g} {sign} {c.threshold:g})"


def _conclusions(x: Verdict, y: Verdict, own: Mapping[str, tuple[str, ...]]) -> list[str]:
    """What the two verdicts' conditions imply about the sets of optima they read."""
    out = []
    for a_name in own[x.lens]:
        for b_name in own[y.lens]:
            a, b = x.conditions[a_name], y.conditions[b_name]
            if a.holds is None or b.holds is None or a.holds == b.holds:
                continue
            inside, outside = (a_name, b_name) if a.holds else (b_name, a_name)
            if inside in MEMBERSHIP and outside in MEMBERSHIP:
                out.append(
                    f"Here the policy is a member of {MEMBERSHIP[inside]} but not of "
                    f"{MEMBERSHIP[outside]}."
                )
            elif {inside, outside} == {"outer_exists", "outer_H"}:
                out.append(
                    "Here Opt(λ, R) holds aligned and misaligned members alike: the two "
                    "definitions differ in the quantifier alone (some member, every member)."
                )
            elif inside in ALL_ALIGNED and outside in ALL_ALIGNED:
                out.append(
                    f"Here {ALL_ALIGNED[outside]} holds a member misaligned in deployment "
                    f"that is not in {ALL_ALIGNED[inside]}."
                )
    return out
