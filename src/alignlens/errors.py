"""The exceptions alignlens raises for input a user can fix.

Every message names the file, the field and the fix, so the command line can print it
as one line and exit with status 2 (docs/world-files.md, Errors). An error can carry
several problems (every mistake the checks of a file found, `AlignlensError.many`): it
prints one line per problem under the file's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple, TypeVar

SHOWN = 20
"""The most problems one message lists; the rest are counted ("and N more problems")."""


class Problem(NamedTuple):
    """One mistake: where it is (the field), what is wrong, and the way to fix it."""

    field: str | None
    problem: str
    fix: str | None = None

    def __str__(self) -> str:
        text = f"{self.field}: {self.problem}" if self.field else self.problem
        return f"{text}. Fix: {self.fix}" if self.fix else text


class AlignlensError(Exception):
    """Bad input: a problem in a named file and field, with the way to fix it.

    ``problems`` holds every problem the error reports (one unless made by `many`);
    ``problem``, ``field`` and ``fix`` are those of the first.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        field: str | None = None,
        fix: str | None = None,
        problems: Iterable[Problem] = (),
    ) -> None:
        self.problem = problem
        self.file = file
        self.field = field
        self.fix = fix
        self.problems: tuple[Problem, ...] = tuple(problems) or (Problem(field, problem, fix),)
        super().__init__(str(self))

    @classmethod
    def many(
        cls: type[E], problems: Iterable[Problem | AlignlensError], *, file: str | None = None
    ) -> E:
        """One error reporting every one of ``problems`` (an error contributes all of its
        own; repeats are dropped). With a single problem it is the plain one-line error."""
        found: dict[Problem, None] = {}
        for item in problems:
            for p in item.problems if isinstance(item, AlignlensError) else (item,):
                found.setdefault(Problem(*p), None)
        if not found:
            raise ValueError("AlignlensError.many needs at least one problem")
        first, *rest = found
        return cls(
            first.problem, file=file, field=first.field, fix=first.fix, problems=(first, *rest)
        )

    def __str__(self) -> str:
        if len(self.problems) > 1:
            n = len(self.problems)
            head = f"{self.file}: {n} problems:" if self.file else f"{n} problems:"
            lines = [head, *(f"  - {p}" for p in self.problems[:SHOWN])]
            if n > SHOWN:
                lines.append(f"  - and {n - SHOWN} more problems")
            return "\n".join(lines)
        where = ": ".join(part for part in (self.file, self.field) if part)
        text = f"{where}: {self.problem}" if where else self.problem
        return f"{text}. Fix: {self.fix}" if self.fix else text

    def renamed(self, names: Mapping[str, str], *, fields: bool = True) -> AlignlensError:
        """The same error with settings called by ``names`` (e.g. a config's field by the
        command-line option that sets it) where a fix names one in backquotes
        (`` `reward_scale` ``) and, with ``fields``, as a problem's field."""

        def fix_of(fix: str | None) -> str | None:
            if fix is None:
                return None
            return re.sub(r"`(\w+)`", lambda m: names.get(m.group(1), m.group(0)), fix)

        problems = tuple(
            Problem(
                names.get(p.field, p.field) if p.field and fields else p.field,
                p.problem,
                fix_of(p.fix),
            )
            for p in self.problems
        )
        first = problems[0]
        return type(self)(
            first.problem, file=self.file, field=first.field, fix=first.fix, problems=problems
        )

    def located(self, file: str) -> AlignlensError:
        """The same error attributed to ``file`` (for errors raised below the file reader)."""
        return type(self)(
            self.problem, file=file, field=self.field, fix=self.fix, problems=self.problems
        )


E = TypeVar("E", bound=AlignlensError)


class Problems:
    """The problems found by checks that do not depend on each other, gathered so that one
    error reports them all (`raise_if_any`) instead of the first alone."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, problem: str, *, field: str | None = None, fix: str | None = None) -> None:
        self.found.append(Problem(field, problem, fix))

    def extend(self, problems: Iterable[Problem] | AlignlensError) -> None:
        if isinstance(problems, AlignlensError):
            problems = problems.problems
        self.found.extend(problems)

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Run a check that raises: its problems are recorded and the check stops there."""
        try:
            yield
        except AlignlensError as error:
            self.extend(error)

    def __bool__(self) -> bool:
        return bool(self.found)

    def __len__(self) -> int:
        return len(self.found)

    def raise_if_any(
        self, error: type[AlignlensError] = AlignlensError, *, file: str | None = None
    ) -> None:
        """Raise one ``error`` reporting every problem found so far, if there are any."""
        if self.found:
            raise error.many(self.found, file=file)


class WorldError(AlignlensError):
    """A world file (or world built in Python) that does not describe a valid world."""


class PolicyError(AlignlensError):
    """A policy that does not match the world it is applied to."""


class SolverError(AlignlensError):
    """A numerical problem that the exact solvers cannot certify."""


@contextmanager
def about_file(file: str) -> Iterator[None]:
    """Attribute solver errors raised inside (the solvers know no file) to ``file``: the
    world file whose numbers they could not resolve."""
    try:
        yield
    except SolverError as error:
        raise error if error.file else error.located(file) from None
