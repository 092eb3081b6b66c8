"""Bitwise-identical training for any n_threads (DESIGN.md, Determinism)."""
import numpy as np
import pytest

import creg


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", [
    dict(sizes=[300, 400, 10], hidden="sigmoid", output="sigmoid",
         cost="cross_entropy", fit=dict(batch_size=10, lr=0.5, l2=5.0)),
    dict(sizes=[300, 700, 200, 10], hidden="relu", output="softmax",
         cost="log_likelihood",
         fit=dict(batch_size=64, lr=0.05, l2=1.0, l1=2.0, max_norm=1.5,
                  momentum=0.9, dropout=0.3, input_noise=0.1)),
], ids=["nielsen", "all-regularizers"])
def test_weights_identical_for_1_2_3_threads(dtype, config):
    rng = np.random.default_rng(7)
    X = rng.random((256, config["sizes"][0]))
    y = rng.integers(0, 10, 256)
    results = []
    for n_threads in (1, 2, 3):
        net = creg.Network(config["sizes"], hidden=config["hidden"],
                           output=config["output"], cost=config["cost"],
                           dtype=dtype, seed=3)
        net.fit(X, y, epochs=2, n_threads=n_threads, **config["fit"])
        results.append(net.params)
    assert np.isfinite(results[0]).all()
    assert np.array_equal(results[0], results[1])
    assert np.array_equal(results[0], results[2])
