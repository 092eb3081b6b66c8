"""scikit-learn estimators around creg.Network: CregClassifier, CregRegressor.

scikit-learn (>= 1.6) is an optional dependency, imported only here::

    pip install scikit-learn

Both estimators train one ``creg.Network`` (kept as ``network_``) with the
step rule of ``Network.fit``; every regularizer is a constructor parameter
with exactly the meaning it has there.  What this module adds is the
scikit-learn protocol: input checking with scikit-learn's own
``validate_data`` (so its messages are the familiar ones), hyper-parameter
checking with its parameter constraints, arbitrary class labels,
``partial_fit``, ``score``, pandas column names, ``clone``/pickle, and
early stopping on a held-out fraction of the training data.

Decisions worth knowing (each also in the class docstrings):

- ``dtype="float64"`` by default.  scikit-learn's conventions (and its
  estimator checks) expect float64 results and compare predictions at
  atol 1e-7; the problems people hand to a scikit-learn estimator are
  usually small enough that float32's speed does not matter.  Pass
  ``dtype="float32"`` for large data: predictions are then float32.
- ``random_state``: an int is used as creg's seed as is (so
  ``CregClassifier(random_state=0)`` starts from the same weights as
  ``creg.Network(..., seed=0)``); None or a RandomState draws a seed.
  The seed keys the initial weights, every epoch's shuffle, dropout and
  input noise, and the early-stopping split: fits are deterministic and
  bitwise identical for any ``n_threads``.
- Defaults: 30 epochs of batch-10 SGD from Glorot-uniform weights (what
  MLPClassifier uses; creg's "he" diverges more often on unscaled inputs),
  lr=0.1 for the classifier and lr=0.01 for the regressor, whose
  quadratic cost on a linear output is stiffer (0.1 diverges on
  scikit-learn's own regression checks).  The regressor also standardizes
  each target column by default (``scale_y=True``): plain SGD at a fixed
  rate diverges on targets of scale 100.
- ``partial_fit`` runs one epoch over the rows it is given.  As in every
  creg fit call, ``penalty_scale="n"`` then means n = the rows of *that
  call* (a chunk of c rows decays like a fit on c samples), and momentum
  starts from zero in each call.  With ``penalty_scale="none"``,
  ``momentum=0``, ``shuffle=False``, no dropout or input noise (their
  draws are keyed by the call's steps), ``scale_y=False`` for the
  regressor (partial_fit scales by the first chunk's targets) and chunks
  that end on batch boundaries, partial_fit over the chunks equals
  ``fit`` for one epoch bitwise.  Early stopping is not used by partial_fit.
- ``coefs_`` / ``intercepts_`` follow ``MLPClassifier``: lists with one
  (n_in, n_out) array and one (n_out,) array per layer, copies.  creg's own
  ``network_.weights[l]`` is the (n_out, n_in) transpose.  There is no
  singular ``coef_``: scikit-learn's meta-estimators read ``coef_`` as one
  linear weight matrix, which a multi-layer network does not have.
- ``n_threads=None`` is creg's default: OpenMP's (``OMP_NUM_THREADS``, else
  the cores).  dask.distributed worker processes get ``OMP_NUM_THREADS=1``
  from their nanny and joblib's loky workers a share of the cores, so a
  sweep through joblib does not oversubscribe; pass ``n_threads`` to decide.
"""
from __future__ import annotations

import copy
import dataclasses
import numbers
import threading
from collections.abc import Mapping, Set as AbstractSet
from typing import Any, Optional, Sequence, TypeVar, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GridSearchCV
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils._param_validation import (
        Interval, InvalidParameterError, StrOptions,
        validate_parameter_constraints)
    from sklearn.utils.multiclass import (check_classification_targets,
                                          type_of_target, unique_labels)
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "creg.sklearn needs scikit-learn >= 1.6, which is an optional "
        "dependency of creg: pip install scikit-learn") from exc

from creg import _validation as check, _warnings
from creg._claims import Claims
from creg.early_stopping import EarlyStopping
from creg.history import History
from creg.network import Network

__all__ = ["CregClassifier", "CregRegressor", "CregSearchCV"]

_Estimator = TypeVar("_Estimator", bound="_CregEstimator")
_RandomState = Union[int, np.random.RandomState, None]

# The estimators a fit or partial_fit is running on, so that a second one
# at once is refused: it would mix two fits' attributes.
_FITTING = Claims()


def _one_fit_at_a_time(estimator: Any) -> Any:
    """Holds `estimator` for one fit; RuntimeError while another holds it."""
    return _FITTING.holding(estimator, lambda same_thread: (
        f"{type(estimator).__name__} is already fitting in "
        + ("this thread (a callback of that fit)" if same_thread
           else "another thread")
        + "; fit each estimator in one thread at a time "
        "(sklearn.base.clone makes another)"))


# Numbers that scikit-learn's Interval would also take as bools (True is
# an Integral) but never mean one.
_NUMBERS = ("l2", "l1", "max_norm", "dropout", "input_noise", "lr",
            "momentum", "batch_size", "epochs", "validation_fraction",
            "n_iter_no_change", "n_threads", "hidden_layer_sizes")

_PARAMETERS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Widths of the hidden layers; ``()`` for none (a linear / softmax
        regression).
    hidden : {"relu", "tanh", "sigmoid"}, default="relu"
        Activation of every hidden layer.
    init : {"glorot", "he", "normalized", "large"}, default="glorot"
        Initial weights (see ``creg.Network``).  "glorot" (uniform, zero
        biases) is what MLPClassifier uses, and keeps plain SGD stable on
        unscaled inputs more often than "he".
    l2 : float >= 0, default=0.0
        L2 weight decay: g = G + l2' W with l2' = l2/n (penalty_scale="n",
        n = training rows) or l2' = l2 ("none").  Biases are never decayed.
    l1 : float >= 0, default=0.0
        L1 strength, scaled like l2.  With l2 too: the elastic net.
    penalty_scale : {"n", "none"}, default="n"
        "n" divides l2 and l1 by the number of training rows (Nielsen);
        "none" uses them as given (CS231n, PyTorch's weight_decay).
    l1_method : {"prox", "subgradient"}, default="prox"
        "prox" soft-thresholds after each step,
        W = sign(W) max(abs(W) - lr l1', 0), giving exact zeros;
        "subgradient" adds l1' sign(W) to g.
    max_norm : float > 0 or None, default=None
        After each step, a neuron's incoming weight vector with norm > c is
        scaled to norm c.
    dropout : float in [0, 1), default=0.0
        Probability of dropping each hidden unit in training (inverted
        dropout: kept units scaled by 1/(1 - dropout)).  Not used in predict.
    input_noise : float >= 0, default=0.0
        sigma of the N(0, sigma^2) noise added to every input in training.
    lr : float > 0, default=LR_DEFAULT
        Learning rate eta of mini-batch SGD.
    momentum : float in [0, 1), default=0.0
        V = momentum V - lr g, W = W + V; V starts at zero in each fit and
        partial_fit call.
    batch_size : int >= 1, default=10
        Rows per mini-batch; the last batch of an epoch may be shorter.  A
        batch_size larger than the training set is clipped to it (fit warns).
    epochs : int >= 1, default=30
        Passes over the training data in fit (the most, with early stopping).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows (stratified for
        the classifier), score them after every epoch (accuracy, or R^2 for
        the regressor), stop after ``n_iter_no_change`` epochs without a
        better score and keep the weights of the best epoch.  fit only.
    validation_fraction : float in (0, 1), default=0.1
        Fraction held out for early stopping.
    n_iter_no_change : int >= 1, default=10
        Patience of early stopping, in epochs.
    dtype : {"float64", "float32"}, default="float64"
        Precision of the network, of training and of the predictions.
    n_threads : int or None, default=None
        OpenMP threads for fit and predict (None: OpenMP's default, fewer
        while other processes hold cores; -1: all usable CPUs).  Results
        are bitwise identical for any value.
    random_state : int, RandomState instance or None, default=None
        An int is creg's seed as is; None or a RandomState draws one.  The
        seed fixes the initial weights, the shuffles, dropout and noise,
        and the early-stopping split.
    shuffle : bool, default=True
        Shuffle the rows every epoch (an order drawn from (seed, epoch)).
    verbose : bool or int, default=False
        Print one line per epoch.
"""

_ATTRIBUTES_DOC = """
    network_ : creg.Network
        The fitted network (sizes
        ``[n_features_in_, *hidden_layer_sizes, n_outputs]``).
    history_ : creg.History
        Per-epoch costs, accuracies, learning rates, seconds and sparsity
        since the last fit (partial_fit calls append to it).
    n_iter_ : int
        Epochs in ``history_``.
    coefs_ : list of ndarray
        Per layer, the weights as (n_in, n_out) copies (like MLPClassifier).
    intercepts_ : list of ndarray
        Per layer, the biases, shape (n_out,), copies.
    loss_curve_, loss_, best_loss_ : list of float, float, float or None
        MLPClassifier's names: ``history_.train_cost``, its last value and
        its lowest (None with early stopping).
    n_layers_, out_activation_ : int, str
        Layers (input and output included) and the output activation
        ("softmax", "logistic" or "identity").
    validation_scores_ : list of float or None
        With early stopping, the held-out score after each epoch of the
        last fit (partial_fit keeps them and adds none).
    best_validation_score_ : float or None
        With early stopping, the best of them (its weights are kept).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.
"""


_SKLEARN_ACTIVATION = {"softmax": "softmax", "sigmoid": "logistic",
                       "linear": "identity"}


class _CregEstimator(BaseEstimator):
    """What the classifier and the regressor share: parameters, checks,
    the fit / partial_fit driver and the weight accessors."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like",
                               Interval(numbers.Integral, 1, None,
                                        closed="left")],
        "hidden": [StrOptions({"relu", "tanh", "sigmoid"})],
        "init": [StrOptions({"glorot", "he", "normalized", "large"})],
        "l2": [Interval(numbers.Real, 0, None, closed="left")],
        "l1": [Interval(numbers.Real, 0, None, closed="left")],
        "penalty_scale": [StrOptions({"n", "none"})],
        "l1_method": [StrOptions({"prox", "subgradient"})],
        "max_norm": [None, Interval(numbers.Real, 0, None,
                                    closed="neither")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "input_noise": [Interval(numbers.Real, 0, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "momentum": [Interval(numbers.Real, 0, 1, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1,
                                         closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None,
                                      closed="left")],
        "dtype": [StrOptions({"float32", "float64"})],
        "n_threads": [None, Interval(numbers.Integral, 1, None,
                                     closed="left"),
                      Interval(numbers.Integral, None, -1, closed="right")],
        "random_state": ["random_state"],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
    }

    _output: str
    _cost: str
    _y_check: dict[str, bool]

    def _y_options(self, y: Any) -> dict[str, bool]:
        """validate_data's options for the targets `y` as given."""
        return self._y_check

    def _head(self, y: NDArray[Any]) -> tuple[str, str]:
        """(output, cost) of a new network for the encoded targets y."""
        return self._output, self._cost
    network_: Network
    history_: History

    @check.keywords("estimator")
    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = (100,),
                 *, hidden: str = "relu", init: str = "glorot",
                 l2: float = 0.0, l1: float = 0.0, penalty_scale: str = "n",
                 l1_method: str = "prox", max_norm: Optional[float] = None,
                 dropout: float = 0.0, input_noise: float = 0.0,
                 lr: float = 0.1, momentum: float = 0.0, batch_size: int = 10,
                 epochs: int = 30, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 10,
                 dtype: str = "float64", n_threads: Optional[int] = None,
                 random_state: _RandomState = None, shuffle: bool = True,
                 verbose: Union[bool, int] = False) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.hidden = hidden
        self.init = init
        self.l2 = l2
        self.l1 = l1
        self.penalty_scale = penalty_scale
        self.l1_method = l1_method
        self.max_norm = max_norm
        self.dropout = dropout
        self.input_noise = input_noise
        self.lr = lr
        self.momentum = momentum
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.shuffle = shuffle
        self.verbose = verbose

    # ------------------------------------------------------------ checks
    def _check_params(self) -> list[int]:
        """Hyper-parameters, checked at fit time (never in __init__ or
        set_params, as scikit-learn requires); returns the hidden widths."""
        params = self.get_params(deep=False)
        name = type(self).__name__
        validate_parameter_constraints(self._parameter_constraints, params,
                                       caller_name=name)
        for key in _NUMBERS:
            if isinstance(params[key], (bool, np.bool_)):
                raise InvalidParameterError(
                    f"The {key!r} parameter of {name} must be a number, not "
                    f"a bool. Got {params[key]!r} instead.")
        sizes: Any = self.hidden_layer_sizes
        if isinstance(sizes, np.ndarray) and sizes.ndim == 0:
            sizes = sizes.item()
        unordered = isinstance(sizes, (Mapping, AbstractSet))
        sizes = [sizes] if isinstance(sizes, numbers.Integral) or \
            unordered else list(sizes)
        for width in sizes:
            if isinstance(width, (bool, np.bool_)) or \
                    not isinstance(width, numbers.Integral) or width < 1:
                raise InvalidParameterError(
                    f"The 'hidden_layer_sizes' parameter of {name} must "
                    f"hold integers >= 1. Got {self.hidden_layer_sizes!r} "
                    "instead.")
        return [int(w) for w in sizes]

    def set_params(self: _Estimator, **params: Any) -> _Estimator:
        """Set parameters, as in scikit-learn; a name from another library
        (``alpha``, ``learning_rate``, ...) raises a ValueError that names
        creg's parameter for it.

        Parameters
        ----------
        **params
            Parameter names and their new values.

        Returns
        -------
        self

        Examples
        --------
        >>> from creg.sklearn import CregClassifier
        >>> CregClassifier().set_params(lr=0.05).lr
        0.05
        """
        valid = self.get_params(deep=False)
        for key in params:
            if "__" not in key and key not in valid:
                message = check.unexpected_keyword(
                    key, "estimator", type(self).__name__, valid)
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator "
                    f"{type(self).__name__}(): "
                    + message.split(": ", 1)[-1]) from None
        return super().set_params(**params)

    def _seed(self) -> int:
        rs = self.random_state
        if isinstance(rs, numbers.Integral):
            return int(rs)
        return int(check_random_state(rs).randint(np.iinfo(np.int32).max))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ---------------------------------------------------------- training
    @check.keywords("estimator fit")
    def fit(self: _Estimator, X: ArrayLike, y: ArrayLike) -> _Estimator:
        """Train a new network on (X, y) for `epochs` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or a 0/1 matrix of labels (classifier, one column
            per label), or targets (regressor).

        Returns
        -------
        self

        Examples
        --------
        >>> import creg
        >>> from creg.sklearn import CregClassifier
        >>> X, y = creg.datasets.load_digits()
        >>> clf = CregClassifier(epochs=5, random_state=0).fit(X, y)
        >>> clf.n_iter_
        5
        """
        return self._fit(X, y, incremental=False, classes=None)

    def _fit(self: _Estimator, X: Any, y: Any, incremental: bool,
             classes: Any) -> _Estimator:
        # Nothing lost: a refused or failed call leaves every attribute as
        # it was (a fresh fit trains a new network and installs it only at
        # the end; creg itself rolls back the weights of a diverged epoch).
        with _one_fit_at_a_time(self):
            saved = dict(self.__dict__)
            # partial_fit extends history_ in place: its lengths too
            history = saved.get("history_")
            lengths = None if history is None else _history_state(history)
            try:
                return self._fit_unsafe(X, y, incremental, classes)
            except BaseException:
                self.__dict__.clear()
                self.__dict__.update(saved)
                if history is not None and lengths is not None:
                    _restore_history(history, lengths)
                raise

    def _fit_unsafe(self: _Estimator, X: Any, y: Any, incremental: bool,
                    classes: Any) -> _Estimator:
        hidden_sizes = self._check_params()
        first = not (incremental and hasattr(self, "network_"))
        dtype = (np.dtype(self.dtype) if first
                 else self.network_.dtype)
        check.at_most_2d(X, type(self).__name__)
        check.no_times("X", X)
        X, y = validate_data(self, X, y, reset=first, dtype=dtype,
                             order="C", **self._y_options(y))
        y, n_outputs = self._encode_targets(y, first, classes)
        n = X.shape[0]
        batch_size = self.batch_size
        if batch_size > n:
            if not incremental:
                _warnings.warn(
                    f"Got `batch_size`={batch_size} larger than sample size "
                    f"{n}. It is going to be clipped")
            batch_size = n
        if first:
            seed = self._seed()
            output, cost = self._head(y)
            network = Network([X.shape[1], *hidden_sizes, n_outputs],
                              hidden=self.hidden, output=output, cost=cost,
                              init=self.init, dtype=self.dtype, seed=seed)
        else:
            network = self.network_
        options: dict[str, Any] = dict(
            batch_size=batch_size, lr=self.lr, l2=self.l2, l1=self.l1,
            penalty_scale=self.penalty_scale, l1_method=self.l1_method,
            max_norm=self.max_norm, dropout=self.dropout,
            input_noise=self.input_noise, momentum=self.momentum,
            shuffle=self.shuffle, n_threads=self.n_threads,
            verbose=bool(self.verbose))
        monitor = None
        if incremental:
            history = network.fit(X, y, epochs=1, **options)
        elif self.early_stopping:
            history, monitor = self._fit_early_stopping(network, X, y,
                                                        options)
        else:
            history = network.fit(X, y, epochs=self.epochs, **options)

        self.network_ = network
        if first:
            self.history_ = history
        else:
            _extend_history(self.history_, history)
        self.n_iter_ = self.history_.epochs
        if first or not incremental:
            self.validation_scores_ = monitor.scores if monitor else None
            self.best_validation_score_ = (monitor.best_score if monitor
                                           else None)
        return self

    def _fit_early_stopping(self, network: Network, X: NDArray[Any],
                            y: NDArray[Any], options: dict[str, Any]
                            ) -> tuple[History, EarlyStopping]:
        split_seed = np.random.RandomState(network.seed % 2**32).randint(
            np.iinfo(np.int32).max)
        stratify = y if network.output == "softmax" else None
        per_class = " (stratified by class)" if stratify is not None else ""
        cannot = (f"early_stopping=True holds out validation_fraction="
                  f"{self.validation_fraction} of the {X.shape[0]} training "
                  f"rows{per_class} and trains on the rest, which cannot be "
                  f"done here")
        try:
            X_train, X_val, y_train, y_val = train_test_split(
                # float(): its check refuses numpy's float32 and such
                X, y, test_size=float(self.validation_fraction),
                random_state=split_seed, stratify=stratify)
        except ValueError as exc:  # its words are test_size's, not ours
            raise ValueError(f"{cannot}: {exc}") from None
        if X_val.shape[0] < 2:  # one row's score would pick the epoch
            raise ValueError(
                f"{cannot}: it leaves {X_val.shape[0]} held-out row; raise "
                "validation_fraction or give more rows (scikit-learn's MLP "
                "needs 2 too)")
        options["batch_size"] = min(options["batch_size"], X_train.shape[0])
        n_threads = self.n_threads

        def score(net: Network) -> float:
            return self._validation_score(net, X_val, y_val, n_threads)

        # scikit-learn's rule: the best epoch's weights, stopped or not
        monitor = EarlyStopping(self.n_iter_no_change, score=score,
                                restore="always")
        history = network.fit(X_train, y_train, epochs=self.epochs,
                              early_stopping=monitor, **options)
        return history, monitor

    # ----------------------------------------------------------- results
    def _encode_targets(self, y: NDArray[Any], first: bool, classes: Any
                        ) -> tuple[NDArray[Any], int]:
        raise NotImplementedError

    def _validation_score(self, net: Network, X_val: NDArray[Any],
                          y_val: NDArray[Any],
                          n_threads: Optional[int]) -> float:
        raise NotImplementedError

    def _checked_X(self, X: ArrayLike) -> NDArray[Any]:
        check_is_fitted(self, "network_")
        check.at_most_2d(X, type(self).__name__)
        check.no_times("X", X)
        return validate_data(self, X, reset=False,
                             dtype=self.network_.dtype, order="C")

    def _outputs(self, X: ArrayLike) -> NDArray[Any]:
        X = self._checked_X(X)  # first: NotFittedError before anything
        return self.network_.predict_proba(X, n_threads=self.n_threads)

    @property
    def coefs_(self) -> list[NDArray[Any]]:
        """Per layer, the weights as (n_in, n_out) copies (MLP layout)."""
        check_is_fitted(self, "network_")
        return [np.array(w.T) for w in self.network_.weights]

    @property
    def intercepts_(self) -> list[NDArray[Any]]:
        """Per layer, the biases (n_out,), copies."""
        check_is_fitted(self, "network_")
        return [np.array(b) for b in self.network_.biases]

    # MLPClassifier's names for what history_ and network_ hold
    @property
    def loss_curve_(self) -> list[float]:
        """The training cost of each epoch (``history_.train_cost``)."""
        check_is_fitted(self, "network_")
        return list(self.history_.train_cost)

    @property
    def loss_(self) -> float:
        """The last epoch's training cost."""
        return self.loss_curve_[-1]

    @property
    def best_loss_(self) -> Optional[float]:
        """The lowest training cost; None with early stopping, which
        keeps the best validation score instead (as MLPClassifier)."""
        curve = self.loss_curve_
        return None if self.early_stopping else min(curve)

    @property
    def n_layers_(self) -> int:
        """Layers, the input and output layers included."""
        check_is_fitted(self, "network_")
        return len(self.network_.sizes)

    @property
    def out_activation_(self) -> str:
        """The output activation, in scikit-learn's words."""
        check_is_fitted(self, "network_")
        return _SKLEARN_ACTIVATION[self.network_.output]


def _is_matrix(y: Any) -> bool:
    """Whether targets y, as given, have several columns (checked later:
    this only picks how they are checked)."""
    shape = getattr(y, "shape", None)
    if shape is None:
        try:
            shape = np.asarray(y).shape
        except (TypeError, ValueError):  # ragged: validate_data says so
            return False
    return len(shape) == 2 and shape[1] > 1


class CregClassifier(ClassifierMixin, _CregEstimator):
    __doc__ = """A fully-connected network classifier trained by creg.

    Softmax output with the log-likelihood cost, for any number of classes
    >= 2 (two classes use two outputs); the labels may be any values
    (strings, ints, ...): ``classes_`` holds them sorted, as LabelEncoder
    does.  Multi-label targets, a 0/1 indicator matrix with a column per
    label (as MLPClassifier takes them), train a sigmoid output with
    cross-entropy: each label is a yes/no of its own, ``classes_`` is
    their columns 0 .. k-1, ``predict`` gives a 0/1 matrix and ``score``
    the share of rows with every label right.
    """ + _PARAMETERS_DOC.replace("LR_DEFAULT", "0.1") + """
    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted; output unit k is ``classes_[k]``.
    n_outputs_ : int
        Output units: one per class (two for two classes).""" + \
        _ATTRIBUTES_DOC + """
    Examples
    --------
    >>> import creg
    >>> from creg.sklearn import CregClassifier
    >>> X, y = creg.datasets.load_digits()
    >>> clf = CregClassifier(l2=1.0, random_state=0).fit(X[:1300], y[:1300])
    >>> clf.score(X[1300:], y[1300:]) > 0.9
    True
    """

    _output, _cost = "softmax", "log_likelihood"
    _y_check: dict[str, bool] = {}
    classes_: NDArray[Any]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _y_options(self, y: Any) -> dict[str, bool]:
        # an indicator matrix is multi-label; a column is raveled, warned
        return {"multi_output": True} if _is_matrix(y) else {}

    def _head(self, y: NDArray[Any]) -> tuple[str, str]:
        # labels of their own: one sigmoid unit each, as MLPClassifier
        return (("sigmoid", "cross_entropy") if y.ndim == 2
                else (self._output, self._cost))

    def _multi_label(self) -> bool:
        return bool(self.network_.output == "sigmoid")

    @property
    def n_outputs_(self) -> int:
        """Output units: one per class."""
        check_is_fitted(self, "network_")
        return self.network_.sizes[-1]

    @check.keywords("estimator fit")
    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    classes: Optional[ArrayLike] = None) -> CregClassifier:
        """One epoch over (X, y), continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or multi-label targets (a 0/1 matrix).
        classes : array-like, optional
            Needed on the first call for class labels: every label that
            will ever appear.  Multi-label targets name their labels by
            their columns, 0 .. n_labels - 1.

        Returns
        -------
        self

        Examples
        --------
        >>> import creg
        >>> from creg.sklearn import CregClassifier
        >>> X, y = creg.datasets.load_digits()
        >>> clf = CregClassifier(random_state=0)
        >>> clf = clf.partial_fit(X[:900], y[:900], classes=range(10))
        >>> clf = clf.partial_fit(X[900:], y[900:])
        >>> clf.n_iter_
        2
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def _encode_targets(self, y: NDArray[Any], first: bool, classes: Any
                        ) -> tuple[NDArray[Any], int]:
        check_classification_targets(y)
        if y.ndim == 2:
            return self._encode_indicators(y, first, classes)
        if not first and self._multi_label():
            raise ValueError(
                f"y holds class labels, but this CregClassifier was fitted "
                f"on multi-label targets (a 0/1 matrix of "
                f"{len(self.classes_)} columns): partial_fit takes the same")
        if classes is not None:  # named as classes, not taken for y
            if isinstance(classes, (str, bytes, AbstractSet, Mapping)) or \
                    np.ndim(classes) != 1:
                raise TypeError(f"classes must be a 1-D array-like of the "
                                f"class labels; got {classes!r}")
            try:
                check_classification_targets(np.asarray(classes))
            except ValueError as exc:
                raise ValueError(f"classes: {exc}") from None
        if first:
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes to "
                    f"train; got 1 class ({encoder.classes_[0]!r}).")
            self.classes_ = encoder.classes_
        elif classes is not None and not np.array_equal(
                self.classes_, LabelEncoder().fit(classes).classes_):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on the first call "
                f"to partial_fit, which was {self.classes_!r}.")
        if not first or classes is not None:  # y did not make the classes
            try:  # LabelEncoder would match the label 0 to the class '0'
                unique_labels(y, self.classes_)
            except ValueError:
                raise ValueError(
                    f"y's labels are not of the classes' type: y holds "
                    f"{y.dtype} labels, the classes are {self.classes_!r}"
                ) from None
        encoder = LabelEncoder()
        encoder.classes_ = self.classes_
        return encoder.transform(y), len(self.classes_)

    def _encode_indicators(self, y: NDArray[Any], first: bool,
                           classes: Any) -> tuple[NDArray[Any], int]:
        """Multi-label targets: a 0/1 column per label, the labels being
        the columns 0 .. k-1 (as MLPClassifier's classes_)."""
        if hasattr(y, "toarray"):  # scipy.sparse, as MultiLabelBinarizer
            y = y.toarray()        # gives it: a matrix of 0/1 labels
        kind = type_of_target(y)
        if kind == "multilabel-indicator" and not np.isin(y, (0, 1)).all():
            kind = f"two-valued ({np.unique(y).tolist()}, not 0/1)"
        if kind != "multilabel-indicator":
            raise ValueError(
                f"y of shape {y.shape} must be class labels of shape "
                f"(n_samples,), or multi-label targets: a 0/1 indicator "
                f"matrix, a column per label; got {kind} targets")
        k = y.shape[1]
        if classes is not None and not np.array_equal(
                np.unique(np.asarray(classes)), np.arange(k)):
            raise ValueError(
                f"the classes of multi-label targets are their columns "
                f"0 .. {k - 1}; got classes={classes!r}")
        if first:
            self.classes_ = np.arange(k)
        elif not self._multi_label() or len(self.classes_) != k:
            fitted = (f"multi-label targets of {len(self.classes_)} columns"
                      if self._multi_label() else "class labels")
            raise ValueError(f"y is a 0/1 matrix of {k} columns, but this "
                             f"CregClassifier was fitted on {fitted}")
        return y, k

    def _fit_unsafe(self, X: Any, y: Any, incremental: bool,
                    classes: Any) -> CregClassifier:
        if incremental and classes is None and not _is_matrix(y) and \
                not hasattr(self, "network_"):
            raise ValueError("classes must be passed on the first call to "
                             "partial_fit.")
        return super()._fit_unsafe(X, y, incremental, classes)

    def _validation_score(self, net: Network, X_val: NDArray[Any],
                          y_val: NDArray[Any],
                          n_threads: Optional[int]) -> float:
        outputs = net.predict_proba(X_val, n_threads=n_threads)
        if y_val.ndim == 2:  # every label right, as score's accuracy_score
            return float(np.mean(np.all((outputs > 0.5) == (y_val > 0.5),
                                        axis=1)))
        return float(np.mean(np.argmax(outputs, axis=1) == y_val))

    def predict_proba(self, X: ArrayLike) -> NDArray[Any]:
        """Class probabilities (softmax outputs), shape (n, n_classes), in
        the order of ``classes_``; for multi-label targets each label's
        own probability (sigmoid outputs).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> import creg
        >>> from creg.sklearn import CregClassifier
        >>> X, y = creg.datasets.load_digits()
        >>> clf = CregClassifier(epochs=5, random_state=0).fit(X, y)
        >>> clf.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
        [1.0, 1.0]
        """
        return self._outputs(X)

    def predict_log_proba(self, X: ArrayLike) -> NDArray[Any]:
        """The natural log of predict_proba.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Examples
        --------
        >>> import creg
        >>> from creg.sklearn import CregClassifier
        >>> X, y = creg.datasets.load_digits()
        >>> clf = CregClassifier(epochs=5, random_state=0).fit(X, y)
        >>> clf.predict_log_proba(X[:2]).shape
        (2, 10)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each row, as one of ``classes_``;
        for multi-label targets a 0/1 matrix: 1 where a label's
        probability is above 0.5.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)

        Examples
        --------
        >>> import creg
        >>> from creg.sklearn import CregClassifier
        >>> X, y = creg.datasets.load_digits()
        >>> clf = CregClassifier(epochs=5, random_state=0).fit(X, y)
        >>> clf.predict(X[:3]).shape
        (3,)
        """
        proba = self.predict_proba(X)
        if self._multi_label():
            return (proba > 0.5).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]


class CregRegressor(RegressorMixin, _CregEstimator):
    __doc__ = """A fully-connected network regressor trained by creg.

    Linear output with the quadratic cost 1/2 ||a - y||^2 per sample; y of
    shape (n,) or (n, n_outputs).  By default each target column is
    standardized for training (``scale_y``), because plain SGD at a fixed
    learning rate diverges on targets far from unit scale.
    """ + _PARAMETERS_DOC.replace("LR_DEFAULT", "0.01") + """
    scale_y : bool, default=True
        Train the network on ``(y - y_mean_) / y_scale_`` (per column; the mean
        and standard deviation of the first fit or partial_fit call, a zero
        deviation counting as 1) and map predictions back.  ``network_``
        and ``history_`` are then in standardized units, and l2/l1 act on
        that network.  False trains on y as given.

    Attributes
    ----------
    n_outputs_ : int
        Columns of y (predict returns shape (n,) when it is 1).
    y_mean_, y_scale_ : ndarray of shape (``n_outputs_``,)
        The target standardization (0 and 1 with scale_y=False).""" + \
        _ATTRIBUTES_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> from creg.sklearn import CregRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 3.0
    >>> reg = CregRegressor(hidden_layer_sizes=(), random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    _output, _cost = "linear", "quadratic"
    _y_check = {"multi_output": True, "y_numeric": True}
    _parameter_constraints = {**_CregEstimator._parameter_constraints,
                              "scale_y": ["boolean"]}

    @check.keywords("estimator")
    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = (100,),
                 *, hidden: str = "relu", init: str = "glorot",
                 l2: float = 0.0, l1: float = 0.0, penalty_scale: str = "n",
                 l1_method: str = "prox", max_norm: Optional[float] = None,
                 dropout: float = 0.0, input_noise: float = 0.0,
                 lr: float = 0.01, momentum: float = 0.0,
                 batch_size: int = 10, epochs: int = 30,
                 early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 10,
                 dtype: str = "float64", n_threads: Optional[int] = None,
                 random_state: _RandomState = None, shuffle: bool = True,
                 verbose: Union[bool, int] = False,
                 scale_y: bool = True) -> None:
        super().__init__(
            hidden_layer_sizes, hidden=hidden, init=init, l2=l2, l1=l1,
            penalty_scale=penalty_scale, l1_method=l1_method,
            max_norm=max_norm, dropout=dropout, input_noise=input_noise,
            lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, dtype=dtype,
            n_threads=n_threads, random_state=random_state, shuffle=shuffle,
            verbose=verbose)
        self.scale_y = scale_y

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @check.keywords("estimator fit")
    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> CregRegressor:
        """One epoch over (X, y), continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from creg.sklearn import CregRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> y = X @ [1.0, -2.0, 0.5]
        >>> reg = CregRegressor(random_state=0).partial_fit(X, y)
        >>> reg.partial_fit(X, y).n_iter_
        2
        """
        return self._fit(X, y, incremental=True, classes=None)

    def _encode_targets(self, y: NDArray[Any], first: bool, classes: Any
                        ) -> tuple[NDArray[Any], int]:
        check.dense("y", y)  # validate_data lets it through for 2-D y
        if y.dtype.kind not in "biuf":  # timedelta64 is a number to numpy
            raise ValueError(
                f"y must hold numbers for {type(self).__name__}, which "
                f"regresses on them; got an array of {y.dtype}")
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        # scaled, such targets would train; their predictions would be inf
        # (finite y always fits float64)
        dtype = np.dtype(self.dtype) if first else self.network_.dtype
        if dtype != np.float64 and Y.size and \
                np.max(np.abs(Y.astype(np.float64))) > np.finfo(dtype).max:
            raise ValueError(f"Input y contains a value too large for "
                             f"dtype('{dtype}').")
        if first:
            self.n_outputs_ = Y.shape[1]
            if self.scale_y:
                self.y_mean_, self.y_scale_ = _standardization(Y)
            else:
                self.y_mean_ = np.zeros(Y.shape[1])
                self.y_scale_ = np.ones(Y.shape[1])
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} output(s), but {type(self).__name__} "
                f"was fitted with {self.n_outputs_}.")
        if np.any(self.y_mean_ != 0) or np.any(self.y_scale_ != 1):
            Y = _standardized(Y, self.y_mean_, self.y_scale_)
        return Y, Y.shape[1]

    def _validation_score(self, net: Network, X_val: NDArray[Any],
                          y_val: NDArray[Any],
                          n_threads: Optional[int]) -> float:
        out = net.predict_proba(X_val, n_threads=n_threads)
        if X_val.shape[0] < 2:
            return -float(np.mean((out - y_val) ** 2))
        return float(r2_score(y_val, out))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The network's outputs: shape (n,) for one output, else
        (n, ``n_outputs_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)

        Examples
        --------
        >>> import numpy as np
        >>> from creg.sklearn import CregRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 3))
        >>> y = X @ [1.0, -2.0, 0.5]
        >>> CregRegressor(epochs=2, random_state=0).fit(X, y).predict(
        ...     X[:4]).shape
        (4,)
        """
        out = self._outputs(X)
        if np.any(self.y_mean_ != 0) or np.any(self.y_scale_ != 1):
            dtype = out.dtype
            out = (out * self.y_scale_.astype(dtype)
                   + self.y_mean_.astype(dtype))
        return out.ravel() if self.n_outputs_ == 1 else out


def _standardization(Y: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """(mean, standard deviation, 1 where that is 0) of each column of
    finite Y, in float64.  The squares of targets far from 1 overflow (a
    std of inf trained the network on zeros) or underflow (a std of 0 for
    targets of 1e-170 left them unscaled, and the network predicted 0.1):
    columns whose largest magnitude lies outside 1e-100 to 1e100 are
    measured divided by it instead."""
    top = _largest(Y)
    plain = (top >= 1e-100) & (top <= 1e100)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        mean = Y.mean(axis=0, dtype=np.float64)
        scale = Y.std(axis=0, dtype=np.float64)
    if not plain.all():
        unit = Y / top
        mean = np.where(plain, mean, unit.mean(axis=0, dtype=np.float64) * top)
        scale = np.where(plain, scale,
                         unit.std(axis=0, dtype=np.float64) * top)
    return mean, np.where(scale > 0, scale, 1.0)


def _largest(Y: NDArray[Any]) -> NDArray[Any]:
    """Each column's largest magnitude, 1 for a column of zeros."""
    top = np.abs(Y).max(axis=0).astype(np.float64)
    return np.where(top > 0, top, 1.0)


def _standardized(Y: NDArray[Any], mean: NDArray[Any],
                  scale: NDArray[Any]) -> NDArray[Any]:
    """(Y - mean) / scale, which is at most sqrt(n) in magnitude for the
    columns' own statistics, also where Y - mean alone would overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = (Y - mean) / scale
    if not np.isfinite(out).all():
        top = _largest(Y)
        out = (Y / top - mean / top) / (scale / top)
    return out


def _history_state(history: History) -> dict:
    """What _restore_history puts back: a History's fields, its lists by
    their lengths."""
    return {f.name: len(value) if isinstance(value, list) else value
            for f in dataclasses.fields(History)
            for value in [getattr(history, f.name)]}


def _restore_history(history: History, state: dict) -> None:
    for name, kept in state.items():
        value = getattr(history, name)
        if isinstance(value, list):
            del value[kept:]
        else:
            setattr(history, name, kept)


def _extend_history(total: History, more: History) -> None:
    """Append the epochs of History `more` to History `total`; its epoch
    numbers (best, restored) then count from `total`'s first epoch."""
    before = total.epochs
    for f in dataclasses.fields(History):
        value = getattr(total, f.name)
        if isinstance(value, list):
            value.extend(getattr(more, f.name))
    total.stopped_early = more.stopped_early
    total.best_epoch = more.best_epoch + before if more.best_epoch >= 0 else -1
    total.restored_epoch = (more.restored_epoch + before
                            if more.restored_epoch >= 0 else -1)


class CregSearchCV(GridSearchCV):
    """GridSearchCV whose candidate fits run together, as threads.

    The parameters, attributes (``cv_results_``, ``best_params_``,
    ``best_score_``, ``best_estimator_``, ``refit``, ...) and scores are
    scikit-learn's ``GridSearchCV``'s: the same folds, the same fits, the
    same scorer, so ``cv_results_`` equals that of ``GridSearchCV(...,
    n_jobs=1)`` bitwise.  What differs is how the fits run: on ``n_jobs``
    threads of this process (creg's C releases the GIL), each fit on one
    OpenMP thread, instead of one process per job that reads the data
    anew.  creg's results do not depend on the thread count, so
    ``best_estimator_`` keeps the estimator's own ``n_threads`` for
    predict.  The fits always run as threads of this process, whatever
    joblib backend is active: across machines, use ``GridSearchCV`` with
    joblib's Dask backend, or `creg.sweep` in chunks.  Ctrl-C stops the
    running fits too, within one call into C (about 50 ms).

    Parameters
    ----------
    estimator : CregClassifier, CregRegressor or a meta-estimator holding
        one (e.g. a Pipeline)
    param_grid : dict or list of dicts
        As for GridSearchCV.
    scoring, refit, cv, verbose, pre_dispatch, error_score, \
return_train_score
        As for GridSearchCV.
    n_jobs : int or None, default=None
        Threads running the candidate fits: None for creg's default
        thread count (``OMP_NUM_THREADS`` or the usable CPUs; unlike
        GridSearchCV, whose None is one job), -1 for all usable CPUs.

    Examples
    --------
    >>> import creg
    >>> from creg.sklearn import CregClassifier, CregSearchCV
    >>> X, y = creg.datasets.load_digits()
    >>> search = CregSearchCV(
    ...     CregClassifier((20,), epochs=3, random_state=0),
    ...     {"l2": [0.0, 1.0], "dropout": [0.0, 0.2]}, cv=3).fit(X, y)
    >>> sorted(search.best_params_)
    ['dropout', 'l2']
    >>> len(search.cv_results_["mean_test_score"])
    4
    """

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        # CregRegressor fits 2-D targets: so does a search over it
        tags.target_tags.multi_output = get_tags(
            self.estimator).target_tags.multi_output
        return tags

    def fit(self, X: ArrayLike, y: Optional[ArrayLike] = None,
            **params: Any) -> "CregSearchCV":
        """Run fit with every set of parameters, as GridSearchCV does.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like, optional
        **params
            Passed to the estimator's fit (and the cv splitter), as in
            GridSearchCV.

        Returns
        -------
        self

        Examples
        --------
        >>> import creg
        >>> from creg.sklearn import CregClassifier, CregSearchCV
        >>> X, y = creg.datasets.load_digits()
        >>> search = CregSearchCV(CregClassifier((10,), epochs=2,
        ...                                      random_state=0),
        ...                       {"lr": [0.05, 0.1]}, cv=2).fit(X, y)
        >>> search.best_estimator_.n_iter_
        2
        """
        from joblib import parallel_config

        own = self.get_params(deep=False)
        if isinstance(own["estimator"], type) or not all(
                hasattr(own["estimator"], m) for m in ("fit", "get_params")):
            raise TypeError(
                "estimator must be a scikit-learn estimator instance (with "
                f"fit and get_params); got {own['estimator']!r}")
        one_thread, restore = _fits_on_one_thread(own["estimator"])
        threads = check.pool_threads(own["n_jobs"], "n_jobs")
        with _one_fit_at_a_time(self):
            # a copy searches with the one-thread estimator (n_jobs=None
            # lets the context's thread count decide), and its results
            # replace this search's in one assignment: a Ctrl-C or an
            # error anywhere leaves this search as it was, its parameters
            # never swapped
            search = copy.copy(self)
            search.set_params(estimator=one_thread, n_jobs=None)
            with parallel_config(backend=_stoppable_threads(),
                                 n_jobs=threads):
                GridSearchCV.fit(search, X, y, **params)
            if hasattr(search, "best_estimator_"):
                # the user's threads, but where the best parameters set
                # them or put an estimator of their own (a grid over a
                # Pipeline's steps)
                grid = getattr(search, "best_params_", {})
                search.best_estimator_.set_params(**{
                    key: value for key, value in restore.items()
                    if not any("__".join(key.split("__")[:i]) in grid
                               for i in range(1, key.count("__") + 2))})
            self.__dict__ = {**{key: value for key, value
                                in vars(search).items() if key not in own},
                             **{key: value for key, value
                                in vars(self).items() if key in own}}
        return self


def _stoppable_threads() -> Any:
    """joblib's threading backend, whose worker threads' fits stop within
    one call into C when joblib aborts (Ctrl-C, or an error in another
    fit): without it, Ctrl-C would leave them training in the background,
    as Python cannot stop a thread.  Plain "threading" where joblib's
    backend class cannot be reached."""
    from multiprocessing.pool import ThreadPool

    from creg import _interrupt
    try:
        from joblib._parallel_backends import ThreadingBackend
    except ImportError:  # pragma: no cover - a joblib without it
        return "threading"

    class StoppableThreads(ThreadingBackend):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.stop = threading.Event()

        def _get_pool(self) -> Any:
            if getattr(self, "_pool", None) is None:
                setattr(self, "_pool", ThreadPool(
                    getattr(self, "_n_jobs"), initializer=_interrupt.bind,
                    initargs=(self.stop,)))
            return getattr(self, "_pool")

        def abort_everything(self, ensure_ready: bool = True) -> None:
            self.stop.set()
            super().abort_everything(ensure_ready=False)

    return StoppableThreads()


def _fits_on_one_thread(estimator: Any) -> tuple[Any, dict[str, Any]]:
    """A clone of `estimator` whose creg estimators (itself or nested,
    e.g. a Pipeline's steps) fit on one thread, and the set_params that
    gives the fitted one back their own n_threads, checked first: the
    fits do not see them."""
    from sklearn.base import clone

    own: dict[str, Any] = {}
    if isinstance(estimator, _CregEstimator):
        own["n_threads"] = estimator.n_threads
    for key, value in estimator.get_params(deep=True).items():
        if isinstance(value, _CregEstimator):
            own[f"{key}__n_threads"] = value.n_threads
    for key, value in own.items():
        check.n_threads(value, key)
    return clone(estimator).set_params(**{k: 1 for k in own}), own
