"""Initial weights and biases, drawn in float64 from the network's seed."""
import numpy as np


def initial_layer(rng, init, n_in, n_out):
    """(W of shape (n_out, n_in), b of shape (n_out,))."""
    if init == "normalized":  # Nielsen's default: N(0, 1/n_in), N(0, 1)
        return (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in),
                rng.standard_normal(n_out))
    if init == "large":  # Nielsen's first network: N(0, 1) for both
        return rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    if init == "he":  # He et al.: N(0, 2/n_in), zero biases
        return (rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in),
                np.zeros(n_out))
    # glorot: U(-r, r) with r = sqrt(6 / (n_in + n_out)), zero biases
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_out, n_in)), np.zeros(n_out)
