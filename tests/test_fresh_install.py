"""The README's main command on a fresh machine: a clean virtual environment, `pip install .`
with no extras, then `alignlens tour` in an empty folder.

This is the path a new user takes, so it must not lean on anything the test extra brings
(Gymnasium, Ray, PyTorch…). It builds a real virtual environment and installs from the
package index (pip's cache makes a second run quick), so it is marked slow.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("virus", "birth-control", "masturbation", "mri", "coin", "tessellating-hills")


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_pip_install_then_tour_in_an_empty_folder(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    clean["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{clean.get('PATH', '')}"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(ROOT)],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-4000:]
    # Nothing of the test extra came along: the tour must work without it.
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('gymnasium'))"],
        capture_output=True,
        text=True,
        env=clean,
    )
    assert probe.stdout.strip() == "None", "the fresh environment must hold no test extra"

    empty = tmp_path / "empty"
    empty.mkdir()
    tour = subprocess.run(
        [str(env_dir / "bin" / "alignlens"), "tour"],
        capture_output=True,
        text=True,
        env={**clean, "COLUMNS": "80"},
        cwd=empty,
    )
    assert tour.returncode == 0, (tour.stdout[-2000:], tour.stderr[-4000:])
    assert "Traceback" not in tour.stderr
    for scenario in SCENARIOS:
        assert scenario in tour.stdout
    report = empty / "tour.html"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html")
    assert "data:image/svg+xml;base64," in text  # the figures are in the page
    assert sorted(p.name for p in empty.iterdir()) == ["tour.html"]

    # The README's examples/ paths read the copy that the wheel ships.
    diagnosed = subprocess.run(
        [
            str(env_dir / "bin" / "alignlens"),
            "diagnose",
            "examples/lava.toml",
            "--policy",
            "examples/policies/lava-memorised-route.json",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=clean,
        cwd=empty,
    )
    assert diagnosed.returncode == 0, diagnosed.stderr[-2000:]
    assert '"verdicts"' in diagnosed.stdout
