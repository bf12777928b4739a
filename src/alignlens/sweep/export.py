"""Export a results store as one flat table: CSV (standard library) or Parquet (pyarrow).

Each row flattens to columns: the world seed, the optimiser, the generator parameters
(``spec.*``), every lens's category (``verdicts.wentworth``, ...), the claim columns, and
every number of the JSON document under its dotted path
(``document.regret.deploy.intended``, ...); lists are written as JSON text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from alignlens.atomic import atomic_open
from alignlens.errors import AlignlensError

Format = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = get_args(Format)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted path: scalar} for nested mappings; lists become JSON text."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        return {prefix: json.dumps(value)}
    return {prefix: value}


def export(rows: list[dict[str, Any]], fmt: str, out: str | Path) -> int:
    """Write ``rows`` to ``out`` in ``fmt`` (atomically, with the umask's permissions);
    returns the number of rows written."""
    if fmt not in FORMATS:
        raise AlignlensError(
            f"unknown format {fmt!r}", field="format", fix=f"use one of {', '.join(FORMATS)}"
        )
    flat = [flatten(r) for r in rows]
    columns = sorted({c for r in flat for c in r}, key=_order)
    out = Path(out)
    if fmt == "csv":
        with atomic_open(out, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(flat)
        return len(flat)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise AlignlensError(
            "Parquet export needs pyarrow",
            field="format",
            fix="pip install pyarrow, or use format csv",
        ) from None
    table = pa.table({c: [r.get(c) for r in flat] for c in columns})
    with atomic_open(out, "wb") as f:
        pq.write_table(table, f)
    return len(flat)


def _order(column: str) -> tuple[int, str]:
    """Key columns first, then spec, verdicts and claims, then the document."""
    head = ("world_seed", "optimizer")
    if column in head:
        return (head.index(column), "")
    return (3 if column.startswith("document.") else 2, column)
