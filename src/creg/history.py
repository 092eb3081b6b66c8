"""The per-epoch record that fit returns."""
import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# The last value of each of these goes into the summary repr, in this order.
_SUMMARY_LISTS = ("train_cost", "train_accuracy", "eval_cost",
                  "eval_accuracy")


@dataclass
class History:
    """Per-epoch lists, in the spirit of network2's four monitor lists.

    Accuracies are fractions in [0, 1] (per label for multi-label
    targets: see `Network.accuracy`).  ``eval_*`` stay empty without
    validation data; accuracies are NaN for a linear output.
    ``train_metrics`` says what ``train_cost`` and ``train_accuracy`` hold
    (fit's argument of that name).  "running" (the default): over the
    epoch's training rows, the mean of each row's data cost and the
    fraction predicted right, as the forward pass of the row's own
    mini-batch computed them, with the weights of that step and its
    dropout and input noise (as Keras and scikit-learn's ``loss_curve_``
    report them, at no extra pass).  "exact": the whole training set
    evaluated with the weights that end the epoch (network2's
    ``monitor_training_cost``).  Both add the penalty terms of the fit's
    strengths at the weights that end the epoch, so they differ in the
    data term only; ``eval_cost`` is the mean data cost over the
    validation set (after the epoch) plus the same penalty.
    ``zero_fraction`` counts weights exactly zero; ``clamped_fraction`` the
    neurons whose incoming weights sit on the max-norm bound (0 without
    max_norm); ``layer_norms`` and ``layer_zero_fraction`` hold, per epoch,
    one Frobenius norm and one zero fraction per layer.  ``seconds`` is
    each epoch's training pass alone (the steps and their running
    metrics), without its validation pass, exact metrics or checks:
    what the table's ``time`` column shows.
    ``stopped_early`` says whether early stopping or a schedule ended the
    fit and ``best_epoch`` (0-based; -1 without validation data or early
    stopping) the epoch of the best validation score, whose weights early
    stopping keeps; ``restored_epoch`` is that epoch where it put them back
    at the end of the fit, else -1 (the network holds the last epoch's).
    ``repr`` gives a one-line summary, `plot` the curves.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> net = creg.Network([64, 30, 10], seed=0)
    >>> hist = net.fit(X, y, epochs=3)
    >>> hist.epochs, len(hist.train_accuracy), hist.eval_accuracy
    (3, 3, [])
    >>> History(train_cost=[0.9, 0.5], seconds=[0.1, 0.1])
    <History: 2 epochs, last train_cost=0.5, train_metrics='running'>
    """

    train_cost: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    eval_cost: list[float] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    zero_fraction: list[float] = field(default_factory=list)
    clamped_fraction: list[float] = field(default_factory=list)
    layer_norms: list[list[float]] = field(default_factory=list)
    layer_zero_fraction: list[list[float]] = field(default_factory=list)
    stopped_early: bool = False
    best_epoch: int = -1
    restored_epoch: int = -1
    train_metrics: str = "running"

    @property
    def epochs(self) -> int:
        """Number of epochs recorded: the longest per-epoch list.

        Examples
        --------
        >>> from creg import History
        >>> History(seconds=[0.1, 0.1]).epochs
        2
        """
        return max((len(value) for value in (getattr(self, f.name)
                                             for f in fields(self))
                    if isinstance(value, list)), default=0)

    def _kept(self, name):
        """The list `name`'s value at the epoch whose weights the network
        holds: restored_epoch's, else the last; NaN where there is none."""
        values = getattr(self, name)
        if not values:
            return math.nan
        kept = self.restored_epoch
        return float(values[kept] if 0 <= kept < len(values) else values[-1])

    def __repr__(self):
        # never raises, whatever a History built by hand holds
        last = ", ".join(f"{name}={_number(getattr(self, name), -1):.4g}"
                         for name in _SUMMARY_LISTS
                         if not math.isnan(_number(getattr(self, name), -1)))
        parts = [f"{self.epochs} epoch{'' if self.epochs == 1 else 's'}"]
        if last:
            parts.append(f"last {last}")
        best = self.best_epoch
        if isinstance(best, int) and best >= 0:
            for name in ("eval_accuracy", "eval_cost"):
                value = _number(getattr(self, name), best)
                if not math.isnan(value):
                    parts.append(f"best_epoch={best} ({name}={value:.4g})")
                    break
        try:
            stopped = bool(self.stopped_early)
        except (TypeError, ValueError):  # an array of flags, say
            stopped = False
        if stopped:
            parts.append("stopped early")
        kind = getattr(self, "train_metrics", None)
        if kind:
            parts.append(f"train_metrics={kind!r}")
        return f"<History: {', '.join(parts)}>"

    def plot(self) -> Any:
        """Draw train and validation curves: cost, and accuracy where the
        output has one, against the epoch, with the best epoch marked.

        Needs matplotlib (``pip install "creg[plot]"``); without it an
        ImportError says so.

        Returns
        -------
        (matplotlib.figure.Figure, list of matplotlib.axes.Axes)
            The figure and its panels: cost, then accuracy.

        Examples
        --------
        >>> import creg
        >>> X, y = creg.datasets.load_digits(dtype="float32")
        >>> hist = creg.Network([64, 30, 10], seed=0).fit(
        ...     X[:1000], y[:1000], epochs=3,
        ...     validation_data=(X[1000:], y[1000:]))
        >>> fig, axes = hist.plot()  # doctest: +SKIP
        >>> fig.savefig("history.png")  # doctest: +SKIP
        """
        from creg._history_plot import plot_history
        return plot_history(self)

    def to_dict(self) -> dict[str, Any]:
        """The lists and flags as a plain dict (e.g. for json.dump).

        A metric that does not apply (accuracy of a linear output) is NaN,
        which Python's json writes and reads back as ``NaN``; for strict
        JSON (``allow_nan=False``, other languages) map it to None first.

        Examples
        --------
        >>> from creg import History
        >>> History(lr=[0.5]).to_dict()["lr"]
        [0.5]
        """
        return asdict(self)


def _number(values, index):
    """values[index] as a float; NaN where there is no such number."""
    try:
        value = values[index]
    except (IndexError, KeyError, TypeError):
        return math.nan
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an int of 400 digits
        return math.nan
