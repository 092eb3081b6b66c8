"""Sparse predict: layers that L1 left mostly zero run through their
nonzero weights only (csrc/sparse.c), the rest through the dense pass.

The layers from the first on whose density (fraction of nonzero weights)
is at most MAX_DENSITY run sparse, each on all rows at once; the layers
after them run as one dense sub-network (creg._core.evaluate on the tail
of the flat parameter buffer).  The pattern is rebuilt on every call: the
weights are writable views and a fit changes them, and building it is one
pass over the weights, like one row of the dense pass.
"""
from __future__ import annotations

import numpy as np

from creg import _core
from creg._descriptors import NetSpec

# At or below this density a layer predicts faster through its nonzeros
# (benchmarks/README.md, "Sparse predict": measured crossover ~0.25-0.3 at
# one thread for [784, 100, 10]; lower is the safe side).
MAX_DENSITY = 0.2
# Fewer rows than this go dense: building the pattern would cost more
# than the sparse pass saves.
MIN_ROWS = 64


class Pattern:
    """One layer's nonzero weights as compressed rows (csrc/sparse.h).

    Parameters
    ----------
    W : ndarray of shape (O, I)
    """

    def __init__(self, W):
        nonzero = W != 0
        self.used = np.flatnonzero(nonzero.any(axis=0)).astype(np.int64)
        column = np.full(W.shape[1], -1, np.int32)
        column[self.used] = np.arange(self.used.size, dtype=np.int32)
        rows, cols = np.nonzero(nonzero)
        self.values = np.ascontiguousarray(W[rows, cols])
        self.cols = column[cols]
        self.row_start = np.zeros(W.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=W.shape[0]),
                  out=self.row_start[1:])

    def forward(self, X, b, activation, n_threads):
        """act(X . W^T + b) for validated X."""
        A = np.empty((X.shape[0], self.row_start.size - 1), X.dtype)
        slots = _core.sparse_slots(n_threads)
        scratch = np.empty(max(1, slots * self.used.size
                               * _core.SPARSE_TILE_ROWS), X.dtype)
        _core.sparse_forward(A, scratch, X, self.values, b, self.row_start,
                             self.cols, self.used, activation, n_threads)
        return A


def sparse_prefix(net, rows):
    """How many leading layers of net run sparse for `rows` rows: 0 means
    the dense pass alone."""
    if rows < MIN_ROWS:
        return 0
    count = 0
    for W in net.weights:
        if np.count_nonzero(W) > MAX_DENSITY * W.size:
            break
        count += 1
    return count


def forward(net, X, n_threads, layers=None):
    """predict_proba of validated X with the first `layers` layers sparse
    (default: sparse_prefix); None when no layer runs sparse."""
    if layers is None:
        layers = sparse_prefix(net, X.shape[0])
    if layers == 0:
        return None
    L = len(net.sizes) - 1
    A = X
    for l in range(layers):
        activation = net.output if l == L - 1 else net.hidden
        A = Pattern(net.weights[l]).forward(A, net.biases[l], activation,
                                            n_threads)
    if layers == L:
        return A
    return _dense_tail(net, A, layers, n_threads)


def _dense_tail(net, A, first, n_threads):
    """The layers from `first` on, as one dense pass over A."""
    spec = NetSpec(net.sizes[first:], net.hidden, net.output, net.cost_name)
    offset = sum(o * (i + 1) for i, o in zip(net.sizes[:first],
                                            net.sizes[1:first + 1]))
    chunk = min(A.shape[0], 1024)
    ws = np.empty(chunk * _core.workspace_size(spec, 1), A.dtype)
    out = np.empty((A.shape[0], net.sizes[-1]), A.dtype)
    _core.evaluate(ws, net.params[offset:], A, None, out=out,
                   chunk_rows=chunk, net=spec, n_threads=n_threads)
    return out
