"""Test configuration: run-time shape checks on every alignlens function, strict JAX dtypes.

The jaxtyping import hook must run before alignlens is imported anywhere, so it sits at
the top of this file. XLA's Eigen thread pool is switched off (a vmapped JAX program hung
on its second call on these machines with it on).
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from jaxtyping import install_import_hook

with install_import_hook("alignlens", "beartype.beartype"):
    import alignlens
    import alignlens.cli
    import alignlens.cli.catalogue
    import alignlens.cli.gym
    import alignlens.cli.scenarios
    import alignlens.cli.sweep
    import alignlens.cli.worlds
    import alignlens.report
    import alignlens.solve
    import alignlens.world

import jax

jax.config.update("jax_numpy_dtype_promotion", "strict")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every run, so CI cannot fail by luck of the draw.
settings.register_profile("alignlens", derandomize=True, database=None, deadline=None)
settings.load_profile("alignlens")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def tour_runs() -> tuple[list, list]:
    """Every scenario with its own optimiser (seed 0), and under exhaustive search where it
    can: what `alignlens tour` runs, run once for the session (about 20 s)."""
    runs, perfect, _ = alignlens.cli.scenarios.run_tour_with_progress(quiet=True)
    return runs, perfect


@pytest.fixture(scope="session")
def tour(tmp_path_factory, tour_runs) -> tuple[dict, Path]:
    """`alignlens tour --json --out …/tour.html` on the session's scenario runs: its JSON
    document and the HTML report it wrote."""
    import json

    from typer.testing import CliRunner

    out = tmp_path_factory.mktemp("tour") / "tour.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            alignlens.cli.scenarios, "run_tour_with_progress", lambda quiet: (*tour_runs, {})
        )
        result = CliRunner().invoke(alignlens.cli.app, ["tour", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out
