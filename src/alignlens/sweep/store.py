"""The results store of sweeps: one SQLite file, one row per world × optimiser.

Rows are written a batch at a time, each batch in one transaction, with the key
(world_seed, optimizer) unique: a sweep killed at any moment (even by SIGKILL) leaves
only whole batches, and rerunning it adds exactly the missing rows. The store remembers
the generator parameters it was made with and refuses to mix in other ones.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alignlens.errors import AlignlensError
from alignlens.sweep.claims import CLAIM_COLUMNS, LENSES

COLUMNS = ("world_seed", "optimizer", "spec", *LENSES, *CLAIM_COLUMNS, "document")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    world_seed INTEGER NOT NULL,
    optimizer TEXT NOT NULL,
    spec TEXT NOT NULL,
    {", ".join(f"{lens} TEXT NOT NULL" for lens in LENSES)},
    {", ".join(f"{c} INTEGER NOT NULL" for c in CLAIM_COLUMNS)},
    document TEXT NOT NULL,
    PRIMARY KEY (world_seed, optimizer)
);
"""


class Store:
    """An open results store."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    def done(self, optimizer: str) -> set[int]:
        """The world seeds that already have a row for ``optimizer``."""
        cursor = self._db.execute(
            "SELECT world_seed FROM results WHERE optimizer = ?", (optimizer,)
        )
        return {int(seed) for (seed,) in cursor}

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write ``rows`` in one transaction (a row already there is kept, not doubled)."""
        values = [tuple(_cell(row[c]) for c in COLUMNS) for row in rows]
        marks = ", ".join("?" for _ in COLUMNS)
        with self._db:
            self._db.executemany(
                f"INSERT OR IGNORE INTO results ({', '.join(COLUMNS)}) VALUES ({marks})", values
            )

    def rows(self) -> list[dict[str, Any]]:
        """Every row, in (optimizer, world_seed) order, with ``document`` parsed."""
        cursor = self._db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM results ORDER BY optimizer, world_seed"
        )
        out = []
        for values in cursor:
            row = dict(zip(COLUMNS, values, strict=True))
            row["document"] = json.loads(row["document"])
            row["spec"] = json.loads(row["spec"])
            out.append(row)
        return out


def _cell(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else value


@contextmanager
def open_store(path: str | Path, spec: Mapping[str, Any] | None = None) -> Iterator[Store]:
    """Open (creating if needed) the store at ``path``; with ``spec``, check or record the
    generator parameters it holds."""
    path = Path(path)
    if spec is None and not path.exists():
        raise AlignlensError(
            "no such store", file=str(path), field="--store", fix="give the file a sweep wrote"
        )
    try:
        db = sqlite3.connect(path)
        db.executescript(SCHEMA)
    except sqlite3.DatabaseError as e:
        raise AlignlensError(
            f"not a results store ({e})",
            file=str(path),
            field="--store",
            fix="give a file that `alignlens sweep run` wrote, or a new path",
        ) from None
    try:
        if spec is not None:
            _check_spec(db, path, spec)
        yield Store(db, path)
    finally:
        db.close()


def _check_spec(db: sqlite3.Connection, path: Path, spec: Mapping[str, Any]) -> None:
    text = json.dumps(dict(spec), sort_keys=True)
    (stored,) = db.execute("SELECT value FROM meta WHERE key = 'spec'").fetchone() or (None,)
    if stored is None:
        with db:
            db.execute("INSERT INTO meta (key, value) VALUES ('spec', ?)", (text,))
    elif stored != text:
        raise AlignlensError(
            f"the store was made with other world parameters ({stored})",
            file=str(path),
            field="spec",
            fix="rerun with the parameters it was made with, or use a new store",
        )
