"""Reports: the JSON contract and terminal tables, built from analysis records."""

from alignlens.report.document import range_document, world_document
from alignlens.report.terminal import world_tables

__all__ = ["range_document", "world_document", "world_tables"]
