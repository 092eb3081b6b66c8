"""Sparse predict: layers that L1 left mostly zero run through their
nonzero weights only (the C kernel sparse.c), the rest through the dense pass.

The layers from the first on whose density (fraction of nonzero weights)
is at most MAX_DENSITY[dtype] run sparse, each on all rows at once; the
layers after them run as one dense sub-network (creg._core.evaluate on the
tail of the flat parameter buffer).  A layer's pattern is kept with a copy
of the weights it was built from and rebuilt when they differ: the weights
are writable views that a fit or the user may change at any time, and
comparing is a tenth of the cost of building.
"""
from __future__ import annotations

import weakref

import numpy as np

from creg import _core
from creg import _validation as check
from creg._descriptors import NetSpec

# At or below this density a layer predicts faster through its nonzeros,
# end to end (input checks included), at one thread: benchmarks/README.md,
# "Sparse predict" (crossovers measured near 0.6-0.7 at every kernel
# level, both dtypes; below them, the side where a wrong guess costs
# least).
MAX_DENSITY = {np.dtype(np.float32): 0.5, np.dtype(np.float64): 0.5}
# Inputs per aligned group that the sparse pass reads whole: the lanes
# of its widest vector of floats (64 bytes), a divisor of
# _core.SPARSE_BLOCK_INPUTS.
_GROUP = 16
# Rows per pass through the layers: a chunk's activations stay in cache
# from one layer to the next, and their buffers are reused (buffers for
# all of X were fresh pages at every call: 0.3 of a 2.6 ms predict).
CHUNK_ROWS = 1024
# Fewer rows than this go dense: the sparse pass's fixed costs (comparing
# or building the pattern) outweigh what it saves.
MIN_ROWS = 32
# Inputs a sparse layer may have: Pattern numbers them in int32.
_MAX_INPUTS = 2**31 - 1

class NonFiniteInput(ValueError):
    """X held NaN or inf (found by the sparse pass, which checks X on the
    way instead of in a pass of its own)."""


# network -> {layer: Pattern}; weak, so a network's patterns go with it
_patterns: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Pattern:
    """One layer's nonzero weights as compressed rows (the C header sparse.h).

    Parameters
    ----------
    W : ndarray of shape (O, I)
    """

    def __init__(self, W):
        self.weights = W.copy()     # what the pattern was built from
        nonzero = W != 0
        # the inputs the tiles read: whole aligned groups around those in
        # use, so that they transpose a vector's lanes at a time (one
        # input at a time cost a fifth of the sparse pass at 95% zeros)
        groups = np.flatnonzero(np.add.reduceat(
            nonzero.any(axis=0), np.arange(0, W.shape[1], _GROUP)))
        self.used = (groups[:, None] * _GROUP + np.arange(_GROUP)).ravel()
        self.used = self.used[self.used < W.shape[1]].astype(np.int64)
        column = np.full(W.shape[1], -1, np.int32)
        column[self.used] = np.arange(self.used.size, dtype=np.int32)
        rows, cols = np.nonzero(nonzero)
        self.values = np.ascontiguousarray(W[rows, cols])
        self.cols = column[cols]
        self.row_start = np.zeros(W.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=W.shape[0]),
                  out=self.row_start[1:])
        # splits[o, j]: neuron o's first weight in block j of used inputs
        n_blocks = -(-self.used.size // _core.SPARSE_BLOCK_INPUTS)
        per_block = np.bincount(
            rows * n_blocks + self.cols // _core.SPARSE_BLOCK_INPUTS,
            minlength=W.shape[0] * n_blocks).reshape(W.shape[0], n_blocks)
        self.splits = np.empty((W.shape[0], n_blocks + 1), np.int64)
        self.splits[:, 0] = self.row_start[:-1]
        np.cumsum(per_block, axis=1, out=self.splits[:, 1:])
        self.splits[:, 1:] += self.row_start[:-1, None]

    def scratch(self, n_threads, dtype):
        """The scratch sparse_forward needs at n_threads."""
        O = self.row_start.size - 1
        return np.empty(_core.sparse_slots(n_threads)
                        * _core.sparse_slot_size(self.used.size, O), dtype)

    def forward(self, X, b, activation, n_threads, check_x=False, out=None,
                scratch=None):
        """act(X . W^T + b) for X of the right shape and dtype, into `out`
        if given, with `scratch` (self.scratch) if given; with check_x,
        raises NonFiniteInput if X holds NaN or inf."""
        O = self.row_start.size - 1
        A = np.empty((X.shape[0], O), X.dtype) if out is None else out
        if scratch is None:
            scratch = self.scratch(n_threads, X.dtype)
        if not _core.sparse_forward(A, scratch, X, self.values, b,
                                    self.row_start, self.cols, self.used,
                                    self.splits, activation, n_threads,
                                    check_x):
            raise NonFiniteInput("X contains NaN or infinity.")
        return A


def pattern(net, layer):
    """The pattern of net's weights[layer] as they are now."""
    cache = _patterns.setdefault(net, {})
    W = net.weights[layer]
    kept = cache.get(layer)
    if kept is None or kept.weights.dtype != W.dtype \
            or not np.array_equal(kept.weights, W):
        kept = cache[layer] = Pattern(W)
    return kept


def sparse_prefix(net, rows):
    """How many leading layers of net run sparse for `rows` rows: 0 means
    the dense pass alone."""
    if rows < MIN_ROWS:
        return 0
    limit = MAX_DENSITY[net.dtype]
    count = 0
    for W in net.weights:
        # the pattern numbers a layer's inputs in int32
        if W.shape[1] > _MAX_INPUTS or np.count_nonzero(W) > limit * W.size:
            break
        count += 1
    return count


def forward(net, X, n_threads, layers=None):
    """predict_proba of X (the network's width and dtype, C-contiguous) with
    the first `layers` layers sparse (default: sparse_prefix); None when
    no layer runs sparse.  Raises NonFiniteInput if X holds NaN or inf."""
    if layers is None:
        layers = sparse_prefix(net, X.shape[0])
    if layers == 0:
        return None
    L = len(net.sizes) - 1
    spec = net._spec  # the settings checked, as plain str
    chunk = min(X.shape[0], CHUNK_ROWS)
    try:
        check.check_budget("the sparse predict pass", _bytes_needed(
            net, spec, layers, X.shape[0], chunk, n_threads))
    except MemoryError:
        return None  # the dense pass, which needs less
    patterns = [pattern(net, l) for l in range(layers)]
    tail = None if layers == L else _DenseTail(net, spec, layers, chunk)
    out = np.empty((X.shape[0], net.sizes[-1]), X.dtype)
    # made once for all chunks: each layer's scratch, and its output but
    # for a last layer's, which goes straight into `out`
    scratches = [p.scratch(n_threads, X.dtype) for p in patterns]
    buffers = [None if tail is None and l == L - 1
               else np.empty((chunk, net.sizes[l + 1]), X.dtype)
               for l in range(layers)]
    for start in range(0, X.shape[0], CHUNK_ROWS):
        A = X[start:start + CHUNK_ROWS]
        rows = out[start:start + CHUNK_ROWS]
        for l, p in enumerate(patterns):
            A = p.forward(A, net.biases[l],
                          spec.output if l == L - 1 else spec.hidden,
                          n_threads, check_x=l == 0,
                          out=rows if buffers[l] is None
                          else buffers[l][:len(rows)],
                          scratch=scratches[l])
        if tail is not None:
            tail(A, rows, n_threads)
    return out


def _bytes_needed(net, spec, layers, rows, chunk, n_threads):
    """About what `forward` allocates for `rows` rows: each layer's
    pattern as if built anew (the copy of W, its mask, np.nonzero's two
    index arrays and the compressed rows and blocks, for at most
    MAX_DENSITY nonzeros), scratch and output buffer, the dense tail's
    workspace and the outputs."""
    item = net.dtype.itemsize
    nbytes = rows * net.sizes[-1] * item
    for I, O in zip(net.sizes[:layers], net.sizes[1:layers + 1]):
        nonzero = int(MAX_DENSITY[net.dtype] * O * I) + 1
        blocks = -(-I // _core.SPARSE_BLOCK_INPUTS) + 1
        nbytes += (O * I * (item + 1) + nonzero * (8 + 8 + item + 4 + 8)
                   + O * blocks * 16
                   + _core.sparse_slots(n_threads)
                   * _core.sparse_slot_size(I, O) * item
                   + chunk * O * item)
    if layers < len(net.sizes) - 1:
        nbytes += chunk * _core.workspace_size(
            _tail_spec(net, spec, layers), 1) * item
    return nbytes


def _tail_spec(net, spec, first):
    """The settings of net's layers from `first` on, as a network."""
    return NetSpec(net.sizes[first:], spec.hidden, spec.output, spec.cost)


class _DenseTail:
    """The layers from `first` on, as one dense pass over chunks of at
    most `chunk` rows."""

    def __init__(self, net, spec, first, chunk):
        self.spec = _tail_spec(net, spec, first)
        offset = sum(o * (i + 1) for i, o in zip(net.sizes[:first],
                                                net.sizes[1:first + 1]))
        self.params = net.params[offset:]
        self.ws = np.empty(chunk * _core.workspace_size(self.spec, 1),
                           net.dtype)

    def __call__(self, A, out, n_threads):
        _core.evaluate(self.ws, self.params, A, None, out=out,
                       chunk_rows=A.shape[0], net=self.spec,
                       n_threads=n_threads)
