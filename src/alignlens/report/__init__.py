"""Reports: the JSON contract and terminal tables, built from analysis records."""

from alignlens.report.document import diagnosis_document, range_document, world_document
from alignlens.report.terminal import verdict_table, world_tables

__all__ = [
    "diagnosis_document",
    "range_document",
    "verdict_table",
    "world_document",
    "world_tables",
]
