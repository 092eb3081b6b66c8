"""Exceptions creg raises beyond the builtin ones."""


class DivergenceError(ArithmeticError):
    """Training produced a non-finite cost or weight.

    The network keeps the weights of the last epoch that ended finite.
    """


class ModelFileError(ValueError):
    """A saved model file is truncated, altered, or not a creg model."""
