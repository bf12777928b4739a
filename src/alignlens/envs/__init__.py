"""The compiled world as environments to train in: pure JAX functions (gymnax style) and
a Gymnasium wrapper, both built from the arrays the exact solvers read."""

from alignlens.envs.functional import EnvParams, EnvState, env_params, per_level, reset, step

__all__ = ["EnvParams", "EnvState", "env_params", "per_level", "reset", "step"]
