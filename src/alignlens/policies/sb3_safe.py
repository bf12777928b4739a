"""Stable-Baselines3 models loaded without running anything in the file.

Stable-Baselines3's own loader unpickles the ``:serialized:`` fields of a model's ``data``
(the policy class, the spaces, the keyword arguments): a crafted file runs its code there.
This loader never unpickles. It reads ``data`` as JSON and keeps only what it can check:

- the policy class, by module and name, from a short list (`POLICY_CLASSES`: the
  actor-critic policies of PPO and A2C, and DQN's);
- the policy's keyword arguments as plain JSON (``net_arch``, ``ortho_init``, …), with
  classes (``activation_fn``, ``features_extractor_class``) only from the list
  `CLASSES` and named by their printed form;
- the spaces, from the environments the model is judged on (which must match the
  model's own, as the file describes them: their kind, size and dtype), or, for a
  ``Discrete`` space, from the file;

then builds the policy and reads its weights with ``torch.load(weights_only=True)``,
which reads tensors and nothing else. A model outside those lists is refused, naming what
was not recognised; the full loader stays available for files you trust.
"""

from __future__ import annotations

import ast
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlens.errors import PolicyError

POLICY_CLASSES = {
    ("stable_baselines3.common.policies", "ActorCriticPolicy"),
    ("stable_baselines3.common.policies", "ActorCriticCnnPolicy"),
    ("stable_baselines3.dqn.policies", "DQNPolicy"),
    ("stable_baselines3.dqn.policies", "CnnPolicy"),
}
CLASSES = {
    f"<class 'torch.nn.modules.activation.{name}'>": ("torch.nn", name)
    for name in ("Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid")
} | {
    "<class 'stable_baselines3.common.torch_layers.FlattenExtractor'>": (
        "stable_baselines3.common.torch_layers",
        "FlattenExtractor",
    ),
    "<class 'stable_baselines3.common.torch_layers.NatureCNN'>": (
        "stable_baselines3.common.torch_layers",
        "NatureCNN",
    ),
}
IGNORED = {"optimizer_class", "optimizer_kwargs"}  # training only: not needed to act
SAFE_TORCH = (2, 6)  # weights-only loading can be bypassed before (CVE-2025-32434)
MEMBER_LIMIT = 64 * 2**20  # the largest description or weights file read from the zip
TRUST = "--trust-model"


@dataclass(frozen=True, eq=False)
class SafeModel:
    """A policy rebuilt from a model file, with what `sb3_policy` needs of a model."""

    policy: Any
    observation_space: Any
    action_space: Any

    def predict(self, observation: Any, deterministic: bool = False) -> tuple[Any, Any]:
        return self.policy.predict(observation, deterministic=deterministic)


def load_safely(
    path: Path, spaces: tuple[Any, Any] | None = None, spaces_from: str = "spaces"
) -> SafeModel:
    """The policy of a saved model, never unpickling (see the module). ``spaces`` is the
    (observation, action) space of the environments it is judged on (``spaces_from``
    names where they come from, for the message when they differ from the model's)."""
    import torch

    if _version(torch.__version__) < SAFE_TORCH:
        raise _refused(
            path,
            f"would be read by torch {torch.__version__}, whose weights-only loading is not "
            "safe before 2.6 (pip install 'torch>=2.6')",
        )
    try:
        archive = zipfile.ZipFile(path)
        for name in ("data", "policy.pth"):
            if archive.getinfo(name).file_size > MEMBER_LIMIT:
                raise _refused(path, f"holds a {name} larger than {MEMBER_LIMIT:,} bytes")
        data = json.loads(archive.read("data"))
        weights = archive.read("policy.pth")
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except PolicyError:
        raise
    except (RecursionError, MemoryError):
        raise _refused(path, "has a description nested or sized beyond reading") from None
    except Exception as error:  # not a zip, no such member, not JSON, not tensors
        raise _refused(path, f"is not a saved Stable-Baselines3 model ({error})") from None
    if not isinstance(data, dict) or not isinstance(state, dict):
        raise _refused(path, "has no model description")
    policy_class = _policy_class(path, data.get("policy_class"))
    kwargs = _keyword_arguments(path, data.get("policy_kwargs") or {})
    _check_widths(path, kwargs.get("net_arch"), state)
    if "ActorCritic" in policy_class.__name__:
        kwargs.setdefault("use_sde", bool(data.get("use_sde", False)))
    observation_space, action_space = _spaces(path, data, spaces, spaces_from)
    try:
        policy = policy_class(observation_space, action_space, lambda _: 0.0, **kwargs)
        policy.load_state_dict(state)
    except Exception as error:  # whatever the file's weights or arguments do not fit
        raise _refused(path, f"cannot be rebuilt ({type(error).__name__}: {error})") from None
    policy.set_training_mode(False)
    return SafeModel(policy, observation_space, action_space)


def _version(text: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _check_widths(path: Path, net_arch: Any, state: dict) -> None:
    """Every layer width the description asks for must appear among the weights' shapes:
    a file cannot make the policy allocate layers its weights do not have."""
    widths = [w for w in _integers(net_arch)]
    largest = max(
        (max(t.shape, default=0) for t in state.values() if hasattr(t, "shape")), default=0
    )
    if any(w > largest for w in widths):
        raise _refused(path, f"asks for layers wider ({max(widths):,}) than its weights")


def _integers(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [i for v in value.values() for i in _integers(v)]
    if isinstance(value, list | tuple):
        return [i for v in value for i in _integers(v)]
    return []


def _refused(path: Path, problem: str) -> PolicyError:
    return PolicyError(
        f"the model {problem}",
        file=str(path),
        field="policy",
        fix=f"give a model saved by PPO, A2C or DQN's model.save(...); for a file you trust, "
        f"{TRUST} loads it with Stable-Baselines3's own loader, which runs code in the file",
    )


def _policy_class(path: Path, entry: Any) -> type:
    module = entry.get("__module__") if isinstance(entry, dict) else None
    init = entry.get("__init__", "") if isinstance(entry, dict) else ""
    match = re.match(r"<function (\w+)\.__init__", str(init))
    name = match.group(1) if match else None
    if (module, name) not in POLICY_CLASSES:
        raise _refused(path, f"has a policy class this loader does not know ({module}.{name})")
    return _import(module, name)


def _keyword_arguments(path: Path, entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise _refused(path, "has policy keyword arguments that are not a table")
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key in (":type:", ":serialized:") or key in IGNORED:
            continue
        if isinstance(value, str) and value in CLASSES:
            out[key] = _import(*CLASSES[value])
        elif isinstance(value, str) and value.startswith("<"):
            raise _refused(path, f"has a policy argument {key} = {value} this loader does not know")
        else:
            out[key] = _literal(path, key, value)
    return out


def _literal(path: Path, key: str, value: Any) -> Any:
    """A JSON value, or the printed form of a list or number (as SB3 writes some)."""
    if isinstance(value, str):
        if len(value) > 1000:
            raise _refused(path, f"has a policy argument {key} too long to read")
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            raise _refused(
                path, f"has a policy argument {key} = {value!r} it cannot read"
            ) from None
    return value


def _spaces(
    path: Path, data: dict, spaces: tuple[Any, Any] | None, spaces_from: str
) -> tuple[Any, Any]:
    """The environments' spaces after checking that the file describes the same ones, or
    the file's own where they are Discrete."""
    described = [data.get("observation_space"), data.get("action_space")]
    if spaces is None:
        return tuple(_discrete(path, d) for d in described)  # type: ignore[return-value]
    for name, entry, space in zip(("observation", "action"), described, spaces, strict=True):
        if not _describes(entry, space):
            raise PolicyError(
                f"the model's {name} space is {_summary(entry)}, the environment's is {space}",
                file=str(path),
                field=spaces_from,
                fix="diagnose a model on environments with the spaces it was trained on",
            )
    return spaces


def _describes(entry: Any, space: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    kind = type(space).__name__
    if f".{kind}'>" not in str(entry.get(":type:", "")):
        return False
    if kind == "Discrete":
        return str(entry.get("n")) == str(int(space.n)) and str(entry.get("start", "0")) == str(
            int(space.start)
        )
    shape = entry.get("_shape")
    return str(entry.get("dtype")) == str(space.dtype) and _parsed(shape) == list(space.shape)


def _parsed(text: Any) -> Any:
    if len(str(text)) > 1000:
        return None
    try:
        return list(ast.literal_eval(str(text)))
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None


def _discrete(path: Path, entry: Any) -> Any:
    from gymnasium import spaces

    if isinstance(entry, dict) and str(entry.get(":type:", "")).endswith(".Discrete'>"):
        try:
            return spaces.Discrete(int(entry["n"]), start=int(entry.get("start", 0)))
        except (KeyError, ValueError):
            pass
    raise _refused(
        path,
        f"has a {_summary(entry)} space, which this loader takes only from the environments "
        "(pass them: load_sb3(path, spaces=(env.observation_space, env.action_space)))",
    )


def _summary(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "missing"
    kind = re.sub(r".*\.(\w+)'>$", r"\1", str(entry.get(":type:", "?")))
    size = entry.get("n", entry.get("_shape", ""))
    return f"{kind}({size})"


def _import(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)
