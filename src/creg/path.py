"""Regularization paths: one network per strength, each warm-started.

Like glmnet, the path runs from the strongest penalty to the weakest, and
each fit starts from the weights the previous one ended with, so the whole
path costs little more than one fit and its points are comparable.
"""
from dataclasses import dataclass

import numpy as np

from creg import _validation as check
from creg.network import Network

_NETWORK_ARGS = ("hidden", "output", "cost", "init", "dtype", "seed")


@dataclass
class PathPoint:
    """One strength of a regularization path and what the fit reached.

    Attributes
    ----------
    strength : float
        The l1 (or l2) strength of this point.
    train_cost, train_accuracy : float
        The last epoch's training cost and accuracy; unless kwargs say
        otherwise, with ``train_metrics="exact"``: the whole training set
        at the weights the fit reached, as ``eval_*`` are.
    eval_cost, eval_accuracy : float
        The same on ``validation_data``; NaN without it.
    zero_fraction : float
        Fraction of weights exactly zero.
    params : ndarray
        A copy of ``Network.params`` after the fit.
    weights, biases : list of ndarray
        Copies of the per-layer weights (n_out, n_in) and biases (n_out,).

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
    params: np.ndarray
    weights: list
    biases: list


def regularization_path(X, y, sizes, *, l1=None, l2=None,
                        validation_data=None, **kwargs):
    """Fit one network along a list of l1 (or l2) strengths.

    Parameters
    ----------
    X, y, validation_data
        As for Network.fit.
    sizes : sequence of int
        The architecture, as for Network.
    l1, l2 : sequence of float
        Exactly one of them: the strengths to visit.  They are visited from
        the largest to the smallest, each fit warm-started from the previous
        one's weights.  The other penalty may be given as a fixed number
        in kwargs (e.g. l1=[...], l2=1.0: an elastic-net path).
    **kwargs
        hidden, output, cost, init, dtype, seed go to Network; everything
        else (epochs, lr, batch_size, max_norm, ...) to Network.fit, with
        train_metrics="exact" unless given.

    Returns
    -------
    list of PathPoint
        One per strength, from the largest strength to the smallest.

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
    """
    if (l1 is None) == (l2 is None):
        raise ValueError("give exactly one of l1=[...] or l2=[...]")
    name, values = ("l1", l1) if l1 is not None else ("l2", l2)
    if np.ndim(values) != 1 or len(values) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of strengths")
    strengths = sorted((check.non_negative(f"{name}[{i}]", v)
                        for i, v in enumerate(values)), reverse=True)
    net = Network(sizes, **{k: kwargs.pop(k) for k in _NETWORK_ARGS
                            if k in kwargs})
    # a point reports the weights it reached, on the training set as on the
    # validation set, not the running means of its last epoch
    kwargs.setdefault("train_metrics", "exact")
    points = []
    for strength in strengths:
        hist = net.fit(X, y, validation_data=validation_data,
                       **{name: strength}, **kwargs)
        points.append(PathPoint(
            strength=strength,
            train_cost=hist.train_cost[-1],
            train_accuracy=hist.train_accuracy[-1],
            eval_cost=hist.eval_cost[-1] if hist.eval_cost else np.nan,
            eval_accuracy=(hist.eval_accuracy[-1] if hist.eval_accuracy
                           else np.nan),
            zero_fraction=hist.zero_fraction[-1],
            params=net.params.copy(),
            weights=[w.copy() for w in net.weights],
            biases=[b.copy() for b in net.biases]))
    return points
