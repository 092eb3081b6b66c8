"""Convert a penalty strength between the conventions of creg, Nielsen,
CS231n, PyTorch, Keras and scikit-learn.

Every convention is mapped to the one number that decides what a training
step does: the per-step gradient coefficient lambda' of creg's rule, with
G the batch-mean data gradient,

    L2:  g = G + lambda' * W
    L1:  g = G + lambda' * sign(W)   (creg's prox step uses the same lambda')

======================  ===========================  ====================
name                    what the value means         lambda' (L2)
======================  ===========================  ====================
"creg_n"                creg ``l2`` with             value / n
                        ``penalty_scale="n"``;
                        Nielsen's lambda: cost
                        + lambda/(2n) sum w^2
"creg_none"             creg ``l2`` with             value
                        ``penalty_scale="none"``
"pytorch"               ``torch.optim.SGD(...,       value
                        weight_decay=value)``:
                        grad += value * w
"cs231n"                ``reg`` in loss +            value
                        0.5 * reg * sum w^2
"keras"                 ``regularizers.L2(l2)``:     2 * value
                        loss + l2 * sum w^2
"sklearn"               ``MLPClassifier(alpha=)``:   value / batch_size
                        loss + alpha/(2 m) sum w^2,
                        m = rows of the mini-batch
======================  ===========================  ====================

L1 (``kind="l1"``) converts the same way, lambda1' = value / n for
"creg_n" and lambda1' = value for "creg_none", "pytorch" (a hand-written
``value * sum|w|`` added to the batch-mean loss; torch's optimizers have
no L1 argument) and "cs231n" (``reg * sum|w|``), except for "keras":
``regularizers.L1(l1)`` adds ``l1 * sum|w|``, whose gradient has no factor
2, so lambda1' = value.  scikit-learn's MLP has no L1 penalty, so
``kind="l1"`` with "sklearn" is refused.

Caveats (each convention's own, not creg's):

- "sklearn": scikit-learn divides alpha by the rows of each mini-batch,
  so a shorter last batch is decayed more; pass the nominal batch_size
  (``batch_size="auto"`` is min(200, n_samples); the lbfgs solver uses the
  whole training set, batch_size = n).
- "pytorch" is the coupled weight decay of ``SGD`` (and ``Adam``), not
  ``AdamW``'s decoupled one.
- The conversions assume the data loss is the mean over the mini-batch, as
  in all the conventions above.
"""
import math
import numbers
from typing import Optional

__all__ = ["convert_penalty", "CONVENTIONS"]

CONVENTIONS = ("creg_n", "creg_none", "pytorch", "cs231n", "keras",
               "sklearn")
_KINDS = ("l2", "l1")


def convert_penalty(value: float, frm: str, to: str, *,
                    n: Optional[int] = None, batch_size: Optional[int] = None,
                    kind: str = "l2") -> float:
    """Convert a penalty strength from convention `frm` to convention `to`.

    Parameters
    ----------
    value : float >= 0
        The strength as `frm` writes it.
    frm, to : {"creg_n", "creg_none", "pytorch", "cs231n", "keras", "sklearn"}
        The conventions (see the module docstring for what each means).
    n : int, optional
        Number of training samples; required when "creg_n" is involved,
        and checked (an int >= 1) wherever given.
    batch_size : int, optional
        Mini-batch size; required when "sklearn" is involved, and checked
        wherever given.
    kind : {"l2", "l1"}, default="l2"
        Which penalty the value is the strength of.

    Returns
    -------
    float
        The strength in convention `to` that gives the same training step.

    Examples
    --------
    Nielsen's lambda = 5.0 on 50,000 MNIST images:

    >>> convert_penalty(5.0, "creg_n", "pytorch", n=50_000)
    0.0001
    >>> convert_penalty(5.0, "creg_n", "keras", n=50_000)
    5e-05
    """
    value = _strength(value)
    frm = _convention("frm", frm)
    to = _convention("to", to)
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, one of "
                        f"{', '.join(map(repr, _KINDS))}; got {kind!r}")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _KINDS))}"
                         f"; got {kind!r}")
    if kind == "l1" and "sklearn" in (frm, to):
        raise ValueError("scikit-learn's MLP has no L1 penalty (alpha is an "
                         "L2 strength); kind='l1' cannot use 'sklearn'")
    # checked where given too, if not needed: a bad value is a mistake
    if "creg_n" in (frm, to) or n is not None:
        n = _count("n", n, "creg_n")
    if "sklearn" in (frm, to) or batch_size is not None:
        batch_size = _count("batch_size", batch_size, "sklearn")
    if frm == to:
        return float(value)
    result = _from_per_step(_per_step(value, frm, kind, n, batch_size), to,
                            kind, n, batch_size)
    if not math.isfinite(result):
        raise ValueError(
            f"value={value!r} converted from {frm!r} to {to!r} is beyond "
            "the float range")
    return result


def _per_step(value, name, kind, n, batch_size):
    """lambda' of a strength written in convention `name`."""
    if name == "creg_n":
        # Why * (1.0 / n): the very expression creg's fit uses, so a value
        # converted to "creg_none" trains bitwise like the original.
        return value * (1.0 / n)
    if name == "keras" and kind == "l2":
        return 2.0 * value
    if name == "sklearn":
        return value / batch_size
    return value


def _from_per_step(lam, name, kind, n, batch_size):
    """The strength in convention `name` whose lambda' is `lam`."""
    if name == "creg_n":
        # undoes _per_step's * (1.0 / n) exactly more often than * n (90%
        # of random values and n against 75%)
        return lam / (1.0 / n)
    if name == "keras" and kind == "l2":
        return lam / 2.0
    if name == "sklearn":
        return lam * batch_size
    return lam


def _strength(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"value must be a real number; got {value!r}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        value = math.inf
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"value must be a finite number >= 0; got {value!r}")
    return value + 0.0  # -0.0 is 0.0


def _convention(arg, name):
    if not isinstance(name, str):
        raise TypeError(f"{arg} must be a str, one of "
                        f"{', '.join(map(repr, CONVENTIONS))}; got {name!r}")
    if name not in CONVENTIONS:
        raise ValueError(f"{arg} must be one of "
                         f"{', '.join(map(repr, CONVENTIONS))}; got {name!r}")
    return name


def _count(arg, value, convention):
    if value is None:
        raise ValueError(f"converting {convention!r} needs {arg}= (" + (
            "the number of training samples, since creg's "
            "penalty_scale='n' divides by it)" if arg == "n" else
            "scikit-learn divides alpha by the mini-batch size)"))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{arg} must be an int; got {value!r}")
    if value < 1:
        raise ValueError(f"{arg} must be >= 1; got {value!r}")
    try:
        float(value)  # the conversions divide and multiply by it
    except OverflowError:
        raise ValueError(f"{arg} must fit in a float (at most ~1.8e308); got "
                         f"{value!r}") from None
    return int(value)
