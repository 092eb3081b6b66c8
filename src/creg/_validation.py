"""The one place where user input is checked and converted.

Every public entry point calls these before it changes any state, so a
refused call leaves the network and the inputs exactly as they were.
Messages name the argument and say what was expected.
"""
import math
import numbers

import numpy as np

from creg._threads import effective_n_threads

HIDDEN = ("sigmoid", "tanh", "relu")
OUTPUT = ("sigmoid", "softmax", "linear")
COSTS = ("cross_entropy", "log_likelihood", "quadratic")
INITS = ("normalized", "large", "he", "glorot")
DTYPES = ("float32", "float64")
PENALTY_SCALES = ("n", "none")
L1_METHODS = ("prox", "subgradient")

# Which output layers each cost is defined for (DESIGN.md, "Costs").
COST_OUTPUTS = {
    "cross_entropy": ("sigmoid",),
    "log_likelihood": ("softmax",),
    "quadratic": ("sigmoid", "linear"),
}


def choice(name, value, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, allowed))}; "
            f"got {value!r}")
    return value


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return value


def positive(name, value):
    value = _real(name, value)
    if not value > 0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return value


def non_negative(name, value):
    value = _real(name, value)
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    return value


def rate(name, value):
    """A probability-like rate in [0, 1)."""
    value = _real(name, value)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}")
    return value


def positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value!r}")
    return int(value)


def seed(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"seed must be an integer; got {value!r}")
    if not 0 <= value < 2**63:
        raise ValueError(f"seed must be in [0, 2**63); got {value!r}")
    return int(value)


def n_threads(value):
    """None (OpenMP's default) or a positive int, resolved by the thread
    policy in _threads."""
    if value is not None:
        value = positive_int("n_threads", value)
    return effective_n_threads(value)


def sizes(value, max_layers):
    try:
        sizes = list(value)
    except TypeError:
        raise TypeError(
            f"sizes must be a sequence of layer widths; got {value!r}") from None
    if not 2 <= len(sizes) <= max_layers + 1:
        raise ValueError(
            f"sizes must list between 2 and {max_layers + 1} layer widths "
            f"(inputs, hidden..., outputs); got {len(sizes)}")
    return tuple(positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes))


def cost_fits_output(cost, output):
    if output not in COST_OUTPUTS[cost]:
        raise ValueError(
            f"cost={cost!r} needs output="
            f"{' or '.join(map(repr, COST_OUTPUTS[cost]))}; got "
            f"output={output!r}")


def _as_numeric_array(name, value):
    if hasattr(value, "tocsr") or hasattr(value, "todense"):
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required. "
            "Use '.toarray()' to convert to a dense numpy array.")
    array = np.asarray(value)
    if np.iscomplexobj(array):
        raise ValueError(f"Complex data not supported in {name}")
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be numeric: {exc}") from None
    return array


def _check_finite(name, array):
    if not np.isfinite(array).all():
        if np.isnan(array).any():
            raise ValueError(f"Input {name} contains NaN.")
        raise ValueError(
            f"Input {name} contains infinity or a value too large for "
            f"dtype({array.dtype.name!r}).")


def features(X, dtype, n_features, name="X"):
    """X as a C-contiguous (n, n_features) array of `dtype`; copies only
    when it must."""
    array = _as_numeric_array(name, X)
    if array.ndim != 2:
        raise ValueError(
            f"Expected 2D array for {name}, got {array.ndim}D array instead "
            f"(shape {array.shape}). Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample.")
    if array.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={array.shape}) while a "
            f"minimum of 1 is required ({name}).")
    if array.shape[1] != n_features:
        raise ValueError(
            f"{name} has {array.shape[1]} features, but the network is "
            f"expecting {n_features} features as input.")
    if array.dtype.kind == "f" and array.dtype != dtype:
        _check_finite(name, array)  # before the cast can hide or make inf
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(array, dtype=dtype)
    _check_finite(name, converted)
    return converted


def targets(y, n_samples, n_outputs, output, dtype, name="y"):
    """The target matrix (n_samples, n_outputs) of `dtype`.

    Integer class labels of shape (n,) are one-hot encoded (a single sigmoid
    output takes 0/1 labels as is); a linear single output takes a 1-D target
    as a column; otherwise a float matrix of the output's width is expected.
    """
    array = _as_numeric_array(name, y)
    if array.ndim == 0 or array.ndim > 2:
        raise ValueError(
            f"{name} must have shape ({n_samples},) or ({n_samples}, "
            f"{n_outputs}); got shape {array.shape}")
    if array.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have different numbers of samples: {n_samples} "
            f"and {array.shape[0]}")
    _check_finite(name, array.astype(np.float64, copy=False))
    if array.ndim == 2:
        if array.shape[1] != n_outputs:
            raise ValueError(
                f"{name} has {array.shape[1]} columns, but the network has "
                f"{n_outputs} outputs")
        return features(array, dtype, n_outputs, name)
    if output == "linear" or n_outputs == 1:
        if n_outputs != 1:
            raise ValueError(
                f"a 1-D {name} needs a single output unit, or give a "
                f"({n_samples}, {n_outputs}) target matrix")
        return features(array.reshape(-1, 1), dtype, 1, name)
    labels = class_labels(array, n_outputs, name)
    Y = np.zeros((n_samples, n_outputs), dtype=dtype)
    Y[np.arange(n_samples), labels] = 1
    return Y


def class_labels(y, n_classes, name="y"):
    """Integral labels in [0, n_classes) as an int64 vector."""
    array = _as_numeric_array(name, y)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels; got "
                         f"shape {array.shape}")
    if array.dtype.kind == "f":
        _check_finite(name, array)
        if not np.array_equal(array, np.round(array)):
            raise ValueError(
                f"{name} holds class labels and must be integral; got "
                "non-integer values (Unknown label type: continuous)")
    if array.size and (array.min() < 0 or array.max() >= n_classes):
        raise ValueError(
            f"labels in {name} must be in [0, {n_classes}) for a network "
            f"with {n_classes} outputs; got values in "
            f"[{array.min()}, {array.max()}]")
    return array.astype(np.int64)
