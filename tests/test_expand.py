"""creg.expand: shifted and rotated copies of image rows (issue 3).

The shift oracle is np.roll with the wrapped-around edge zeroed; the
rotation oracles are np.rot90 (multiples of 90 degrees, compared with ==),
a per-pixel bilinear loop written here, and scipy.ndimage.rotate when
scipy is installed.
"""
import math
import warnings

import numpy as np
import pytest

import creg
from creg.expand import expand

# (name, roll amount sign, axis of the (n, h, w) stack) in expand's order.
SHIFTS = [("up", -1, 1), ("down", +1, 1), ("left", -1, 2), ("right", +1, 2)]


def rolled_and_zeroed(images, s, sign, axis):
    """np.roll by sign*s along axis, with the s wrapped lines set to 0."""
    out = np.roll(images, sign * s, axis=axis)
    edge = [slice(None)] * 3
    edge[axis] = slice(0, s) if sign > 0 else slice(-s, None)
    out[tuple(edge)] = 0
    return out


def bilinear_rotate_loop(image, angle):
    """One image rotated counter-clockwise (as displayed) by `angle`
    degrees about its centre, bilinear, zero outside: a plain loop."""
    h, w = image.shape
    t = math.radians(angle)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    out = np.zeros((h, w))
    for r in range(h):
        for c in range(w):
            # Undo the rotation: rotate the output point clockwise by t in
            # (right, up) coordinates, then back to (row, col).
            x, up = c - cx, cy - r
            sx = math.cos(t) * x + math.sin(t) * up
            sup = -math.sin(t) * x + math.cos(t) * up
            rr, cc = cy - sup, cx + sx
            r0, c0 = math.floor(rr), math.floor(cc)
            total = 0.0
            for dr in (0, 1):
                for dc in (0, 1):
                    i, j = r0 + dr, c0 + dc
                    if 0 <= i < h and 0 <= j < w:
                        wr = (rr - r0) if dr else 1 - (rr - r0)
                        wc = (cc - c0) if dc else 1 - (cc - c0)
                        total += wr * wc * image[i, j]
            out[r, c] = total
    return out


@pytest.fixture
def digits():
    return creg.datasets.load_digits()


def random_images(n, h, w, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).random((n, h * w)).astype(dtype)


# ------------------------------------------------------------------ shifts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_five_times_the_rows_and_dtype_kept(dtype):
    X = random_images(7, 5, 6, dtype)
    out = expand(X, (5, 6))
    assert out.shape == (35, 30)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out[:7], X)


@pytest.mark.parametrize("h, w, s", [(8, 8, 1), (5, 7, 2), (7, 5, 3),
                                     (28, 28, 1), (3, 3, 2)])
def test_shifts_equal_roll_with_the_wrapped_edge_zeroed(h, w, s):
    X = random_images(6, h, w) + 0.5  # no zeros of its own
    out = expand(X, (h, w), shifts=s).reshape(5, 6, h, w)
    images = X.reshape(6, h, w)
    for k, (name, sign, axis) in enumerate(SHIFTS, start=1):
        expected = rolled_and_zeroed(images, s, sign, axis)
        assert np.array_equal(out[k], expected), name


def test_shift_directions_on_a_single_pixel():
    image = np.zeros((4, 5))
    image[1, 2] = 1.0
    out = expand(image.reshape(1, -1), (4, 5)).reshape(5, 4, 5)
    where = [tuple(int(i) for i in np.argwhere(o)[0]) for o in out]
    assert where == [(1, 2), (0, 2), (2, 2), (1, 1), (1, 3)]


def test_labels_travel_with_their_images():
    X = random_images(9, 4, 4)
    y = np.arange(9) % 3
    X5, y5 = expand(X, (4, 4), y=y)
    assert y5.shape == (45,) and y5.dtype == y.dtype
    for j in range(5):
        np.testing.assert_array_equal(y5[j * 9:(j + 1) * 9], y)
    # Each copy is traceable to its source row: its original's label.
    np.testing.assert_array_equal(X5[:9], X)
    Y = np.eye(3)[y]  # one-hot targets travel too
    _, Y5 = expand(X, (4, 4), y=Y)
    np.testing.assert_array_equal(Y5, np.tile(Y, (5, 1)))


def test_input_is_not_modified():
    X = random_images(3, 4, 4)
    before = X.copy()
    expand(X, (4, 4), angles=(30,))
    np.testing.assert_array_equal(X, before)


def test_integer_input_becomes_float64():
    X = np.arange(2 * 9, dtype=np.uint8).reshape(2, 9)
    out = expand(X, (3, 3))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[:2], X.astype(np.float64))


def test_digits_and_784_pixel_images(digits):
    X, y = digits
    X5, y5 = expand(X, (8, 8), y=y)
    assert X5.shape == (5 * 1797, 64) and y5.shape == (5 * 1797,)
    up = rolled_and_zeroed(X.reshape(-1, 8, 8), 1, -1, 1)
    assert np.array_equal(X5[1797:2 * 1797].reshape(-1, 8, 8), up)
    M = random_images(50, 28, 28, np.float32)
    M5 = expand(M, (28, 28), angles=(-10, 10))
    assert M5.shape == (350, 784) and M5.dtype == np.float32
    right = rolled_and_zeroed(M.reshape(-1, 28, 28), 1, +1, 2)
    assert np.array_equal(M5[200:250].reshape(-1, 28, 28), right)


# --------------------------------------------------------------- rotations


@pytest.mark.parametrize("angles", [(), (10,), (-10, 10), (5, 15, -20)])
def test_rotations_add_one_block_per_angle(angles):
    X = random_images(4, 6, 6)
    y = np.arange(4)
    out, y_out = expand(X, (6, 6), angles=angles, y=y)
    assert out.shape == ((5 + len(angles)) * 4, 36)
    np.testing.assert_array_equal(y_out, np.tile(y, 5 + len(angles)))


@pytest.mark.parametrize("angle", [0, 360, -720])
def test_rotation_by_a_full_turn_is_the_identity(angle):
    X = random_images(3, 5, 7)
    out = expand(X, (5, 7), angles=(angle,))
    assert np.array_equal(out[15:], X)


@pytest.mark.parametrize("angle, k", [(90, 1), (-90, -1), (180, 2),
                                      (270, 3), (450, 1)])
def test_quarter_turns_of_a_square_image_equal_rot90(angle, k):
    X = random_images(4, 6, 6)
    out = expand(X, (6, 6), angles=(angle,))[20:].reshape(4, 6, 6)
    assert np.array_equal(out, np.rot90(X.reshape(4, 6, 6), k, axes=(1, 2)))


def test_half_turn_of_a_non_square_image_equals_rot90_twice():
    X = random_images(3, 4, 7)
    out = expand(X, (4, 7), angles=(180,))[15:].reshape(3, 4, 7)
    assert np.array_equal(out, np.rot90(X.reshape(3, 4, 7), 2, axes=(1, 2)))


def test_positive_angle_is_counter_clockwise_as_displayed():
    image = np.zeros((3, 3))
    image[0, 2] = 1.0  # top-right corner
    out = expand(image.reshape(1, -1), (3, 3), angles=(90,))[5].reshape(3, 3)
    expected = np.zeros((3, 3))
    expected[0, 0] = 1.0  # top-left corner
    assert np.array_equal(out, expected)


@pytest.mark.parametrize("h, w", [(6, 6), (5, 8)])
@pytest.mark.parametrize("angle", [10, -10, 33.3, 135])
def test_rotation_matches_a_per_pixel_bilinear_loop(h, w, angle):
    X = random_images(3, h, w, seed=1)
    out = expand(X, (h, w), angles=(angle,))[15:].reshape(3, h, w)
    for i in range(3):
        expected = bilinear_rotate_loop(X[i].reshape(h, w), angle)
        np.testing.assert_allclose(out[i], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("angle", [10, -10, 45])
def test_rotation_matches_scipy_ndimage(angle):
    ndimage = pytest.importorskip("scipy.ndimage")
    X = random_images(3, 9, 9, seed=2)
    out = expand(X, (9, 9), angles=(angle,))[15:].reshape(3, 9, 9)
    for i in range(3):
        expected = ndimage.rotate(X[i].reshape(9, 9), angle, reshape=False,
                                  order=1, mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(out[i], expected, rtol=1e-12, atol=1e-14)


def test_rotation_is_the_same_across_row_blocks():
    # expand rotates blocks of rows at a time; rows on either side of a
    # block edge (and a short last block) must be treated alike.
    X = random_images(2100, 4, 4, seed=3)
    out = expand(X, (4, 4), angles=(30,))[5 * 2100:]
    for i in (0, 1023, 1024, 2047, 2048, 2099):
        expected = bilinear_rotate_loop(X[i].reshape(4, 4), 30).ravel()
        np.testing.assert_allclose(out[i], expected, rtol=1e-12, atol=1e-14)
    pieces = [expand(X[a:b], (4, 4), angles=(30,))[5 * (b - a):]
              for a, b in ((0, 700), (700, 2100))]
    assert np.array_equal(out, np.concatenate(pieces))


def test_no_images_gives_no_rows():
    X, y = expand(np.zeros((0, 9)), (3, 3), angles=(10,), y=np.zeros(0))
    assert X.shape == (0, 9) and y.shape == (0,)


def test_float32_rotation_is_close_to_float64():
    X = random_images(5, 8, 8)
    out64 = expand(X, (8, 8), angles=(12,))
    out32 = expand(X.astype(np.float32), (8, 8), angles=(12,))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=0, atol=1e-6)


# -------------------------------------------------------------- validation


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(image_shape=(4, 5)), ValueError, "image_shape"),
    (dict(image_shape=(4,)), TypeError, "image_shape"),
    (dict(image_shape=16), TypeError, "image_shape"),
    (dict(image_shape=(4.0, 4.0)), TypeError, "image_shape"),
    (dict(image_shape=(-4, -4)), ValueError, "image_shape"),
    (dict(shifts=0), ValueError, "shifts"),
    (dict(shifts=4), ValueError, "shifts"),
    (dict(shifts=1.0), TypeError, "shifts"),
    (dict(shifts=True), TypeError, "shifts"),
    (dict(angles=10), TypeError, "angles"),
    (dict(angles=(10, "x")), TypeError, r"angles\[1\]"),
    (dict(angles=(float("nan"),)), ValueError, r"angles\[0\]"),
    (dict(angles=(10**400,)), ValueError, r"angles\[0\] must be finite"),
    (dict(y=np.arange(3)), ValueError, "y"),
    (dict(y=5), ValueError, "y"),
    (dict(y=[[0], [1, 2], [3], [4]]), ValueError,
     "y could not be converted"),
    # numpy before 1.24 made those lists an object array, with a warning
    (dict(y=np.array([[0], [1, 2], [3], [4]] + [None],
                     dtype=object)[:4]), ValueError,
     "y could not be converted to an array: its nested sequences are "
     "ragged"),
])
def test_bad_arguments_name_themselves(kwargs, error, match):
    args = dict(X=random_images(4, 4, 4), image_shape=(4, 4))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        expand(**args)


@pytest.mark.parametrize("X, error", [
    (np.zeros(16), ValueError),
    (np.zeros((2, 4, 4)), ValueError),
    (np.full((2, 16), np.nan), ValueError),
    (np.array([["a"] * 16]), TypeError),
    (np.zeros((2, 16), dtype=complex), ValueError),
])
def test_bad_X(X, error):
    with pytest.raises(error, match="X"):
        expand(X, (4, 4))


@pytest.mark.parametrize("dtype, angle", [(np.float64, 33), (np.float32, 45)])
def test_rotating_the_largest_pixels_stays_finite(dtype, angle):
    """Bilinear weights sum to 1, but the rounded sum of four products at
    the top of the range made inf (and numpy's overflow warning)."""
    X = np.full((1, 16), np.finfo(dtype).max, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = creg.expand(X, (4, 4), angles=[angle])
    assert np.isfinite(out).all()
    assert out.max() == np.finfo(dtype).max
