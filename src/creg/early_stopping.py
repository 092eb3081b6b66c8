"""Early stopping: the one mechanism behind ``Network.fit(early_stopping=)``
and the estimators' ``early_stopping=True``.

After every epoch it scores the network (higher is better), remembers the
best score, its epoch and a copy of its weights, and says when `patience`
epochs have passed without a better score.  Network.fit drives it; the
caller chooses the score and whether the best weights come back only when
training stops early (Network's rule) or always (scikit-learn's).
"""
from __future__ import annotations

import math
import reprlib
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from creg import _validation as check
from creg._claims import Claims

if TYPE_CHECKING:
    from creg.history import History
    from creg.network import Network

RESTORE = ("on_stop", "always")
_IN_USE = Claims()


class EarlyStopping:
    """Stop a fit once its validation score stops improving, and keep the
    best weights.

    Pass it as ``Network.fit(early_stopping=EarlyStopping(...))``;
    ``early_stopping=True`` is short for ``EarlyStopping(patience)`` with
    fit's ``patience``.

    Parameters
    ----------
    patience : int >= 1 or None, default=10
        Stop after this many epochs without a better score.  None never
        stops: it only records the scores and the best epoch (with
        ``restore="always"``, a fit that ends on its best weights).
    score : callable(network) -> float, optional
        The score of the network after an epoch, higher is better (for
        example an F1 score on data of your own).  Default: the
        validation accuracy ``fit`` records, or for a linear output minus
        the validation cost; both need ``validation_data``.
    restore : {"on_stop", "always"}, default="on_stop"
        When the best epoch's weights are put back: only when patience
        runs out ("on_stop"), or also at the end of a fit that used all its
        epochs ("always", as scikit-learn's early stopping does).

    Attributes
    ----------
    scores : list of float
        The score after each epoch of the last fit that used this object.
    best_score : float
        The best of them (-inf before any).
    best_epoch : int
        Its epoch, 0-based within that fit (-1 before any).

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> stop = creg.EarlyStopping(patience=3, restore="always")
    >>> net = creg.Network([64, 30, 10], seed=0)
    >>> hist = net.fit(X[:1000], y[:1000], epochs=50, early_stopping=stop,
    ...                validation_data=(X[1000:], y[1000:]))
    >>> stop.best_score == max(hist.eval_accuracy) == stop.scores[
    ...     hist.best_epoch]
    True
    """

    def __init__(self, patience: Optional[int] = 10, *,
                 score: Optional[Callable[[Network], float]] = None,
                 restore: str = "on_stop") -> None:
        self.patience, self.score, self.restore = patience, score, restore
        self._check()
        self._start()

    def _check(self) -> None:
        """The settings, checked: by the constructor, and by each fit,
        since they are plain attributes a user may set in between."""
        if self.patience is not None:
            self.patience = check.positive_int("patience", self.patience)
        if self.score is not None and not callable(self.score):
            raise TypeError("score must be None or a callable(network) -> "
                            f"float; got {self.score!r}")
        self.restore = check.choice("restore", self.restore, RESTORE)

    def __repr__(self) -> str:
        score = "" if self.score is None else f", score={self.score!r}"
        return (f"EarlyStopping(patience={self.patience}{score}, "
                f"restore={self.restore!r})")

    def _settings(self) -> tuple[Optional[int], Any, str]:
        """(patience, score, restore): what a copy keeps."""
        return self.patience, self.score, self.restore

    def _copy(self) -> EarlyStopping:
        """A new one with these settings and the same score callable,
        which is the user's and is not copied."""
        patience, score, restore = self._settings()
        return EarlyStopping(patience, score=score, restore=restore)

    def _claimed(self) -> Any:
        """Held by the fit that uses it: its scores and best weights are
        that fit's, so a second fit at the same time is refused."""
        return _IN_USE.holding(self, lambda same_thread: (
            "this EarlyStopping is in use by "
            + ("the fit whose callback this is" if same_thread
               else "a fit in another thread")
            + ": give each fit running at once its own (it holds its fit's "
            "scores and best weights)"))

    def _start(self) -> None:
        """Forget the last fit: called by Network.fit before its first
        epoch."""
        self.scores: list[float] = []
        self.best_score = -math.inf
        self.best_epoch = -1
        self._since_best = 0
        self._best_params: Optional[np.ndarray[Any, Any]] = None

    @property
    def _keeps_weights(self) -> bool:
        return self.patience is not None or self.restore == "always"

    def _after_epoch(self, network: Network, history: History) -> bool:
        """Score the weights the epoch left; True if they are the best."""
        if self.score is None:
            score = _validation_score(history)
        else:
            score = _score_value(self.score(network))
        self.scores.append(score)
        if not score > self.best_score:  # NaN is never better
            self._since_best += 1
            return False
        self.best_score, self.best_epoch = score, len(self.scores) - 1
        self._since_best = 0
        if self._keeps_weights:
            if self._best_params is None:
                self._best_params = np.empty_like(network.params)
            self._best_params[...] = network.params
        return True

    @property
    def _patience_ran_out(self) -> bool:
        return self.patience is not None and \
            self._since_best >= self.patience

    def _restore_best(self, params: np.ndarray[Any, Any],
                      stopped_early: bool) -> Optional[int]:
        """Put the best weights back into `params` if the rule says so;
        the epoch (0-based) whose weights came back, or None."""
        if self._best_params is None or not (
                stopped_early or self.restore == "always"):
            return None
        params[...] = self._best_params
        return self.best_epoch


def _score_value(value: Any) -> float:
    """What an EarlyStopping score callable returned, as a float."""
    try:
        if isinstance(value, (str, bytes)):  # float() would parse them
            raise TypeError
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"EarlyStopping's score(network) must return a "
                        f"number a float holds; it returned "
                        f"{reprlib.repr(value)}") from None


def _validation_score(history: History) -> float:
    """The default score: validation accuracy, or for a linear output
    (whose accuracy is NaN, never better) minus the validation cost."""
    score = history.eval_accuracy[-1]
    return -history.eval_cost[-1] if math.isnan(score) else score
