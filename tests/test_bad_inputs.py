"""Table-driven bad-input suite (issue 5; RELIABILITY.md sections A-D, G).

One table of (entry point, bad input, exception class, message fragments)
feeds one parametrised test.  For every row the test checks

- the exception class exactly (``type(exc) is``, so a TypeError is never
  accepted for a ValueError or the other way round),
- that every message fragment appears (RELIABILITY.md section 0 wording
  where it applies),
- that the network is exactly as it was: params bitwise, the same buffer,
  epochs_trained and the settings; a refused ``fit`` also leaves the
  network fit-able (no lock left held),
- that every input array (X, y, validation arrays, sparse matrices, lists)
  is bitwise unchanged.

A second table lists inputs that must be *accepted* (lists, int/bool/
uint8/float16/longdouble X, Fortran order, strided views whose gaps hold
NaN, negative strides, read-only arrays, read-only memmaps, big-endian and
misaligned buffers, ...): each gives bitwise the same parameters after a
``shuffle=False`` fit, and the same predict_proba/cost/gradient/accuracy,
as ``np.ascontiguousarray(X, dtype=net.dtype)``.
"""
import copy
import datetime
import gzip
import hashlib
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import creg
from conftest import repeated_phrases
from creg import _validation as check

try:
    import scipy.sparse as sparse
except ImportError:  # pragma: no cover - scipy is optional
    sparse = None

expand = getattr(creg, "expand", None)
if expand is not None and not callable(expand):  # the module, not the function
    expand = getattr(expand, "expand", None)

N, D = 12, 4          # training set: 12 rows, 4 features
N_VAL = 6


def n_params(sizes):
    """sum of n_out * (n_in + 1), in Python ints (never overflows)."""
    return sum(b * (a + 1) for a, b in zip(sizes, sizes[1:]))


# ---------------------------------------------------------------- fixtures


class Data:
    """Fresh inputs for one test (rows never share arrays)."""

    def __init__(self, tmp_path):
        rng = np.random.default_rng(7)
        self.X = rng.random((N, D))
        self.y = np.tile([0, 1, 2], N // 3)
        self.y1 = (self.y == 1).astype(np.int64)
        self.Y2 = rng.standard_normal((N, 2))
        self.Xv = rng.random((N_VAL, D))
        self.yv = np.tile([2, 1, 0], N_VAL // 3)
        self.tmp = tmp_path


# Every network is fitted for one epoch first, so a refused call has a
# "previously fitted" state to destroy.
NETS = {
    "soft64": (dict(sizes=[D, 5, 3], output="softmax", cost="log_likelihood",
                    dtype="float64"), "y"),
    "soft32": (dict(sizes=[D, 5, 3], output="softmax", cost="log_likelihood",
                    dtype="float32"), "y"),
    "sig3": (dict(sizes=[D, 5, 3], output="sigmoid", dtype="float32"), "y"),
    "sig1": (dict(sizes=[D, 5, 1], output="sigmoid", dtype="float64"), "y1"),
    "lin2": (dict(sizes=[D, 5, 2], output="linear", cost="quadratic",
                  dtype="float64"), "Y2"),
}


def make_net(key, d):
    spec, target = NETS[key]
    spec = dict(spec)
    net = creg.Network(spec.pop("sizes"), hidden="sigmoid",
                       init="normalized", seed=3, **spec)
    net.fit(d.X, getattr(d, target), epochs=1, batch_size=5, shuffle=False,
            lr=0.5)
    assert net.epochs_trained == 1
    return net


def default_y(key, d):
    return getattr(d, NETS[key][1])


class L:
    """A value built when the row runs, from (data, network)."""

    def __init__(self, build):
        self.build = build

    def __call__(self, d, net):
        return self.build(d, net)


class Re(str):
    """A message fragment that is a regular expression."""


def resolve(value, d, net):
    return value(d, net) if isinstance(value, L) else value


X_ = L(lambda d, net: d.X)


def changed(field, fn):
    """getattr(d, field) changed by fn(copy) (fn edits in place or returns a
    new value)."""
    def build(d, net):
        value = getattr(d, field).copy()
        out = fn(value)
        return value if out is None else out
    return L(build)


def X_with(fn):
    return changed("X", fn)


def y_with(fn):
    return changed("y", fn)


def set_(index, value):
    def fn(a):
        a[index] = value
    return fn


def sparse_of(kind):
    """A sparse version of d.X (scipy if installed, else a duck type)."""
    def build(d, net):
        if sparse is None:
            class DuckSparse:
                shape = d.X.shape

                def tocsr(self):
                    return self

                def toarray(self):
                    return d.X.copy()
            return DuckSparse()
        if kind == "csr64":
            m = sparse.csr_matrix(d.X)
            m.indices = m.indices.astype(np.int64)
            m.indptr = m.indptr.astype(np.int64)
            return m
        return {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix,
                "coo": sparse.coo_matrix,
                "csr_array": getattr(sparse, "csr_array",
                                     sparse.csr_matrix)}[kind](d.X)
    return L(build)


# ----------------------------------------------------------- table: rows


class Row:
    def __init__(self, rid, entry, exc, fragments, args=(), kwargs=None,
                 net="soft64"):
        self.id, self.entry, self.exc = rid, entry, exc
        self.fragments = ((fragments,) if isinstance(fragments, str)
                          else tuple(fragments))
        self.args, self.kwargs = tuple(args), dict(kwargs or {})
        self.net = net


ROWS = []


def add(*args, **kwargs):
    ROWS.append(Row(*args, **kwargs))


_FIT_DEFAULTS = dict(epochs=1, batch_size=5, shuffle=False)


def fit(rid, exc, fragments, X=X_, y=None, net="soft64", **hyper):
    y = L(lambda d, n: default_y(net, d)) if y is None else y
    add(rid, "fit", exc, fragments, (X, y), {**_FIT_DEFAULTS, **hyper},
        net=net)


def on_X(rid, entries, X, exc, fragments, net="soft64"):
    """The same bad X at several entry points."""
    for entry in entries:
        yv = L(lambda d, n: default_y(net, d))
        if entry == "fit":
            fit(f"{rid}-fit", exc, fragments, X=X, net=net)
        elif entry == "X_val":
            fit(f"{rid}-X_val", exc, _renamed(fragments, "X", "X_val"),
                net=net, validation_data=L(
                    lambda d, n, X=X: (X(d, n), d.yv)))
        elif entry in ("predict", "predict_proba"):
            add(f"{rid}-{entry}", entry, exc, fragments, (X,), net=net)
        else:  # accuracy, cost, gradient take (X, y)
            add(f"{rid}-{entry}", entry, exc, fragments, (X, yv), net=net)


def _renamed(fragments, old, new):
    fragments = (fragments,) if isinstance(fragments, str) else fragments
    return tuple(f.replace(f"Input {old} ", f"Input {new} ")
                 .replace(f"({old})", f"({new})")
                 .replace(f"{old} has", f"{new} has") for f in fragments)


ALL_X = ("fit", "predict", "predict_proba", "accuracy", "cost", "gradient",
         "X_val")
NAN = "Input X contains NaN."
INF = "Input X contains infinity or a value too large for dtype("
RESHAPE = "Reshape your data"

# --- A. feature matrix X ---------------------------------------------------
# A1 NaN anywhere, every entry point
on_X("A1-nan", ALL_X, X_with(set_((3, 2), np.nan)), ValueError, NAN)
on_X("A1-nan-float32", ("fit", "predict"),
     X_with(lambda X: np.where(X > 0.9, np.nan, X).astype(np.float32)),
     ValueError, NAN)
on_X("A1-nan-in-object-array", ("fit", "predict"),
     X_with(lambda X: np.array(
         [[float("nan")] + list(r[1:]) for r in X], dtype=object)),
     ValueError, NAN)
on_X("A1-nan-list", ("predict",),
     X_with(lambda X: [[float("nan")] * D] + X.tolist()), ValueError, NAN)
# A2 +-inf
on_X("A2-posinf", ("fit", "predict", "cost", "X_val"),
     X_with(set_((0, 0), np.inf)), ValueError,
     INF + "'float64').")
on_X("A2-neginf", ("fit", "predict_proba", "gradient"),
     X_with(set_((11, 3), -np.inf)), ValueError, INF)
# A3 finite values that overflow in float32
on_X("A3-1e39-float32", ("fit", "predict", "accuracy", "X_val"),
     X_with(set_((5, 1), 1e39)), ValueError, INF + "'float32').",
     net="soft32")
on_X("A3-object-1e39-float32", ("fit",),
     X_with(lambda X: np.array([[1e39] * D] + X.tolist()[1:], dtype=object)),
     ValueError, INF, net="soft32")
on_X("A3-python-int-beyond-float64", ("predict",),
     X_with(lambda X: np.array([[10**400] + [0] * (D - 1)], dtype=object)),
     ValueError, INF)
if np.finfo(np.longdouble).max > np.finfo(np.float64).max:
    on_X("A3-longdouble-1e400", ("predict",),
         X_with(lambda X: np.full((2, D), np.longdouble("1e400"))),
         ValueError, INF + "'float64').")
# A4 0 rows
ZERO_ROWS = "Found array with 0 sample(s) (shape=(0, 4)) while a minimum of " \
            "1 is required"
on_X("A4-0-rows", ALL_X, X_with(lambda X: X[:0]), ValueError, ZERO_ROWS)
on_X("A5-empty-row-list", ("predict",), L(lambda d, n: [[]]), ValueError,
     "0 feature(s)")
# A5 0 columns
on_X("A5-0-columns", ("fit", "predict", "cost"),
     X_with(lambda X: X[:, :0]), ValueError,
     "0 feature(s) (shape=(12, 0)) while a minimum of 1 is required")
# A8 not 2-D
on_X("A8-1d", ("fit", "predict", "predict_proba", "X_val"),
     X_with(lambda X: X[0]), ValueError,
     ("Expected 2D array, got 1D array instead", RESHAPE))
on_X("A8-0d", ("fit", "predict"), X_with(lambda X: np.float64(0.5)),
     ValueError, ("Expected 2D array, got scalar array instead", RESHAPE))
on_X("A8-3d", ("fit", "predict"), X_with(lambda X: X.reshape(2, 6, D)),
     ValueError, ("Expected 2D array, got 3D array instead",
                  "X.reshape(len(X), -1), which gives shape (2, 24)"))
on_X("A8-none", ("fit", "predict"), L(lambda d, n: None), TypeError,
     "X must be an array-like of numbers; got None")
on_X("A8-ragged", ("fit", "predict"),
     X_with(lambda X: X.tolist()[:-1] + [[0.5, 0.5]]), ValueError,
     "X could not be converted to a numeric array")
# A12 complex
on_X("A12-complex", ("fit", "predict", "cost"),
     X_with(lambda X: X.astype(complex)), ValueError,
     "Complex data not supported")
on_X("A12-complex-in-object", ("predict",),
     X_with(lambda X: np.array([[1j] + [0] * (D - 1)], dtype=object)),
     ValueError, "Complex data not supported")
# A13 object / non-numeric
on_X("A13-object-dict", ("fit", "predict"),
     X_with(lambda X: np.array([[{"a": 1}] + [0] * (D - 1)] * 2,
                               dtype=object)),
     TypeError, Re(r"argument must be .* string.* number"))
on_X("A13-object-str", ("fit", "predict"),
     X_with(lambda X: np.array([["1.5"] + [0] * (D - 1)] * 2, dtype=object)),
     TypeError, "X must be numeric; it holds the string '1.5'")
on_X("A13-str-array", ("predict",),
     X_with(lambda X: X.astype(str)), TypeError, "X must be numeric")
on_X("A13-datetime", ("predict",),
     X_with(lambda X: np.zeros((2, D), "datetime64[D]")), TypeError,
     "X must be numeric")
# in an object array, float() took numpy's times as tick counts (NaT as
# -9.2e18, a date as its day number)
for _rid, _time in (("nat", np.datetime64("NaT")),
                    ("timedelta", np.timedelta64(3, "s")),
                    ("date", datetime.date(2020, 1, 1))):
    on_X(f"A13-object-{_rid}", ("fit", "predict"),
         X_with(lambda X, t=_time: np.array([[t] + [0] * (D - 1)] * 2,
                                            dtype=object)),
         TypeError, "X must be numeric; it holds the time")
on_X("A13-structured", ("predict",),
     X_with(lambda X: np.zeros((2, D), [("a", "f8")])), TypeError,
     "X must be numeric")
# A14 sparse
for kind in ("csr", "csc", "coo", "csr_array", "csr64"):
    on_X(f"A14-sparse-{kind}", ("fit", "predict") if kind == "csr"
         else ("predict",), sparse_of(kind), TypeError, "sparse")
fit("A14-sparse-X_val", TypeError, ("sparse", "X_val"),
    validation_data=L(lambda d, n: (sparse_of("csr")(d, n), d.yv)))
# A19 wrong number of features
on_X("A19-n-features", ALL_X, X_with(lambda X: X[:, :3]), ValueError,
     ("X has 3 features, but the network is expecting 4 features as input",))
on_X("A19-too-many-features", ("predict",),
     X_with(lambda X: np.hstack([X, X])), ValueError,
     "X has 8 features, but the network is expecting 4")

# --- B. targets y ----------------------------------------------------------
fit("B1-nan-float-targets", ValueError, "Input y contains NaN.", net="lin2",
    y=L(lambda d, n: np.where(d.Y2 > 1, np.nan, d.Y2)))
fit("B1-inf-float-targets", ValueError,
    "Input y contains infinity or a value too large", net="lin2",
    y=L(lambda d, n: np.where(d.Y2 > 1, np.inf, d.Y2)))
fit("B1-nan-label", ValueError, "Input y contains NaN.",
    y=y_with(lambda y: np.where(y == 2, np.nan, y)))
fit("B1-nan-1d-single-output", ValueError, "Input y contains NaN.",
    net="sig1", y=L(lambda d, n: np.full(N, np.nan)))
add("B1-nan-cost", "cost", ValueError, "Input y contains NaN.",
    (X_, L(lambda d, n: np.where(d.Y2 > 1, np.nan, d.Y2))), net="lin2")
fit("B1-nan-y_val", ValueError, "Input y_val contains NaN.",
    validation_data=L(lambda d, n: (d.Xv, np.r_[d.yv[:-1], np.nan])))
SAMPLES = "Found input variables with inconsistent numbers of samples: [12, 11]"
fit("B2-short-y", ValueError, (SAMPLES, "the rows of X and y"),
    y=y_with(lambda y: y[:-1]))
fit("B2-long-y", ValueError,
    "inconsistent numbers of samples: [12, 13]",
    y=y_with(lambda y: np.r_[y, 0]))
for entry in ("accuracy", "cost", "gradient"):
    add(f"B2-short-y-{entry}", entry, ValueError, SAMPLES,
        (X_, y_with(lambda y: y[:-1])))
fit("B2-short-y_val", ValueError,
    ("inconsistent numbers of samples: [6, 5]", "the rows of X_val and y_val"),
    validation_data=L(lambda d, n: (d.Xv, d.yv[:-1])))
fit("B4-y-none", ValueError,
    "requires y to be passed, but the target y is None",
    y=L(lambda d, n: None))
for entry in ("accuracy", "cost", "gradient"):
    add(f"B4-y-none-{entry}", entry, ValueError,
        "requires y to be passed, but the target y is None",
        (X_, L(lambda d, n: None)))
fit("B4-y_val-none", ValueError, "requires y_val to be passed",
    validation_data=L(lambda d, n: (d.Xv, None)))
LABELS = "must be in [0, 3)"
fit("B5-negative-label", ValueError, (LABELS, "got -1"),
    y=y_with(set_(4, -1)))
fit("B5-label-equals-K", ValueError, (LABELS, "got 3"),
    y=y_with(set_(0, 3)))
fit("B5-huge-labels", ValueError, (LABELS, "got 7, 255"),
    y=y_with(lambda y: np.r_[y[:-2], 255, 7].astype(np.uint8)))
fit("B5-many-bad-labels-listed", ValueError, (LABELS, "and 7 more"),
    y=L(lambda d, n: np.arange(N) + 3))
fit("B5-float-label-1.5", ValueError,
    ("must hold integer class labels; got 1.5",
     "Unknown label type: continuous"),
    y=y_with(lambda y: np.where(y == 2, 1.5, y)))
fit("B5-bool-labels", ValueError, "got booleans",
    y=y_with(lambda y: y.astype(bool)))
fit("B5-label-out-of-range-y_val", ValueError, ("y_val", LABELS),
    validation_data=L(lambda d, n: (d.Xv, d.yv + 1)))
add("B5-label-out-of-range-accuracy", "accuracy", ValueError, LABELS,
    (X_, y_with(lambda y: y - 1)))
add("B5-label-out-of-range-gradient", "gradient", ValueError, LABELS,
    (X_, y_with(lambda y: y + 5)))
fit("B5-huge-python-int-label", ValueError, LABELS,
    y=y_with(lambda y: np.array([2**70] + list(y[1:]), dtype=object)))
fit("B7-continuous-labels", ValueError, "Unknown label type: continuous",
    y=L(lambda d, n: d.X[:, 0] * 2))
fit("B9-softmax-rows-not-summing-to-1", ValueError, "must sum to 1",
    y=L(lambda d, n: np.full((N, 3), 0.5)))
fit("B9-softmax-target-negative", ValueError, "must lie in [0, 1]",
    y=L(lambda d, n: np.tile([[-0.5, 1.0, 0.5]], (N, 1))))
fit("B9-sigmoid-target-above-1", ValueError, "must lie in [0, 1]",
    net="sig3", y=L(lambda d, n: np.full((N, 3), 2.0)))
fit("B9-single-sigmoid-label-2", ValueError, "must lie in [0, 1]",
    net="sig1", y=L(lambda d, n: np.tile([0, 1, 2], N // 3)))
add("B9-softmax-rows-cost", "cost", ValueError, "must sum to 1",
    (X_, L(lambda d, n: np.zeros((N, 3)))))
fit("B10-string-labels", TypeError,
    ("Unknown label type", "creg.sklearn.CregClassifier takes labels of any "
     "type, strings included"),
    y=L(lambda d, n: np.array(["a", "b", "c"] * (N // 3))))
fit("B10-object-string-labels", TypeError,
    ("Unknown label type", "CregClassifier"),
    y=L(lambda d, n: np.array(["a", 1, 2] * (N // 3), dtype=object)))
fit("B10-object-dict-labels", TypeError,
    Re(r"argument must be .* string.* number"),
    y=L(lambda d, n: np.array([{}, 1, 2] * (N // 3), dtype=object)))
fit("B-y-scalar", ValueError, "y must have shape (12,) or (12, 3)",
    y=L(lambda d, n: 1))
fit("B-y-3d", ValueError, "got shape (12, 3, 1)",
    y=L(lambda d, n: np.zeros((N, 3, 1))))
fit("B-y-sparse", TypeError, "sparse",
    y=L(lambda d, n: sparse.csr_matrix(np.eye(3)[d.y]) if sparse
        else sparse_of("csr")(d, n)))
fit("B-y-complex", ValueError, "Complex data not supported in y",
    y=y_with(lambda y: y.astype(complex)))
# C4 sizes[-1] vs the targets
fit("C4-target-columns", ValueError, "y has 2 columns, but the network has 3",
    y=L(lambda d, n: np.zeros((N, 2))))
fit("C4-column-vector-labels", ValueError,
    ("y has 1 columns, but the network has 3 outputs",
     "1-D array of shape (12,)"), y=y_with(lambda y: y[:, None]))
fit("C4-1d-target-for-2-linear-outputs", ValueError,
    "needs a single output unit", net="lin2",
    y=L(lambda d, n: d.Y2[:, 0]))

# --- C. architecture -------------------------------------------------------
NEEDS_2 = "the network needs at least an input and an output layer"
for rid, sizes in (("empty", []), ("one-layer", [4]), ("tuple-one", (4,))):
    add(f"C1-sizes-{rid}", "Network", ValueError, (NEEDS_2, "sizes"),
        (sizes,))
add("C1-too-many-layers", "Network", ValueError, "sizes must list between 2",
    ([3] * 100,))
add("C1-sizes-int", "Network", TypeError, "sizes must be a sequence", (5,))
add("C1-sizes-str", "Network", TypeError, "sizes must be a sequence",
    ("784,30,10",))
add("C1-sizes-none", "Network", TypeError, "sizes must be a sequence",
    (None,))
for rid, bad, exc in (("zero", 0, ValueError), ("negative", -3, ValueError),
                     ("float", 3.0, TypeError), ("bool", True, TypeError),
                     ("none", None, TypeError),
                     ("nan", float("nan"), TypeError),
                     ("str", "5", TypeError),
                     ("np-float", np.float64(5), TypeError)):
    add(f"C2-size-{rid}", "Network", exc, ("sizes[1]", repr(bad)),
        ([4, bad, 3],))
for rid, sizes in (("1e6-cubed", [10**6] * 3), ("1e12-hidden", [10, 10**12, 2]),
                  ("2**40", [2**40, 2**40, 2]), ("2**62", [2**62, 2**62, 2]),
                  ("beyond-int64", [2**70, 3])):
    nbytes = 4 * n_params(sizes)
    add(f"C6-G1-absurd-sizes-{rid}", "Network", MemoryError,
        ("Unable to allocate", f"({nbytes} bytes)"), (sizes,))
add("C6-G1-absurd-sizes-float64", "Network", MemoryError,
    ("Unable to allocate", "bytes"), ([10**6] * 3,), dict(dtype="float64"))
add("C6-G1-float64-byte-count", "Network", MemoryError,
    f"({8 * n_params([10**6] * 3)} bytes)", ([10**6] * 3,),
    dict(dtype="float64"))
CHOICES = (("hidden", "softplus", "'sigmoid', 'tanh', 'relu'"),
           ("output", "relu", "'sigmoid', 'softmax', 'linear'"),
           ("cost", "mse", "'cross_entropy', 'log_likelihood', 'quadratic'"),
           ("init", "xavier", "'normalized', 'large', 'he', 'glorot'"),
           ("dtype", "float16", "'float32', 'float64'"),
           ("dtype", "int32", "'float32', 'float64'"),
           ("hidden", "Sigmoid", "'sigmoid'"))
for name, bad, valid in CHOICES:
    add(f"C7-{name}-{bad}", "Network", ValueError,
        (f"{name} must be one of {valid}", repr(bad)), ([D, 5, 3],),
        {name: bad})
add("C7-dtype-np.float16", "Network", ValueError, "got 'float16'",
    ([D, 5, 3],), dict(dtype=np.float16))
add("C7-dtype-int", "Network", ValueError, "got 'int64'", ([D, 5, 3],),
    dict(dtype=int))
add("C7-hidden-none", "Network", TypeError, "hidden must be one of",
    ([D, 5, 3],), dict(hidden=None))
add("C7-output-callable", "Network", TypeError, "output must be one of",
    ([D, 5, 3],), dict(output=np.tanh))
add("C7-cost-output-mismatch", "Network", ValueError,
    "cost='log_likelihood' needs output='softmax'", ([D, 5, 3],),
    dict(cost="log_likelihood", output="sigmoid"))
add("C7-quadratic-softmax", "Network", ValueError,
    "cost='quadratic' needs output='sigmoid' or 'linear'", ([D, 5, 3],),
    dict(cost="quadratic", output="softmax"))
for bad, exc in ((-1, ValueError), (2**63, ValueError), (1.5, TypeError),
                 (True, TypeError), ("0", TypeError), (None, TypeError)):
    add(f"D-seed-{bad!r}", "Network", exc, ("seed", repr(bad)), ([D, 5, 3],),
        dict(seed=bad))
# C5 parameters set directly
add("C5-weights-wrong-shape", "set_weights", ValueError, "shape (5, 4)",
    (L(lambda d, n: np.zeros((4, 5))),))
add("C5-biases-wrong-shape", "set_biases", ValueError, "shape (5,)",
    (L(lambda d, n: np.zeros(6)),))
add("C5-weights-nan", "set_weights", ValueError, "contains NaN",
    (L(lambda d, n: np.full((5, 4), np.nan)),))
add("C5-biases-inf", "set_biases", ValueError, "contains infinity",
    (L(lambda d, n: np.full(5, np.inf)),))
add("C5-weights-complex", "set_weights", ValueError, "Complex data",
    (L(lambda d, n: np.ones((5, 4), complex)),))
add("C5-weights-strings", "set_weights", TypeError, "must be numeric",
    (L(lambda d, n: np.full((5, 4), "1")),))
add("C5-epochs_trained-negative", "set_epochs_trained", ValueError,
    "epochs_trained must be >= 0", (-1,))
add("C5-epochs_trained-float", "set_epochs_trained", TypeError,
    "epochs_trained must be an integer", (1.5,))

# --- D. hyper-parameters ---------------------------------------------------
NAN_F = float("nan")
ES_KINDS = "early_stopping must be True, False or a creg.EarlyStopping"
HYPER = [
    # (name, bad value, exception, fragment)
    ("lr", 0, ValueError, "lr must be > 0; got 0"),
    ("lr", -1, ValueError, "lr must be > 0"),
    ("lr", NAN_F, ValueError, "lr must be finite; got nan"),
    ("lr", np.float32("nan"), ValueError, "lr must be finite"),
    ("lr", float("inf"), ValueError, "lr must be finite; got inf"),
    ("lr", 10**400, ValueError, "lr must be finite"),
    ("lr", "0.1", TypeError, "lr must be a real number; got '0.1'"),
    ("lr", None, TypeError, "lr must be a real number; got None"),
    ("lr", True, TypeError, "lr must be a real number; got True"),
    ("lr", 1j, TypeError, "lr must be a real number"),
    ("l2", -1e-3, ValueError, "l2 must be >= 0"),
    ("l2", NAN_F, ValueError, "l2 must be finite"),
    ("l2", float("inf"), ValueError, "l2 must be finite"),
    ("l2", "0", TypeError, "l2 must be a real number"),
    ("l1", -1, ValueError, "l1 must be >= 0"),
    ("l1", NAN_F, ValueError, "l1 must be finite"),
    ("l1", -float("inf"), ValueError, "l1 must be finite"),
    ("max_norm", 0, ValueError, "max_norm must be > 0"),
    ("max_norm", -2.0, ValueError, "max_norm must be > 0"),
    ("max_norm", NAN_F, ValueError, "max_norm must be finite"),
    ("max_norm", float("inf"), ValueError, "max_norm must be finite"),
    ("max_norm", "3", TypeError, "max_norm must be a real number"),
    ("dropout", 1.0, ValueError, "dropout must be in [0, 1); got 1.0"),
    ("dropout", -0.1, ValueError, "dropout must be in [0, 1)"),
    ("dropout", NAN_F, ValueError, "dropout must be finite"),
    ("dropout", "0.5", TypeError, "dropout must be a real number"),
    ("input_noise", -1, ValueError, "input_noise must be >= 0"),
    ("input_noise", NAN_F, ValueError, "input_noise must be finite"),
    ("input_noise", float("inf"), ValueError, "input_noise must be finite"),
    ("momentum", 1.0, ValueError, "momentum must be in [0, 1)"),
    ("momentum", -0.1, ValueError, "momentum must be in [0, 1)"),
    ("momentum", NAN_F, ValueError, "momentum must be finite"),
    ("batch_size", 0, ValueError, "batch_size must be >= 1; got 0"),
    ("batch_size", -5, ValueError, "batch_size must be >= 1"),
    ("batch_size", 2.5, TypeError, "batch_size must be an integer"),
    ("batch_size", 5.0, TypeError, "batch_size must be an integer"),
    ("batch_size", True, TypeError, "batch_size must be an integer"),
    ("batch_size", None, TypeError, "batch_size must be an integer"),
    ("epochs", 0, ValueError, "epochs must be >= 1; got 0"),
    ("epochs", -1, ValueError, "epochs must be >= 1"),
    ("epochs", 2.0, TypeError, "epochs must be an integer"),
    ("epochs", False, TypeError, "epochs must be an integer"),
    ("n_threads", 0, ValueError, "n_threads = 0 is invalid"),
    ("n_threads", 10**6, ValueError, "n_threads must be at most"),
    ("n_threads", 1.5, TypeError, "n_threads must be an integer"),
    ("n_threads", True, TypeError, "n_threads must be an integer"),
    ("n_threads", "2", TypeError, "n_threads must be an integer"),
    ("patience", 0, ValueError, "patience must be >= 1"),
    ("early_stopping", 0, TypeError, ES_KINDS),
    ("early_stopping", 3, TypeError, "patience: fit(..., early_stopping=True, "
                                     "patience=3), or creg.EarlyStopping(3)"),
    ("early_stopping", NAN_F, TypeError, ES_KINDS),
    ("early_stopping", "yes", TypeError, ES_KINDS),
    ("penalty_scale", "mean", ValueError,
     "penalty_scale must be one of 'n', 'none'; got 'mean'"),
    ("penalty_scale", None, TypeError, "penalty_scale must be one of"),
    ("l1_method", "lasso", ValueError,
     "l1_method must be one of 'prox', 'subgradient'"),
    ("l1_method", 1, TypeError, "l1_method must be one of"),
    ("lr_schedule", "cosine", ValueError,
     "lr_schedule must be None, 'halve_on_plateau' or a callable "
     "lr_schedule(epoch, history) that returns the epoch's lr; got 'cosine'"),
    ("lr_schedule", 3, TypeError, "or a callable lr_schedule(epoch, history)"),
    # a Keras user's per-epoch rates (numpy compared them elementwise)
    ("lr_schedule", np.array([0.1, 0.05]), TypeError,
     "or a callable lr_schedule(epoch, history)"),
    ("lr_schedule", lambda epoch: 0.1, TypeError,
     "is called as lr_schedule(epoch, history)"),
]
def _short(value):
    # numpy 1.x writes np.float32("nan") as nan: ids must differ anyway
    text = (f"np.{type(value).__name__}({value})"
            if isinstance(value, np.generic) else repr(value))
    return text if len(text) <= 24 else text[:12] + "..."


for name, bad, exc, fragment in HYPER:
    fit(f"D-{name}-{_short(bad)}", exc, fragment, **{name: bad})
fit("D-early_stopping-without-validation", ValueError,
    "early_stopping=True watches the validation accuracy and cannot run "
    "without validation_data=(X_val, y_val)", early_stopping=True)
# an EarlyStopping is named as given, not as early_stopping=True
fit("D-an-EarlyStopping-without-validation", ValueError,
    "early_stopping=EarlyStopping(patience=2, restore='on_stop') watches the "
    "validation accuracy", early_stopping=creg.EarlyStopping(2))
fit("D-halve_on_plateau-without-validation", ValueError,
    "lr_schedule='halve_on_plateau' watches the validation accuracy",
    lr_schedule="halve_on_plateau")
fit("D-lr_schedule-returns-nan", ValueError,
    "lr_schedule(0, history) returned nan; a schedule must return the "
    "epoch's lr, a finite number > 0", lr_schedule=lambda e, h: NAN_F)
fit("D-lr_schedule-returns-zero", ValueError,
    "lr_schedule(0, history) returned 0.0", lr_schedule=lambda e, h: 0.0)
# 1e-300 is a positive float64 and 0 in float32: nothing would train
fit("D-lr-zero-in-float32", ValueError,
    "lr=1e-300 is 0 in float32: the weights would never change",
    net="soft32", lr=1e-300)
# and 1e39 inf: the first step would make every weight inf or NaN
fit("D-lr-inf-in-float32", ValueError,
    "lr=1e+39 is inf in float32: beyond the dtype's range; use a smaller "
    "lr or dtype='float64'", net="soft32", lr=1e39)
# an input_noise of 1e39 made every noisy input inf: "diverging"
fit("D-input_noise-inf-in-float32", ValueError,
    "input_noise=1e+39 is inf in float32: beyond the dtype's range; use a "
    "smaller input_noise or dtype='float64'", net="soft32", input_noise=1e39)
# l1 of 1e39 is inf in float32: its threshold zeroed every weight
fit("D-l1-inf-in-float32", ValueError,
    "l1=1e+39 is inf in float32: beyond the dtype's range; use a smaller l1 "
    "or dtype='float64'", net="soft32", l1=1e39, penalty_scale="none")
# under penalty_scale="n" the strength is l2/n: 1e39 over 9 rows is held
fit("D-l2-inf-in-float32", ValueError,
    "l2=1e+45 (a per-step strength of ", net="soft32", l2=1e45)
fit("D-lr_schedule-returns-inf-in-float32", ValueError,
    "lr_schedule(0, history) returned 1e+39; a schedule must return the "
    "epoch's lr, a finite number > 0 that the network's dtype can hold "
    "(lr=1e+39 is inf in float32", net="soft32",
    lr_schedule=lambda e, h: 1e39)
fit("D-lr_schedule-returns-zero-in-float32", ValueError,
    "lr_schedule(0, history) returned 1e-300; a schedule must return the "
    "epoch's lr, a finite number > 0 that the network's dtype can hold "
    "(lr=1e-300 is 0 in float32", net="soft32",
    lr_schedule=lambda e, h: 1e-300)
fit("D-lr_schedule-returns-str", TypeError,
    "lr_schedule(0, history) returned 'fast'", lr_schedule=lambda e, h: "fast")
fit("D-validation_data-array", TypeError, "validation_data must be a pair",
    validation_data=L(lambda d, n: d.Xv))
fit("D-validation_data-triple", TypeError, "validation_data must be a pair",
    validation_data=L(lambda d, n: (d.Xv, d.yv, d.yv)))
fit("D-validation_data-none-pair", TypeError, "X_val must be an array-like",
    validation_data=(None, None))
fit("D-shuffle-string", TypeError, "shuffle must be True or False",
    shuffle="no")
fit("D-verbose-string", TypeError, "verbose must be True, False or an "
    "int >= 0; got 'yes'", verbose="yes")
fit("D-verbose-negative", ValueError, "verbose must be True, False or an "
    "int >= 0; got -1", verbose=-1)
for name, bad, exc, fragment in (
        ("l2", NAN_F, ValueError, "l2 must be finite"),
        ("l2", -1, ValueError, "l2 must be >= 0"),
        ("l1", NAN_F, ValueError, "l1 must be finite"),
        ("l1", "1", TypeError, "l1 must be a real number"),
        ("penalty_scale", "batch", ValueError, "penalty_scale must be one of")):
    add(f"D-cost-{name}-{bad!r}", "cost", exc, fragment,
        (X_, L(lambda d, n: d.y)), {name: bad})
for entry in ("predict", "predict_proba"):
    add(f"D-{entry}-n_threads-0", entry, ValueError, "n_threads = 0", (X_,),
        dict(n_threads=0))
    add(f"D-{entry}-n_threads-str", entry, TypeError,
        "n_threads must be an integer", (X_,), dict(n_threads="all"))
add("D-accuracy-linear-output", "accuracy", ValueError,
    "accuracy needs a sigmoid or softmax output", (X_, L(lambda d, n: d.Y2)),
    net="lin2")


# --- save / load -------------------------------------------------------------
def saved_file(mutate=None):
    """A model file written by a fresh net, optionally rewritten by
    mutate(header dict, payload bytes) -> (header, payload) with a fresh
    digest (so only the mutation is wrong)."""
    def build(d, net):
        path = str(d.tmp / "model.creg")
        creg.Network([D, 5, 3], **creg.NIELSEN).save(path)
        if mutate is not None:
            with open(path, "rb") as f:
                data = f.read()
            (hlen,) = struct.unpack_from("<I", data, 8)
            header = json.loads(data[12:12 + hlen])
            payload = data[12 + hlen:-32]  # the SHA-256 trailer follows
            header, payload = mutate(header, payload)
            text = json.dumps(header).encode()
            text += b" " * (-(12 + len(text)) % 8)
            body = data[:8] + struct.pack("<I", len(text)) + text + payload
            with open(path, "wb") as f:
                f.write(body + hashlib.sha256(body).digest())
        return path
    return L(build)


def file_with(content):
    def build(d, net):
        path = d.tmp / "file.bin"
        path.write_bytes(content(d) if callable(content) else content)
        return str(path)
    return L(build)


def _nan_payload(header, payload):
    values = np.frombuffer(payload, "<f4").copy()
    values[3] = np.nan
    return header, values.tobytes()


def _size_bomb(header, payload):
    header["sizes"] = [10**6] * 3
    header["n_params"] = n_params(header["sizes"])
    header["payload_bytes"] = 4 * header["n_params"]
    return header, payload


def _truncated(d):
    path = d.tmp / "whole.creg"
    creg.Network([D, 5, 3], **creg.NIELSEN).save(str(path))
    data = path.read_bytes()
    return data[:len(data) // 2]


add("save-path-none", "save", TypeError, "", (None,))
add("save-path-int-list", "save", TypeError, "", ([1, 2],))
add("save-missing-directory", "save", FileNotFoundError, "",
    (L(lambda d, n: str(d.tmp / "absent" / "m.creg")),))
add("save-onto-a-directory", "save", IsADirectoryError, "",
    (L(lambda d, n: (d.tmp / "sub").mkdir() or str(d.tmp / "sub")),))
add("save-nan-weights", "save", ValueError,
    "parameters are NaN or infinite",
    (L(lambda d, n: (n.params.__setitem__(0, np.nan),
                     str(d.tmp / "nan.creg"))[1]),))
add("load-path-none", "load", TypeError, "", (None,))
add("load-missing", "load", FileNotFoundError, "",
    (L(lambda d, n: str(d.tmp / "absent.creg")),))
add("load-directory", "load", creg.ModelFileError, "not a regular file",
    (L(lambda d, n: str(d.tmp)),))
add("load-empty-file", "load", creg.ModelFileError, "empty", (file_with(b""),))
add("load-pickle", "load", creg.ModelFileError, "bad magic",
    (file_with(pickle.dumps({"weights": [1, 2, 3]})),))
add("load-network-pickle", "load", creg.ModelFileError, "bad magic",
    (file_with(lambda d: pickle.dumps(creg.Network([D, 5, 3],
                                                   **creg.NIELSEN))),))
add("load-npy", "load", creg.ModelFileError, "bad magic",
    (file_with(lambda d: (np.save(str(d.tmp / "a.npy"), np.zeros(3)),
                          (d.tmp / "a.npy").read_bytes())[1]),))
add("load-truncated", "load", creg.ModelFileError, "truncated",
    (file_with(_truncated),))
add("load-nan-weights", "load", creg.ModelFileError, "NaN or infinite",
    (saved_file(_nan_payload),))
add("load-size-bomb", "load", creg.ModelFileError, "truncated payload",
    (saved_file(_size_bomb),))
add("load-hidden-not-allowed", "load", creg.ModelFileError, "'hidden'",
    (saved_file(lambda h, p: ({**h, "hidden": "__import__('os')"}, p)),))
add("load-cost-output-mismatch", "load", creg.ModelFileError,
    "cannot be used with output",
    (saved_file(lambda h, p: ({**h, "cost": "log_likelihood"}, p)),))


# --- datasets ----------------------------------------------------------------
def idx(magic, shape, payload=None):
    n = int(np.prod(shape))
    body = bytes(i % 10 for i in range(n)) if payload is None else payload
    return struct.pack(">I", magic) + b"".join(
        struct.pack(">I", s) for s in shape) + body


def mnist_dir(**files):
    """A directory with the four MNIST files (tiny), some replaced."""
    def build(d, net):
        root = d.tmp / "mnist"
        root.mkdir(exist_ok=True)
        default = {
            "train-images-idx3-ubyte": idx(0x803, (3, 2, 2)),
            "train-labels-idx1-ubyte": idx(0x801, (3,)),
            "t10k-images-idx3-ubyte": idx(0x803, (2, 2, 2)),
            "t10k-labels-idx1-ubyte": idx(0x801, (2,)),
        }
        for name, content in {**default, **files}.items():
            if content is not None:
                (root / name).write_bytes(content)
        return str(root)
    return L(build)


TRAIN_IMAGES = "train-images-idx3-ubyte"
for bad in ("float16", "int32", "complex128", "bogus"):
    add(f"datasets-load_digits-dtype-{bad}", "load_digits", ValueError,
        "dtype must be one of", (), dict(dtype=bad))
add("datasets-load_digits-dtype-int", "load_digits", ValueError,
    "dtype must be one of", (), dict(dtype=int))
add("datasets-load_mnist-missing-directory", "load_mnist", FileNotFoundError,
    "does not exist", (L(lambda d, n: str(d.tmp / "absent")),))
add("datasets-load_mnist-none", "load_mnist", TypeError, "", (None,))
add("datasets-load_mnist-dtype", "load_mnist", ValueError,
    "dtype must be one of", (mnist_dir(),), dict(dtype="uint8"))
add("datasets-load_mnist-missing-file", "load_mnist", FileNotFoundError,
    "not found", (mnist_dir(**{"t10k-labels-idx1-ubyte": None}),))
add("datasets-load_mnist-bad-magic", "load_mnist", ValueError,
    "magic number", (mnist_dir(**{TRAIN_IMAGES: idx(0x1234, ())}),))
add("datasets-load_mnist-labels-as-images", "load_mnist", ValueError,
    "looks like an IDX labels", (mnist_dir(**{TRAIN_IMAGES: idx(0x801, (3,))}),))
add("datasets-load_mnist-truncated", "load_mnist", ValueError, "truncated",
    (mnist_dir(**{TRAIN_IMAGES: idx(0x803, (3, 2, 2))[:-1]}),))
add("datasets-load_mnist-short-header", "load_mnist", ValueError, "truncated",
    (mnist_dir(**{TRAIN_IMAGES: b"\x00\x00"}),))
add("datasets-load_mnist-trailing", "load_mnist", ValueError, "trailing data",
    (mnist_dir(**{TRAIN_IMAGES: idx(0x803, (3, 2, 2)) + b"\x00"}),))
add("datasets-load_mnist-count-mismatch", "load_mnist", ValueError,
    "do not belong together",
    (mnist_dir(**{"train-labels-idx1-ubyte": idx(0x801, (4,))}),))
add("datasets-load_mnist-bad-gzip", "load_mnist", ValueError,
    "not a valid gzip",
    (mnist_dir(**{TRAIN_IMAGES: gzip.compress(idx(0x803, (3, 2, 2)))[:20]}),))
add("datasets-load_mnist-wrapped-dims", "load_mnist", ValueError,
    "truncated",
    (mnist_dir(**{TRAIN_IMAGES: idx(0x803, (2**31, 2**31, 4), b"")}),))
add("datasets-load_mnist-dims-byte-count", "load_mnist", ValueError,
    f"i.e. {(2**32 - 1) ** 3} bytes",
    (mnist_dir(**{TRAIN_IMAGES: idx(0x803, (2**32 - 1,) * 3, b"12345")}),))

# --- expand ------------------------------------------------------------------
if expand is not None:
    IMG = L(lambda d, n: d.X)  # 12 images of 2x2
    for rid, X, exc, fragment in (
            ("sparse", sparse_of("csr"), TypeError, "sparse"),
            ("nan", X_with(set_((0, 0), np.nan)), ValueError, "contains NaN"),
            ("inf", X_with(set_((0, 0), np.inf)), ValueError, "infinity"),
            ("1d", X_with(lambda X: X[0]), ValueError, Re(r"2-?D array")),
            ("3d", X_with(lambda X: X.reshape(N, 2, 2)), ValueError,
             Re(r"2-?D array")),
            ("none", L(lambda d, n: None), TypeError, "X"),
            ("strings", X_with(lambda X: X.astype(str)), TypeError, "X")):
        add(f"expand-X-{rid}", "expand", exc, fragment, (X, (2, 2)))
    for rid, kwargs, exc, fragment in (
            ("image-shape-pixels", dict(image_shape=(4, 4)), ValueError,
             "image_shape"),
            ("image-shape-float", dict(image_shape=(2.0, 2.0)), TypeError,
             "image_shape"),
            ("image-shape-int", dict(image_shape=4), TypeError,
             "image_shape"),
            ("shifts-0", dict(shifts=0), ValueError, "shifts"),
            ("shifts-too-big", dict(shifts=2), ValueError, "shifts"),
            ("shifts-float", dict(shifts=1.0), TypeError, "shifts"),
            ("angles-nan", dict(angles=(NAN_F,)), ValueError, "angles[0]"),
            ("angles-scalar", dict(angles=10), TypeError, "angles"),
            ("angles-str", dict(angles=(5, "x")), TypeError, "angles[1]"),
            ("y-length", dict(y=np.arange(3)), ValueError,
             "different numbers of samples")):
        add(f"expand-{rid}", "expand", exc, fragment, (IMG,),
            {"image_shape": (2, 2), **kwargs})
    for rid, X, exc, fragment in (
            ("inf-message", X_with(set_((0, 0), np.inf)), ValueError,
             "contains infinity or a value too large"),
            ("1d-message", X_with(lambda X: X[0]), ValueError,
             "Expected 2D array, got 1D array instead"),
            ("complex", X_with(lambda X: X.astype(complex)), ValueError,
             "Complex data not supported")):
        add(f"expand-X-{rid}", "expand", exc, fragment, (X, (2, 2)))

# --- G. memory (allocation helpers used by the proposed patches) -----------
add("G1-empty-refuses-absurd-count", "check.empty", MemoryError,
    ("Unable to allocate", f"({8 * 2**60} bytes)", "workspace"),
    ("the workspace", 2**60, np.float64))
add("G1-empty-refuses-overflowing-count", "check.empty", MemoryError,
    f"({4 * 10**30} bytes)", ("x", 10**30, np.float32))


def _ids(rows):
    return [r.id for r in rows]


assert len(set(_ids(ROWS))) == len(ROWS), "row ids must be unique"


# ------------------------------------------------------------ the harness


def _call(row, net, d):
    args = [resolve(a, d, net) for a in row.args]
    kwargs = {k: resolve(v, d, net) for k, v in row.kwargs.items()}
    e = row.entry
    if e == "Network":
        fn = creg.Network
    elif e in ("fit", "predict", "predict_proba", "accuracy", "cost",
               "gradient", "save"):
        fn = getattr(net, e)
    elif e == "set_weights":
        def fn(value):
            net.weights[0] = value
    elif e == "set_biases":
        def fn(value):
            net.biases[0] = value
    elif e == "set_epochs_trained":
        def fn(value):
            net.epochs_trained = value
    elif e == "load":
        fn = creg.load
    elif e == "load_digits":
        fn = creg.datasets.load_digits
    elif e == "load_mnist":
        fn = creg.datasets.load_mnist
    elif e == "expand":
        fn = expand
    elif e == "check.empty":
        fn = check.empty
    else:  # pragma: no cover
        raise AssertionError(e)
    return fn, args, kwargs


def _net_state(net):
    return dict(
        params=net.params.tobytes(), params_dtype=net.params.dtype,
        params_id=id(net.params), epochs_trained=net.epochs_trained,
        sizes=net.sizes, hidden=net.hidden, output=net.output,
        cost=net.cost_name, init=net.init, seed=net.seed, dtype=net.dtype,
        views=all(np.shares_memory(w, net.params) for w in
                  list(net.weights) + list(net.biases)))


def _inputs(obj, found):
    """Every array-ish input reachable from args/kwargs."""
    if isinstance(obj, np.ndarray):
        found.append(("array", obj, obj.copy(), obj.dtype, obj.shape,
                      obj.strides, obj.flags.writeable))
    elif hasattr(obj, "toarray"):
        found.append(("sparse", obj, np.array(obj.toarray(), copy=True)))
    elif isinstance(obj, (list, tuple)):
        if isinstance(obj, list) and _plain(obj):
            found.append(("list", obj, copy.deepcopy(obj)))
        for item in obj:
            _inputs(item, found)
    elif isinstance(obj, dict):
        for item in obj.values():
            _inputs(item, found)
    return found


def _plain(obj):
    """Nested lists of Python scalars (X.tolist() and the like)."""
    return all(_plain(v) if isinstance(v, (list, tuple))
               else isinstance(v, (int, float, complex, str, type(None)))
               for v in obj)


def _assert_inputs_unchanged(found):
    for entry in found:
        kind, obj, before = entry[:3]
        if kind == "array":
            assert (obj.dtype, obj.shape, obj.strides,
                    obj.flags.writeable) == entry[3:], "input array changed"
            assert obj.tobytes() == before.tobytes(), "input values changed"
        elif kind == "sparse":
            assert np.array_equal(obj.toarray(), before, equal_nan=True)
        else:
            assert repr(obj) == repr(before), "input list changed"


def _params(row):
    return pytest.param(row, id=row.id)


@pytest.mark.parametrize("row", [_params(r) for r in ROWS])
def test_bad_input_is_refused_and_changes_nothing(row, tmp_path):
    d = Data(tmp_path)
    net = make_net(row.net, d)
    fn, args, kwargs = _call(row, net, d)
    state = _net_state(net)
    found = _inputs(args, [])
    _inputs(kwargs, found)
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert type(exc) is row.exc, (
        f"expected {row.exc.__name__}, got {type(exc).__name__}: {exc}")
    message = str(exc)
    assert not repeated_phrases(message), message
    for fragment in row.fragments:
        if isinstance(fragment, Re):
            assert re.search(fragment, message), (fragment, message)
        else:
            assert fragment in message, (fragment, message)
    assert _net_state(net) == state
    if row.id == "save-nan-weights":  # refused before touching the disk
        assert not os.path.exists(args[0])
    _assert_inputs_unchanged(found)
    if row.entry == "fit":  # still usable: no lock left held, same start
        net.fit(d.X, default_y(row.net, d), epochs=1, batch_size=5,
                shuffle=False, lr=0.5)
        twin = make_net(row.net, d)
        twin.fit(d.X, default_y(row.net, d), epochs=1, batch_size=5,
                 shuffle=False, lr=0.5)
        assert net.params.tobytes() == twin.params.tobytes()
    if row.entry in ("save", "load", "load_mnist"):
        leftovers = [p for p in tmp_path.rglob("*") if p.suffix == ".tmp"]
        assert not leftovers


def test_the_table_is_big_and_covers_every_entry_point():
    assert len(ROWS) >= 100
    entries = {r.entry for r in ROWS}
    assert {"Network", "fit", "predict", "predict_proba", "accuracy", "cost",
            "gradient", "save", "load", "load_digits",
            "load_mnist"} <= entries
    if expand is not None:
        assert "expand" in entries
    # every section of RELIABILITY.md A-D that applies has a row
    for prefix in ("A1-", "A2-", "A3-", "A4-", "A5-", "A8-", "A12-", "A13-",
                   "A14-", "A19-", "B1-", "B2-", "B4-", "B5-", "B7-", "B9-",
                   "B10-", "C1-", "C2-", "C4-", "C5-", "C6-", "C7-", "D-lr-",
                   "D-l2-", "D-l1-", "D-max_norm-", "D-dropout-",
                   "D-input_noise-", "D-batch_size-", "D-epochs-",
                   "D-n_threads-", "D-seed-", "C7-dtype-", "G1-"):
        assert any(r.id.startswith(prefix) for r in ROWS), prefix
    # NaN is never "in range": every float hyper-parameter has a NaN row
    for name in ("lr", "l2", "l1", "max_norm", "dropout", "input_noise",
                 "momentum"):
        assert f"D-{name}-nan" in _ids(ROWS), name


# ------------------------------------------------ accepted input variants


class NotAnArray:
    """Exposes only __array__ (sklearn's _NotAnArray)."""

    def __init__(self, data):
        self.data = data

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data, dtype=dtype)


def _gapped_columns(X):
    """X[:, ::2] of a twice-wider array whose gaps hold NaN: any read
    outside the view poisons the result (PyTorch's noncontiguous_like)."""
    wide = np.full((X.shape[0], 2 * X.shape[1]), np.nan)
    wide[:, ::2] = X
    return wide[:, ::2]


def _gapped_rows(X):
    tall = np.full((3 * X.shape[0], X.shape[1]), np.nan)
    tall[::3] = X
    return tall[::3]


def _reversed(X):
    return X[::-1].copy()[::-1]


def _misaligned(X):
    raw = bytearray(X.nbytes + 1)
    out = np.frombuffer(raw, np.float64, count=X.size, offset=1).reshape(
        X.shape)
    out[...] = X
    assert not out.flags.aligned
    return out


def _readonly(X):
    X = X.copy()
    X.flags.writeable = False
    return X


def _memmap(tmp_path):
    def make(X):
        path = tmp_path / f"X{X.shape[0]}x{X.shape[1]}.bin"
        np.ascontiguousarray(X, np.float64).tofile(path)
        return np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    return make


def _small_ints(X):
    return np.floor(X * 10)  # exactly representable in every dtype


# (id, variant(X or tmp-bound factory), values-as-float64 transform)
VARIANTS = [
    ("list-of-lists", lambda X: X.tolist(), None),
    ("tuple-of-tuples", lambda X: tuple(map(tuple, X.tolist())), None),
    ("object-array", lambda X: X.astype(object), None),
    ("not-an-array", NotAnArray, None),
    ("matrix", np.asmatrix, None),
    ("int32", lambda X: _small_ints(X).astype(np.int32), _small_ints),
    ("int64", lambda X: _small_ints(X).astype(np.int64), _small_ints),
    ("uint8", lambda X: _small_ints(X).astype(np.uint8), _small_ints),
    ("bool", lambda X: X > 0.5, lambda X: (X > 0.5).astype(np.float64)),
    ("float16", lambda X: X.astype(np.float16),
     lambda X: X.astype(np.float16).astype(np.float64)),
    ("float32", lambda X: X.astype(np.float32),
     lambda X: X.astype(np.float32).astype(np.float64)),
    ("longdouble", lambda X: X.astype(np.longdouble), None),
    ("fortran", np.asfortranarray, None),
    ("transposed-view", lambda X: X.T.copy().T, None),
    ("columns-::2-of-wider-nan-gaps", _gapped_columns, None),
    ("rows-::3-nan-gaps", _gapped_rows, None),
    ("negative-strides", _reversed, None),
    ("read-only", _readonly, None),
    ("memmap-r", "memmap", None),
    ("big-endian->f8", lambda X: X.astype(">f8"), None),
    ("misaligned", _misaligned, None),
]
try:
    import pandas
except ImportError:  # pragma: no cover - pandas is optional
    pandas = None
if pandas is not None:
    VARIANTS.append(("pandas-DataFrame", pandas.DataFrame, None))


def _run_all(net, X, y, Xv, yv):
    """Everything the API computes from (X, y): fit, then predictions."""
    hist = net.fit(X, y, epochs=2, batch_size=5, shuffle=False,
                   validation_data=(Xv, yv), n_threads=1, lr=0.5)
    return dict(
        params=net.params.tobytes(),
        eval_cost=hist.eval_cost,
        proba=net.predict_proba(X).tobytes(),
        predict=net.predict(X).tobytes(),
        accuracy=net.accuracy(X, y),
        cost=net.cost(X, y, l2=0.5, l1=0.1),
        gradient=[g.tobytes() for part in net.gradient(X, y) for g in part])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,variant,values", VARIANTS,
                         ids=[v[0] for v in VARIANTS])
def test_accepted_X_gives_the_contiguous_result(name, variant, values, dtype,
                                                tmp_path):
    d = Data(tmp_path)
    if variant == "memmap":
        variant = _memmap(tmp_path)
    clean = d.X if values is None else values(d.X)
    clean_v = d.Xv if values is None else values(d.Xv)
    X, Xv = variant(d.X), variant(d.Xv)
    found = _inputs((X, Xv), [])

    def net():
        return creg.Network([D, 5, 3], output="softmax",
                            cost="log_likelihood", dtype=dtype, seed=5,
                            hidden="sigmoid", init="normalized")
    got = _run_all(net(), X, d.y, Xv, d.yv)
    want = _run_all(net(), np.ascontiguousarray(clean, dtype),
                    d.y, np.ascontiguousarray(clean_v, dtype), d.yv)
    assert got == want
    _assert_inputs_unchanged(found)


Y_VARIANTS = [
    ("list", lambda y: y.tolist()),
    ("int32", lambda y: y.astype(np.int32)),
    ("uint8", lambda y: y.astype(np.uint8)),
    ("float-integral", lambda y: y.astype(np.float64)),
    ("float16-integral", lambda y: y.astype(np.float16)),
    ("object", lambda y: y.astype(object)),
    ("big-endian", lambda y: y.astype(">i8")),
    ("read-only", _readonly),
    ("negative-strides", _reversed),
    ("strided", lambda y: np.repeat(y, 2)[::2]),
    ("not-an-array", NotAnArray),
]


@pytest.mark.parametrize("name,variant", Y_VARIANTS,
                         ids=[v[0] for v in Y_VARIANTS])
def test_accepted_labels_give_the_same_result(name, variant, tmp_path):
    d = Data(tmp_path)
    y, yv = variant(d.y), variant(d.yv)
    found = _inputs((y, yv), [])

    def net():
        return creg.Network([D, 5, 3], output="softmax",
                            cost="log_likelihood", dtype="float64", seed=5,
                            hidden="sigmoid", init="normalized")
    assert _run_all(net(), d.X, y, d.Xv, yv) == \
        _run_all(net(), d.X, d.y, d.Xv, d.yv)
    _assert_inputs_unchanged(found)


@pytest.mark.parametrize("layout", ["fortran", "gapped", "read-only",
                                    "one-hot-ints", "list", "float32"])
def test_accepted_target_matrices_give_the_same_result(layout, tmp_path):
    d = Data(tmp_path)
    Y = np.eye(3)[d.y]
    variant = {"fortran": np.asfortranarray, "gapped": _gapped_columns,
               "read-only": _readonly,
               "one-hot-ints": lambda Y: Y.astype(np.int8),
               "list": lambda Y: Y.tolist(),
               "float32": lambda Y: Y.astype(np.float32)}[layout]
    Yv = np.eye(3)[d.yv]

    def net():
        return creg.Network([D, 5, 3], output="softmax",
                            cost="log_likelihood", dtype="float64", seed=5,
                            hidden="sigmoid", init="normalized")
    assert _run_all(net(), d.X, variant(Y), d.Xv, variant(Yv)) == \
        _run_all(net(), d.X, Y, d.Xv, Yv)


def test_labels_and_their_one_hot_matrix_agree(tmp_path):
    d = Data(tmp_path)

    def net():
        return creg.Network([D, 5, 3], output="softmax",
                            cost="log_likelihood", dtype="float32", seed=5,
                            hidden="sigmoid", init="normalized")
    assert _run_all(net(), d.X, d.y, d.Xv, d.yv) == \
        _run_all(net(), d.X, np.eye(3)[d.y], d.Xv, np.eye(3)[d.yv])


@pytest.mark.parametrize("case", ["1-sample", "1-feature", "one-class",
                                  "batch-larger-than-n", "n_threads--1",
                                  "numpy-int-sizes", "sizes-array",
                                  "lr-numpy-float", "column-target-1-output",
                                  "bool-target-1-output", "soft-labels"])
def test_accepted_edge_cases_train_to_finite_weights(case, tmp_path):
    """A6, A7, B8, D: edge cases that must work (not crash, not refuse)."""
    d = Data(tmp_path)
    sizes, kw, fit_kw = [D, 5, 3], dict(output="softmax"), dict(lr=0.5)
    X, y = d.X, d.y
    if case == "1-sample":
        X, y = d.X[:1], d.y[:1]
    elif case == "1-feature":
        sizes, X = [1, 5, 3], d.X[:, :1]
    elif case == "one-class":
        y = np.zeros(N, int)
    elif case == "batch-larger-than-n":
        fit_kw = dict(batch_size=10 * N, lr=0.5)
    elif case == "n_threads--1":
        fit_kw = dict(n_threads=-1, lr=0.5)
    elif case == "numpy-int-sizes":
        sizes = [np.int64(D), np.int32(5), np.uint8(3)]
    elif case == "sizes-array":
        sizes = np.array([D, 5, 3])
    elif case == "lr-numpy-float":
        fit_kw = dict(lr=np.float32(0.5), l2=np.float64(0.1))
    elif case in ("column-target-1-output", "bool-target-1-output"):
        sizes, kw = [D, 5, 1], dict(output="sigmoid")
        y = (d.y == 1)[:, None].astype(float) if case.startswith("column") \
            else d.y == 1
    elif case == "soft-labels":
        y = np.full((N, 3), 1 / 3)
    net = creg.Network(sizes, hidden="sigmoid", init="normalized", **kw)
    assert net.sizes == (D if case != "1-feature" else 1, 5, sizes[-1])
    assert all(type(s) is int for s in net.sizes)
    net.fit(X, y, epochs=2, **fit_kw)
    assert net.epochs_trained == 2
    assert np.isfinite(net.params).all()
    assert net.predict(X).shape == (len(X),)


def test_one_class_predicts_that_class(tmp_path):
    """B8: a single class present trains and then predicts that class."""
    d = Data(tmp_path)
    net = creg.Network([D, 5, 3], output="softmax", cost="log_likelihood",
                       seed=0, hidden="sigmoid", init="normalized")
    net.fit(d.X, np.full(N, 2), epochs=30, lr=1.0)
    assert (net.predict(d.X) == 2).all()


def test_advice_fits_the_network_it_is_given_for():
    # a column y of a linear network was told to be class labels of shape
    # (n,), which it then refused; a float64 network to use float64
    X = np.zeros((8, 4))
    with pytest.raises(ValueError, match="1 columns, but the network has "
                       "3 outputs$"):
        creg.Network([4, 5, 3], output="linear").fit(X, np.zeros((8, 1)),
                                                     epochs=1)
    net = creg.Network([4, 3, 2], dtype="float64", seed=0)
    net.weights[0][...] = 1e300
    with pytest.raises(ValueError, match=r"StandardScaler\)$"):
        net.predict_proba(np.full((2, 4), 1e10))


def test_n_threads_negative_counts_back_from_the_cpus(tmp_path):
    cpus = check._usable_cpus()
    assert check.n_threads(-1) == cpus
    if cpus > 1:
        assert check.n_threads(-2) == cpus - 1
    # past them, one, as scikit-learn's and joblib's counts give
    assert check.n_threads(-cpus - 1) == check.n_threads(-10**6) == 1


def test_batch_size_larger_than_n_warns_and_clips(tmp_path):
    d = Data(tmp_path)
    net = creg.Network([D, 5, 3], output="softmax", cost="log_likelihood",
                       hidden="sigmoid", init="normalized")
    with pytest.warns(UserWarning, match="It is going to be clipped"):
        net.fit(d.X, d.y, epochs=1, batch_size=100, lr=0.5)


@pytest.mark.parametrize("what", ["X", "y"])
def test_inputs_aliasing_the_parameters_are_copied(what):
    """A22: X (or Y) that is a view of net.params must train like a copy,
    because fit overwrites params while it reads X."""
    def net():
        return creg.Network([D, 5, 4], output="linear", cost="quadratic",
                            dtype="float64", seed=2,
                            hidden="sigmoid", init="normalized")
    a, b = net(), net()
    view = a.params[:8 * D].reshape(8, D)
    rng = np.random.default_rng(0)
    X = view if what == "X" else rng.random((8, D))
    Y = view if what == "y" else rng.random((8, 4))
    Xc, Yc = np.array(X), np.array(Y)
    a.fit(X, Y, epochs=3, batch_size=3, lr=0.5, shuffle=False)
    b.fit(Xc, Yc, epochs=3, batch_size=3, lr=0.5, shuffle=False)
    assert a.params.tobytes() == b.params.tobytes()


def test_validation_copies_unaligned_and_aliasing_inputs():
    """The C kernels get aligned, C-contiguous, native-order buffers, and
    never one that shares memory with a buffer the caller will write."""
    X = _misaligned(np.arange(12.0).reshape(3, 4))
    out = check.features(X, np.dtype("float64"), 4)
    assert out.flags.aligned and out.flags.c_contiguous
    assert np.array_equal(out, X)
    big = check.features(np.arange(8.0).reshape(2, 4).astype(">f8"),
                         np.dtype("float64"), 4)
    assert big.dtype.isnative and big.dtype == np.float64
    params = np.arange(16.0)
    view = params.reshape(4, 4)
    assert check.features(view, np.dtype("float64"), 4) is not None
    copied = check.features(view, np.dtype("float64"), 4, avoid=params)
    assert not np.shares_memory(copied, params)
    untouched = np.zeros((2, 4))
    assert check.features(untouched, np.dtype("float64"), 4,
                          avoid=params) is untouched  # no needless copy


# --------------------------------------------- G. allocation in a subprocess

_RLIMIT_SCRIPT = textwrap.dedent(r"""
    import json, resource, sys
    import numpy as np
    import creg

    def vm_size():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024

    head = 300 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (vm_size() + head, vm_size() + head))
    out = {}

    def attempt(key, fn):
        try:
            fn()
            out[key] = ["ok", ""]
        except BaseException as exc:
            out[key] = [type(exc).__name__, str(exc)]

    # float32 parameters of 404 MB: refused before allocating
    attempt("params", lambda: creg.Network([1000, 100000, 10]))
    # float64 parameters of 404 MB (float32's 202 MB would fit): malloc fails
    attempt("params64", lambda: creg.Network([1000, 50000, 10],
                                             dtype="float64"))
    # small network, workspace of a 30000-row batch (1.8 GB): fit refuses it
    net = creg.Network([50, 3000, 10], hidden="sigmoid", output="softmax",
                       init="normalized", seed=0)
    before = net.params.copy()
    X = np.zeros((30000, 50), np.float32)
    y = np.zeros(30000, np.int64)
    attempt("fit_ws", lambda: net.fit(X, y, epochs=1, batch_size=30000,
                                      n_threads=1))
    out["fit_ws_unchanged"] = bool(np.array_equal(net.params, before)
                                   and net.epochs_trained == 0)
    # and afterwards everything still works
    small = creg.Network([4, 5, 3], hidden="sigmoid", output="softmax",
                         init="normalized")
    small.fit(np.random.default_rng(0).random((12, 4)),
              np.arange(12) % 3, epochs=2, lr=0.5, n_threads=1)
    out["after"] = bool(np.isfinite(small.params).all())
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def rlimit_results():
    if not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_AS and /proc/self/status are Linux-specific")
    proc = subprocess.run([sys.executable, "-c", _RLIMIT_SCRIPT],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1",
                               "MALLOC_ARENA_MAX": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_G1_parameters_beyond_the_address_space_limit(rlimit_results):
    kind, message = rlimit_results["params"]
    count = n_params([1000, 100000, 10])
    assert kind == "MemoryError", message
    assert f"({4 * count} bytes)" in message
    assert "RLIMIT_AS" in message
    assert rlimit_results["after"] is True


def test_G1_refused_fit_workspace_changes_nothing(rlimit_results):
    kind, message = rlimit_results["fit_ws"]
    assert kind == "MemoryError", message
    assert rlimit_results["fit_ws_unchanged"] is True


@pytest.mark.parametrize("key", ["params64", "fit_ws"])
def test_G1_failed_allocation_names_the_bytes(rlimit_results, key):
    kind, message = rlimit_results[key]
    assert kind == "MemoryError", message
    assert re.search(r"\(\d+ bytes\)", message), message


def test_G1_a_large_call_is_held_against_the_memory_available_now(
        monkeypatch):
    # What the kernel could hand out now is read for calls of 64 MiB and
    # more; smaller ones skip the read (a sixth of a small predict).
    monkeypatch.setattr(check, "_available_now", lambda: 32 * 2**20)
    count = check.n_params([1000, 20000, 10])  # 80.9 MB in float32
    with pytest.raises(MemoryError, match="the memory available now") as info:
        creg.Network([1000, 20000, 10])
    assert f"({4 * count} bytes)" in str(info.value)

    def unread():
        raise AssertionError("read for a small call")
    monkeypatch.setattr(check, "_available_now", unread)
    net = creg.Network([784, 30, 10], seed=0)
    X = np.zeros((1000, 784), np.float32)
    net.fit(X, np.arange(1000) % 10, epochs=1, n_threads=1)
    assert net.predict(X).shape == (1000,)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_outputs_that_overflow_for_finite_inputs_raise(sparse):
    # RELIABILITY A3: finite float32 inputs whose products overflow inside
    # the network gave rows of NaN probabilities (and class 0) silently
    X, y = creg.datasets.load_digits(dtype="float32")
    net = creg.Network([64, 30, 10], seed=0)
    net.fit(X[:500], y[:500], epochs=2, n_threads=1)
    if sparse:  # most weights zero: predict takes the sparse pass
        for w in net.weights:
            w[np.abs(w) < np.quantile(np.abs(w), 0.8)] = 0
    big = X[:64] * 3e38
    assert np.isfinite(big).all()
    for call in (net.predict_proba, net.predict):
        with pytest.raises(ValueError, match=r"^X: the network's outputs "
                           r"overflow float32 .*too large .*largest \|X\| "
                           r"3e\+38"):
            call(big)
    # cost and accuracy report what they find (their contract,
    # test_boundary_properties): no error; NaN, not the class 0 that NaN
    # outputs were counted as (an accuracy of 0.1 here, 1.0 for y of 0s)
    assert not np.isfinite(net.cost(big, y[:64]))
    assert np.isnan(net.accuracy(big, y[:64]))
    assert np.isnan(net.accuracy(big, np.zeros(64, int)))
    # and the same network on the same rows at their own scale is fine
    assert np.isfinite(net.predict_proba(X[:64])).all()
    # so do weights a user set that large
    net.weights[0][...] = 1e38
    with pytest.raises(ValueError, match=r"largest \|weight\| 1e\+38"):
        net.predict_proba(X[:64])


@pytest.mark.parametrize("attribute, value, fragment", [
    ("hidden", "softmax", "hidden must be one of"),
    ("output", "relu", "output must be one of"),
    ("cost_name", "hinge", "cost must be one of"),
    ("seed", -5, "seed must be in [0, 2**63)"),
])
def test_settings_assigned_after_construction_are_checked(attribute, value,
                                                          fragment):
    # plain attributes: net.hidden = "softmax" trained a softmax hidden
    # layer, net.seed = -5 met Cython's "can't convert negative value"
    X, y = creg.datasets.load_digits()
    net = creg.Network([64, 10, 10], seed=0)
    before = net.params.copy()
    setattr(net, attribute, value)
    with pytest.raises(ValueError, match=re.escape(fragment)):
        net.fit(X[:100], y[:100], epochs=1)
    assert np.array_equal(net.params, before)
    if attribute != "seed":  # predict draws nothing
        with pytest.raises(ValueError, match=re.escape(fragment)):
            net.predict(X[:5])


def test_a_softmax_of_one_unit_assigned_after_construction_is_refused():
    """Network([3, 4, 1], output="softmax") is refused; the same settings
    assigned since gave outputs of 1.0 and a cost of 0."""
    net = creg.Network([3, 4, 1], output="sigmoid", seed=0)
    net.output, net.cost_name = "softmax", "log_likelihood"
    before = net.params.copy()
    for call in (lambda: net.predict_proba(np.ones((2, 3))),
                 lambda: net.fit(np.ones((5, 3)), np.ones((5, 1)), epochs=1)):
        with pytest.raises(ValueError, match="softmax output needs at "
                           "least 2 units"):
            call()
    assert np.array_equal(net.params, before)


def _overflowing_relu_net():
    """Layer 2 overflows float32 to inf, layer 3 meets inf - inf = NaN;
    relu(NaN) was 0, so every row came out a finite softmax(0, 0, 0)."""
    net = creg.Network([2, 2, 2, 2, 3], hidden="relu", output="softmax",
                       dtype="float32", seed=0)
    for W, values in zip(net.weights, ([[1e20, 1e20], [1e20, 1e20]],
                                       [[1e20, 0], [1e20, 0]],
                                       [[1, -0.5], [-0.5, 1]],
                                       [[1e-40, 0], [0, 1e-40], [0, 0]])):
        W[...] = values
    for b in net.biases:
        b[...] = 0
    return net


def test_a_hidden_relu_overflow_is_refused_not_hidden():
    X, y = np.ones((40, 2), np.float32), np.zeros(40, int)
    with pytest.raises(ValueError, match="outputs overflow float32"):
        _overflowing_relu_net().predict_proba(X)
    assert np.isnan(_overflowing_relu_net().cost(X, y))  # what it finds
    # at every batch size (the step kernels skip rows of zero deltas
    # from 16 rows up, where 0 * inf would have made the weights NaN)
    for batch_size in (1, 16, 32):
        with pytest.raises(creg.DivergenceError):
            _overflowing_relu_net().fit(X, y, epochs=1, lr=0.1,
                                        batch_size=batch_size)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_every_query_refuses_weights_that_are_not_finite(bad):
    # gradient returned 630 NaNs for one NaN weight, where cost refused
    X, y = creg.datasets.load_digits(dtype="float32")
    net = creg.Network([64, 10, 10], seed=0)
    net.weights[1][2, 3] = bad
    for query in (net.predict_proba, net.predict,
                  lambda X: net.cost(X, y[:20]),
                  lambda X: net.accuracy(X, y[:20]),
                  lambda X: net.gradient(X, y[:20])):
        with pytest.raises(ValueError, match=re.escape(
                "net.weights[1] contains NaN or infinity")):
            query(X[:20])


@pytest.mark.parametrize("change, fragment", [
    (lambda net: setattr(net, "seed", -1), "seed must be in [0, 2**63)"),
    (lambda net: setattr(net, "seed", 2**64), "seed must be in [0, 2**63)"),
    (lambda net: net.weights[0].__setitem__((0, 0), np.nan),
     "net.weights[0] contains NaN or infinity"),
])
def test_settings_a_callback_changes_are_checked_as_before_fit(change,
                                                               fragment):
    """A seed set by an lr_schedule met Cython's OverflowError; a NaN
    weight was blamed on training ('diverged') and kept."""
    X, y = creg.datasets.load_digits(dtype="float32")
    net = creg.Network([64, 10, 10], seed=0)

    def schedule(epoch, history):
        if epoch == 1:
            change(net)
        return 0.1
    with pytest.raises(ValueError, match=re.escape(fragment)):
        net.fit(X[:100], y[:100], epochs=3, lr_schedule=schedule)
    assert net.epochs_trained == 1


def test_pandas_missing_value_in_x_is_a_nan():
    """pd.NA in a nullable-dtype frame was a TypeError about 'NAType';
    np.nan in the same frame is 'Input X contains NaN.'"""
    pd = pytest.importorskip("pandas")
    X, y = creg.datasets.load_digits()
    frame = pd.DataFrame(X[:50]).astype("Float64")
    frame.iloc[2, 3] = pd.NA
    net = creg.Network([64, 8, 10], seed=0)
    for call in (lambda: net.fit(frame, y[:50], epochs=1),
                 lambda: net.predict(frame),
                 lambda: creg.expand(frame, (8, 8))):
        with pytest.raises(ValueError, match=r"^Input X contains NaN\.$"):
            call()


def test_a_seed_an_early_stopping_score_sets_is_checked():
    X, y = creg.datasets.load_digits(dtype="float32")
    net = creg.Network([64, 10, 10], seed=0)

    def score(network):
        network.seed = -1
        return 0.5
    with pytest.raises(ValueError, match=re.escape("seed must be in")):
        net.fit(X[:100], y[:100], epochs=3,
                early_stopping=creg.EarlyStopping(None, score=score))


def test_finite_inputs_whose_sum_overflows_are_accepted():
    # _check_finite sums X in one pass; finite values near the dtype's
    # largest overflow that sum, and must still pass (without a warning):
    # what stops them is the network's own overflow, named as such.
    net = creg.Network([3, 4, 2], dtype="float32", seed=0)
    X = np.full((5, 3), 3e38, np.float32)
    X[0, 0] = -3e38
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="outputs overflow float32") \
                as info:
            net.predict_proba(X)
    assert "NaN or infinity" not in str(info.value)
    X[4, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        net.predict(X)
    X[4, 2] = -np.inf
    X[3, 1] = np.inf  # inf - inf: the sum is NaN, the input has no NaN
    with pytest.raises(ValueError, match="infinity"):
        net.predict(X)
