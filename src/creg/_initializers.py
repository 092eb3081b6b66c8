"""Initial weights and biases, drawn in float64 from the network's seed
and written into the network's own buffer a block at a time, so that
initializing costs INIT_SCRATCH_BYTES beyond the parameters whatever the
network's size (drawing a whole float64 layer took ~3x a float32 layer)."""
import numpy as np

_BLOCK = 1 << 19  # float64 elements drawn at a time
# a block drawn plus the scaled block numpy makes from it
INIT_SCRATCH_BYTES = 2 * 8 * _BLOCK


def initialize_layer(rng, init, W, b):
    """Fill W (n_out, n_in) and b (n_out,) in place.  The numbers and the
    order they are drawn in are those of drawing each whole array at once
    (numpy's generators give the same stream in any block sizes)."""
    n_out, n_in = W.shape
    if init == "normalized":  # Nielsen's default: N(0, 1/n_in), N(0, 1)
        _fill(W, lambda k: rng.standard_normal(k) / np.sqrt(n_in))
        _fill(b, rng.standard_normal)
    elif init == "large":  # Nielsen's first network: N(0, 1) for both
        _fill(W, rng.standard_normal)
        _fill(b, rng.standard_normal)
    elif init == "he":  # He et al.: N(0, 2/n_in), zero biases
        _fill(W, lambda k: rng.standard_normal(k) * np.sqrt(2.0 / n_in))
        b[...] = 0
    else:  # glorot: U(-r, r) with r = sqrt(6 / (n_in + n_out)), zero biases
        limit = np.sqrt(6.0 / (n_in + n_out))
        _fill(W, lambda k: rng.uniform(-limit, limit, k))
        b[...] = 0


def _fill(array, draw):
    flat = array.reshape(-1)  # a view: the network's buffer is contiguous
    for start in range(0, flat.size, _BLOCK):
        stop = min(start + _BLOCK, flat.size)
        flat[start:stop] = draw(stop - start)
