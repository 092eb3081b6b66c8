"""The per-epoch record that fit returns."""
from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """Per-epoch lists, in the spirit of network2's four monitor lists.

    Accuracies are fractions in [0, 1].  ``eval_*`` stay empty without
    validation data; accuracies are NaN for a linear output.
    ``train_cost`` is the mean data cost over the whole training set after
    the epoch plus the penalty terms of the fit's strengths; ``eval_cost``
    is the mean data cost over the validation set plus the same penalty.
    ``zero_fraction`` counts weights exactly zero; ``clamped_fraction`` the
    neurons whose incoming weights sit on the max-norm bound (0 without
    max_norm); ``layer_norms`` and ``layer_zero_fraction`` hold, per epoch,
    one Frobenius norm and one zero fraction per layer.
    ``stopped_early`` says whether early stopping or a schedule ended the
    fit and ``best_epoch`` (0-based; -1 without early stopping) which
    epoch's weights were kept.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits(dtype="float32")
    >>> net = creg.Network([64, 30, 10], seed=0)
    >>> hist = net.fit(X, y, epochs=3, lr=0.5)
    >>> hist.epochs, len(hist.train_accuracy), hist.eval_accuracy
    (3, 3, [])
    """

    train_cost: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    eval_cost: list = field(default_factory=list)
    eval_accuracy: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    zero_fraction: list = field(default_factory=list)
    clamped_fraction: list = field(default_factory=list)
    layer_norms: list = field(default_factory=list)
    layer_zero_fraction: list = field(default_factory=list)
    stopped_early: bool = False
    best_epoch: int = -1

    @property
    def epochs(self):
        """Number of epochs recorded.

        Examples
        --------
        >>> from creg import History
        >>> History(seconds=[0.1, 0.1]).epochs
        2
        """
        return len(self.seconds)

    def to_dict(self):
        """The lists and flags as a plain dict (e.g. for json.dump).

        Examples
        --------
        >>> from creg import History
        >>> History(lr=[0.5]).to_dict()["lr"]
        [0.5]
        """
        return asdict(self)
