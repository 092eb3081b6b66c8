"""Input noise's normal draws (noise.c's ziggurat) against an independent
Python sampler on the same counter-based stream, the table's construction,
and the distribution itself."""
import math

import numpy as np
import pytest

from creg import _core
from creg._descriptors import Noise

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
STREAM_NOISE = 3  # creg.h's CREG_STREAM_NOISE


def _table():
    return _core.normal_table()


def _mix64(x):
    x = (x + GAMMA) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _key(seed, stream, epoch, step):
    return _mix64(_mix64(_mix64(_mix64(seed) ^ stream) ^ epoch) ^ step)


def _hash(key, index):
    return _mix64((key + index * GAMMA) & MASK)


def _unit(h):
    return (h >> 11) * 2.0 ** -53


def _normal(key, i, X, F, R):
    """The ziggurat as DESIGN-level prose would state it: layer from the
    low 8 bits, sign from bit 8, x from the top 53; extra draws at
    i + c * 2**40."""
    extra = iter(range(1, 1 << 20))

    def draw():
        return _hash(key, i + (next(extra) << 40))

    h = _hash(key, i)
    while True:
        layer, sign = h & 255, -1.0 if (h >> 8) & 1 else 1.0
        x = _unit(h) * X[layer]
        if x < X[layer + 1]:
            return sign * x
        if layer == 0:
            while True:
                t = -math.log(1.0 - _unit(draw())) / R
                y = -math.log(1.0 - _unit(draw()))
                if 2 * y > t * t:
                    return sign * (R + t)
        y = F[layer] + _unit(draw()) * (F[layer + 1] - F[layer])
        if y < math.exp(-0.5 * x * x):
            return sign * x
        h = draw()


def _creg_normals(n, seed, epoch, step):
    Xn = np.empty(n)
    _core.input_noise(Xn, np.zeros(n),
                      Noise(input_noise=1.0, seed=seed, epoch=epoch), step)
    return Xn


def test_table_layers_have_equal_area_under_the_density():
    X, F, R, V = _table()
    assert X[1] == R and X[256] == 0 and F[256] == 1
    assert all(a > b for a, b in zip(X, X[1:]))
    for i in range(1, 256):
        assert F[i] == pytest.approx(math.exp(-X[i] ** 2 / 2), rel=1e-14)
        assert X[i] * (F[i + 1] - F[i]) == pytest.approx(V, rel=1e-9)
    # the base: the rectangle to R plus the tail beyond it
    tail = math.sqrt(math.pi / 2) * math.erfc(R / math.sqrt(2))
    assert X[0] * F[1] == pytest.approx(V, rel=1e-12)
    assert R * F[1] + tail == pytest.approx(V, rel=1e-9)


@pytest.mark.parametrize("seed,epoch,step", [(0, 0, 0), (7, 3, 11)])
def test_draws_equal_an_independent_python_sampler(seed, epoch, step):
    X, F, R, _ = _table()
    n = 20_000
    got = _creg_normals(n, seed, epoch, step)
    key = _key(seed, STREAM_NOISE, epoch, step)
    want = np.array([_normal(key, i, X, F, R) for i in range(n)])
    np.testing.assert_array_equal(got, want)


def test_tail_and_wedge_draws_equal_the_python_sampler():
    # Elements whose first draw lands outside every rectangle (about 1% of
    # them) take the wedge and tail branches; check those alone, many.
    X, F, R, _ = _table()
    key = _key(5, STREAM_NOISE, 1, 2)
    n = 400_000
    got = _creg_normals(n, 5, 1, 2)
    rare = [i for i in range(n)
            if _unit(_hash(key, i)) * X[_hash(key, i) & 255]
            >= X[(_hash(key, i) & 255) + 1]]
    assert len(rare) > 1000
    assert sum(abs(got[i]) > R for i in rare) > 50  # tail draws among them
    want = [_normal(key, i, X, F, R) for i in rare]
    np.testing.assert_array_equal(got[rare], want)


def test_draws_are_standard_normal():
    z = np.concatenate([_creg_normals(2_000_000, s, 2, 9) for s in range(3)])
    n = z.size
    assert abs(z.mean()) < 4 / math.sqrt(n)
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / n)
    edges = np.linspace(-4.5, 4.5, 61)
    counts = np.histogram(z, edges)[0]
    cdf = np.array([0.5 * math.erfc(-e / math.sqrt(2)) for e in edges])
    expected = np.diff(cdf) * n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 120  # 60 bins: the 99.99th percentile is about 110
    # both tails beyond the ziggurat's base, within 5 standard errors
    p = math.erfc(3.6541528853610088 / math.sqrt(2))
    beyond = np.sum(np.abs(z) > 3.6541528853610088)
    assert abs(beyond - p * n) < 5 * math.sqrt(p * n)
