"""Network: owns the flat parameter buffer, validates, and orchestrates.

Everything numerical happens in C (creg._core): this module checks input
once, owns the buffers, runs the epoch loop in chunks of mini-batches (so
Ctrl-C is honoured between chunks), and keeps the history.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import threading
import time
import weakref
from types import MappingProxyType
from typing import (TYPE_CHECKING, Any, Callable, Final, Optional, Sequence,
                    TypedDict, TypeVar, Union, cast)

import numpy as np
import numpy.typing as npt

from creg import (_accuracy, _core, _interrupt, _sparse,
                  _validation as check, _warnings)
from creg._descriptors import NetSpec, Noise, StepRule
from creg._epoch_table import EpochTable
from creg._errors import DivergenceError
from creg._initializers import INIT_SCRATCH_BYTES, initialize_layer
from creg._progress import EpochProgress
from creg._summary import network_summary
from creg.early_stopping import EarlyStopping
from creg.history import History

if TYPE_CHECKING:  # creg.compress imports this module
    from creg.compress import Sparsity

ArrayLike = npt.ArrayLike
LrSchedule = Union[None, str, Callable[[int, History], float]]

_TRAIN_METRICS = ("running", "exact")



class NielsenSettings(TypedDict):
    """The keys of creg.NIELSEN, typed: **creg.NIELSEN type-checks as
    these four string arguments, not as a mapping into every one."""
    hidden: str
    output: str
    cost: str
    init: str


# Nielsen's network2 settings: creg.Network(sizes, **creg.NIELSEN).
NIELSEN: Final[NielsenSettings] = cast(NielsenSettings, MappingProxyType({
    "hidden": "sigmoid", "output": "sigmoid", "cost": "cross_entropy",
    "init": "normalized"}))

_EVAL_CHUNK_ROWS = 1024  # rows per forward pass when evaluating
_WATCH_ROWS = 512        # rows sampled for the checks before training
_CHUNK_SECONDS = 0.05    # one C call's target length: Ctrl-C latency
_KERAS_SCHEDULE = (
    "creg calls lr_schedule(epoch, history): epoch counts from 0 and "
    "history is this fit's History so far, not the lr Keras's "
    "LearningRateScheduler passes; the last epoch's lr is history.lr[-1] "
    "(history.lr is empty at epoch 0), e.g. lambda epoch, history: "
    "0.1 * 0.9 ** epoch")


# The table the last verbose fit of one epoch printed (anything else
# verbose ends it): its network (weakly held), the epoch its last row
# showed, its header and the stream it went to
_last_table: list = [None]


def _table_continues(net, header):
    """Whether a one-epoch fit of `net`, whose table has `header`, adds
    its row to the table printed last."""
    last = _last_table[0]
    return last is not None and last[0]() is net and last[1:] == (
        net.epochs_trained, header, id(sys.stdout))


def layer_views(sizes, params):
    """([weights (n_out, n_in)], [biases (n_out,)]) of each layer, views
    into flat `params` laid out as Network.params."""
    weights, biases, offset = [], [], 0
    for n_in, n_out in zip(sizes, sizes[1:]):
        weights.append(params[offset:offset + n_out * n_in].reshape(n_out,
                                                                    n_in))
        offset += n_out * n_in
        biases.append(params[offset:offset + n_out])
        offset += n_out
    return weights, biases


def row_norms_of(w):
    """Each row's Euclidean norm, in float64: the squares summed pairwise
    in w's dtype (for float32 twice as fast as summing them in float64;
    a relative error of about log2(n_in) eps, where a running sum drifts
    with the width), again in float64 where they overflow it.
    (Weights below 1e-19, whose float32 squares underflow, count as 0.)"""
    with np.errstate(over="ignore", under="ignore"):  # handled here
        squares = np.square(w).sum(axis=1)
    if not np.isfinite(squares).all():
        squares = np.einsum("ij,ij->i", w, w, dtype=np.float64)
    return np.sqrt(squares, dtype=np.float64)


class _ParameterList(list):
    """A list of views into the flat buffer, one per layer; item and slice
    assignment copy into the buffer, so ``net.weights[0] = W`` changes the
    network.  Its length is the number of layers: nothing adds or removes
    items."""

    def __setitem__(self, index, value):
        if not isinstance(index, slice):
            index = range(len(self))[index]  # IndexError, negatives
            self._assign([index], [value])
            return
        layers = range(len(self))[index]
        try:
            values = list(value)
        except TypeError:
            raise TypeError("a slice of layers takes a sequence of arrays; "
                            f"got {type(value).__name__}") from None
        if len(values) != len(layers):
            raise ValueError(
                f"assigning {len(values)} arrays to {len(layers)} layers: "
                "a network's list of layers cannot change length")
        self._assign(layers, values)

    def _assign(self, layers, values):
        # every value is checked before any layer changes
        checked = [self._checked(l, v) for l, v in zip(layers, values)]
        if len(checked) > 1:  # weights[:2] = weights[1], weights[0]
            checked = [v.copy() if any(np.may_share_memory(v, view)
                                       for view in self) else v
                       for v in checked]
        for l, v in zip(layers, checked):
            list.__getitem__(self, l)[...] = v

    def _checked(self, layer, value):
        view = list.__getitem__(self, layer)
        try:
            return check.parameter_values(f"layer {layer}'s new values",
                                          value, view.shape, view.dtype)
        except ValueError as exc:
            if value is not view:
                raise
            # weights[0] += x: the operator wrote into the layer before
            # this assignment of the layer to itself
            raise ValueError(
                f"{exc} An in-place operator wrote them into the network "
                "already: set finite values.") from None

    def _fixed_length(self, *args, **kwargs):
        raise TypeError("a network's list of layers cannot change length")

    def __reduce__(self):
        # copy, deepcopy and pickle give a plain list: of the same views
        # (copy.copy), or of arrays of their own
        return list, (list(self),)

    __delitem__ = append = extend = insert = pop = remove = clear = \
        __iadd__ = __imul__ = sort = reverse = _fixed_length


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _unhidden(hint: str) -> Callable[[_Method], _Method]:
    """Decorator: a method that an instance attribute may not hide;
    assigning to its name raises AttributeError(hint), {value} in hint
    being the value given."""
    def wrap(method: _Method) -> _Method:
        return cast(_Method, _Unhidden(method, hint))
    return wrap


class _Unhidden:
    """The descriptor of _unhidden."""

    def __init__(self, method: Callable[..., Any], hint: str) -> None:
        self._method, self._hint = method, hint
        functools.update_wrapper(cast(Any, self), method)

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self._method if obj is None else \
            self._method.__get__(obj, owner)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(self._hint.format(value=value))


class Network:
    """A fully-connected network trained by mini-batch SGD in C.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths: inputs, hidden layers..., outputs.
    hidden : {"relu", "tanh", "sigmoid"}, default="relu"
        Activation of every hidden layer.
    output : {"softmax", "sigmoid", "linear"}, default="softmax"
        Activation of the output layer.  A softmax needs at least two
        units; one sigmoid unit classifies two classes.
    cost : {"log_likelihood", "cross_entropy", "quadratic"}, optional
        log_likelihood needs a softmax output, cross_entropy a sigmoid
        output, quadratic a sigmoid or linear output.  By default, the
        output's own: log_likelihood for softmax, cross_entropy for
        sigmoid, quadratic for linear.
    init : {"glorot", "he", "normalized", "large"}, default="glorot"
        glorot: W ~ U(+-sqrt(6/(n_in+n_out))), b = 0 (scikit-learn's MLP);
        he: W ~ N(0, 2/n_in), b = 0; normalized: W ~ N(0, 1/n_in),
        b ~ N(0, 1) (Nielsen's); large: both N(0, 1).
    dtype : {"float32", "float64"}, default="float32"
    seed : int in [0, 2**63), default=0
        Seeds the initial weights and every epoch's shuffle.

    Attributes
    ----------
    sizes : tuple of int
        The layer widths (read-only: the parameters' shapes).
    hidden, output, init : str
        The settings given (checked again by each fit and predict, so one
        set since is used or refused there).
    cost_name : str
        The cost's name (``net.cost`` is the method that computes it).
    dtype : numpy.dtype
        float32 or float64, of the parameters and of every result
        (read-only).
    seed : int
        The seed the weights were drawn from and each epoch's draws use.

    Notes
    -----
    The defaults are those of ``creg.sklearn.CregClassifier``.  Nielsen's
    network2 (sigmoid units, a sigmoid output with the cross-entropy cost,
    normalized initial weights) is ``creg.Network(sizes, **creg.NIELSEN)``.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> net = creg.Network([64, 30, 10], seed=0)
    >>> [w.shape for w in net.weights]
    [(30, 64), (10, 30)]
    >>> hist = net.fit(X, y, epochs=5, lr=0.1, l2=1.0)
    >>> net.predict(X[:3]).shape
    (3,)
    """

    # Set by compress(); class defaults keep networks pickled before it
    # uncompressed.
    _input_columns: Optional[np.ndarray] = None
    _input_width: Optional[int] = None
    _fit_thread: Optional[int]  # the thread fit runs in (_new_fit_lock)
    _told_input_scale = False  # the InputScaleWarning was given (_watch)

    @check.keywords("Network")
    def __init__(self, sizes: Sequence[int], *, hidden: str = "relu",
                 output: str = "softmax", cost: Optional[str] = None,
                 init: str = "glorot", dtype: Any = "float32",
                 seed: int = 0) -> None:
        self._build(sizes, hidden, output, cost, init, dtype, seed)
        rng = np.random.default_rng(self.seed)
        for l in range(len(self.sizes) - 1):
            initialize_layer(rng, self.init, self._weights[l],
                             self._biases[l])

    @classmethod
    def _for_given_weights(cls, sizes, *, hidden, output, cost, dtype,
                           init="normalized", seed=0):
        """A network whose parameters the caller sets next (zeros until
        then): load, load_network2 and the converters, for which the
        constructor would draw random weights only to overwrite them."""
        net = cls.__new__(cls)
        net._build(sizes, hidden, output, cost, init, dtype, seed)
        net.params[...] = 0
        return net

    def _build(self, sizes, hidden, output, cost, init, dtype, seed):
        """Validate the settings and allocate the parameter buffer."""
        self.hidden = check.choice("hidden", hidden, check.HIDDEN)
        self.output = check.choice("output", output, check.OUTPUT)
        self.cost_name = check.choice(
            "cost", check.OUTPUT_COST[self.output] if cost is None else cost,
            check.COSTS)
        check.cost_fits_output(self.cost_name, self.output)
        self.init = check.choice("init", init, check.INITS)
        dtype = check.float_dtype(dtype)
        self.seed = check.seed(seed)
        # after dtype: the byte count uses the real item size
        self._sizes = check.sizes(sizes, _core.MAX_LAYERS, dtype=dtype)
        check.output_width(self.output, self.sizes[-1])
        self.epochs_trained = 0
        self._new_fit_lock()
        self._params = check.empty(
            f"the parameters of a network with sizes {list(self.sizes)}",
            _core.param_count(self._spec), dtype,
            extra=INIT_SCRATCH_BYTES)
        self._make_views()

    @property
    def dtype(self) -> np.dtype:
        """float32 or float64: the parameters' dtype, and every result's."""
        return self._params.dtype

    @dtype.setter
    def dtype(self, value) -> None:
        raise AttributeError(
            "a network's dtype is its parameters' and cannot be set; build "
            "Network(sizes, ..., dtype=...) and assign net.params to it")

    @property
    def sizes(self) -> tuple:
        """The layer widths: the shapes of the parameters."""
        return self._sizes

    @sizes.setter
    def sizes(self, value) -> None:
        raise AttributeError(
            "a network's sizes are its parameters' shapes and cannot be "
            "set; build Network(sizes, ...) for other widths")

    # ----------------------------------------------------------- buffers
    @property
    def _spec(self):
        """The settings every pass hands to C, checked again: they are
        plain attributes, and one set after construction (net.hidden =
        "softmax") must be refused, not trained."""
        hidden = check.choice("hidden", self.hidden, check.HIDDEN)
        output = check.choice("output", self.output, check.OUTPUT)
        cost = check.choice("cost", self.cost_name, check.COSTS)
        check.cost_fits_output(cost, output, ("net.cost_name", "net.output"))
        check.output_width(output, self.sizes[-1])
        return NetSpec(self.sizes, hidden, output, cost)

    def _make_views(self):
        weights, biases = layer_views(self.sizes, self.params)
        self._weights = _ParameterList(weights)
        self._biases = _ParameterList(biases)

    @property
    def params(self) -> np.ndarray:
        """Every weight and bias in one flat buffer; writable.

        Returns
        -------
        ndarray
            1-D, of the network's dtype: layer by layer, the weights (row
            by row) and then the biases; ``weights`` and ``biases`` are
            views into it.  Assigning ``net.params = values`` copies the
            values in (same size, finite in the dtype), so the views and
            the network keep one buffer.

        Examples
        --------
        >>> import creg
        >>> net, other = creg.Network([4, 3, 2]), creg.Network([4, 3, 2],
        ...                                                     seed=1)
        >>> net.params = other.params
        >>> bool((net.weights[0] == other.weights[0]).all())
        True
        """
        return self._params

    @params.setter
    def params(self, values) -> None:
        self._params[...] = check.parameter_values(
            "params", values, self._params.shape, self._params.dtype)

    @property
    def weights(self) -> list[np.ndarray]:
        """Per-layer weight views into the parameter buffer; writable.

        Returns
        -------
        list of ndarray
            ``weights[l]`` has shape (n_out, n_in): row j holds neuron j's
            incoming weights.  Writing into it (or assigning
            ``net.weights[l] = W`` or a slice of layers) changes the
            network; the list's length is fixed.

        Examples
        --------
        >>> import numpy as np, creg
        >>> net = creg.Network([4, 3, 2], seed=0)
        >>> net.weights[0].shape
        (3, 4)
        >>> net.weights[1] = np.zeros((2, 3))
        >>> float(abs(net.weights[1]).sum())
        0.0
        """
        return self._weights

    @property
    def biases(self) -> list[np.ndarray]:
        """Per-layer bias views into the parameter buffer; writable.

        Returns
        -------
        list of ndarray
            ``biases[l]`` has shape (n_out,).

        Examples
        --------
        >>> import creg
        >>> [b.shape for b in creg.Network([4, 3, 2]).biases]
        [(3,), (2,)]
        """
        return self._biases

    @property
    def input_columns(self) -> Optional[np.ndarray]:
        """The columns of the original X this network reads, or None.

        A network made by `compress` reads only the inputs the original
        used: ``input_columns[i]`` is the original column of its input
        ``i``.  `select` takes those columns out of a full-width X.

        Returns
        -------
        ndarray of int64, read-only, or None
            None for a network that reads every column of X.

        Examples
        --------
        >>> import creg
        >>> net = creg.Network([4, 3, 2], seed=0)
        >>> net.weights[0][:, 1] = 0
        >>> net.compress().input_columns
        array([0, 2, 3])
        """
        return self._input_columns

    @property
    def input_width(self) -> int:
        """How many columns `select` takes: the width of the original X
        for a compressed network, else ``sizes[0]``.

        Returns
        -------
        int

        Examples
        --------
        >>> import creg
        >>> net = creg.Network([4, 3, 2], seed=0)
        >>> net.weights[0][:, 1] = 0
        >>> small = net.compress()
        >>> small.sizes[0], small.input_width
        (3, 4)
        """
        return self.sizes[0] if self._input_width is None \
            else self._input_width

    def _set_input_columns(self, columns, width):
        """Makes this network read `columns` (increasing, in [0, width))
        of a width-`width` X; None for all of them."""
        if columns is None:
            self._input_columns = self._input_width = None
            return
        columns = np.array(columns, np.int64)
        if (columns.ndim != 1 or columns.size != self.sizes[0]
                or (columns.size and (columns[0] < 0
                                      or columns[-1] >= width))
                or np.any(np.diff(columns) <= 0)):
            raise ValueError(
                f"input_columns must be {self.sizes[0]} increasing column "
                f"numbers in [0, {width})")
        columns.flags.writeable = False
        self._input_columns, self._input_width = columns, int(width)

    def _features(self, X, name="X", **kwargs):
        """check.features for this network's width, with a hint for a
        compressed network given the original X."""
        hint = ""
        if self._input_columns is not None:
            hint = (f" This network was compressed from {self.input_width} "
                    f"inputs: pass net.select({name}), which takes the "
                    f"{self.sizes[0]} columns in net.input_columns.")
        return check.features(X, self.dtype, self.sizes[0], name,
                              hint=hint, **kwargs)

    def select(self, X: ArrayLike) -> np.ndarray:
        """The columns of X this network reads (`input_columns`).

        Parameters
        ----------
        X : array-like of shape (n, input_width)

        Returns
        -------
        ndarray of shape (n, sizes[0])
            X itself (as an array) for a network that was not compressed.

        Examples
        --------
        >>> import numpy as np, creg
        >>> net = creg.Network([4, 3, 2], seed=0)
        >>> net.weights[0][:, 1] = 0
        >>> small = net.compress()
        >>> X = np.arange(8.0).reshape(2, 4)
        >>> small.select(X)
        array([[0., 2., 3.],
               [4., 6., 7.]])
        """
        array = check._as_numeric_array("X", X)  # sparse X named
        if array.ndim != 2 or array.shape[1] != self.input_width:
            raise ValueError(
                f"X has shape {array.shape}; select takes the original "
                f"2-D X of {self.input_width} columns")
        if self._input_columns is None:
            return array
        # take, not X[:, columns]: that result is not C-contiguous, and
        # predict would copy it again
        return array.take(self._input_columns, axis=1)

    def sparsity(self) -> "Sparsity":
        """Where the weights are exactly zero, per layer.

        Returns
        -------
        creg.compress.Sparsity
            ``layers[l]`` holds layer l's ``zero_fraction``, its ``dead``
            neurons (all incoming weights zero), its ``unread`` neurons
            (all outgoing weights zero) and its ``unused_inputs``;
            ``unused_inputs`` and ``zero_fraction`` of the whole network
            too.  Its repr is a table.

        Examples
        --------
        >>> import creg
        >>> net = creg.Network([4, 3, 2], seed=0)
        >>> net.weights[0][1] = 0
        >>> net.sparsity().layers[0].dead
        array([1])
        """
        from creg.compress import sparsity
        return sparsity(self)

    def compress(self) -> "Network":
        """An equivalent smaller network, without what zeros leave unused.

        Hidden neurons whose incoming weights are all zero are removed
        and their constant output act(b) folded into the next layer's
        biases; hidden neurons whose outgoing weights are all zero are
        removed; inputs that no first-layer neuron uses are dropped.  The
        result reads ``select(X)``, the columns in `input_columns`, and
        predicts what this network predicts up to rounding (a reordered
        sum).  `save` and `creg.load` keep `input_columns`.

        Returns
        -------
        Network

        Examples
        --------
        >>> import numpy as np, creg
        >>> net = creg.Network([4, 3, 2], dtype="float64", seed=0)
        >>> net.weights[0][:, 1] = 0      # input 1 unused
        >>> net.weights[0][2] = 0         # neuron 2 dead
        >>> small = net.compress()
        >>> small.sizes
        (3, 2, 2)
        >>> X = np.random.default_rng(0).random((5, 4))
        >>> np.allclose(small.predict_proba(small.select(X)),
        ...             net.predict_proba(X), rtol=0, atol=1e-12)
        True
        """
        from creg.compress import compress
        with self._between_fits("compress"):
            return compress(self)

    @property
    def epochs_trained(self) -> int:
        """Epochs run so far over all fit calls.

        It keys each epoch's shuffle and noise streams, so a network saved
        and loaded continues exactly.  Settable to an int in [0, 2**63).

        Returns
        -------
        int

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> net = creg.Network([64, 10, 10])
        >>> _ = net.fit(X[:100], y[:100], epochs=2)
        >>> net.epochs_trained
        2
        """
        return self._epochs_trained

    @epochs_trained.setter
    def epochs_trained(self, value: int) -> None:
        self._epochs_trained = check.non_negative_int(
            "epochs_trained", value, below=check.EPOCH_LIMIT)

    def __getstate__(self):
        with self._between_fits("pickling (or copy.deepcopy)"):
            state = self.__dict__.copy()
            # pickle reads the buffer after this returns, when a fit may run
            state["_params"] = self._params.copy()
        for key in ("_fit_lock", "_fit_thread", "_weights", "_biases"):
            del state[key]
        state["params"] = state.pop("_params")  # the key of older pickles
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "epochs_trained" in state:  # pickled before it was a property
            state["_epochs_trained"] = state.pop("epochs_trained")
        params = state.pop("params")
        state.pop("dtype", None)  # an attribute before it was a property
        if "sizes" in state:  # likewise
            state["_sizes"] = state.pop("sizes")
        self.__dict__.update(state)
        # an unpickled array starts anywhere: back into an aligned buffer
        self._params = check.empty("the parameters", params.size,
                                   params.dtype)
        self._params[...] = params
        self._new_fit_lock()
        self._make_views()
        if self._input_columns is not None:  # checked and read-only again
            self._set_input_columns(self._input_columns, self._input_width)

    def __repr__(self):
        return (f"Network({list(self.sizes)}, hidden={self.hidden!r}, "
                f"output={self.output!r}, cost={self.cost_name!r}, "
                f"dtype={self.dtype.name!r})")

    def __str__(self):
        return network_summary(self)

    def summary(self, file: Any = None) -> None:
        """Print a table of the layers, as Keras's ``Model.summary()``.

        One row per layer: units, activation, weight shape (n_out x n_in,
        creg's layout) and parameters (weights and biases), then the
        total; above it the cost, dtype, seed and epochs trained.
        ``print(net)`` prints the same table.

        Parameters
        ----------
        file : writable text stream, optional
            Where to print; default sys.stdout.

        Examples
        --------
        >>> import creg
        >>> creg.Network([64, 30, 10], seed=0).summary()
        Network: cost log_likelihood, float32, seed 0, 0 epochs trained
        layer     units  activation  weights  params
        input        64
        hidden 1     30  relu        30 x 64   1,950
        output       10  softmax     10 x 30     310
        total: 2,260 parameters (8.8 KiB)
        """
        print(network_summary(self), file=sys.stdout if file is None
              else file)

    # --------------------------------------------------------- inference
    def _workspace(self, rows):
        # rows * (size of one row) in Python ints: C's ptrdiff_t product
        # could overflow for absurd rows x widths; check.empty refuses first.
        per_row = _core.workspace_size(self._spec, 1)
        return check.empty(f"the workspace for {rows} rows", rows * per_row,
                           self.dtype)

    def _eval_rows(self, rows, extra=0):
        """Rows for a workspace of passes over `rows` rows: at most
        _EVAL_CHUNK_ROWS, fewer where memory holds fewer beside `extra`
        bytes (a pass takes as many rows as its workspace holds)."""
        return check.rows_that_fit(min(rows, _EVAL_CHUNK_ROWS),
                                   self._workspace_row_bytes(), extra)

    def _eval_workspace(self, rows):
        """The workspace of passes over `rows` rows (_eval_rows)."""
        return self._workspace(self._eval_rows(rows))

    def _workspace_row_bytes(self):
        return _core.workspace_size(self._spec, 1) * self.dtype.itemsize

    def _train_scratch_size(self, batch_size, step):
        """The elements of train_batches' grads under the StepRule `step`:
        the gradient's place and, where the first layer trains in columns
        (small batches), room for its weights kept transposed while the C
        core trains."""
        return _core.train_scratch_size(self._spec, batch_size, step,
                                        self.dtype)

    def _train_scratch(self, batch_size, step):
        """train_batches' grads (_train_scratch_size)."""
        return check.empty("the gradient",
                           self._train_scratch_size(batch_size, step),
                           self.dtype)

    def _evaluate(self, X, Y, ws, n_threads, *, outputs=True,
                  per_label=False):
        """(output activations or None, _core.PassSums: the summed data cost
        and correct rows, or with per_label correct (row, unit) entries,
        against Y; zeros without Y, whether every row's first-layer sums
        were finite) for validated X, Y (checked finite or not).
        The passes take as many rows as `ws` holds (at most
        _EVAL_CHUNK_ROWS), so any workspace serves any number of rows."""
        out = None
        if outputs:
            shape = (X.shape[0], self.sizes[-1])
            check.check_allocation(f"outputs of shape {shape}",
                                   shape[0] * shape[1], self.dtype)
            out = np.empty(shape, self.dtype)
        spec = self._spec
        rows_in_ws = ws.shape[0] // _core.workspace_size(spec, 1)
        chunk = min(X.shape[0], _EVAL_CHUNK_ROWS, rows_in_ws)
        sums = _core.PassSums(per_label)
        finite = []

        def evaluate(first, count):  # whole chunks: the sums add in order
            rows = slice(first * chunk, (first + count) * chunk)
            finite.append(_core.evaluate(
                ws, self.params, X[rows], None if Y is None else Y[rows],
                out=None if out is None else out[rows], chunk_rows=chunk,
                net=spec, n_threads=n_threads, sums=sums))
        _in_timed_calls(evaluate, -(-X.shape[0] // chunk), 1)
        return out, sums, all(finite)

    def predict_proba(self, X: ArrayLike, *,
                      n_threads: Optional[int] = None) -> np.ndarray:
        """Output activations of X.

        Parameters
        ----------
        X : array-like of shape (n, sizes[0])
        n_threads : int, optional
            As in `fit`; the result does not depend on it.

        Returns
        -------
        ndarray of shape (n, sizes[-1])
            Softmax rows sum to 1: one distribution over the classes.  A
            sigmoid output gives each unit's own probability, independent
            of the others (its rows need not sum to 1): for multi-label
            targets, ``predict_proba(X) > 0.5`` are the predicted labels.
            A linear output gives the outputs themselves.

        Raises
        ------
        ValueError
            If X holds NaN or infinity, or if finite rows overflow the
            network's dtype on the way (X or the weights far too large):
            never rows of NaN.

        Notes
        -----
        Layers from the first on whose weights are at least half exact
        zeros (as L1 leaves them) are computed through their nonzero
        weights only, for 32 rows or more; the result equals the dense
        pass up to rounding (float32 1e-5, float64 1e-12 of the largest
        output).

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> net = creg.Network([64, 10, 10], output="softmax",
        ...                    cost="log_likelihood")
        >>> net.predict_proba(X[:2]).shape
        (2, 10)
        """
        # X's NaN/inf check: a sparse pass makes it on the rows it reads
        # anyway (a pass of its own cost a third of the sparse pass), the
        # dense pass on its first layer's sums, which a row with NaN or inf
        # makes non-finite (a scan of X took 13% of a 1,000-row predict of
        # [784, 30, 10]; _evaluate_finite).  Either way the error raised is
        # _features'.
        Xa = self._features(X, finite=False)
        nt = check.n_threads(n_threads)
        try:
            sparse = _sparse.forward(self, Xa, nt)
        except _sparse.NonFiniteInput:
            sparse = None
        if sparse is not None:
            self._check_finite_parameters()
            return self._finite_outputs(sparse, Xa)
        ws = self._eval_workspace(Xa.shape[0])
        return self._evaluate_finite(X, Xa, None, ws, nt)[0]

    def _evaluate_finite(self, X, Xa, Y, ws, n_threads, **options):
        """_evaluate of Xa, X validated but for NaN and inf
        (_features(X, finite=False)): the pass's first-layer sums tell
        whether X may hold them, and only then is it scanned, raising
        _features' error.  Weights set to NaN or inf are refused first:
        the passes skip zero inputs, so such a weight need not reach a sum
        (a scan of the weights, 4 us for [784, 30, 10]).  Outputs, where
        the pass returns them, go through _finite_outputs; `cost` and
        `accuracy`, which return none, report what they find."""
        self._check_finite_parameters()
        out, sums, finite = self._evaluate(Xa, Y, ws, n_threads, **options)
        if not finite and not check.all_finite(Xa):
            self._features(X)  # raises
        if out is not None:
            out = self._finite_outputs(out, Xa)
        return out, sums

    def _finite_outputs(self, out, Xa):
        """out, unless it overflowed although X and the weights are finite
        (checked before the pass): then the error names the scale of X and
        of the weights.  Never rows of NaN.  A first-layer sum that alone
        overflowed into a saturating activation gives that activation's
        limit, as the sparse pass does (whose rows' sums are not seen)."""
        if np.isfinite(out).all():
            return out
        largest_x = float(np.abs(Xa).max()) if Xa.size else 0.0
        largest_w = max(float(np.abs(w).max()) for w in self._weights)
        raise ValueError(
            f"X: the network's outputs overflow {self.dtype} for these rows: "
            f"X or the weights are too large (largest |X| {largest_x:.3g}, "
            f"largest |weight| {largest_w:.3g}); scale X to unit size (e.g. "
            "with sklearn's StandardScaler)"
            + ("" if self.dtype == np.float64 else " or use dtype='float64'"))

    def predict(self, X: ArrayLike, *,
                n_threads: Optional[int] = None) -> np.ndarray:
        """Class labels, or the outputs for a linear output.

        Parameters
        ----------
        X : array-like of shape (n, sizes[0])
        n_threads : int, optional
            As in `fit`.

        Returns
        -------
        ndarray
            Shape (n,) of int64 labels: the argmax of the outputs, or 0/1
            (output > 0.5) for one sigmoid unit; for a linear output, the
            outputs, shape (n, sizes[-1]).  For multi-label targets use
            ``predict_proba(X) > 0.5``.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> creg.Network([64, 10, 10]).predict(X[:4]).shape
        (4,)
        """
        outputs = self.predict_proba(X, n_threads=n_threads)
        if self.output == "linear":
            return outputs
        return _accuracy.class_labels(outputs)

    def accuracy(self, X: ArrayLike, y: ArrayLike) -> float:
        """Fraction of samples whose predicted class is right, or for
        multi-label targets, of labels predicted right.

        Parameters
        ----------
        X : array-like of shape (n, sizes[0])
        y : array-like
            Labels of shape (n,), or a target matrix (n, sizes[-1]).  The
            class of a row is its argmax (output > 0.5 for one sigmoid
            unit).  Targets of a sigmoid output with a row that has no
            entry or several entries above 0.5 are multi-label: every unit
            is a label of its own, and accuracy is the mean over all
            n * sizes[-1] entries of ``(output > 0.5) == (y > 0.5)``.

        Returns
        -------
        float
            In [0, 1]; NaN, as `cost`, where the outputs overflow (X or
            the weights far too large): they name no class.

        Raises
        ------
        ValueError
            For a linear output, which has no classes.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> net = creg.Network([64, 30, 10], seed=0)
        >>> _ = net.fit(X, y, epochs=5)
        >>> net.accuracy(X, y) > 0.9
        True
        """
        if self.output == "linear":
            raise ValueError("accuracy needs a sigmoid or softmax output; "
                             "this network's output is linear")
        Xa = self._features(X, finite=False)
        Ya = check.targets(y, Xa.shape[0], self.sizes[-1], self.output,
                          self.dtype)
        ws = self._eval_workspace(Xa.shape[0])
        per_label = _accuracy.is_multi_label(Ya, self.output, y)
        nt = check.n_threads(None)
        sums = self._evaluate_finite(X, Xa, Ya, ws, nt, outputs=False,
                                     per_label=per_label)[1]
        # the C pass counts NaN outputs as class 0; a cost that overflowed
        # (logits near the dtype's limit) may still have finite outputs
        if not math.isfinite(sums.cost) and not np.isfinite(
                self._evaluate(Xa, None, ws, nt)[0]).all():
            return math.nan
        return _accuracy.from_count(sums.correct, Ya, per_label)

    def _penalty(self, l2, l1):
        """l2/2 sum w^2 + l1 sum |w| over weights (never biases)."""
        total = 0.0
        if not (l2 or l1):
            return total
        for w in self._weights:
            # in float64: float32 weights near 2e19 square beyond its range
            r = w.ravel().astype(np.float64, copy=False)
            if l2:
                # not np.dot: BLAS sums in an order that varies with its
                # thread count, and costs are reduced in a fixed order
                total += _scaled(lambda v: 0.5 * l2 * np.square(v).sum(),
                                 r, 2)
            if l1:
                total += _scaled(lambda v: l1 * np.abs(v).sum(), r, 1)
        return total

    # the constructor's cost= is net.cost_name: net.cost = "..." would
    # hide this method and change nothing fit reads
    @_unhidden("net.cost is the method that computes the cost; the cost a "
               "network trains with is net.cost_name (net.cost_name = "
               "{value!r})")
    @check.keywords("cost")
    def cost(self, X: ArrayLike, y: ArrayLike, *, l2: float = 0.0,
             l1: float = 0.0, penalty_scale: str = "n") -> float:
        """Mean data cost over X plus the penalty terms.

        Parameters
        ----------
        X : array-like of shape (n, sizes[0])
        y : array-like
            As in `fit`.
        l2, l1 : float >= 0
            Penalty strengths.
        penalty_scale : {"n", "none"}
            "n": l2/(2n) sum w^2 + l1/n sum abs(w), with n = len(X);
            "none": l2/2 sum w^2 + l1 sum abs(w).  Biases are never
            penalised.

        Returns
        -------
        float

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float64")
        >>> net = creg.Network([64, 10, 10], dtype="float64")
        >>> net.cost(X, y, l2=5.0) > net.cost(X, y)
        True
        """
        Xa = self._features(X, finite=False)
        Ya = check.targets(y, Xa.shape[0], self.sizes[-1], self.output,
                          self.dtype)
        l2 = check.non_negative("l2", l2)
        l1 = check.non_negative("l1", l1)
        scale = _penalty_scale(penalty_scale, Xa.shape[0])
        ws = self._eval_workspace(Xa.shape[0])
        sums = self._evaluate_finite(X, Xa, Ya, ws, check.n_threads(None),
                                     outputs=False)[1]
        return sums.cost / Xa.shape[0] + self._penalty(l2 * scale, l1 * scale)

    def gradient(self, X: ArrayLike,
                 y: ArrayLike) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Batch-mean gradient of the data cost over all rows of X.

        No penalty term and no dropout or noise: the gradient that the
        finite-difference tests check.  Like `cost`, it refuses weights
        holding NaN or inf (ValueError) and reports what it finds: where
        the cost overflows (inputs on a scale that overflows the sums) the
        gradient is still computed, and holds NaN or inf only where
        backprop's own sums do.

        Parameters
        ----------
        X : array-like of shape (n, sizes[0])
        y : array-like
            As in `fit`.

        Returns
        -------
        (list of ndarray, list of ndarray)
            dW and db, shaped like `weights` and `biases`.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float64")
        >>> dW, db = creg.Network([64, 10, 10], dtype="float64").gradient(
        ...     X[:20], y[:20])
        >>> dW[0].shape, db[1].shape
        ((10, 64), (10,))
        """
        Xa = self._features(X)
        Ya = check.targets(y, Xa.shape[0], self.sizes[-1], self.output,
                          self.dtype)
        self._check_finite_parameters()
        grads = check.empty("the gradient", self.params.size, self.dtype)
        _core.gradient(grads, self._workspace(Xa.shape[0]), self.params, Xa,
                       Ya, self._spec, check.n_threads(None))
        return layer_views(self.sizes, grads)

    # ---------------------------------------------------------- training
    @check.keywords("fit")
    def fit(self, X: ArrayLike, y: ArrayLike, *, epochs: int = 30,
            batch_size: int = 10, lr: float = 0.1, l2: float = 0.0,
            l1: float = 0.0, penalty_scale: str = "n",
            l1_method: str = "prox", max_norm: Optional[float] = None,
            dropout: float = 0.0, input_noise: float = 0.0,
            momentum: float = 0.0,
            validation_data: Optional[tuple[ArrayLike, ArrayLike]] = None,
            early_stopping: Union[bool, EarlyStopping] = False,
            lr_schedule: LrSchedule = None, patience: Optional[int] = None,
            shuffle: bool = True, n_threads: Optional[int] = None,
            verbose: Union[bool, int] = False,
            train_metrics: str = "running") -> History:
        """Train by mini-batch SGD.

        For each layer, with G the batch-mean data gradient, lr = eta and
        l2' = l2/n, l1' = l1/n (penalty_scale="n", n = len(X)) or
        l2' = l2, l1' = l1 (penalty_scale="none"):

        1. g = G + l2' W   (l1_method="subgradient" adds l1' sign(W))
        2. V = momentum V - lr g   (V starts at zero on every fit call)
        3. W = W + V
        4. l1_method="prox": W = sign(W) max(abs(W) - lr l1', 0)  (exact zeros)
        5. max_norm=c: each row (a neuron's incoming weights) with norm > c
           is scaled to norm c.

        Biases take steps 2-3 with g = mean of the deltas; they are never
        decayed, thresholded or clamped.

        Parameters
        ----------
        X : array (n, sizes[0])
            Read in place where it is C-contiguous, aligned and of the
            network's dtype; anything else (float64 rows for a float32
            network, Fortran order as a DataFrame's values, a slice of
            columns) is copied into that form once per call.
        y : int labels (n,) or float targets (n, sizes[-1])
        epochs, batch_size : int
            The last batch of an epoch may be shorter; it is averaged over
            its own size.
        lr, l2, l1, penalty_scale, l1_method, max_norm, momentum
            The step rule above; lr defaults to 0.1, the rest to off.
        dropout : float in [0, 1)
            Probability of dropping each hidden unit during training;
            kept units are scaled by 1/(1 - dropout) (inverted dropout) and
            the same mask is used in the backward pass.  Inference is not
            affected.
        input_noise : float >= 0
            sigma of the N(0, sigma^2) noise added to every input element
            during training.  Both draw fresh noise every step from
            (seed, epoch, step, layer, index).
        validation_data : (X_val, y_val), optional
            Fills history.eval_cost and history.eval_accuracy.
        early_stopping : bool or EarlyStopping, default=False
            True: stop after `patience` epochs without a better validation
            accuracy (for a linear output, validation cost) and restore
            the best weights; an EarlyStoppingWarning names their epoch.
            Beside "halve_on_plateau", which ends the fit itself, True
            restores the best weights when it ends (it would otherwise
            stop at the first plateau, before any halving).  Needs
            validation_data.  A `creg.EarlyStopping` chooses the score
            and when the best weights come back; its patience counts from
            the best epoch, halvings or not.
        lr_schedule : None, "halve_on_plateau" or callable(epoch, history)
            "halve_on_plateau" halves lr after `patience` epochs without a
            better validation accuracy (or score of an EarlyStopping that
            has one) and stops once lr < lr0/128 (Nielsen's schedule).  A
            callable, called as ``lr_schedule(epoch, history)`` with the
            0-based epoch of this fit, returns that epoch's lr.
        patience : int, optional
            Epochs without a better validation accuracy (or score of an
            EarlyStopping that has one) that ``early_stopping=True`` and
            "halve_on_plateau" wait; 10 by default.  A
            `creg.EarlyStopping` has its own.
        shuffle : bool
            Draw each epoch's order from (seed, epoch); False keeps the
            given order.
        n_threads : int, optional
            OpenMP threads, at most 1024, or negative to count back from
            the usable CPUs (-1 all, -2 all but one, at least one); default
            from OMP_NUM_THREADS or the core count, at most the CPUs the
            process may run on, fewer while other processes hold cores;
            one in a forked child process.  Results are bitwise identical
            for any value.
        verbose : bool or int
            Print a table with one row per epoch: train (and validation)
            cost and accuracy, lr, the share of zero weights (with l1) and
            of clamped neurons (with max_norm), seconds; and progress
            inside an epoch that runs longer than about a second (through
            tqdm when installed: ``pip install "creg[progress]"``; else a
            line rewritten in place, on stderr).  An int is a level, as in
            Keras and scikit-learn: 0 is quiet, 1 and up print.
        train_metrics : {"running", "exact"}
            What ``history.train_cost`` and ``train_accuracy`` hold (both
            add the penalty terms at the weights that end the epoch).
            "running": the means over the epoch's training rows of the cost
            and of the correct predictions that each mini-batch's own
            forward pass computed, with the weights it met and its dropout
            and input noise, as Keras and scikit-learn report training
            loss; they cost nothing beyond the training.  "exact": the
            whole training set evaluated after the epoch (network2's
            ``monitor_training_cost``), a second forward pass over X;
            it equals ``net.cost(X, y, l2=l2, l1=l1)`` and
            ``net.accuracy(X, y)`` at that point (but where y_val alone
            is multi-label: train and validation accuracy then both
            count labels, where accuracy(X, y) counts rows).

        Returns
        -------
        History

        Warns
        -----
        InputScaleWarning
            When a column of X is far from unit scale.
        TrainingWarning
            When the training cost explodes, or an epoch ends at chance
            level while the cost does not fall.
        EarlyStoppingWarning
            When early stopping restores the weights of an earlier epoch.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> net = creg.Network([64, 30, 10], seed=0)
        >>> hist = net.fit(X[:1000], y[:1000], epochs=3, l2=1.0,
        ...                validation_data=(X[1000:], y[1000:]))
        >>> len(hist.eval_accuracy)
        3
        """
        # NaN and inf in X are found by the first epoch, which reads every
        # row anyway (_train); scanning X here would cost a third of an
        # epoch of Nielsen's network
        Xa = self._features(X, avoid=self.params, finite=False)
        Ya = check.targets(y, Xa.shape[0], self.sizes[-1], self.output,
                           self.dtype, avoid=self.params)
        epochs = check.positive_int("epochs", epochs)
        if epochs >= check.EPOCH_LIMIT - self.epochs_trained:
            raise ValueError(
                f"epochs={epochs} would take epochs_trained "
                f"({self.epochs_trained}) to 2**63 or beyond")
        batch_size = check.batch_size(batch_size, Xa.shape[0])
        lr = check.learning_rate(lr, self.dtype)
        scale = _penalty_scale(penalty_scale, Xa.shape[0])
        l2 = check.penalty_strength(
            "l2", check.non_negative("l2", l2), scale, self.dtype)
        l1 = check.penalty_strength(
            "l1", check.non_negative("l1", l1), scale, self.dtype)
        l1_method = check.choice("l1_method", l1_method, check.L1_METHODS)
        max_norm = (0.0 if max_norm is None
                    else check.positive("max_norm", max_norm))
        momentum = check.rate("momentum", momentum)
        dropout = check.rate("dropout", dropout)
        input_noise = check.input_noise(input_noise, self.dtype)
        lr_schedule = check.lr_schedule(lr_schedule)
        given = patience
        patience = check.patience(
            patience, isinstance(early_stopping, EarlyStopping), lr_schedule)
        stopper = (early_stopping if isinstance(early_stopping, EarlyStopping)
                   else _stopper(patience, lr_schedule)
                   if check.early_stopping(early_stopping) else None)
        check.patience_read(given, check.reads_patience(stopper, lr_schedule))
        if stopper is not None:
            stopper._check()  # set since it was made, say stop.score = 3
        validation = None
        per_label = _accuracy.is_multi_label(Ya, self.output, y)
        if validation_data is not None:
            X_val, Y_val, multi_label = self._validation_set(
                validation_data)
            validation = (X_val, Y_val)
            per_label = per_label or multi_label
        elif stopper is None or stopper.score is None:
            # a score callable drives early stopping and the plateaus
            check.needs_validation_data(early_stopping, lr_schedule)
        shuffle = check.boolean("shuffle", shuffle)
        verbose = check.verbose(verbose)
        train_metrics = check.choice("train_metrics", train_metrics,
                                     _TRAIN_METRICS)
        nt = check.n_threads(n_threads)
        check.seed(self.seed)  # an attribute: it may have been set since
        self._check_finite_parameters()
        if self._fit_thread == threading.get_ident():
            raise RuntimeError("fit is already running on this network from "
                               "its own callback (lr_schedule or a score)")
        with self._holding_fit_lock("fit is already running on this network "
                                    "in another thread"):
            try:
                self._fit_thread = threading.get_ident()
                rule = dict(lr=lr, momentum=momentum, l2=l2, l1=l1,
                            prox=l1_method == "prox",
                            max_norm=max_norm, dropout=dropout,
                            input_noise=input_noise)
                plan = dict(epochs=epochs, batch_size=batch_size,
                            shuffle=bool(shuffle), n_threads=nt,
                            verbose=bool(verbose), early_stopping=stopper,
                            lr_schedule=lr_schedule, patience=patience,
                            train_metrics=train_metrics, per_label=per_label,
                            watch=self._watch(Xa, Ya, rule, validation))
                with (stopper._claimed() if stopper is not None
                      else contextlib.nullcontext()):
                    return self._train(Xa, Ya, validation, rule, plan)
            finally:
                self._fit_thread = None

    @contextlib.contextmanager
    def _between_fits(self, what):
        """Holds off fit in other threads while `what` reads the weights
        (a file of weights no epoch had, and a stale epochs_trained, would
        be saved otherwise); fit's own callbacks, in fit's thread, may."""
        if self._fit_thread == threading.get_ident():
            yield
            return
        with self._holding_fit_lock(f"{what} cannot run while fit trains "
                                    "this network in another thread; call "
                                    "it after fit returns"):
            yield

    def _new_fit_lock(self):
        """A free fit lock: an RLock for its owner (see _holding_fit_lock),
        never re-entered: fit's own thread is told apart by _fit_thread
        first.  A forked child gets new ones (_NETWORKS)."""
        self._fit_lock = threading.RLock()
        self._fit_thread = None
        _NETWORKS.add(self)

    @contextlib.contextmanager
    def _holding_fit_lock(self, refusal):
        """Holds fit's lock for the block, waiting while a save holds it
        (it writes for a moment); RuntimeError(refusal) while a fit does.
        A Ctrl-C at any point, even just after the lock is taken, leaves
        it released: the lock is an RLock, which knows its owner."""
        try:
            if not self._fit_lock.acquire(blocking=False) and (
                    self._fit_thread is not None
                    or not self._fit_lock.acquire(timeout=600)):
                raise RuntimeError(refusal)
            yield
        finally:
            # no call before release: a Ctrl-C is raised as a call returns
            try:
                self._fit_lock.release()
            except RuntimeError:  # not taken: refused, or a Ctrl-C came first
                pass

    def _check_finite_parameters(self):
        """Weights a user set to NaN/inf are refused before training, not
        reported later as divergence."""
        if np.isfinite(self.params).all():
            return
        for kind, arrays in (("weights", self._weights),
                             ("biases", self._biases)):
            for l, a in enumerate(arrays):
                if not np.isfinite(a).all():
                    raise ValueError(
                        f"net.{kind}[{l}] contains NaN or infinity; set "
                        "finite values first")

    def _watch(self, X, Y, rule, validation=None):
        """Warn now about inputs on a bad scale; return what watches the
        epochs for a cost that explodes or stays at chance level.  All
        from 512 rows spread evenly through the data (about a millisecond
        for MNIST's size; the class shares from all of Y took 4 ms of C1's
        60 ms epoch): the scale of X's columns, the cost before training,
        the class shares and what predicting their mean costs, rough but
        only ever read together with a cost that did not fall."""
        rows = _watch_rows(X.shape[0])
        Xs, Ys = X[rows], Y[rows]
        # once a network: partial_fit's every chunk, or fit in a loop of
        # one epoch each, warned again (each chunk's numbers differ)
        scale = check.input_scale(Xs, X, warn=not self._told_input_scale)
        self._told_input_scale |= scale > _warnings.INPUT_SCALE_LIMIT
        penalty = self._penalty(rule["l2"], rule["l1"])
        cost = self._sample_cost(Xs, Ys) + penalty
        eval_cost = None
        if validation is not None:
            Xv, Yv = (a[_watch_rows(validation[0].shape[0])]
                      for a in validation)
            check.validation_scale(Xv, validation[0], scale)
            eval_cost = self._sample_cost(Xv, Yv) + penalty
        return _warnings.TrainingWatch(
            cost, check.chance_accuracy(Ys, self.output), scale,
            check.constant_cost(Ys, self.cost_name), self.epochs_trained,
            exact_chance=functools.partial(check.chance_accuracy, Y,
                                           self.output),
            l2=rule["l2"], l1=rule["l1"], initial_eval_cost=eval_cost)

    def _sample_cost(self, X, Y):
        """The mean data cost of a few rows (NaN where it overflows)."""
        # one thread: a team's start-up would cost more than these rows
        sums = self._evaluate(X, Y, self._eval_workspace(X.shape[0]), 1,
                              outputs=False)[1]
        return sums.cost / X.shape[0]

    def _validation_set(self, validation_data):
        """(X_val, Y_val, whether Y_val is multi-label: a row with no
        label or several), converted and checked."""
        X_val, y_val = check.validation_pair(validation_data)
        X_val = self._features(X_val, "X_val", avoid=self.params)
        Y_val = check.targets(y_val, X_val.shape[0], self.sizes[-1],
                              self.output, self.dtype, "y_val",
                              rows_of="X_val", avoid=self.params)
        return X_val, Y_val, _accuracy.is_multi_label(Y_val, self.output,
                                                      y_val)

    def _fit_bytes(self, n, bs, rule, plan):
        """Every byte a fit allocates beyond its converted data and its
        workspace: checked, with the workspace, in one sum before any of
        it is allocated."""
        item, P = self.dtype.itemsize, self.params.size
        copies = 2 + (rule["momentum"] > 0) + (plan["early_stopping"]
                                                 is not None)
        widest = max(w.size for w in self._weights)
        return (copies * P * item  # gradient, snapshot, velocity, best
                # the gradient's room for the first layer in columns
                + (self._train_scratch_size(bs, _step_rule(rule, rule["lr"]))
                   - P) * item
                + 8 * n  # the shuffled order
                + widest * (2 * item + 9))  # one layer's penalty and norms

    def _train(self, X, Y, validation, rule, plan):
        n, bs, nt = X.shape[0], min(plan["batch_size"], X.shape[0]), \
            plan["n_threads"]
        running = plan["train_metrics"] == "running"
        # the training batches, and the passes over the validation set
        # (and over X for exact metrics) in the chunks of predict and cost
        monitored = max(0 if running else n,
                        0 if validation is None else validation[0].shape[0])
        others = self._fit_bytes(n, bs, rule, plan)
        ws_rows = max(bs, self._eval_rows(monitored, extra=others))
        check.check_budget(
            f"fitting a network with sizes {list(self.sizes)} on {n} rows",
            others + ws_rows * self._workspace_row_bytes())
        ws = self._workspace(ws_rows)
        grads = self._train_scratch(bs, _step_rule(rule, rule["lr"]))
        snapshot = check.empty("the weights' snapshot", self.params.size,
                               self.dtype)
        velocity = check.empty("the momentum buffer",
                               self.params.size if rule["momentum"] else 1,
                               self.dtype)
        velocity[...] = 0
        order = np.empty(n, np.int64) if plan["shuffle"] else None
        n_batches = -(-n // bs)
        history = History(train_metrics=plan["train_metrics"])
        tracker = _Tracker(rule["lr"], plan, validation, self.dtype)
        # one meaning of accuracy for train and validation alike
        per_label = plan["per_label"]
        table = EpochTable(accuracy=self.output != "linear",
                           validation=validation is not None,
                           zero=rule["l1"] > 0, clamped=rule["max_norm"] > 0,
                           last_epoch=self.epochs_trained + plan["epochs"])
        # a loop of one-epoch fits (partial_fit) makes one table, where
        # a header a row would be noise; longer fits each print their own
        one_epoch, header = plan["epochs"] == 1, table.header()
        table.header_printed = one_epoch and _table_continues(self, header)
        spec, chunk = self._spec, 1
        stopper = plan["early_stopping"]
        # the user's code between epochs, which may set what fit checked
        callbacks = callable(plan["lr_schedule"]) or (
            stopper is not None and stopper.score is not None)
        for epoch in range(plan["epochs"]):
            lr = tracker.lr_for(epoch, history)
            if callbacks:  # lr_schedule(0, ...) ran before epoch 0 too
                check.seed(self.seed)
                self._check_finite_parameters()
                if (self.hidden, self.output, self.cost_name) != (
                        spec.hidden, spec.output, spec.cost):
                    raise ValueError(
                        "the network's hidden, output or cost changed during "
                        "fit (in its lr_schedule or score callback); fit "
                        "trains the network it started with: change them "
                        "between fits")
            step = _step_rule(rule, lr)
            noise = Noise(dropout=rule["dropout"],
                          input_noise=rule["input_noise"], seed=self.seed,
                          epoch=self.epochs_trained)
            sums = _core.PassSums(per_label) if running else None
            start = time.perf_counter()
            snapshot[...] = self.params
            if order is not None:
                _core.shuffle(order, self.seed, self.epochs_trained)
            batches = functools.partial(
                _core.train_batches, self.params, velocity, grads, ws, X, Y,
                order, batch_size=bs, net=spec, rule=step, noise=noise,
                n_threads=nt, sums=sums)
            progress = (EpochProgress(self.epochs_trained + 1, n_batches,
                                      start) if plan["verbose"] else None)
            try:
                chunk, diverged = self._epoch(
                    batches, n_batches, chunk, progress,
                    functools.partial(self._running_cost, sums, rule, bs, n))
            finally:
                if progress is not None:
                    progress.close()
            if diverged is not None:
                self._undo_epoch(snapshot, X, Y, diverged, history,
                                 plan["watch"].scale)
            seconds = time.perf_counter() - start
            # the epoch's last steps are costed only here
            diverged = self._record(history, X, Y, validation, ws, rule, lr,
                                    seconds, nt, sums, per_label)
            if diverged is not None:
                self._undo_epoch(snapshot, X, Y, diverged, history,
                                 plan["watch"].scale, validation, ws, nt)
            self.epochs_trained += 1
            if plan["verbose"]:
                table.print_epoch(self.epochs_trained, history)
                _last_table[0] = (weakref.ref(self), self.epochs_trained,
                                  header, id(sys.stdout)
                                  ) if one_epoch else None
            plan["watch"].epoch_ended(history)
            if tracker.should_stop(self, history):
                break
        restored = tracker.restore_best(history, self.params)
        if restored is not None:
            history.restored_epoch = restored
            _warnings.warn_restored(restored, history.epochs,
                                    _best_score(tracker.monitor, history),
                                    self.epochs_trained - history.epochs)
        return history

    def _epoch(self, batches, n_batches, chunk, progress, running_cost):
        """Runs the epoch's batches (batches(first_batch=, n_batches=):
        train_batches with the epoch's arguments bound) in calls of about
        _CHUNK_SECONDS, so Ctrl-C and the progress line are seen between
        them; any cut gives the same bits.  running_cost(done) is the
        progress line's cost.  Returns the next call's batches, and the
        FloatingPointError if training diverged (else None)."""
        try:
            chunk = _in_timed_calls(
                lambda first, count: batches(first_batch=first,
                                             n_batches=count),
                n_batches, chunk,
                None if progress is None
                else lambda done: progress.update(done, running_cost))
        except FloatingPointError as exc:
            # its traceback would hold the frame of _train, which holds it
            return chunk, exc.with_traceback(None)
        if not np.isfinite(self.params).all():
            return chunk, FloatingPointError("non-finite weights")
        return chunk, None

    def _undo_epoch(self, snapshot, X, Y, why, history, scale,
                    validation=None, ws=None, n_threads=1):
        """Puts back the weights that began a diverged epoch and raises:
        ValueError if X holds NaN or inf (the first epoch finds them, and
        this is the error predict or cost would raise), or if the
        `validation` pair given (where the costs after the epoch were not
        finite) overflows already with those weights, else
        DivergenceError carrying the history of the finite epochs."""
        self.params[...] = snapshot
        self._features(X)
        if validation is not None:
            X_val, Y_val = validation
            sums = self._evaluate(X_val, Y_val, ws, n_threads,
                                  outputs=False)[1]
            if not math.isfinite(sums.cost):
                raise ValueError(
                    f"X_val: the network's outputs overflow {self.dtype} for "
                    "these rows with the weights that began epoch "
                    f"{history.epochs + 1} of this fit (kept): X_val or the "
                    "weights are too large; scale X_val as X is scaled"
                    + ("" if self.dtype == np.float64
                       else ", or use dtype='float64'"))
        epoch = history.epochs + 1
        overall = ("" if self.epochs_trained + 1 == epoch else
                   f", the network's epoch {self.epochs_trained + 1}")
        # no local holds the error: its traceback holds this frame, and
        # that cycle kept the fit's copies of X alive until a collection
        raise DivergenceError(
            f"training diverged in epoch {epoch} of this fit{overall} "
            f"({why}); the network keeps the weights of the last finite "
            f"epoch. Lower lr{_or_mind(_warnings.unscaled_inputs(scale))}"
            f"{self._target_hint(Y)}.",
            history=history)

    def _target_hint(self, Y):
        """For a linear output whose targets are far from unit scale (the
        quadratic cost's gradient grows with them), how to scale them."""
        if self.output != "linear":
            return ""
        rms = check.largest_rms(Y)
        if not rms > _warnings.INPUT_SCALE_LIMIT:
            return ""
        return (f", or standardize the targets: a column of y has a "
                f"root-mean-square of {_warnings.rounded(rms)} "
                "(creg.sklearn.CregRegressor does, with scale_y=True)")

    def _running_cost(self, sums, rule, batch_size, n, done):
        """The running train_cost after `done` batches of batch_size rows
        out of n (NaN for exact metrics, which exist only after the
        epoch)."""
        rows = min(done * batch_size, n)
        if sums is None or rows == 0:
            return math.nan
        return sums.cost / rows + self._penalty(rule["l2"], rule["l1"])

    def _record(self, history, X, Y, validation, ws, rule, lr, seconds, nt,
                sums, per_label):
        """Appends the epoch to history; sums holds the running metrics of
        the training rows, or is None for the exact pass over X; per_label:
        accuracy counts (row, unit) entries (multi-label targets).  A
        non-finite cost (the epoch's last steps overflowed the outputs)
        appends nothing: returns why the epoch diverged, else None."""
        penalty = self._penalty(rule["l2"], rule["l1"])
        linear = self.output == "linear"
        if sums is None:
            sums = self._evaluate(X, Y, ws, nt, outputs=False,
                                  per_label=per_label)[1]
        passes = [(Y, sums, history.train_cost, history.train_accuracy)]
        if validation is not None:
            X_val, Y_val = validation
            passes.append((Y_val,
                           self._evaluate(X_val, Y_val, ws, nt,
                                          outputs=False,
                                          per_label=per_label)[1],
                           history.eval_cost, history.eval_accuracy))
        ends = [pass_sums.cost / targets.shape[0] + penalty
                for targets, pass_sums, _, _ in passes]
        for name, cost in zip(("training", "validation"), ends):
            if not math.isfinite(cost):
                return f"a non-finite {name} cost after the epoch"
        for (targets, pass_sums, costs, accs), cost in zip(passes, ends):
            costs.append(cost)
            accs.append(math.nan if linear else _accuracy.from_count(
                pass_sums.correct, targets, per_label))
        history.lr.append(lr)
        history.seconds.append(seconds)
        zeros = [int(np.count_nonzero(w == 0)) for w in self._weights]
        history.zero_fraction.append(
            sum(zeros) / sum(w.size for w in self._weights))
        history.layer_zero_fraction.append(
            [z / w.size for z, w in zip(zeros, self._weights)])
        row_norms = [row_norms_of(w) for w in self._weights]
        history.layer_norms.append(
            [float(np.sqrt(np.sum(r ** 2))) for r in row_norms])
        c = rule["max_norm"]
        history.clamped_fraction.append(
            sum(int(np.count_nonzero(r >= c * (1 - 1e-5))) for r in row_norms)
            / sum(r.size for r in row_norms) if c else 0.0)
        return None

    # ------------------------------------------------------- persistence
    def save(self, path: Union[str, os.PathLike[str]]) -> str:
        """Write the network atomically in creg's data-only format.

        A magic string, a JSON header, the raw parameters and a SHA-256 of
        all of it; no pickle.  The file is written to a temporary name and
        renamed, so a failed save leaves any old file intact.  Read it
        back with `creg.load`.

        Parameters
        ----------
        path : str or os.PathLike
            A file: an existing one keeps its permission bits, a symlink
            is followed, a FIFO, device or socket is refused
            (ValueError) and a directory too (IsADirectoryError).

        Returns
        -------
        str
            The path written.

        Examples
        --------
        >>> import os, tempfile, creg
        >>> net = creg.Network([4, 3, 2])
        >>> path = net.save(os.path.join(tempfile.mkdtemp(), "net.creg"))
        >>> bool((creg.load(path).params == net.params).all())
        True
        """
        from creg._persist import save_network
        with self._between_fits("save"):
            return save_network(self, path)

    def save_network2(self, path: Union[str, os.PathLike[str]]) -> str:
        """Write the network in Nielsen's network2.py JSON format.

        Only sigmoid layers with the cross_entropy or quadratic cost can be
        written; `creg.load_network2` reads it back.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        str
            The path written.

        Examples
        --------
        >>> import os, tempfile, creg
        >>> net = creg.Network([4, 3, 2], dtype="float64", **creg.NIELSEN)
        >>> path = net.save_network2(
        ...     os.path.join(tempfile.mkdtemp(), "n.json"))
        >>> creg.load_network2(path).sizes
        (4, 3, 2)
        """
        from creg.network2 import save_network2
        with self._between_fits("save_network2"):
            return save_network2(self, path)

    # ------------------------------------------------------------ interop
    def to_onnx(self, path: Union[str, os.PathLike[str]], *,
                output_activation: bool = True) -> str:
        """Write the inference network as an ONNX model (opset 13) and
        return the path written.

        Each layer is a ``Gemm`` (W in creg's (n_out, n_in) layout,
        ``transB=1``) followed by its activation node (``Sigmoid``,
        ``Tanh``, ``Relu``, ``Softmax(axis=-1)``, none for linear).  The
        graph takes ``"input"`` of shape (batch, sizes[0]) and returns
        ``"output"`` of shape (batch, sizes[-1]), batch dynamic, in the
        network's dtype (float32 or float64); the model passes
        ``onnx.checker.check_model``.  ``output_activation=False`` leaves
        out the output activation, so ``"output"`` holds the logits.
        Needs onnx: ``pip install "creg[onnx]"``.

        Parameters
        ----------
        path : str or os.PathLike
        output_activation : bool, default=True

        Returns
        -------
        str
            The path written.

        Examples
        --------
        >>> import creg
        >>> creg.Network([4, 3, 2]).to_onnx("net.onnx")  # doctest: +SKIP
        'net.onnx'
        """
        from creg.interop import to_onnx
        with self._between_fits("to_onnx"):
            return to_onnx(self, path, output_activation=output_activation)

    def to_torch(self) -> Any:
        """A ``torch.nn.Sequential`` computing ``predict_proba``:
        ``Linear`` + activation per layer (``Softmax(dim=-1)`` for a
        softmax output, no module for a linear one), in the network's
        dtype, with copies of the weights.  ``nn.Linear.weight`` has
        creg's layout, (n_out, n_in), so ``weight == net.weights[l]`` and
        ``bias == net.biases[l]`` exactly.  Needs torch.

        Returns
        -------
        torch.nn.Sequential

        Examples
        --------
        >>> import creg
        >>> creg.Network([4, 3, 2]).to_torch()  # doctest: +SKIP
        Sequential(
          (0): Linear(in_features=4, out_features=3, bias=True)
          (1): ReLU()
          (2): Linear(in_features=3, out_features=2, bias=True)
          (3): Softmax(dim=-1)
        )
        """
        from creg.interop import to_torch
        with self._between_fits("to_torch"):
            return to_torch(self)

    @classmethod
    def from_torch(cls, module: Any, *, cost: Optional[str] = None,
                   seed: int = 0) -> "Network":
        """A network with the weights (copied, dtype kept) of a
        ``torch.nn.Sequential`` of ``Linear`` layers, each followed by an
        activation: the same ``Sigmoid``, ``Tanh`` or ``ReLU`` after every
        hidden layer, and ``Sigmoid``, ``Softmax(dim=-1 or 1)`` or nothing
        (linear) after the last (a single Linear layer gets
        hidden="sigmoid", never applied).  ``Linear(bias=False)`` gets
        zero biases.
        Anything else (``Dropout`` included: pass ``dropout=`` to ``fit``
        instead; a subclass with its own ``forward``, a forward hook, an
        uninitialized ``LazyLinear``) is refused with a TypeError or
        ValueError naming the module and its position.  cost defaults to
        the output's own: log_likelihood for softmax, cross_entropy for
        sigmoid, quadratic for linear.  seed keys later fits' shuffles and
        noise.

        Parameters
        ----------
        module : torch.nn.Sequential
        cost : str, optional
        seed : int, default=0

        Returns
        -------
        Network

        Examples
        --------
        >>> import torch, creg  # doctest: +SKIP
        >>> model = torch.nn.Sequential(  # doctest: +SKIP
        ...     torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2),
        ...     torch.nn.Softmax(dim=-1))
        >>> creg.Network.from_torch(model)  # doctest: +SKIP
        Network([4, 3, 2], hidden='relu', output='softmax', ...)
        """
        from creg.interop import from_torch
        return from_torch(cls, module, cost=cost, seed=seed)

    def to_keras_weights(self) -> list[np.ndarray]:
        """Copies of the parameters as Keras ``Dense`` layers hold them,
        ``[kernel_0, bias_0, kernel_1, bias_1, ...]`` for
        ``model.set_weights``.  Keras computes ``x @ kernel + bias`` with
        kernel of shape (n_in, n_out), so ``kernel_l = net.weights[l].T``
        (C-contiguous) and ``bias_l = net.biases[l]``.

        Returns
        -------
        list of ndarray

        Examples
        --------
        >>> import creg
        >>> [w.shape for w in creg.Network([4, 3, 2]).to_keras_weights()]
        [(4, 3), (3,), (3, 2), (2,)]
        """
        from creg.interop import to_keras_weights
        with self._between_fits("to_keras_weights"):
            return to_keras_weights(self)

    @classmethod
    def from_keras_weights(cls, weights: Sequence[Any], *, hidden: str,
                           output: str, cost: Optional[str] = None,
                           seed: int = 0) -> "Network":
        """The inverse of ``to_keras_weights``: a network from ``Dense``
        weights ``[kernel_0, bias_0, ...]`` (``model.get_weights()``),
        each kernel (n_in, n_out) stored transposed as ``weights[l]``,
        in the kernels' dtype.  Keras does not carry creg's activation
        names, so hidden and output are given; cost defaults as in
        ``from_torch``.

        Parameters
        ----------
        weights : sequence of array-like
        hidden, output : str
            As in `Network`.
        cost : str, optional
        seed : int, default=0

        Returns
        -------
        Network

        Examples
        --------
        >>> import creg
        >>> net = creg.Network([4, 3, 2], hidden="tanh")
        >>> back = creg.Network.from_keras_weights(
        ...     net.to_keras_weights(), hidden="tanh", output="sigmoid")
        >>> bool((back.params == net.params).all())
        True
        """
        from creg.interop import from_keras_weights
        return from_keras_weights(cls, weights, hidden=hidden,
                                  output=output, cost=cost, seed=seed)


class _Tracker:
    """The lr schedule of one fit and its early stopping, both driven by
    the same validation score (creg.early_stopping)."""

    def __init__(self, lr0, plan, validation, dtype):
        self.lr0 = self.lr = lr0
        self.dtype = dtype
        self.schedule = plan["lr_schedule"]
        self.patience = plan["patience"]
        # Without early stopping, validation data still gets a monitor
        # that never stops: it finds history.best_epoch and the plateaus.
        self.monitor = plan["early_stopping"]
        if self.monitor is None and validation is not None:
            self.monitor = EarlyStopping(None)
        if self.monitor is not None:
            self.monitor._start()
        self.since_change = 0

    def lr_for(self, epoch, history):
        if callable(self.schedule):
            try:
                self.lr = check.scheduled_lr(self.schedule(epoch, history),
                                             epoch, self.dtype)
            except TypeError as exc:
                # Keras's LearningRateScheduler passes (epoch, lr): such a
                # schedule computes with the History, or returns it
                if "'History'" in str(exc) or "returned <History" in str(exc):
                    exc.add_note(_KERAS_SCHEDULE)
                raise
        return self.lr

    def should_stop(self, network, history):
        if self.monitor is None:
            return False
        if self.monitor._after_epoch(network, history):
            history.best_epoch = self.monitor.best_epoch
            self.since_change = 0
            return False
        self.since_change += 1
        if self.schedule == "halve_on_plateau" and \
                self.since_change >= self.patience:
            self.lr, self.since_change = self.lr / 2, 0
            # an lr of 5e-324 halves to 0, as does lr0 / 128
            if self.lr < self.lr0 / 128 or self.dtype.type(self.lr) == 0:
                history.stopped_early = True
                return True
        if self.monitor._patience_ran_out:
            history.stopped_early = True
            return True
        return False

    def restore_best(self, history, params):
        """The epoch whose weights early stopping put back, or None."""
        if self.monitor is None:
            return None
        return self.monitor._restore_best(params, history.stopped_early)


# Every network, so that a forked child frees those whose fit or save ran
# in another thread of the parent: that thread does not exist in the
# child, and its hold would refuse fit and save there for good.
_NETWORKS: weakref.WeakSet[Network] = weakref.WeakSet()


def _free_other_threads_networks():
    for net in list(_NETWORKS):
        if not net._fit_lock._is_owned():
            net._new_fit_lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_free_other_threads_networks)


def _stopper(patience, lr_schedule):
    """early_stopping=True's EarlyStopping: beside "halve_on_plateau",
    which waits the same patience and then halves, one that leaves the
    stop to the schedule and puts the best weights back when it ends."""
    if check.halves_on_plateau(lr_schedule):
        return EarlyStopping(None, restore="always")
    return EarlyStopping(patience)


def _step_rule(rule, lr):
    """The C core's StepRule of fit's checked rule at learning rate lr."""
    return StepRule(lr=lr, momentum=rule["momentum"], l2=rule["l2"],
                    l1=rule["l1"], l1_prox=rule["prox"],
                    max_norm=rule["max_norm"])


def _best_score(monitor, history):
    """What made early stopping's best epoch the best, for its warning."""
    if monitor.score is not None:
        return f"score {monitor.best_score:.4g}"
    accuracy = history.eval_accuracy[monitor.best_epoch]
    if math.isnan(accuracy):
        return f"validation cost {history.eval_cost[monitor.best_epoch]:.4g}"
    return f"validation accuracy {accuracy:.4f}"


def _scaled(term, r, power):
    """term(r), a penalty homogeneous of `power` in r, computed again on
    r / max|r| where r's squares or sums overflow float64 (weights near
    1e154 under a tiny l2), so that it is inf only where its value is."""
    with np.errstate(over="ignore"):
        value = float(term(r))
    if math.isfinite(value) or not r.size:
        return value
    top = float(np.abs(r).max())
    if not 0 < top < math.inf:
        return value
    value = float(term(r / top))
    for _ in range(power):  # top ** power, as late as it can come
        value *= top
    return value


def _or_mind(cause):
    """', or mind the <cause>' where there is one."""
    return f", or mind the {cause}" if cause else ""


def _watch_rows(n):
    """The rows of n that the checks before training look at."""
    return np.linspace(0, n - 1, min(n, _WATCH_ROWS)).astype(np.intp)


def _penalty_scale(penalty_scale, n):
    check.choice("penalty_scale", penalty_scale, check.PENALTY_SCALES)
    return 1.0 / n if penalty_scale == "n" else 1.0


def _in_timed_calls(call, total, chunk, after=None):
    """call(first, count) over [0, total) in calls of about _CHUNK_SECONDS
    (the first of `chunk` units), so that Ctrl-C, and a sweep's stop
    request, are seen between them; after(done) follows each call.
    Returns the next call's units."""
    first = 0
    while first < total:
        if _interrupt.requested():  # a sweep's Ctrl-C (_interrupt)
            raise KeyboardInterrupt
        count = min(chunk, total - first)
        t0 = time.perf_counter()
        call(first, count)
        chunk = _next_chunk(count, time.perf_counter() - t0)
        first += count
        if after is not None:
            after(first)
    return chunk


def _next_chunk(count, seconds):
    """Batches for the next C call, so that one call lasts ~_CHUNK_SECONDS."""
    if seconds <= 0:
        return count * 4
    return max(1, min(count * 4, int(count * _CHUNK_SECONDS / seconds)))


# doctest passes over data descriptors, such as cost's (_unhidden)
__test__ = {"Network.cost": Network.cost}
