"""Data expansion: shifted (and optionally rotated) copies of image rows.

``expand`` is Nielsen's expansion of MNIST (chapter 3, "Artificially
expanding the training data"; his ``expand_mnist.py``): every image plus
four copies moved by one pixel up, down, left and right, with zero fill.
Optional small rotations add one more copy per angle.

Layout of the result (n = number of input rows, k = 5 + len(angles))::

    rows [0, n)        the originals, in the given order
    rows [n, 2n)       shifted up     by `shifts` pixels
    rows [2n, 3n)      shifted down
    rows [3n, 4n)      shifted left
    rows [4n, 5n)      shifted right
    rows [5n, 6n) ...  rotated by angles[0], then angles[1], ...

so row ``j*n + i`` is a copy of input row ``i``.  Nielsen interleaves the
copies image by image and shuffles; the order here is blocked, which is
simpler to index, and ``Network.fit`` shuffles every epoch anyway.

Conventions:

- An image is row-major: pixel (r, c) of an (h, w) image is column
  ``r*w + c`` of X; row 0 is the top, as ``matplotlib.pyplot.imshow``
  draws it.
- "Up" means the content moves towards row 0: ``up[r, c] = img[r + s, c]``,
  the bottom ``s`` rows become 0.  Likewise down, left (towards column 0)
  and right.  Each equals ``np.roll`` by ``-s``/``+s`` along the row or
  column axis with the wrapped-around edge set to zero.
- A positive angle rotates counter-clockwise as displayed (row 0 at the
  top), about the image centre ((h-1)/2, (w-1)/2), with bilinear
  interpolation and zero fill outside the image; 90 degrees on a square
  image is exactly ``np.rot90(img)`` (sines and cosines of multiples of
  90 degrees are taken as exact 0 and +-1, so such rotations move pixels
  without rounding).  It equals ``scipy.ndimage.rotate(img, angle,
  reshape=False, order=1, mode="grid-constant")`` (the tests check this
  when scipy is installed; creg does not depend on it).

What it deliberately does not do: elastic distortions, random
augmentation per epoch, or anything that is not a fixed function of the
input.  The copies are built once, in numpy, for all images together:
shifts are slice assignments, a rotation is four gathers and
multiply-adds over blocks of rows; there is no loop over images.
"""
import math
import numbers
from typing import Any, Optional, Sequence, overload

import numpy as np
import numpy.typing as npt

from creg import _validation as check

__all__ = ["expand"]

# Why blocks: a block's temporaries stay in cache and are reused, instead
# of four fresh (n, h*w) arrays per angle (~3x faster on 50,000 MNIST rows).
_ROWS_PER_BLOCK = 1024


@overload
def expand(X: npt.ArrayLike, image_shape: Sequence[int], shifts: int = 1,
           angles: Optional[Sequence[float]] = None, y: None = None,
           ) -> npt.NDArray[Any]: ...


@overload
def expand(X: npt.ArrayLike, image_shape: Sequence[int], shifts: int,
           angles: Optional[Sequence[float]], y: npt.ArrayLike,
           ) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]: ...


@overload
def expand(X: npt.ArrayLike, image_shape: Sequence[int], shifts: int = 1,
           angles: Optional[Sequence[float]] = None, *, y: npt.ArrayLike,
           ) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]: ...


def expand(X: Any, image_shape: Any, shifts: Any = 1, angles: Any = None,
           y: Any = None) -> Any:
    """Return the images plus shifted (and rotated) copies.

    Parameters
    ----------
    X : array-like of shape (n, h*w)
        One image per row, row-major.  Float dtypes are preserved; integer
        and bool inputs are converted to float64.
    image_shape : (int, int)
        (h, w), the height and width of every image; h*w must equal
        X.shape[1].
    shifts : int, default=1
        How many pixels the four shifted copies move, 1 <= shifts <
        min(h, w).
    angles : sequence of float, optional
        Rotations in degrees (positive = counter-clockwise as displayed),
        one rotated copy of every original per angle, e.g. (-10, 10).
    y : array-like of shape (n,) or (n, k), optional
        Labels or targets; copied along with their images.

    Returns
    -------
    X_expanded : ndarray of shape ((5 + len(angles)) * n, h*w)
        Originals, then up, down, left and right shifts, then one block
        per angle; row ``j*n + i`` is a copy of row ``i``.
    y_expanded : ndarray of shape ((5 + len(angles)) * n, ...)
        Only when y is given: y repeated in the same block order.

    Examples
    --------
    >>> import creg
    >>> X, y = creg.datasets.load_digits()
    >>> X5, y5 = creg.expand(X, (8, 8), y=y)
    >>> X5.shape
    (8985, 64)
    """
    X = _images(X)
    h, w = _image_shape(image_shape, X.shape[1])
    s = _shifts(shifts, h, w)
    angles = _angles(angles)
    if y is not None:
        y = _labels(y, X.shape[0])

    n = X.shape[0]
    n_copies = 5 + len(angles)
    # the copies, the labels' copies and one block of rotation scratch
    check.check_budget(
        f"{n_copies} copies of {n} images of {h}x{w}",
        n_copies * (X.nbytes + (0 if y is None else y.nbytes))
        + (_ROWS_PER_BLOCK * h * w * X.itemsize if angles else 0))
    out = np.zeros((n_copies, n, h, w), dtype=X.dtype)
    images = X.reshape(n, h, w)
    out[0] = images
    out[1, :, :h - s, :] = images[:, s:, :]   # up
    out[2, :, s:, :] = images[:, :h - s, :]   # down
    out[3, :, :, :w - s] = images[:, :, s:]   # left
    out[4, :, :, s:] = images[:, :, :w - s]   # right
    for j, angle in enumerate(angles):
        _rotate(out[5 + j].reshape(n, h * w), X, h, w, angle)
    X_expanded = out.reshape(n_copies * n, h * w)
    if y is None:
        return X_expanded
    return X_expanded, np.concatenate([y] * n_copies, axis=0)


# ------------------------------------------------------------- rotation


def _cos_sin_degrees(angle):
    """cos and sin of an angle in degrees, exact at multiples of 90."""
    quarter = angle / 90.0
    if quarter == round(quarter):
        return {0: (1.0, 0.0), 1: (0.0, 1.0), 2: (-1.0, 0.0),
                3: (0.0, -1.0)}[int(round(quarter)) % 4]
    radians = math.radians(angle)
    return math.cos(radians), math.sin(radians)


def _bilinear_taps(h, w, angle, dtype):
    """For each output pixel, its four source pixels and their weights.

    Returns (index, weight), both shape (4, h*w): output pixel p is
    sum_k weight[k, p] * image[index[k, p]] (flat row-major indices).
    Neighbours outside the image get weight 0 (zero fill) and a harmless
    in-range index.
    """
    cos, sin = _cos_sin_degrees(angle)
    cr, cc = (h - 1) / 2.0, (w - 1) / 2.0
    r, c = np.meshgrid(np.arange(h, dtype=np.float64),
                       np.arange(w, dtype=np.float64), indexing="ij")
    # Display coordinates: x to the right, y up.  The output pixel at
    # (x, y) shows the source point rotated back by -angle.
    x, yy = c - cc, cr - r
    src_x = x * cos + yy * sin
    src_y = -x * sin + yy * cos
    src_r, src_c = (cr - src_y).ravel(), (cc + src_x).ravel()
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = src_r - r0, src_c - c0
    index = np.empty((4, h * w), dtype=np.intp)
    weight = np.empty((4, h * w), dtype=np.float64)
    taps = ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc),
            (1, 0, fr * (1 - fc)), (1, 1, fr * fc))
    for k, (dr, dc, wk) in enumerate(taps):
        rr, cc_ = r0 + dr, c0 + dc
        inside = (rr >= 0) & (rr < h) & (cc_ >= 0) & (cc_ < w)
        index[k] = np.where(inside, rr * w + cc_, 0).astype(np.intp)
        weight[k] = np.where(inside, wk, 0.0)
    return index, weight.astype(dtype)


def _rotate(out, X, h, w, angle):
    """out (n, h*w) := X (n, h*w) rotated by `angle` degrees: four gathers
    and multiply-adds over blocks of rows (no loop over images)."""
    index, weight = _bilinear_taps(h, w, angle, X.dtype)
    tmp = np.empty((min(X.shape[0], _ROWS_PER_BLOCK), h * w), X.dtype)
    for start in range(0, X.shape[0], _ROWS_PER_BLOCK):
        x = X[start:start + _ROWS_PER_BLOCK]
        o, t = out[start:start + _ROWS_PER_BLOCK], tmp[:x.shape[0]]
        # mode="clip": indices are in range; "raise" would buffer `out`.
        np.take(x, index[0], axis=1, out=t, mode="clip")
        np.multiply(t, weight[0], out=o)
        # a mean of finite pixels is finite; its rounded sum at the top of
        # the dtype's range need not be, and is clipped back to it
        with np.errstate(over="ignore"):
            for k in range(1, 4):
                np.take(x, index[k], axis=1, out=t, mode="clip")
                t *= weight[k]
                o += t
        np.clip(o, -np.finfo(o.dtype).max, np.finfo(o.dtype).max, out=o)


# ----------------------------------------------------------- validation


def _images(X):
    """One image per row; float dtypes kept, others converted to float64.
    Same checks and messages as every other entry point."""
    return check.matrix(X, "X")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _image_shape(image_shape, n_features):
    try:
        shape = tuple(image_shape)
    except TypeError:
        raise TypeError(f"image_shape must be a pair (h, w); got "
                        f"{image_shape!r}") from None
    if len(shape) != 2 or not all(_is_int(d) for d in shape):
        raise TypeError(f"image_shape must be a pair of ints (h, w); got "
                        f"{image_shape!r}")
    h, w = int(shape[0]), int(shape[1])
    if h < 1 or w < 1:
        raise ValueError(f"image_shape must be positive; got {image_shape!r}")
    if h * w != n_features:
        raise ValueError(f"image_shape {image_shape!r} has {h * w} pixels, "
                         f"but X has {n_features} columns")
    return h, w


def _shifts(shifts, h, w):
    if not _is_int(shifts):
        raise TypeError(f"shifts must be an int; got {shifts!r}")
    if not 1 <= shifts < min(h, w):
        raise ValueError(f"shifts must be in [1, {min(h, w)}) for {h}x{w} "
                         f"images (a shift must leave some pixels); got "
                         f"{shifts!r}")
    return int(shifts)


def _angles(angles):
    if angles is None:
        return ()
    if isinstance(angles, (numbers.Number, str)):
        raise TypeError(f"angles must be a sequence of angles in degrees, "
                        f"e.g. (-10, 10); got {angles!r}")
    try:
        values = tuple(angles)
    except TypeError:
        raise TypeError(f"angles must be a sequence of angles in degrees, "
                        f"e.g. (-10, 10); got {angles!r}") from None
    for i, a in enumerate(values):
        if isinstance(a, bool) or not isinstance(a, numbers.Real):
            raise TypeError(f"angles[{i}] must be a real number of degrees; "
                            f"got {a!r}")
        try:
            a = float(a)
        except OverflowError:  # an int beyond the float range, e.g. 10**400
            raise ValueError(f"angles[{i}] must be finite; got {a!r}") \
                from None
        if not math.isfinite(a):
            raise ValueError(f"angles[{i}] must be finite; got {a!r}")
    return tuple(float(a) for a in values)


def _labels(y, n):
    array = check.converted("y", y)
    if array.ndim == 0:
        raise ValueError(f"y must have one entry per row of X; got a scalar "
                         f"{y!r}")
    if array.shape[0] != n:
        raise ValueError(f"X and y have different numbers of samples: {n} "
                         f"and {array.shape[0]}")
    return array
