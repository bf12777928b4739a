"""Reachability in a directed graph given as edge arrays (breadth-first: a dense boolean
search on small graphs, SciPy's on large ones)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from jaxtyping import Bool, Float, Int
from scipy.sparse.csgraph import breadth_first_order

DENSE_NODES = 256


def reachable_from(
    sources: Bool[np.ndarray, " N"],
    edge_src: Int[np.ndarray, " E"],
    edge_dst: Int[np.ndarray, " E"],
) -> Bool[np.ndarray, " N"]:
    """Nodes reachable from any source (sources included) along the edges."""
    n = int(sources.shape[0])
    if n <= DENSE_NODES:  # a boolean matrix beats building a sparse graph
        adjacency = np.zeros((n, n), dtype=bool)
        adjacency[edge_src, edge_dst] = True
        reached, frontier = sources.copy(), sources.copy()
        while frontier.any():
            frontier = adjacency[frontier].any(axis=0) & ~reached
            reached |= frontier
        return reached
    # One extra node, linked to every source, turns a multi-source search into one search.
    root = n
    src = np.concatenate([edge_src.astype(np.int64), np.full(int(sources.sum()), root)])
    dst = np.concatenate([edge_dst.astype(np.int64), np.flatnonzero(sources)])
    graph = sp.csr_matrix((np.ones(src.shape[0], dtype=np.int8), (src, dst)), shape=(n + 1, n + 1))
    order = breadth_first_order(graph, root, directed=True, return_predecessors=False)
    reached = np.zeros(n + 1, dtype=bool)
    reached[order] = True
    return reached[:n]


def successor_reach(
    sources: Bool[np.ndarray, " S"],
    next_state: Int[np.ndarray, "S A K"],
    prob: Float[np.ndarray, "S A K"],
    terminal: Bool[np.ndarray, " S"],
    allowed: Bool[np.ndarray, "S A"] | None = None,
) -> Bool[np.ndarray, " S"]:
    """States reachable in the successor format, using only allowed actions (default: all)."""
    live = (prob > 0) & ~terminal[:, None, None]
    if allowed is not None:
        live &= allowed[:, :, None]
    s, a, k = next_state.shape
    src = np.broadcast_to(np.arange(s)[:, None, None], (s, a, k))[live]
    return reachable_from(sources, src, next_state[live])
