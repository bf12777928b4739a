"""What a user waits for: `import alignlens`, `alignlens run` of each scenario and
`alignlens tour`, cold (the first run after install: an empty user cache, so JAX and Numba
compile) and warm (their compiled programs cached), each against the cost of
``python -c "import numpy"`` measured in the same run.

Every figure is the wall time of a fresh process, interpreter start included, as a user
sees it (output captured, as in a pipe); cold runs get a new empty ``XDG_CACHE_HOME``
each. Medians of ``--repeats``. To time another tree of alignlens with the same
interpreter, put its ``src`` first on ``PYTHONPATH``.

Targets (issue "a fresh machine, a new user", on the 2-core development machine):
``import alignlens`` ≤ 0.5 s; `alignlens run` of any non-neural scenario ≤ 2 s;
`alignlens tour` ≤ 30 s cold, ≤ 15 s warm.

    python benchmarks/bench_startup.py                 # everything (about 3 minutes)
    python benchmarks/bench_startup.py --no-tour --repeats 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALIGNLENS = str(Path(sys.executable).with_name("alignlens"))
NEURAL = ("coin", "red-door-exit-neural")


def wall(command: list[str], cache: Path, cwd: Path) -> float:
    """Seconds for one fresh process, with ``cache`` as the user cache folder."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    for key in ("JAX_COMPILATION_CACHE_DIR", "NUMBA_CACHE_DIR"):
        env.pop(key, None)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def measure(command: list[str], repeats: int, work: Path) -> tuple[float, float]:
    """Median cold and warm seconds: each cold run in a new empty cache folder, then
    ``repeats`` warm runs in the cache the first cold run filled."""
    colds, caches = [], []
    for _ in range(repeats):
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
        colds.append(wall(command, cache, work))
        caches.append(cache)
    warms = [wall(command, caches[0], work) for _ in range(repeats)]
    for cache in caches:
        shutil.rmtree(cache, ignore_errors=True)
    return statistics.median(colds), statistics.median(warms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tour-repeats", type=int, default=1)
    parser.add_argument("--no-tour", action="store_true")
    parser.add_argument("--neural", action="store_true", help="Also time the PPO scenarios.")
    args = parser.parse_args()

    from alignlens.scenarios import scenarios

    ids = [s for s in scenarios() if args.neural or s not in NEURAL]
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    rows: list[tuple[str, float, float, str]] = []
    numpy = measure([sys.executable, "-c", "import numpy"], max(5, args.repeats), work)
    rows.append(('python -c "import numpy"', *numpy, "(the unit)"))
    imported = measure([sys.executable, "-c", "import alignlens"], max(5, args.repeats), work)
    rows.append(("import alignlens", *imported, "≤ 0.5 s"))
    for scenario in ids:
        target = "" if scenario in NEURAL else "≤ 2 s"
        times = measure([ALIGNLENS, "run", scenario], args.repeats, work)
        rows.append((f"alignlens run {scenario}", *times, target))
    if not args.no_tour:
        times = measure([ALIGNLENS, "tour"], args.tour_repeats, work)
        rows.append(("alignlens tour", *times, "≤ 30 s cold, ≤ 15 s warm"))
    shutil.rmtree(work, ignore_errors=True)

    unit = numpy[1]
    print(f"{os.cpu_count()} CPU cores; medians; ratio = warm seconds / warm numpy import")
    print(f"{'figure':40} {'cold s':>8} {'warm s':>8} {'ratio':>7}  target")
    for name, cold, warm_s, target in rows:
        print(f"{name:40} {cold:8.2f} {warm_s:8.2f} {warm_s / unit:7.1f}  {target}")


if __name__ == "__main__":
    main()
