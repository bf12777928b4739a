"""Gymnasium environments named on the command line: ``ENV_ID[:kwargs]`` specs, made with
``gymnasium.make`` after importing the package that registers them (Gymnasium is an
optional extra, imported lazily), and the name of a pair of them."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from alignlens.errors import WorldError

REGISTERING_PACKAGES = {"MiniGrid-": "minigrid", "BabyAI-": "minigrid"}
"""Environment id prefixes and the package whose import registers them with Gymnasium."""


def import_module(name: str, option: str) -> Any:
    """Import a module by name (e.g. one that registers environments, or the user's policy),
    from the Python path or else the current folder; a clear error if it is in neither."""
    import importlib
    import os
    import sys

    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.append(here)  # after installed packages, which a local file cannot shadow
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise WorldError(
            f"cannot import {name!r} ({e})",
            field=option,
            fix=f"run from the folder that holds {name.split('.')[0]}.py, add that folder to "
            f"PYTHONPATH, or install the package that provides {name!r}",
        ) from None


def make_env(text: str, option: str) -> Any:
    """``gymnasium.make`` of an ``ENV_ID[:kwargs]`` option (see `parse_env_spec`)."""
    try:
        import gymnasium
    except ImportError:
        raise WorldError(
            "Gymnasium environments need gymnasium",
            field=option,
            fix='pip install "alignlens[gym]"',
        ) from None
    env_id, kwargs = parse_env_spec(text, option)
    for prefix, package in REGISTERING_PACKAGES.items():
        if env_id.startswith(prefix):
            import_module(package, option)
    try:
        return gymnasium.make(env_id, **kwargs)
    except gymnasium.error.Error as e:
        raise WorldError(
            f"Gymnasium cannot make {env_id!r}: {e}",
            field=option,
            fix="give a registered environment id (gymnasium.pprint_registry() lists them)",
        ) from None
    except TypeError as e:
        raise WorldError(
            f"{env_id!r} does not take these keyword arguments: {e}",
            field=option,
            fix="give the keyword arguments the environment's constructor takes",
        ) from None


def parse_env_spec(text: str, option: str = "--train/--deploy") -> tuple[str, dict[str, Any]]:
    """``ENV_ID`` or ``ENV_ID:{json}`` or ``ENV_ID:key=value,key=value`` (values read as JSON
    where they parse, else as strings) → (id, keyword arguments)."""
    env_id, _, rest = text.partition(":")
    if not rest:
        return env_id, {}
    if rest.lstrip().startswith("{"):
        try:
            kwargs = json.loads(rest)
        except json.JSONDecodeError as e:
            raise WorldError(
                f"the keyword arguments of {env_id!r} are not JSON ({e.msg})",
                field=option,
                fix='write them as ENV_ID:{"key": value} or ENV_ID:key=value,key=value',
            ) from None
        return env_id, kwargs
    kwargs = {}
    for part in rest.split(","):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise WorldError(
                f"{part!r} is not key=value",
                field=option,
                fix="write keyword arguments as ENV_ID:key=value,key=value",
            )
        try:
            kwargs[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key.strip()] = value
    return env_id, kwargs


def world_name(train_env: Any, deploy_env: Any) -> str:
    """``TRAIN → DEPLOY``, each environment's id followed by the keyword arguments it was
    made with where the two differ (e.g. the maps)."""
    specs = {"train": getattr(train_env, "spec", None), "deploy": getattr(deploy_env, "spec", None)}
    kwargs = {e: dict(spec.kwargs) if spec is not None else {} for e, spec in specs.items()}
    differ = sorted(
        k
        for k in {*kwargs["train"], *kwargs["deploy"]}
        if not _same(kwargs["train"].get(k), kwargs["deploy"].get(k))
    )

    def named(env: Any, env_name: str) -> str:
        spec = specs[env_name]
        base = spec.id if spec is not None else type(env.unwrapped).__name__
        shown = [f"{k}={_short(kwargs[env_name][k])}" for k in differ if k in kwargs[env_name]]
        return f"{base} ({', '.join(shown)})" if shown else base

    return f"{named(train_env, 'train')} → {named(deploy_env, 'deploy')}"


def _same(a: Any, b: Any) -> bool:
    """Whether two keyword arguments are equal (arrays element by element)."""
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except Exception:  # values that cannot be compared are shown
        return False


def _short(value: Any, width: int = 48) -> str:
    """A keyword argument's value in a name: rows of a map joined by "/", cut to ``width``."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple) and all(isinstance(v, list | tuple) for v in value):
        value = ["".join(map(str, row)) for row in value]  # a map given cell by cell
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        text = "/".join(value)
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"
