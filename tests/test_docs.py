"""Every example of the documentation runs as written, from an empty folder.

The fenced blocks marked ``console``, ``bash``, ``shell`` or ``python`` in README.md and
docs/*.md are run; blocks marked ``text`` (output, or commands shown but not run here)
are not. A block is skipped only with a reason, given in an HTML comment on the line right
before its opening fence::

    <!-- skip-test: installs the package; tests/test_fresh_install.py runs it -->

The blocks of one file run in order in one fresh temporary folder (a later block may read
what an earlier one wrote, as a reader following the page would), each in a subprocess
with this interpreter's environment: ``alignlens`` is the script next to ``sys.executable``,
a python block is a file run by ``sys.executable``, and each command of a shell block (a
line; a line ending in `` \\`` continues on the next; a leading ``$ `` is dropped) runs in
``bash -c`` and must exit 0.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = {"console", "bash", "shell", "sh"}
RUN = {*SHELLS, "python"}
FILE_TIMEOUT_S = 600
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([^\s`]*)")
SKIP = re.compile(r"^\s*<!--\s*skip-test\s*(?::\s*(.*?))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    skip: str | None  # the reason, when the block is marked skip-test

    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line} ({self.language})"


def blocks(doc: Path) -> list[Block]:
    """The fenced code blocks of ``doc``, in order, with the skip reason of each."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    out = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, language = opening.groups()
        end = i + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        marker = SKIP.match(lines[i - 1]) if i > 0 else None
        skip = None if marker is None else (marker.group(1) or "")
        out.append(Block(doc, i + 1, language.lower(), "\n".join(lines[i + 1 : end]), skip))
        i = end + 1
    return out


def commands(text: str) -> list[str]:
    """The commands of a shell block: one per line, `` \\`` continuing a line."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and line.startswith("$ "):
            line = line[2:]
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending.strip():
        out.append(pending.strip())
    return out


def runnable_docs() -> list[Path]:
    return [doc for doc in DOCS if any(b.language in RUN for b in blocks(doc))]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "80"
    env.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    env.setdefault("JAX_PLATFORMS", "cpu")
    for name in ("PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    return env


def test_skip_markers_give_a_reason() -> None:
    for doc in DOCS:
        for block in blocks(doc):
            if block.skip is not None:
                assert block.skip, f"{block.where()}: skip-test needs a reason"
                assert block.language in RUN, f"{block.where()}: skip-test on a block not run"


def test_readme_keeps_its_two_setup_commands() -> None:
    readme = {b.text.strip(): b for b in blocks(ROOT / "README.md")}
    setup = ("pip install . && alignlens tour", 'pip install -e ".[test]" && python -m pytest')
    for command in setup:
        assert command in readme, f"README.md lost `{command}`"
        assert readme[command].language == "console"
        assert readme[command].skip, f"`{command}` must stay marked skip-test with its reason"


@pytest.mark.slow
@pytest.mark.timeout(FILE_TIMEOUT_S + 120)
@pytest.mark.parametrize("doc", runnable_docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run_as_written(doc: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"  # the reader's empty folder
    scripts = tmp_path / "scripts"  # python blocks, kept out of the reader's folder
    work.mkdir()
    scripts.mkdir()
    env = _environment()
    deadline = time.monotonic() + FILE_TIMEOUT_S
    for n, block in enumerate(b for b in blocks(doc) if b.language in RUN):
        if block.skip is not None:
            continue
        if block.language == "python":
            script = scripts / f"block{n}.py"
            script.write_text(block.text + "\n", encoding="utf-8")
            runs = [([sys.executable, str(script)], block.text.strip().splitlines()[0])]
        else:
            runs = [(["bash", "-c", command], command) for command in commands(block.text)]
        for argv, shown in runs:
            left = deadline - time.monotonic()
            assert left > 0, f"{doc.name}: its examples took over {FILE_TIMEOUT_S} s"
            try:
                proc = subprocess.run(
                    argv, cwd=work, env=env, capture_output=True, text=True, timeout=left
                )
            except subprocess.TimeoutExpired:
                pytest.fail(f"{block.where()}: `{shown}` ran past the {FILE_TIMEOUT_S} s limit")
            assert proc.returncode == 0, (
                f"{block.where()}: `{shown}` exited {proc.returncode}\n"
                f"stderr:\n{proc.stderr[-3000:]}\nstdout:\n{proc.stdout[-1500:]}"
            )
