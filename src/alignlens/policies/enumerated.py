"""Enumerated policy classes: a finite list of policies (programs, planners, genotypes).

Exhaustive search over such a list is the essay's "perfect optimiser". A class may hold
millions of members, so members are produced on demand in chunks (`tables`), never all
at once; evaluation is batched over a chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float, Int

from alignlens.errors import PolicyError
from alignlens.policies.tabular import MesaObjective, TabularPolicy
from alignlens.solve.exact.reachability import reachable
from alignlens.world.model import World

Tables = Callable[
    [Int[np.ndarray, " n"]], tuple[Float[np.ndarray, "n S A"], Float[np.ndarray, "n S A"]]
]


@dataclass(frozen=True, eq=False)
class EnumeratedClass:
    """A finite policy class.

    Attributes:
        name: the class's name.
        size: the number of members.
        tables: member indices → their action tables when acting in training and in
            deployment ([n, S, A] each).
        names: member index → a readable name.
        mesa: member index → its declared mesa-objective (planners), or None.
        loci: for a product class, the number of values (alleles) of each parameter (locus),
            members being indexed in row-major order; else one locus with every member.
        chunk: how many members to build and evaluate at a time.
    """

    name: str
    size: int
    tables: Tables
    names: Callable[[int], str]
    mesa: Callable[[int], MesaObjective | None]
    loci: tuple[int, ...] = ()
    chunk: int = 4096

    def __post_init__(self) -> None:
        if self.size < 1:
            raise PolicyError(
                f"the policy class {self.name!r} has no members",
                field="policy_class",
                fix="give at least one policy",
            )
        if not self.loci:
            object.__setattr__(self, "loci", (self.size,))

    def member(self, index: int) -> TabularPolicy:
        """One member as a tabular policy (with its mesa-objective, if any)."""
        train, deploy = self.tables(np.array([index]))
        return TabularPolicy(self.names(index), train[0], deploy[0], self.mesa(index))

    def index(self, name: str) -> int:
        """The index of the member called ``name`` (a linear scan: meant for small classes)."""
        for i in range(self.size):
            if self.names(i) == name:
                return i
        raise PolicyError(
            f"no member is called {name!r}",
            field="policy",
            fix="use the name of a member of the class",
        )


def from_policies(name: str, policies: Sequence[TabularPolicy]) -> EnumeratedClass:
    """A class holding the given policies."""
    train = np.stack([p.train for p in policies]) if policies else np.zeros((0, 0, 0))
    deploy = np.stack([p.deploy for p in policies]) if policies else np.zeros((0, 0, 0))
    return EnumeratedClass(
        name=name,
        size=len(policies),
        tables=lambda idx: (train[idx], deploy[idx]),
        names=lambda i: policies[i].name,
        mesa=lambda i: policies[i].mesa,
    )


def acting_observations(world: World) -> Int[np.ndarray, " O"]:
    """The observations shown at some state where a policy acts (present, not terminal)."""
    acting = (world.train.present & ~world.train.terminal) | (
        world.deploy.present & ~world.deploy.terminal
    )
    return np.unique(world.observation[acting])


def observation_member(world: World, policy: TabularPolicy) -> int:
    """The index in `observation_policies` of the member that acts as ``policy`` does: it
    must pick one action with certainty at every state it reaches, the same action at
    states that show the same observation, in both environments. (At observations it
    never meets, the member takes the policy's likeliest action: unreached, it changes no
    return.)"""

    seen = acting_observations(world)
    choice: dict[int, tuple[int, str]] = {}
    for env in ("train", "deploy"):
        e, table = world.environment(env), policy.acting_in(env)
        for s in np.flatnonzero(reachable(e, table > 0) & ~e.terminal):
            row = table[s]
            action = int(np.argmax(row))
            if row[action] < 1.0 - 1e-9:
                raise PolicyError(
                    f"policy {policy.name!r} is not deterministic at state "
                    f"{world.states[s]!r}, so it is no member of the observation class",
                    field="policy",
                    fix="give one action per observation, or judge the policy in the tabular class",
                )
            o = int(world.observation[s])
            earlier = choice.setdefault(o, (action, world.states[s]))
            if earlier[0] != action:
                raise PolicyError(
                    f"policy {policy.name!r} takes {world.actions[earlier[0]]!r} at state "
                    f"{earlier[1]!r} and {world.actions[action]!r} at state "
                    f"{world.states[s]!r}, which show the same observation "
                    f"{world.observation_names[o]!r}: no policy of the observation class can",
                    field="policy",
                    fix="give one action per observation, or judge the policy in the tabular class",
                )
    likeliest = np.argmax(policy.train, axis=1)
    fallback = {int(world.observation[s]): int(likeliest[s]) for s in range(world.n_states)}
    digits = [choice.get(int(o), (fallback[int(o)], ""))[0] for o in seen]
    return int(sum(d * world.n_actions**k for k, d in enumerate(reversed(digits))))


POLICY_CLASSES = ("tabular", "observation")


def class_named(world: World, name: str) -> EnumeratedClass | None:
    """The policy class a world file or ``--class`` names: None for "tabular" (the solvers'
    own class), the observation policies for "observation"."""
    if name == "tabular":
        return None
    if name == "observation":
        return observation_policies(world, name="observation policies")
    raise PolicyError(
        f"unknown policy class {name!r}",
        field="policy_class",
        fix=f"use one of {', '.join(POLICY_CLASSES)}",
    )


def observation_policies(world: World, *, name: str = "observation policies") -> EnumeratedClass:
    """Every deterministic map from observation to action (A^O members): policies that act on
    what they see, so states that look alike get the same action. Observations seen only
    at terminal or unreachable states are left out of the count."""
    seen = acting_observations(world)
    n_actions = world.n_actions
    size = n_actions ** len(seen)
    column = np.full(len(world.observation_names), -1)
    column[seen] = np.arange(len(seen))
    state_column = column[world.observation]

    def actions_of(idx: np.ndarray) -> np.ndarray:  # [n, observations seen] digits base A
        powers = n_actions ** np.arange(len(seen))[::-1]
        return (idx[:, None] // powers[None, :]) % n_actions

    def tables(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        choice = actions_of(idx)  # [n, O]
        per_state = np.where(state_column >= 0, choice[:, np.maximum(state_column, 0)], 0)
        table = np.eye(n_actions)[per_state]
        table[:, state_column < 0] = 1.0 / n_actions
        return table, table

    def names(i: int) -> str:
        choice = actions_of(np.array([i]))[0]
        return ", ".join(
            f"{world.observation_names[o]}→{world.actions[a]}"
            for o, a in zip(seen, choice, strict=True)
        )

    return EnumeratedClass(name, size, tables, names, lambda i: None)


def product_class(
    name: str,
    parameters: Mapping[str, Sequence[float] | np.ndarray],
    build: Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]],
    mesa: Callable[[dict[str, float]], MesaObjective | None] | None = None,
) -> EnumeratedClass:
    """A class with one member per combination of parameter values (e.g. genetic weights).

    ``build`` receives a chunk of combinations as arrays (one per parameter, length n) and
    returns the members' training and deployment tables [n, S, A].
    """
    keys = list(parameters)
    values = [np.asarray(parameters[k], dtype=float) for k in keys]
    shape = tuple(len(v) for v in values)
    size = int(np.prod(shape)) if shape else 1

    def combination(idx: np.ndarray) -> dict[str, np.ndarray]:
        digits = np.unravel_index(idx, shape)
        return {k: v[d] for k, v, d in zip(keys, values, digits, strict=True)}

    def point(i: int) -> dict[str, float]:
        return {k: float(v[0]) for k, v in combination(np.array([i])).items()}

    return EnumeratedClass(
        name=name,
        size=size,
        tables=lambda idx: build(combination(idx)),
        names=lambda i: ", ".join(f"{k}={v:g}" for k, v in point(i).items()),
        mesa=(lambda i: mesa(point(i))) if mesa else (lambda i: None),
        loci=shape,
    )


def members_in_chunks(cls: EnumeratedClass) -> Iterator[Int[np.ndarray, " n"]]:
    """Index arrays covering the class, ``cls.chunk`` members at a time."""
    for start in range(0, cls.size, cls.chunk):
        yield np.arange(start, min(start + cls.chunk, cls.size))
