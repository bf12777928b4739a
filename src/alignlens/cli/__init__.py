"""The `alignlens` command line (Typer + Rich), one module per group of commands.

Every command that reports takes ``--json`` and then prints one JSON document on stdout.
Bad input prints one line naming the file, the field (or option) and the fix, and exits
with status 2.
"""

from __future__ import annotations

from alignlens.cli.app import app
from alignlens.cli.caches import use_persistent_caches


def main() -> None:
    use_persistent_caches()
    app()


__all__ = ["app", "main"]
