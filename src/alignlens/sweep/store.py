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
from alignlens.sweep.claims import CLAIM_COLUMNS

COLUMNS = ("world_seed", "optimizer", "spec", "verdicts", "fragile", *CLAIM_COLUMNS, "document")
PARSED = ("spec", "verdicts", "fragile", "document")  # the columns that hold JSON

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    world_seed INTEGER NOT NULL,
    optimizer TEXT NOT NULL,
    spec TEXT NOT NULL,
    verdicts TEXT NOT NULL,
    fragile TEXT NOT NULL,
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
        cursor = self._read("SELECT world_seed FROM results WHERE optimizer = ?", (optimizer,))
        return {int(seed) for (seed,) in cursor}

    def optimizers(self) -> list[str]:
        """The optimisers the store holds rows of, in name order."""
        return [name for (name,) in self._read("SELECT DISTINCT optimizer FROM results ORDER BY 1")]

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Write ``rows`` in one transaction (a row already there is kept, not doubled)."""
        values = [tuple(_cell(row[c], sort=c != "verdicts") for c in COLUMNS) for row in rows]
        marks = ", ".join("?" for _ in COLUMNS)
        with self._db:
            self._db.executemany(
                f"INSERT OR IGNORE INTO results ({', '.join(COLUMNS)}) VALUES ({marks})", values
            )

    def rows(self, optimizer: str | None = None) -> list[dict[str, Any]]:
        """Every row (of ``optimizer``, if given), in (optimizer, world_seed) order, with
        ``spec``, ``verdicts`` ({lens: category}), ``fragile`` ({threshold: [lens, ...]},
        the verdicts that flip within a factor of 2 of it) and ``document`` parsed; a row
        that cannot be read is a clear error."""
        where, args = ("WHERE optimizer = ?", (optimizer,)) if optimizer else ("", ())
        cursor = self._read(
            f"SELECT {', '.join(COLUMNS)} FROM results {where} ORDER BY optimizer, world_seed",
            args,
        )
        out = []
        for values in cursor:
            row = dict(zip(COLUMNS, values, strict=True))
            try:
                for column in PARSED:
                    row[column] = json.loads(row[column])
            except (TypeError, ValueError) as e:
                raise AlignlensError(
                    f"the row of world {row['world_seed']} ({row['optimizer']}) is not valid "
                    f"JSON ({e})",
                    file=str(self.path),
                    fix="rerun the sweep into a new store (the damaged row cannot be read)",
                ) from None
            out.append(row)
        return out

    def _read(self, query: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._db.execute(query, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise _damaged(self.path, e) from None


def _damaged(path: Path, error: Exception) -> AlignlensError:
    return AlignlensError(
        f"the store cannot be read ({error})",
        file=str(path),
        fix="rerun the sweep into a new store (this file is damaged)",
    )


def _cell(value: Any, *, sort: bool) -> Any:
    """A dict as JSON (keys sorted, except where their order means something: the
    lenses of ``verdicts`` stay in the order of the lenses)."""
    return json.dumps(value, sort_keys=sort) if isinstance(value, dict) else value


@contextmanager
def open_store(
    path: str | Path, spec: Mapping[str, Any] | None = None, lenses: Iterable[str] = ()
) -> Iterator[Store]:
    """Open the store at ``path``. With ``spec`` (a sweep writing to it), create it if it
    does not exist, and check or record the generator parameters it holds and the names
    of the ``lenses`` its rows judge by (a lens installed or removed between runs would
    count over only part of the worlds); without, open it read-only, changing nothing. A
    file that is not an alignlens store (another SQLite database, an older store,
    anything else) is refused untouched."""
    path = Path(path)
    fresh = spec is not None and (not path.exists() or (path.is_file() and _empty(path)))
    if not fresh and not path.is_file():
        raise AlignlensError("no such store", file=str(path), fix="give the file a sweep wrote")
    try:
        if fresh:
            db = sqlite3.connect(path)
            db.executescript(SCHEMA)
        else:
            db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode={'rw' if spec is not None else 'ro'}", uri=True
            )
            _check_store(db, path)
    except sqlite3.DatabaseError as e:
        raise AlignlensError(
            f"not a results store ({e})",
            file=str(path),
            fix="give a file that `alignlens sweep run` wrote, or a new path",
        ) from None
    try:
        if spec is not None:
            _check_meta(db, path, "spec", dict(spec))
            _check_meta(db, path, "lenses", list(lenses))
        yield Store(db, path)
    finally:
        db.close()


def _empty(path: Path) -> bool:
    return path.stat().st_size == 0


def _check_store(db: sqlite3.Connection, path: Path) -> None:
    """Refuse, without writing, a database that is not an alignlens results store."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"meta", "results"} <= tables:
        db.close()
        raise AlignlensError(
            "not an alignlens results store (it has no results table)",
            file=str(path),
            fix="give a file that `alignlens sweep run` wrote, or a new path for a new store",
        )
    columns = tuple(row[1] for row in db.execute("PRAGMA table_info(results)"))
    if columns != COLUMNS:
        db.close()
        raise AlignlensError(
            "a results store of another alignlens version (its columns differ)",
            file=str(path),
            fix="rerun the sweep into a new store with this version",
        )


MISMATCH = {
    "spec": (
        "the store was made with other world parameters ({stored})",
        "rerun with the parameters it was made with, or use a new store",
    ),
    "lenses": (
        "the store was made with other lenses ({stored}), so its counts would mix them",
        "install (or uninstall) the packages that register lenses as when the store was "
        "made, or use a new store",
    ),
}


def _check_meta(db: sqlite3.Connection, path: Path, key: str, value: Any) -> None:
    """Record ``value`` under ``key`` in a new store; refuse a store that holds another."""
    text = json.dumps(value, sort_keys=True)
    (stored,) = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone() or (None,)
    if stored is None:
        with db:
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, text))
    elif stored != text:
        problem, fix = MISMATCH[key]
        raise AlignlensError(problem.format(stored=stored), file=str(path), field=key, fix=fix)
