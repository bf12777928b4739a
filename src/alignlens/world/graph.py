"""Reachability in a directed graph given as edge arrays (breadth-first, in SciPy)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from jaxtyping import Bool, Int
from scipy.sparse.csgraph import breadth_first_order


def reachable_from(
    sources: Bool[np.ndarray, " N"],
    edge_src: Int[np.ndarray, " E"],
    edge_dst: Int[np.ndarray, " E"],
) -> Bool[np.ndarray, " N"]:
    """Nodes reachable from any source (sources included) along the edges."""
    n = int(sources.shape[0])
    # One extra node, linked to every source, turns a multi-source search into one search.
    root = n
    src = np.concatenate([edge_src.astype(np.int64), np.full(int(sources.sum()), root)])
    dst = np.concatenate([edge_dst.astype(np.int64), np.flatnonzero(sources)])
    graph = sp.csr_matrix((np.ones(src.shape[0], dtype=np.int8), (src, dst)), shape=(n + 1, n + 1))
    order = breadth_first_order(graph, root, directed=True, return_predecessors=False)
    reached = np.zeros(n + 1, dtype=bool)
    reached[order] = True
    return reached[:n]
