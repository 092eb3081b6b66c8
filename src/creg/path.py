"""Regularization paths: one network per strength, each warm-started.

Like glmnet, the path runs from the strongest penalty to the weakest, and
each fit starts from the weights the previous one ended with, so the whole
path costs little more than one fit and its points are comparable.

An L1 path is also a feature selection: as the strength falls, inputs
enter the first layer (a column of W_0 turns nonzero).  The path records
how many are in use at each strength, ranks the inputs by the largest
strength at which each is used (its importance), draws the glmnet picture
(validation score, % zeros and inputs used against log strength), and
returns the best point's network, or one refit on its inputs alone.
"""
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import numpy.typing as npt

from creg import _validation as check
from creg._path_folds import walk_all
from creg._sweep_arguments import splits
from creg.early_stopping import EarlyStopping
from creg.network import Network, layer_views

_NETWORK_ARGS = ("hidden", "output", "cost", "init", "dtype", "seed")


@dataclass
class PathPoint:
    """One strength of a regularization path and what the fit reached.

    Attributes
    ----------
    strength : float
        The l1 (or l2) strength of this point.
    train_cost, train_accuracy : float
        The training cost and accuracy of the epoch whose weights the
        point holds (the last, or the one early stopping put back); unless
        kwargs say
        otherwise, with ``train_metrics="exact"``: the whole training set
        at the weights the fit reached, as ``eval_*`` are.
    eval_cost, eval_accuracy : float
        The same on ``validation_data``; NaN without it.
    zero_fraction : float
        Fraction of weights exactly zero.
    inputs_used : int
        Inputs (columns of X) that some first-layer neuron uses: a nonzero
        weight in their column of ``weights[0]``.
    params : ndarray
        A copy of ``Network.params`` after the fit.
    weights, biases : list of ndarray
        The per-layer weights (n_out, n_in) and biases (n_out,): views
        into ``params``, as a network's are.
    cv_cost, cv_accuracy : float
        With ``cv``: the mean over the folds of the cost and accuracy on
        each fold's held-out rows, of the path walked on the fold's other
        rows at this strength; NaN without cv.
    cv_cost_sd, cv_accuracy_sd : float
        Their standard deviations over the folds (NaN without cv).

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits()
    >>> path = creg.regularization_path(X, y, [64, 10, 10], l1=[1.0, 0.1],
    ...                                 epochs=2)
    >>> [p.strength for p in path]
    [1.0, 0.1]
    """

    strength: float
    train_cost: float
    train_accuracy: float
    eval_cost: float
    eval_accuracy: float
    zero_fraction: float
    inputs_used: int
    params: np.ndarray
    weights: list
    biases: list
    cv_cost: float = np.nan
    cv_accuracy: float = np.nan
    cv_cost_sd: float = np.nan
    cv_accuracy_sd: float = np.nan


class RegularizationPath(list):
    """The points of `regularization_path`, largest strength first (a
    list of PathPoint), with what the path says about the inputs.

    Attributes
    ----------
    penalty : {"l1", "l2"}
        Which strength the path varies.
    cv : bool
        Whether the path was walked with ``cv`` (the points' ``cv_*``).
    importances : ndarray of shape (n_inputs,)
        Per input, the largest strength at which some first-layer neuron
        still uses it: used there and at every smaller strength of the
        path (so an input that SGD's noise kicks in at one strong point
        and out again at the next does not rank by that point).  0.0 for
        an input not in use at the smallest strength, or used only at 0.
        ``np.argsort(-path.importances, kind="stable")`` ranks the inputs.

    Examples
    --------
    >>> import numpy as np, creg
    >>> X, y = creg.datasets.load_digits()
    >>> path = creg.regularization_path(X, y, [64, 10, 10], l1=[30.0, 3.0],
    ...                                 epochs=2)
    >>> [p.inputs_used for p in path]  # doctest: +SKIP
    [21, 44]
    >>> path.importances.shape
    (64,)
    """

    def __init__(self, points, *, penalty, network_args, data, fit_args,
                 cv=False):
        super().__init__(points)
        self.penalty = penalty
        self.cv = cv  # whether the points carry cross-validated scores
        self._network_args = network_args  # sizes and Network's keywords
        self._data = data                   # (X, y, validation_data)
        self._fit_args = fit_args
        # from the smallest strength up, while each input stays in use
        importances = np.zeros(points[0].weights[0].shape[1])
        staying = np.ones(importances.shape, bool)
        for point in reversed(points):
            staying &= (point.weights[0] != 0).any(axis=0)
            importances[staying] = point.strength
        self.importances = importances

    def network(self, point: PathPoint) -> Network:
        """A Network holding a point's parameters (settings as the path's).

        Parameters
        ----------
        point : PathPoint or int
            A point of this path, or its index.

        Returns
        -------
        Network

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits()
        >>> path = creg.regularization_path(X, y, [64, 10, 10], l1=[3.0],
        ...                                 epochs=1)
        >>> path.network(0).accuracy(X, y) == path[0].train_accuracy
        True
        """
        if not isinstance(point, PathPoint):
            point = self[point]
        sizes, kwargs = self._network_args
        net = Network._for_given_weights(sizes, **kwargs)
        net.params[...] = point.params
        return net

    def best(self, *, refit: bool = False,
             **fit_args: Any) -> tuple[float, Network]:
        """The strength with the best validation score, and its network.

        The score is the cross-validated accuracy when the path was walked
        with ``cv``, else the accuracy on ``validation_data``; for a
        linear output the cost (lowest best).  The first of equal scores
        (the largest strength: the sparsest) wins.

        Parameters
        ----------
        refit : bool, default=False
            False: the network the path reached at that strength.  True:
            a fresh network on that point's inputs alone (the columns of X
            its first layer uses), trained with the path's settings but no
            penalty of the path's kind (``l1=0`` on an L1 path): the
            relaxed-lasso refit.  Its ``input_columns`` records the
            columns, so it predicts on ``net.select(X)``.
        **fit_args
            With refit, override the path's fit settings (e.g. ``l2=``,
            ``epochs=``).

        Returns
        -------
        (float, Network)

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits()
        >>> path = creg.regularization_path(
        ...     X[:1000], y[:1000], [64, 10, 10], l1=[30.0, 3.0], epochs=2,
        ...     validation_data=(X[1000:], y[1000:]))
        >>> strength, net = path.best(refit=True, epochs=3)
        >>> net.accuracy(net.select(X[1000:]), y[1000:]) > 0.5
        True
        """
        refit = check.boolean("refit", refit)
        if fit_args and not refit:
            raise TypeError(f"best(): fit settings ({', '.join(fit_args)}) "
                            "apply only to a refit: pass refit=True")
        _, kwargs = self._network_args
        linear = kwargs["output"] == "linear"
        if self.cv:
            scores = [p.cv_cost if linear else p.cv_accuracy for p in self]
        elif self._data[2] is not None:
            scores = [p.eval_cost if linear else p.eval_accuracy
                      for p in self]
        else:
            raise ValueError("best() needs the path's validation_data or "
                             "cv: pass validation_data= or cv= to "
                             "regularization_path")
        index = int(np.argmin(scores) if linear else np.argmax(scores))
        point = self[index]
        if not refit:
            return point.strength, self.network(point)
        return point.strength, self._refit(point, fit_args)

    def _refit(self, point, fit_args):
        """A fresh network trained on the point's inputs only."""
        columns = np.flatnonzero((point.weights[0] != 0).any(axis=0))
        if columns.size == 0:
            raise ValueError(f"the point at {self.penalty}={point.strength} "
                             "uses no input: nothing to refit on")
        sizes, kwargs = self._network_args
        X, y, validation = self._data
        X = np.asarray(X)
        net = Network([columns.size, *sizes[1:]], **kwargs)
        net._set_input_columns(columns, X.shape[1])
        args = {**self._fit_args, self.penalty: 0.0, **fit_args}
        if validation is not None:
            args.setdefault("validation_data",
                            (net.select(validation[0]), validation[1]))
        net.fit(net.select(X), y, **args)
        return net

    def plot(self) -> Any:
        """The glmnet picture: validation score, % of weights exactly zero
        and inputs used against the strength, on a log axis (points at
        strength 0 are left out of it).

        Needs matplotlib (``pip install "creg[plot]"``).

        Returns
        -------
        (matplotlib.figure.Figure, list of matplotlib.axes.Axes)
            Three panels sharing the strength axis.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits()
        >>> path = creg.regularization_path(X, y, [64, 10, 10],
        ...                                 l1=[30.0, 3.0], epochs=1)
        >>> fig, axes = path.plot()  # doctest: +SKIP
        """
        from creg._path_plot import plot_path
        return plot_path(self)


def regularization_path(X: npt.ArrayLike, y: npt.ArrayLike,
                        sizes: Sequence[int], *, l1: Any = None,
                        l2: Any = None, validation_data: Any = None,
                        cv: Any = None, **kwargs: Any) -> RegularizationPath:
    """Fit one network along a list of l1 (or l2) strengths.

    Parameters
    ----------
    X, y, validation_data
        As for Network.fit.
    sizes : sequence of int
        The architecture, as for Network.
    l1, l2 : sequence of float
        One of them: the strengths to visit.  They are visited from the
        largest to the smallest, each fit warm-started from the previous
        one's weights.  The other penalty may be a fixed number (e.g.
        l1=[...], l2=1.0: an elastic-net path).
    cv : int, splitter or list of (train, test), optional
        Cross-validate the path, like glmnet's cv.glmnet: besides the path
        on all of X (the points returned, the same bits as without cv),
        one path per fold is walked on the fold's training rows and scored
        on its held-out rows, giving each point ``cv_accuracy`` and
        ``cv_cost`` (mean and sd over the folds), by which ``best()``
        chooses.  A number k splits the rows into k contiguous folds;
        otherwise as scikit-learn's ``cv`` (an object with ``split(X, y)``,
        or the index pairs).  The paths run side by side on
        ``n_threads`` threads (default: creg's default thread count, as
        for a fit: ``OMP_NUM_THREADS`` or the usable CPUs), one fit per
        thread; the results do not depend on the thread count.
    **kwargs
        hidden, output, cost, init, dtype, seed go to Network; everything
        else (epochs, lr, batch_size, max_norm, n_threads, ...) to
        Network.fit, with train_metrics="exact" unless given.

    Returns
    -------
    RegularizationPath
        A list of PathPoint, one per strength, from the largest strength
        to the smallest, with the inputs' ``importances``, ``best()``,
        ``network(point)`` and ``plot()``.

    Raises
    ------
    DivergenceError
        Where a strength's fit diverges: the path stops there (a sweep,
        by contrast, records a diverged run and goes on).

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> points = creg.regularization_path(
    ...     X, y, [64, 30, 10], l1=[0.0, 2.0, 8.0], epochs=3)
    >>> [p.strength for p in points]
    [8.0, 2.0, 0.0]
    >>> points[0].zero_fraction > points[-1].zero_fraction
    True
    >>> path = creg.regularization_path(X, y, [64, 30, 10], l1=[2.0, 0.5],
    ...                                 epochs=2, cv=3)
    >>> strength, net = path.best()
    >>> 0 < path[0].cv_accuracy < 1
    True
    """
    listed = [n for n, v in (("l1", l1), ("l2", l2))
              if v is not None and np.ndim(v) != 0]
    if len(listed) != 1:
        raise ValueError("give exactly one of l1=[...] or l2=[...] (the "
                         "other may be a fixed number: an elastic-net path)")
    name = listed[0]
    values, other, fixed = ((l1, "l2", l2) if name == "l1"
                            else (l2, "l1", l1))
    if fixed is not None:  # every fit checks it
        kwargs[other] = fixed
    if np.ndim(values) != 1 or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of strengths")
    strengths = sorted((check.non_negative(f"{name}[{i}]", v)
                        for i, v in enumerate(values)), reverse=True)
    network_args = {k: kwargs.pop(k) for k in _NETWORK_ARGS if k in kwargs}
    net = Network(sizes, **network_args)  # refuses bad settings first
    # converted once, not by each strength's fit (a float64 X was copied
    # into a float32 network's dtype at every strength); an iterator of
    # validation data is read once
    given = [X, y, validation_data]  # best(refit=True)'s: no copy held
    X = check.features(X, net.dtype, net.sizes[0])
    if validation_data is not None:
        X_val, y_val = check.validation_pair(validation_data)
        given[2] = (X_val, y_val)
        validation_data = (check.features(X_val, net.dtype, net.sizes[0],
                                          "X_val"), y_val)
    # a point reports the weights it reached, on the training set as on the
    # validation set, not the running means of its last epoch
    kwargs.setdefault("train_metrics", "exact")

    def walk(X, y, validation_data, n_threads, net=None):
        """The points of one warm-started walk down the strengths."""
        settings = kwargs
        stopper = kwargs.get("early_stopping")
        if net is None and isinstance(stopper, EarlyStopping):
            # cv's chains run at once: each its own, as a sweep's runs
            settings = {**kwargs, "early_stopping": stopper._copy()}
        net = net or Network(sizes, **network_args)
        return [_point(net, strength, net.fit(
            X, y, validation_data=validation_data, n_threads=n_threads,
            **{name: strength}, **settings)) for strength in strengths]

    stopper = kwargs.get("early_stopping")
    if not isinstance(stopper, EarlyStopping) and stopper is not None:
        check.early_stopping(stopper)  # 5 is refused as fit refuses it
    if cv is not None and validation_data is None and not (
            isinstance(stopper, EarlyStopping) and stopper.score is not None):
        # the folds' chains have their held-out rows; the whole data's not
        check.needs_validation_data(
            stopper, kwargs.get("lr_schedule"),
            why="with cv, each fold's path is scored on the fold's held-out "
                "rows, but the path on all of X (the points returned) has "
                "none: ")
    n_threads = kwargs.pop("n_threads", None)
    if cv is None:
        points = walk(X, y, validation_data, n_threads, net)
    else:
        folds = splits(cv, X, np.asarray(y))
        points, *fold_points = walk_all(walk, X, y, validation_data, folds,
                                        n_threads)
        for i, point in enumerate(points):
            for what in ("cost", "accuracy"):
                scores = [getattr(fold[i], f"eval_{what}")
                          for fold in fold_points]
                setattr(point, f"cv_{what}", float(np.mean(scores)))
                setattr(point, f"cv_{what}_sd", float(np.std(scores)))
    if n_threads is not None:
        kwargs["n_threads"] = n_threads
    settings = dict(hidden=net.hidden, output=net.output, cost=net.cost_name,
                    init=net.init, dtype=net.dtype, seed=net.seed)
    return RegularizationPath(
        points, penalty=name, network_args=(net.sizes, settings),
        data=tuple(given), fit_args=kwargs, cv=cv is not None)


def _point(net, strength, hist):
    """The PathPoint of a fit at `strength` that ended at net's weights
    (those of the epoch early stopping put back, if it did)."""
    params = net.params.copy()
    weights, biases = layer_views(net.sizes, params)
    return PathPoint(
        strength=strength,
        train_cost=hist._kept("train_cost"),
        train_accuracy=hist._kept("train_accuracy"),
        eval_cost=hist._kept("eval_cost"),
        eval_accuracy=hist._kept("eval_accuracy"),
        zero_fraction=hist._kept("zero_fraction"),
        inputs_used=int((net.weights[0] != 0).any(axis=0).sum()),
        params=params, weights=weights, biases=biases)
