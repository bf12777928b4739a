"""The exceptions alignlens raises for input a user can fix.

Every message names the file, the field and the fix, so the command line can print it
as one line and exit with status 2 (DESIGN §6).
"""

from __future__ import annotations


class AlignlensError(Exception):
    """Bad input: a problem in a named file and field, with the way to fix it."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = file
        self.field = field
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.field) if part)
        text = f"{where}: {self.problem}" if where else self.problem
        return f"{text}. Fix: {self.fix}" if self.fix else text

    def located(self, file: str) -> AlignlensError:
        """The same error attributed to ``file`` (for errors raised below the file reader)."""
        return type(self)(self.problem, file=file, field=self.field, fix=self.fix)


class WorldError(AlignlensError):
    """A world file (or world built in Python) that does not describe a valid world."""


class PolicyError(AlignlensError):
    """A policy that does not match the world it is applied to."""


class SolverError(AlignlensError):
    """A numerical problem that the exact solvers cannot certify."""
