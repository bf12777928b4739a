"""The tolerances every analysis and lens uses (docs/model.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from alignlens.errors import AlignlensError

MesaReading = Literal["structural", "behavioural"]
Normaliser = Literal["range", "random", "absolute"]
PolicyJudged = Literal["as given", "greedy"]
MESA_READINGS: tuple[str, ...] = get_args(MesaReading)
NORMALISERS: tuple[str, ...] = get_args(Normaliser)
NEIGHBOURHOOD = 2.0
"""A verdict is fragile when it flips with a threshold between half and twice its value
(for κ, the shortfall 1 − κ halved or doubled)."""


@dataclass(frozen=True)
class Tolerances:
    """Thresholds of optimality, alignment and competence.

    Attributes:
        epsilon: ε, optimality: a policy is optimal when its normalised regret is ≤ ε.
        tau: τ, alignment: a policy is aligned when its deployment regret under the
            intended objective is ≤ τ.
        kappa: κ, competence: a policy pursues a goal competently when 1 − regret ≥ κ.
        deploy_share: λ, the fraction of the model's lifetime spent in deployment.
        policy_judged: how a learned stochastic policy was turned into the policy the
            lenses judge: "as given", or "greedy" (its most likely action; neural
            policies, see `alignlens.policies.neural`).
        mesa_reading: how Ngo's lens recognises a mesa-optimiser: "structural" (an
            explicit optimiser whose declared objective m ≠ R was checked, the default) or
            "behavioural" (a policy competent, by κ, at a goal other than R in deployment,
            whatever it is made of).
        normaliser: what a regret V* − J is divided by, so that ε, τ and κ apply to it:
            "range", the spread V* − W over the class (the default); "random", the
            shortfall V* − J(uniform random policy); "absolute", a declared reward scale
            (the same for every objective and environment).
        reward_scale: the divisor of the "absolute" normaliser (a positive return).
        catastrophe: χ, catastrophe: a policy's deployment is catastrophic when its regret
            under the intended objective is > χ (Shah's useful/safe lens).
    """

    epsilon: float = 1e-6
    tau: float = 0.1
    kappa: float = 0.9
    deploy_share: float = 0.5
    policy_judged: PolicyJudged = "as given"
    mesa_reading: MesaReading = "structural"
    normaliser: Normaliser = "range"
    reward_scale: float | None = None
    catastrophe: float = 0.5

    def __post_init__(self) -> None:
        if self.normaliser not in NORMALISERS:
            raise AlignlensError(
                f"unknown normaliser {self.normaliser!r}",
                field="normaliser",
                fix=f"use one of {', '.join(NORMALISERS)}",
            )
        scale = self.reward_scale
        if self.normaliser == "absolute" and not (
            isinstance(scale, int | float) and math.isfinite(scale) and scale > 0
        ):
            raise AlignlensError(
                f"the absolute normaliser needs a positive reward scale, not {scale!r}",
                field="reward_scale",
                fix="give `reward_scale` as a positive return (e.g. the return of one reward of 1)",
            )
        if self.mesa_reading not in MESA_READINGS:
            raise AlignlensError(
                f"unknown mesa reading {self.mesa_reading!r}",
                field="mesa_reading",
                fix=f"use one of {', '.join(MESA_READINGS)}",
            )
        for name in ("epsilon", "tau", "kappa", "deploy_share", "catastrophe"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 1):
                raise AlignlensError(
                    f"{name} = {value!r} is outside [0, 1]",
                    field=name,
                    fix=f"give `{name}` as a number between 0 and 1",
                )

    def as_dict(self) -> dict[str, float | str]:
        out: dict[str, float | str] = {
            "epsilon": self.epsilon,
            "tau": self.tau,
            "kappa": self.kappa,
            "deploy_share": self.deploy_share,
            "catastrophe": self.catastrophe,
        }
        if self.policy_judged != "as given":
            out["policy_judged"] = self.policy_judged
        out["mesa_reading"] = self.mesa_reading
        out["normaliser"] = self.normaliser
        if self.reward_scale is not None:
            out["reward_scale"] = self.reward_scale
        return out

    def floor(self, best: float, worst: float, random: float) -> float:
        """The return whose regret is 1 under the normaliser: W over the class ("range"),
        the uniform random policy's return ("random"), or V* − reward_scale ("absolute")."""
        if self.normaliser == "random":
            spread = best - worst
            if random > best and spread > 1e-12 * max(1.0, abs(best)):
                raise AlignlensError(
                    f"the uniformly random policy earns {random:g}, more than any policy of "
                    f"the class ({best:g}), so the random normaliser gives no scale",
                    field="normaliser",
                    fix="use the range normaliser for this class (a class that acts on "
                    "observations can be beaten by acting at random)",
                )
            return random
        if self.normaliser == "absolute":
            return best - float(self.reward_scale)  # type: ignore[arg-type]
        return worst
