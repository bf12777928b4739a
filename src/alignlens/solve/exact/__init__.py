"""The per-world analysis, the definition of every number: exact optima, optimal sets and
their extremes, and exact evaluation, for one world at a time."""
