"""pytest-benchmark of subnormals.py's epoch: hidden units at z = -5
(normal floats) and at z = -90, whose activations are subnormal."""
import numpy as np
import pytest

import creg
import subnormals


@pytest.mark.parametrize("bias", [-5.0, -90.0], ids=["normal", "subnormal"])
def test_epoch_with_saturated_sigmoid_units(benchmark, bias):
    # the case is what it says: the hidden layer's activations (its
    # first layer as a network of its own) are subnormal at z = -90 only
    net = subnormals.saturated(bias)
    first = creg.Network([784, 100], hidden="sigmoid", output="sigmoid",
                         cost="cross_entropy")
    first.weights[0][...] = net.weights[0]
    first.biases[0][...] = net.biases[0]
    rows = np.random.default_rng(1).random((64, 784)).astype(np.float32)
    activations = first.predict_proba(rows)
    assert np.all(activations > 0)
    assert np.all(activations < np.finfo(np.float32).tiny) == (bias < -87)
    benchmark(subnormals.epoch(bias, rows=500))
