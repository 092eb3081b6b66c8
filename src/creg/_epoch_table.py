"""The verbose table of a fit: one aligned row per epoch under a two-line
header, within 80 columns however many columns are on.

It only formats numbers it is given; the fit loop decides when to print.
Columns that would say nothing are left out: accuracies for a linear
output (they are NaN), validation without validation data, the share of
zero weights without L1, the share of clamped neurons without max-norm.
"""
import math
import sys
from dataclasses import dataclass, replace

from creg._progress import flush

_GAP = "  "


@dataclass(frozen=True)
class _Column:
    key: str     # the keyword of EpochTable.row that fills it
    top: str     # first header line
    bottom: str  # second header line
    width: int   # wide enough for the header and the widest usual value
    kind: str    # how to format: see _format


# Every column the table can show, left to right.  Widths: costs and the lr
# take 9 characters ("1.234e-05"), fractions 6 ("0.9731", "100.0%"); all
# of them together, with the gaps, 80.
_COLUMNS = (
    _Column("epoch", "", "epoch", 5, "int"),
    _Column("train_cost", "train", "cost", 9, "number"),
    _Column("train_accuracy", "train", "acc", 6, "fraction"),
    _Column("eval_cost", "val", "cost", 9, "number"),
    _Column("eval_accuracy", "val", "acc", 6, "fraction"),
    _Column("lr", "", "lr", 9, "general"),
    _Column("zero_fraction", "weights", "zero", 7, "percent"),
    _Column("clamped_fraction", "neurons", "clamped", 7, "percent"),
    _Column("seconds", "", "time", 6, "seconds"),
)


def _number(value, width, fixed=True):
    """The most significant digits (at most 5) of a float that fit in
    `width` characters; with `fixed`, 4 decimals while they show enough."""
    if not math.isfinite(value):
        return str(value)
    if fixed and 1e-3 <= abs(value) < 1e4:
        return f"{value:.4f}"
    for digits in range(5, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= width:
            return text
    return f"{value:.0e}"


def _seconds(value):
    """Milliseconds below a second ("4.2ms", "63ms"), else seconds."""
    if value < 0.01:
        return f"{1000 * value:.1f}ms"
    if value < 1:
        return f"{1000 * value:.0f}ms"
    return f"{value:.2f}s" if value < 100 else f"{value:.0f}s"


def _format(kind, value, width):
    if kind == "int":
        return str(value)
    if kind == "fraction":
        return f"{value:.4f}"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "seconds":
        return _seconds(value)
    return _number(value, width, fixed=kind == "number")


class EpochTable:
    """Formats the epochs of one fit as a table.

    Parameters
    ----------
    accuracy : bool
        Show train (and validation) accuracy columns.
    validation : bool
        Show the validation columns.
    zero : bool
        Show the share of weights that are exactly zero (L1 on).
    clamped : bool
        Show the share of neurons on the max-norm bound (max-norm on).
    validation_label : str, default="val"
        The validation columns' top header (at most 6 characters).
    last_epoch : int, default=99999
        The largest epoch number a row will show: the epoch column widens
        for it (past 80 columns), so rows stay aligned.

    Examples
    --------
    >>> table = EpochTable(accuracy=True, validation=False, zero=False,
    ...                    clamped=False)
    >>> print(table.header())
               train   train
    epoch       cost     acc         lr    time
    >>> print(table.row(epoch=1, train_cost=0.5, train_accuracy=0.875,
    ...                 lr=0.5, seconds=0.25))
        1     0.5000  0.8750        0.5   250ms
    """

    def __init__(self, *, accuracy, validation, zero, clamped,
                 validation_label="val", last_epoch=99999):
        left_out = set()
        if not accuracy:
            left_out |= {"train_accuracy", "eval_accuracy"}
        if not validation:
            left_out |= {"eval_cost", "eval_accuracy"}
        if not zero:
            left_out.add("zero_fraction")
        if not clamped:
            left_out.add("clamped_fraction")
        self.columns = [
            replace(c, top=validation_label) if c.top == "val"
            else replace(c, width=max(c.width, len(str(last_epoch))))
            if c.key == "epoch" else c
            for c in _COLUMNS if c.key not in left_out]
        self.header_printed = False

    def header(self):
        """The two header lines, joined by a newline."""
        top = _GAP.join(f"{c.top:>{c.width}}" for c in self.columns)
        bottom = _GAP.join(f"{c.bottom:>{c.width}}" for c in self.columns)
        return f"{top.rstrip()}\n{bottom}"

    def row(self, **values):
        """One epoch's line; `values` holds a number for every column."""
        return _GAP.join(
            f"{_format(c.kind, values[c.key], c.width):>{c.width}}"
            for c in self.columns)

    def row_of(self, epoch, history, index=-1):
        """The line of epoch `index` of a History, numbered `epoch`."""
        values = {c.key: getattr(history, c.key)[index]
                  for c in self.columns if c.key != "epoch"}
        return self.row(epoch=epoch, **values)

    def print_epoch(self, epoch, history, file=None):
        """Print the last epoch of `history`, after the header the first
        time."""
        out = sys.stdout if file is None else file
        if not self.header_printed:
            print(self.header(), file=out)
            self.header_printed = True
        print(self.row_of(epoch, history), file=out)
        flush(out)
