"""Every number and verdict alignlens prints for its scenarios, the tour and three sweeps,
as one canonical JSON document: run it on two versions and compare, to show that a change
of structure changed no result.

What it records (timings and paths left out, temporary folders named <tmp>):

- ``alignlens run ID --json`` for every scenario with its own optimiser and, where it
  applies, under ``--optimizer exhaustive``;
- ``alignlens tour --json``;
- ``alignlens sweep run --json`` and every exported row for 1,000 worlds with the
  exhaustive optimiser (start shift and dynamics shift) and 200 worlds trained by policy
  gradient.

Run: python benchmarks/snapshot.py OUT.json
     python benchmarks/snapshot.py --compare BEFORE.json AFTER.json
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

VOLATILE = {"seconds", "elapsed", "wall_s", "store", "out", "path", "version", "html"}


def alignlens(*args: str) -> str:
    """The standard output of one CLI call (which must succeed)."""
    env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false", JAX_PLATFORMS="cpu")
    command = str(Path(sys.executable).with_name("alignlens"))
    done = subprocess.run([command, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"alignlens {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def stripped(value: Any) -> Any:
    """The value without timings and paths."""
    if isinstance(value, dict):
        return {k: stripped(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stripped(v) for v in value]
    return value


def snapshot() -> dict[str, Any]:
    from alignlens.scenarios import scenarios

    out: dict[str, Any] = {"run": {}, "sweep": {}}
    for ident, scenario in scenarios().items():
        for optimizer in scenario.optimizers:
            print(f"run {ident} --optimizer {optimizer}", file=sys.stderr)
            text = alignlens("run", ident, "--optimizer", optimizer, "--json", "--quiet")
            out["run"][f"{ident}/{optimizer}"] = stripped(json.loads(text))
    with tempfile.TemporaryDirectory() as folder:
        print("tour", file=sys.stderr)
        tour = alignlens("tour", "--json", "--quiet", "--out", f"{folder}/tour.html")
        out["tour"] = stripped(json.loads(tour.replace(folder, "<tmp>")))
        sweeps = {
            "start": ("--worlds", "1000"),
            "dynamics": ("--worlds", "1000", "--shift", "dynamics"),
            "policy-gradient": ("--worlds", "200", "--optimizer", "policy-gradient"),
        }
        for name, extra in sweeps.items():
            print(f"sweep {name}", file=sys.stderr)
            store, table = f"{folder}/{name}.db", f"{folder}/{name}.csv"
            summary = alignlens("sweep", "run", "--store", store, "--json", "--quiet", *extra)
            alignlens("sweep", "export", "--store", store, "--out", table)
            with open(table, newline="") as f:
                rows = list(csv.DictReader(f))
            out["sweep"][name] = {"summary": stripped(json.loads(summary)), "rows": rows}
    return out


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Every place where the two documents differ (numbers compared exactly, NaN = NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = [f"{where}.{k}: only in one" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            found += differences(a[k], b[k], f"{where}.{k}")
        return found
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} against {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{where}[{i}]")
        ]
    same = a == b or (
        isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    )
    return [] if same else [f"{where}: {a!r} against {b!r}"]


def count(value: Any) -> int:
    """How many numbers, strings and flags the document holds."""
    if isinstance(value, dict):
        return sum(count(v) for v in value.values())
    if isinstance(value, list):
        return sum(count(v) for v in value)
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(p.read_text()) for p in args.compare)
        found = differences(before, after)
        print(f"{count(before)} values compared; {len(found)} differ")
        for line in found[:50]:
            print(" ", line)
        raise SystemExit(1 if found else 0)
    if args.out is None:
        parser.error("give OUT.json or --compare BEFORE AFTER")
    args.out.write_text(json.dumps(snapshot(), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
