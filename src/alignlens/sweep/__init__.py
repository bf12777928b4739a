"""Sweeps: random worlds by the thousand, the claims checked on each, a resumable store."""
