"""Files people share (reports, exports) are written atomically, with the permissions of
the user's umask (not the 0o600 of a temporary file), and a failed write leaves nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from alignlens.atomic import atomic_open, current_umask
from alignlens.errors import AlignlensError
from alignlens.sweep.export import export

ROWS = [{"world_seed": 0, "optimizer": "exhaustive", "document": {"regret": [0.1, 0.2]}}]


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_report(path: Path) -> Path:
    pytest.importorskip("jinja2")
    from alignlens.report.html import Report, Section

    return Report("A report", [Section("Only", ["a paragraph"])]).save(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_report_and_exports_follow_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    with umask(mask):
        assert current_umask() == mask
        report = write_report(tmp_path / "report.html")
        export(ROWS, "csv", tmp_path / "rows.csv")
    assert mode(report) == expected
    assert mode(tmp_path / "rows.csv") == expected
    assert "A report" in report.read_text(encoding="utf-8")
    assert (tmp_path / "rows.csv").read_text(encoding="utf-8").startswith("world_seed,optimizer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "rows.csv"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_parquet_export_follows_the_umask(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "rows.parquet"
    with umask(0o022):
        assert export(ROWS, "parquet", out) == 1
    assert mode(out) == 0o644
    assert pq.read_table(out).column("world_seed").to_pylist() == [0]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]


def test_a_failed_write_leaves_no_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_open(out) as f:
        f.write("half a file\n")
        raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


class Unwritable:
    def __str__(self) -> str:
        raise RuntimeError("cannot be written")


def test_a_failed_export_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError, match="cannot be written"):  # fails at the third row
        export([{"a": 1}, {"a": 2}, {"a": Unwritable()}], "csv", out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "absent" / "rows.csv"
    with pytest.raises(AlignlensError, match="does not exist") as info:
        export(ROWS, "csv", out)
    assert "Fix:" in str(info.value)
