"""Lenses other packages register: the example package installed and seen everywhere, and
every way a registered lens can be broken refused by name (exit 2, no traceback).

The example package is installed with pip into a folder of its own, put on the path of
subprocesses only, so the test environment itself never changes. The broken lenses are
entry points of a fake distribution patched into the registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlens import diagnose
from alignlens.cli import app
from alignlens.lenses import (
    Category,
    Condition,
    LensCard,
    LensDef,
    Verdict,
    at_most,
    lens_registry,
)
from alignlens.lenses import registry as registry_module
from alignlens.report.document import document_of

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "examples" / "lens-package"
WORLD = str(ROOT / "examples" / "two-doors.toml")
POLICY = str(ROOT / "examples" / "policies" / "two-doors-left.json")
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
PIP_INSTALL.append("--no-build-isolation")  # builds with the hatchling of the test extra


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example lens package, installed by pip (offline) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [*PIP_INSTALL, "--target", str(target), str(PACKAGE)],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def alignlens_with(site: Path, *args: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "COLUMNS": "100"}
    env.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    code = "import sys; from alignlens.cli import main; sys.argv[0] = 'alignlens'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_example_package_adds_its_lens_everywhere(site: Path, tmp_path: Path) -> None:
    """Installed, the lens is listed (with its package), judged in `diagnose --json` and the
    terminal table, and counted by a sweep; resuming that store without it is refused."""
    listed = alignlens_with(site, "lenses", "--json")
    assert listed.returncode == 0, listed.stderr
    cards = {card["name"]: card for card in json.loads(listed.stdout)}
    assert list(cards)[:8] == [lens.name for lens in registry_module.BUILT_IN]
    assert cards["deployment_only"]["origin"].startswith("alignlens-deployment-lens 0.1.0")
    assert "deployment MDP" in cards["deployment_only"]["quote"]

    judged = alignlens_with(site, "diagnose", WORLD, "--policy", POLICY, "--json")
    assert judged.returncode == 0, judged.stderr
    verdict = json.loads(judged.stdout)["verdicts"]["deployment_only"]
    # The left door is optimal for R in deployment (reg^deploy_R = 0, as ngo's `rewarded`
    # reads) and Opt(deploy, R) holds it, misaligned (outer_W′'s max is 1): outer.
    assert verdict["category"] == "outer"
    assert verdict["conditions"]["optimal_deploy"]["value"] == 0.0
    assert verdict["conditions"]["outer_deploy"]["value"] == 1.0
    table = alignlens_with(site, "diagnose", WORLD, "--policy", POLICY)
    assert "deployment_only" in table.stdout and "deployment MDP" in table.stdout

    store = str(tmp_path / "sweep.db")
    sweep = ["sweep", "run", "--worlds", "3", "--states", "4", "--store", store, "--quiet"]
    ran = alignlens_with(site, *sweep)
    assert ran.returncode == 0, ran.stderr
    report = alignlens_with(site, "sweep", "report", "--store", store, "--json")
    counts = json.loads(report.stdout)["optimizers"]["exhaustive"]
    assert sum(counts["verdicts"]["deployment_only"].values()) == 3
    assert "shimi/deployment_only" in counts["disagreement"]
    resumed = CliRunner().invoke(app, [*sweep[:3], "4", *sweep[4:]])  # without the package
    assert resumed.exit_code == 2
    assert "other lenses" in resumed.output and "deployment_only" in resumed.output


# --- broken lenses --------------------------------------------------------------------------


def good(analysis) -> Verdict:
    c = {"aligned": at_most(analysis.regret.deploy_intended, analysis.tolerances.tau)}
    category = Category.ALIGNED if c["aligned"].holds else Category.OUTER
    return Verdict("extra", category, "It says so.", c)


CARD = LensCard("Extra", "a test", "a line", "a rule", (Category.OUTER,))
EXTRA = LensDef("extra", "Ext", CARD, good)
NOT_A_LENS = object()
CLASHING = LensDef("wentworth", "W", CARD, good)
BAD_LABEL = LensDef("extra", "far too long", CARD, good)
FAILING = LensDef("extra", "Ext", CARD, lambda a: 1 / 0)
WRONG_CATEGORY = LensDef(
    "extra", "Ext", CARD, lambda a: Verdict("extra", Category.HACKED, "No.", {})
)
WRONG_NAME = LensDef("extra", "Ext", CARD, lambda a: Verdict("other", Category.OUTER, "No.", {}))
NOT_A_VERDICT = LensDef("extra", "Ext", CARD, lambda a: "outer")


def unchecked(cls: type, **fields: object) -> object:
    """An instance built without its constructor (whose annotations the test run checks),
    as a careless package might build one."""
    made = object.__new__(cls)
    for name, value in fields.items():
        object.__setattr__(made, name, value)
    return made


BOGUS_CARD = LensDef(
    "extra",
    "Ext",
    unchecked(
        LensCard,
        title="Extra",
        source="a test",
        quote="a line",
        rule="a rule",
        categories=("bogus",),
        frame=None,
    ),
    good,
)
NO_NUMBER = LensDef(
    "extra",
    "Ext",
    CARD,
    lambda a: Verdict(
        "extra",
        Category.OUTER,
        "No.",
        {"c": tuple.__new__(Condition, (True, None, 0.1, "<="))},  # unchecked, no number
    ),
)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch):
    """Register the objects named (attributes of this module) as entry points."""

    def register(*names: str) -> None:
        points = [
            EntryPoint(name.lower(), f"{__name__}:{name}", "alignlens.lenses") for name in names
        ]
        monkeypatch.setattr(registry_module, "entry_points", lambda group: points)
        lens_registry.cache_clear()

    yield register
    lens_registry.cache_clear()


def test_a_registered_lens_is_applied_after_the_built_in_ones(registered) -> None:
    registered("EXTRA")
    assert [r.lens.name for r in lens_registry()][-1] == "extra"
    assert lens_registry()[-1].origin.endswith(f"(entry point extra = {__name__}:EXTRA)")
    result = diagnose(WORLD, POLICY)
    assert list(result.verdicts)[-1] == "extra"
    assert result.verdicts["extra"].category == "outer"  # deployment regret 1 > τ
    assert "extra" in document_of(result)["verdicts"]
    assert "extra" in result._repr_html_()


@pytest.mark.parametrize(
    "name, words",
    [
        ("NOT_A_LENS", ["not a lens"]),
        ("CLASHING", ["'wentworth'", "another lens has"]),
        ("BAD_LABEL", ["label", "1 to 5 characters"]),
        ("MISSING", ["cannot be loaded", "AttributeError"]),
        ("BOGUS_CARD", ["categories that are not alignlens Categories"]),
    ],
)
def test_a_broken_registration_is_refused_naming_the_entry_point(
    registered, name: str, words: list[str]
) -> None:
    registered(name)
    result = CliRunner().invoke(app, ["diagnose", WORLD, "--policy", POLICY])
    assert result.exit_code == 2, result.output
    assert f"entry point {name.lower()} = {__name__}:{name}" in result.output
    assert "alignlens.lenses" in result.output and "Fix:" in result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output


@pytest.mark.parametrize(
    "name, words",
    [
        ("FAILING", ["failed", "ZeroDivisionError"]),
        ("WRONG_CATEGORY", ["'hacked'", "not among the categories"]),
        ("WRONG_NAME", ["names the lens 'other'"]),
        ("NOT_A_VERDICT", ["returned str"]),
        ("NO_NUMBER", ["condition 'c'", "two numbers"]),
    ],
)
def test_a_lens_that_misbehaves_is_refused_naming_it(
    registered, name: str, words: list[str]
) -> None:
    registered(name)
    result = CliRunner().invoke(app, ["diagnose", WORLD, "--policy", POLICY])
    assert result.exit_code == 2, result.output
    assert "the lens 'extra' cannot be used" in result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output
