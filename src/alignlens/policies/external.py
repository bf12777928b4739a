"""Policies trained elsewhere: Stable-Baselines3 models (imported lazily).

A model becomes a function from an observation, as the environment gives it, to action
probabilities (the model's own action distribution) or, when asked, to the action it
predicts deterministically. `alignlens.world.gymnasium.GymWorld.policy` turns such a
function into a tabular policy of the world read from the same environments. Any other
callable of that shape works the same way (CleanRL agents, alignlens's own neural
policies, hand-written rules).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from alignlens.errors import PolicyError
from alignlens.policies.sb3_safe import load_safely
from alignlens.world.gym_specs import import_module

SB3_ALGORITHMS = ("PPO", "A2C", "DQN")


def load_function(spec: str) -> Callable[[Any], Any]:
    """``MODULE:FUNCTION``, a function from an observation to an action index or action
    probabilities, imported by name (the module is the user's own code, run on import)."""
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise PolicyError(
            f"{spec!r} is not MODULE:FUNCTION",
            field="policy",
            fix="give the policy as sb3:PATH.zip or as MODULE:FUNCTION",
        )
    module = import_module(module_name, "policy")
    function = getattr(module, function_name, None)
    if not callable(function):
        raise PolicyError(
            f"{module_name!r} has no function {function_name!r}",
            field="policy",
            fix="name a function of the module: MODULE:FUNCTION",
        )
    return function


def load_sb3(
    path: str | Path,
    *,
    spaces: tuple[Any, Any] | None = None,
    spaces_from: str = "spaces",
    trust: bool = False,
) -> Any:
    """A saved Stable-Baselines3 model (``.zip``). By default its policy is rebuilt without
    running anything in the file (`alignlens.policies.sb3_safe`; ``spaces``, the
    environments' observation and action spaces, are needed unless both are Discrete).
    ``trust`` uses Stable-Baselines3's own loader, which unpickles parts of the file and
    so runs any code a crafted file holds: only for files you trust."""
    path = Path(path)
    if not path.is_file():
        raise PolicyError("no such model file", file=str(path), fix="give a saved .zip")
    try:
        import stable_baselines3
    except ImportError:
        raise PolicyError(
            "Stable-Baselines3 models need stable-baselines3",
            field="policy",
            fix="pip install stable-baselines3",
        ) from None
    if not trust:
        return load_safely(path, spaces, spaces_from)
    for name in SB3_ALGORITHMS:
        try:
            return getattr(stable_baselines3, name).load(str(path), device="cpu")
        except Exception:  # not saved by this algorithm: try the next
            continue
    raise PolicyError(
        f"no Stable-Baselines3 algorithm ({', '.join(SB3_ALGORITHMS)}) could load it",
        file=str(path),
        fix="give a model saved by model.save(...) of one of those algorithms",
    )


def sb3_policy(model: Any, *, deterministic: bool = False) -> Callable[[Any], Any]:
    """observation → the model's action probabilities, or (``deterministic``, and always for
    DQN, whose policy is greedy) the index of the action it predicts."""
    model = load_sb3(model) if isinstance(model, str | Path) else model
    greedy = deterministic or not hasattr(model.policy, "get_distribution")

    def act(observation: Any) -> Any:
        if greedy:
            action, _ = model.predict(np.asarray(observation), deterministic=True)
            return int(np.asarray(action).item())
        import torch

        tensor, _ = model.policy.obs_to_tensor(np.asarray(observation))
        with torch.no_grad():
            distribution = model.policy.get_distribution(tensor).distribution
        probs = distribution.probs[0].cpu().numpy().astype(np.float64)
        return probs / probs.sum()

    return act
