"""virus — a strain evolved on an island fails on the mainland.

The case (the essay's opening example): a virus selected for spreading among the rodents
of one island, whose hosts carry receptor A, is moved to the mainland, whose hosts carry
receptor B. The strains are an enumerated class: the island specialist (binds A), the
mainland specialist (binds B), and a host-plastic strain that binds whatever it meets,
optimal everywhere. There is no inner optimiser and R = U (spread).

Optimiser: exhaustive search. On the island the specialist is exactly as fit as the
plastic strain; the representative is the optimum worst in deployment under U (the
specialist), and the run reports every lens's verdicts over both.

Expected verdicts and why:
- wentworth **outer**: the specialist is optimal in training, yet fails in deployment;
  the training environment does not pin down the behaviour we want.
- hubinger **inner**: with deployment data in the objective (λ = ½) only the plastic
  strain is optimal, so the objective is outer aligned; the specialist is no optimum of
  R on its lifetime's mix of data.
- ngo **robustness**: R carried to the mainland does not reward binding A, and no
  mesa-optimiser is involved.
- shah **inner**: on the training distribution every optimum spreads perfectly.
- two_d **capability_robustness**: no goal is pursued competently on the mainland.
- wentworth_split **robustness**: optimal in training, and R evaluated in deployment
  rewards only aligned policies (outer′ holds): what fails is robustness.
- shah_safety **inner**: good in training (useful), catastrophic in deployment (its
  regret under U is above χ).
- shimi **inner**: some optimum on the lifetime mixture is aligned, and training
  produced a misaligned policy.

World file: examples/virus.toml.
"""

from __future__ import annotations

from alignlens.diagnosis import Diagnosis
from alignlens.policies.enumerated import from_policies
from alignlens.policies.tabular import policy_from_mapping
from alignlens.scenarios.scenario import (
    Scenario,
    diagnose_exhaustive,
    example_world,
    expected_row,
)


def run(optimizer: str, seed: int) -> Diagnosis:
    world = example_world("virus.toml")
    strains = from_policies(
        "strains",
        [
            policy_from_mapping(
                world,
                {"island_host": "bind_A", "mainland_host": "bind_A"},
                name="island specialist",
            ),
            policy_from_mapping(
                world,
                {"island_host": "bind_B", "mainland_host": "bind_B"},
                name="mainland specialist",
            ),
            policy_from_mapping(
                world, {"island_host": "bind_A", "mainland_host": "bind_B"}, name="host-plastic"
            ),
        ],
    )
    return diagnose_exhaustive(world, strains, optimizer, noun="strains")


SCENARIO = Scenario(
    id="virus",
    title="a strain evolved on an island fails on the mainland",
    card=__doc__ or "",
    expected=expected_row(
        "outer",
        "inner",
        "robustness",
        "inner",
        "capability_robustness",
        split="robustness",
        safety="inner",
        shimi="inner",
    ),
    optimizers=("exhaustive",),
    run=run,
)
