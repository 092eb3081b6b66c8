"""Tests for creg.datasets: the bundled digits and MNIST sample, and the
MNIST IDX reader.

The MNIST tests write tiny IDX files into tmp_path, so they need no download
and check every byte of the round trip.
"""
import gzip
import os
import re

import numpy as np
import pytest

import creg
from creg.datasets import load_digits, load_mnist, load_mnist_sample

DTYPES = [np.float32, np.float64]

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


# ---------------------------------------------------------- MNIST sample


def _mnist_file_table():
    """The shipped CSV parsed independently of creg: (5000, 785) ints."""
    path = os.path.join(os.path.dirname(creg.__file__), "data",
                        "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        rows = [line.split(",") for line in f.read().splitlines()]
    return np.array(rows, dtype=np.int64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_load_mnist_sample_shape_dtype_range(dtype):
    X, y = load_mnist_sample(dtype=dtype)
    assert X.shape == (5000, 784) and X.dtype == dtype
    assert X.flags.c_contiguous
    assert y.shape == (5000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    counts = X.astype(np.float64) * 255
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-4)


def test_load_mnist_sample_interleaves_classes():
    _, y = load_mnist_sample()
    np.testing.assert_array_equal(y, np.tile(np.arange(10), 500))
    # So the first 1,000 rows are a balanced training set.
    np.testing.assert_array_equal(np.bincount(y[:1000]), np.full(10, 100))


def test_load_mnist_sample_rows_are_the_files_images():
    table = _mnist_file_table()
    X, y = load_mnist_sample(dtype="float64")
    # Row j is image j // 10 of class j % 10, in file order within a class.
    for j in (0, 1, 9, 10, 4321, 4999):
        c, i = j % 10, j // 10
        file_rows = table[table[:, 784] == c]
        np.testing.assert_array_equal(X[j] * 255, file_rows[i, :784])
        assert y[j] == c
    # Every image of the file appears once.
    assert sorted(map(bytes, (X * 255).round().astype(np.uint8))) == \
        sorted(map(bytes, table[:, :784].astype(np.uint8)))


def test_load_mnist_sample_rejects_other_dtypes():
    with pytest.raises(ValueError, match="dtype must be one of"):
        load_mnist_sample(dtype="int64")


# ---------------------------------------------------------------- digits


def test_load_digits_shape_dtype_and_range():
    X, y = load_digits()
    assert X.shape == (1797, 64)
    assert X.dtype == np.float64
    assert X.flags.c_contiguous
    assert y.shape == (1797,)
    assert y.dtype == np.int64
    assert X.min() == 0.0
    assert X.max() == 1.0
    # The pixels are counts 0..16 divided by 16, so exact multiples of 1/16.
    counts = X * 16
    np.testing.assert_array_equal(counts, np.round(counts))


def test_load_digits_labels_and_class_counts():
    _, y = load_digits()
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == 1797
    assert np.all((counts >= 170) & (counts <= 190)), counts


def test_load_digits_first_row_is_parsed_in_column_order():
    # First row of digits.csv.gz: a zero; the label is the last column.
    X, y = load_digits()
    assert y[0] == 0
    np.testing.assert_array_equal(
        X[0, :16] * 16, [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_load_digits_dtype(dtype):
    X, y = load_digits(dtype=dtype)
    assert X.dtype == dtype
    assert y.dtype == np.int64
    X64, y64 = load_digits(dtype="float64")
    # k/16 is exact in both precisions.
    np.testing.assert_array_equal(X, X64.astype(dtype))
    np.testing.assert_array_equal(y, y64)


def test_load_digits_dtype_string_names():
    assert load_digits("float32")[0].dtype == np.float32
    assert load_digits(np.dtype("float64"))[0].dtype == np.float64


@pytest.mark.parametrize("bad", ["int64", "float16", np.int32, "banana",
                                 None, ">f4", "f4,("])
def test_load_digits_rejects_other_dtypes(bad):
    with pytest.raises(ValueError, match="dtype must be one of"):
        load_digits(dtype=bad)


def test_load_digits_returns_fresh_arrays():
    X1, y1 = load_digits()
    X1[:] = -1.0
    y1[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0.0
    assert y2.min() == 0


# ---------------------------------------------------------------- MNIST

# Tiny fake MNIST: 3x4 images (rows != cols, so a transposed flatten fails),
# 7 training and 5 test samples, pixels covering 0 and 255.
ROWS, COLS = 3, 4
N_TRAIN, N_TEST = 7, 5


def idx_bytes(magic, shape, payload):
    """The raw bytes of an IDX file: magic, big-endian sizes, data."""
    header = magic.to_bytes(4, "big")
    header += b"".join(int(s).to_bytes(4, "big") for s in shape)
    return header + np.asarray(payload, dtype=np.uint8).tobytes()


def write(path, data, gz):
    if gz:
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)
    return path


def fake_split(rng, n):
    images = rng.integers(0, 256, size=(n, ROWS, COLS), dtype=np.uint8)
    images[0, 0, 0] = 0
    images[0, 0, 1] = 255
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def file_name(prefix, what, dotted):
    ndim = 3 if what == "images" else 1
    sep = "." if dotted else "-"
    return f"{prefix}-{what}{sep}idx{ndim}-ubyte"


def write_mnist(directory, gz=False, dotted=False, seed=0):
    """Write the four files; returns {prefix: (images, labels)}."""
    rng = np.random.default_rng(seed)
    splits = {"train": fake_split(rng, N_TRAIN),
              "t10k": fake_split(rng, N_TEST)}
    for prefix, (images, labels) in splits.items():
        for what, magic, array in (("images", IMAGES_MAGIC, images),
                                   ("labels", LABELS_MAGIC, labels)):
            name = file_name(prefix, what, dotted) + (".gz" if gz else "")
            write(os.path.join(directory, name),
                  idx_bytes(magic, array.shape, array), gz)
    return splits


def check_round_trip(loaded, splits, dtype):
    (X_train, y_train), (X_test, y_test) = loaded
    for (X, y), prefix in (((X_train, y_train), "train"),
                           ((X_test, y_test), "t10k")):
        images, labels = splits[prefix]
        n = images.shape[0]
        assert X.shape == (n, ROWS * COLS)
        assert X.dtype == dtype
        assert y.shape == (n,)
        assert y.dtype == np.int64
        expected = images.reshape(n, ROWS * COLS).astype(dtype) / dtype(255)
        np.testing.assert_array_equal(X, expected)
        # Scaling is invertible: every byte comes back exactly.
        np.testing.assert_array_equal(
            np.rint(X.astype(np.float64) * 255).astype(np.uint8),
            images.reshape(n, -1))
        np.testing.assert_array_equal(y, labels)
        assert X.min() >= 0.0 and X.max() <= 1.0


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_load_mnist_round_trip(tmp_path, gz, dtype):
    splits = write_mnist(tmp_path, gz=gz)
    check_round_trip(load_mnist(tmp_path, dtype=dtype), splits, dtype)


def _rewrite(directory, prefix, what, magic, array):
    write(os.path.join(directory, file_name(prefix, what, False)),
          idx_bytes(magic, array.shape, array), False)


def test_load_mnist_refuses_a_label_past_9(tmp_path):
    splits = write_mnist(tmp_path)
    labels = splits["t10k"][1].copy()
    labels[3] = 255
    _rewrite(tmp_path, "t10k", "labels", LABELS_MAGIC, labels)
    with pytest.raises(ValueError, match="holds label 255: MNIST's classes "
                       "are the digits 0 to 9"):
        load_mnist(tmp_path)


def test_load_mnist_refuses_files_of_no_image(tmp_path):
    write_mnist(tmp_path)
    _rewrite(tmp_path, "train", "images", IMAGES_MAGIC,
             np.zeros((0, ROWS, COLS), np.uint8))
    _rewrite(tmp_path, "train", "labels", LABELS_MAGIC,
             np.zeros(0, np.uint8))
    with pytest.raises(ValueError, match="holds no image"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("shape", [(0, 0), (0, COLS), (ROWS, 0)])
def test_load_mnist_refuses_images_of_no_pixel(tmp_path, shape):
    splits = write_mnist(tmp_path)
    n = len(splits["t10k"][1])
    _rewrite(tmp_path, "t10k", "images", IMAGES_MAGIC,
             np.zeros((n, *shape), np.uint8))
    with pytest.raises(ValueError, match=f"holds images of {shape[0]} x "
                       f"{shape[1]} pixels: none"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("shape", [(5, 5), (COLS, ROWS)])
def test_load_mnist_refuses_splits_of_other_image_sizes(tmp_path, shape):
    """As many pixels in another shape (transposed) is another data set."""
    splits = write_mnist(tmp_path)
    n = len(splits["t10k"][1])
    _rewrite(tmp_path, "t10k", "images", IMAGES_MAGIC,
             np.zeros((n, *shape), np.uint8))
    with pytest.raises(ValueError, match=f"are {ROWS} x {COLS} pixels and "
                       f"the test images {shape[0]} x {shape[1]}"):
        load_mnist(tmp_path)


def test_load_mnist_refuses_data_memory_cannot_hold(tmp_path, monkeypatch):
    """Before reading: a gzipped file of 130 kB can declare 128 MiB of
    pixels, which float64 makes 1 GiB."""
    from creg import _validation
    write_mnist(tmp_path, gz=True)
    monkeypatch.setattr(_validation, "_memory_limit",
                        lambda nbytes: (8, "a test's limit"))
    with pytest.raises(MemoryError, match="train-images-idx3-ubyte.gz's "
                       r"\d+ bytes of data and the array made of them"):
        load_mnist(tmp_path, dtype="float64")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_load_mnist_names_a_file_that_is_not_regular(tmp_path):
    write_mnist(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.unlink()
    os.mkfifo(labels)  # reading it would wait for ever
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte is not "
                       "a regular file"):
        load_mnist(tmp_path)


def test_load_mnist_names_a_directory_that_is_no_path():
    with pytest.raises(TypeError, match="directory must be a path .*got 3"):
        load_mnist(3)


def test_load_mnist_takes_a_bytes_path(tmp_path):
    splits = write_mnist(tmp_path)
    check_round_trip(load_mnist(os.fsencode(tmp_path)), splits, np.float32)


def test_load_mnist_default_dtype_is_float32(tmp_path):
    write_mnist(tmp_path)
    (X_train, _), (X_test, _) = load_mnist(str(tmp_path))
    assert X_train.dtype == np.float32
    assert X_test.dtype == np.float32


def test_load_mnist_dotted_names(tmp_path):
    splits = write_mnist(tmp_path, gz=True, dotted=True)
    check_round_trip(load_mnist(tmp_path), splits, np.float32)


def test_load_mnist_mixed_gzip_and_plain(tmp_path):
    splits = write_mnist(tmp_path, gz=True)
    # Decompress one file in place: the rest stay gzipped.
    gz_path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(
        gzip.decompress(gz_path.read_bytes()))
    gz_path.unlink()
    check_round_trip(load_mnist(tmp_path), splits, np.float32)


def test_load_mnist_rejects_bad_dtype(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(ValueError, match="dtype must be one of"):
        load_mnist(tmp_path, dtype="uint8")


def test_load_mnist_missing_directory(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope"):
        load_mnist(missing)


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte",
                                  "train-labels-idx1-ubyte",
                                  "t10k-images-idx3-ubyte",
                                  "t10k-labels-idx1-ubyte"])
def test_load_mnist_missing_file_is_named(tmp_path, name):
    write_mnist(tmp_path)
    (tmp_path / name).unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(name)):
        load_mnist(tmp_path)


def test_load_mnist_wrong_magic_in_labels(tmp_path):
    # A labels file holding an images header: wrong kind of IDX file.
    write_mnist(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(IMAGES_MAGIC, (N_TRAIN, 1, 1),
                               np.zeros(N_TRAIN)))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.*"
                       r"magic number 0x00000803, expected 0x00000801"):
        load_mnist(tmp_path)


def test_load_mnist_wrong_magic_not_idx(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"<html>not mnist")
    with pytest.raises(ValueError,
                       match=r"t10k-images-idx3-ubyte.*expected 0x00000803"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_data(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError,
                       match=r"train-images-idx3-ubyte is truncated"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_header(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(LABELS_MAGIC.to_bytes(4, "big") + b"\x00\x00")
    with pytest.raises(ValueError,
                       match=r"t10k-labels-idx1-ubyte is truncated"):
        load_mnist(tmp_path)


def test_load_mnist_empty_file(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(ValueError,
                       match=r"t10k-labels-idx1-ubyte is truncated"):
        load_mnist(tmp_path)


def test_load_mnist_trailing_data(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ValueError,
                       match=r"train-labels-idx1-ubyte has trailing data"):
        load_mnist(tmp_path)


def test_load_mnist_truncated_gzip(tmp_path):
    write_mnist(tmp_path, gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError,
                       match=r"train-images-idx3-ubyte\.gz is not a valid "
                             r"gzip file"):
        load_mnist(tmp_path)


def test_load_mnist_count_mismatch(tmp_path):
    write_mnist(tmp_path)
    labels = np.zeros(N_TEST - 1, dtype=np.uint8)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(
        idx_bytes(LABELS_MAGIC, labels.shape, labels))
    with pytest.raises(ValueError,
                       match=rf"t10k-images-idx3-ubyte holds {N_TEST} images "
                             rf"but .*t10k-labels-idx1-ubyte holds "
                             rf"{N_TEST - 1} labels"):
        load_mnist(tmp_path)
