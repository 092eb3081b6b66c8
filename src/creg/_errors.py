"""Exceptions creg raises beyond the builtin ones."""


class DivergenceError(ArithmeticError):
    """Training produced a non-finite cost or weight.

    The network keeps the weights of the last epoch that ended finite;
    the error's ``history`` attribute holds the epochs that ended finite
    in the fit that raised it (a `creg.History`).

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits()
    >>> net = creg.Network([64, 10], output="linear", cost="quadratic")
    >>> try:
    ...     net.fit(X, 1e6 * X[:, :10], epochs=2, lr=10.0)
    ... except creg.DivergenceError:
    ...     print("diverged")
    diverged
    """

    def __init__(self, *args, history=None):
        super().__init__(*args)
        self.history = history


class ModelFileError(ValueError):
    """A saved model file is truncated, altered, or not a creg model.

    Examples
    --------
    >>> import os, tempfile
    >>> import creg
    >>> path = os.path.join(tempfile.mkdtemp(), "not-a-model.creg")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"hello")
    >>> try:
    ...     creg.load(path)
    ... except creg.ModelFileError:
    ...     print("refused")
    refused
    """
