"""Policy classes: tabular, enumerated (lists, observation maps, parameter products), planners."""

from alignlens.policies.enumerated import (
    EnumeratedClass,
    from_policies,
    observation_policies,
    product_class,
)
from alignlens.policies.planner import deceptive_planner, planner, planner_class
from alignlens.policies.tabular import (
    MesaObjective,
    TabularPolicy,
    load_policy,
    policy_from_callable,
    policy_from_mapping,
)

__all__ = [
    "EnumeratedClass",
    "MesaObjective",
    "TabularPolicy",
    "deceptive_planner",
    "from_policies",
    "load_policy",
    "observation_policies",
    "planner",
    "planner_class",
    "policy_from_callable",
    "policy_from_mapping",
    "product_class",
]
