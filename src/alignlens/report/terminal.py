"""Rich tables for the terminal, built from analysis records."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from alignlens.analysis import Range, WorldAnalysis

SET_TITLES = {
    "train_base": "Opt(train, R)",
    "deploy_base": "Opt(deploy, R)",
    "mixture_base": "Opt(λ, R)",
}
QUANTITY_TITLES = {
    "deploy_intended_regret": "deploy regret under U",
    "deploy_base_regret": "deploy regret under R",
    "train_intended_regret": "train regret under U",
}


def _cell(r: Range) -> str:
    text = f"{r.min:.4g} … {r.max:.4g}"
    if not r.exact:
        lo, hi = r.bounds
        text += f"  (bounds {lo:.4g} … {hi:.4g})"
    return text


def world_tables(analysis: WorldAnalysis) -> Group:
    """The returns table, the optimal-set table and the λ-set line of one world."""
    tol = analysis.tolerances
    returns = Table(title=f"{analysis.world}: returns over the {analysis.policy_class} class")
    returns.add_column("environment")
    returns.add_column("objective")
    for label in ("optimum", "worst", "random policy"):
        returns.add_column(label, justify="right")
    for env in ("train", "deploy"):
        for objective, name in (("base", "R (base)"), ("intended", "U (intended)")):
            returns.add_row(
                env,
                name,
                *(
                    f"{t.get(env, objective):.6g}"
                    for t in (analysis.optimum, analysis.worst, analysis.random)
                ),
            )

    sets = Table(title=f"normalised regret over each optimal set (ε = {tol.epsilon:g})")
    sets.add_column("optimal set")
    sets.add_column("quantity")
    sets.add_column("min … max", justify="right")
    sets.add_column(f"all ≤ τ = {tol.tau:g}?", justify="center")
    for name, ranges in analysis.optimal_sets.items():
        for quantity, r in ranges.items():
            verdict = (
                "yes"
                if r.max_bounds[1] <= tol.tau
                else ("no" if r.max_bounds[0] > tol.tau else "undetermined")
            )
            sets.add_row(SET_TITLES[name], QUANTITY_TITLES[quantity], _cell(r), verdict)

    shares = Text.assemble(
        ("outer alignment with infinite data (every π in Opt(λ, R) aligned) holds for λ ∈ ",),
        (analysis.outer_aligned_shares.notation(), "bold"),
    )
    parts: list = [returns, sets, shares]
    if analysis.undetermined_shares.intervals:
        parts.append(Text(f"undetermined for λ ∈ {analysis.undetermined_shares.notation()}"))
    if not analysis.shared_dynamics:
        parts.append(Text("the environments' dynamics differ on shared states", style="yellow"))
    return Group(*parts)
