"""Dropout and Gaussian input noise (DESIGN.md, "Dropout" and "Input noise").

The masks and the noise come from a counter-based generator keyed by
(seed, epoch, step, layer, index); _core exposes the exact functions training
uses, so a numpy reference can be fed the very mask creg drew.
"""
import numpy as np
import pytest

import creg
import reference
from creg import _core
from creg._descriptors import Noise


def _mask(rate, seed, epoch, step, layer, shape):
    A = np.ones(int(np.prod(shape)))
    H, M = np.empty_like(A), np.empty_like(A)
    _core.dropout_forward(H, M, A, Noise(dropout=rate, seed=seed, epoch=epoch),
                          step, layer)
    return M.reshape(shape)


def _noise(sigma, seed, epoch, step, shape):
    X = np.zeros(int(np.prod(shape)))
    Xn = np.empty_like(X)
    _core.input_noise(Xn, X, Noise(input_noise=sigma, seed=seed, epoch=epoch),
                      step)
    return Xn.reshape(shape)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_mask_drops_the_rate_and_scales_kept_units(rate):
    N = 200_000
    M = _mask(rate, seed=3, epoch=0, step=0, layer=0, shape=(N,))
    dropped = np.mean(M == 0)
    assert abs(dropped - rate) <= 3 * np.sqrt(rate * (1 - rate) / N)
    assert np.all((M == 0) | (M == 1 / (1 - rate)))


def test_dropout_masks_differ_by_step_layer_epoch_and_seed():
    base = _mask(0.5, 1, 0, 0, 0, (1000,))
    for other in (_mask(0.5, 1, 0, 1, 0, (1000,)), _mask(0.5, 1, 0, 0, 1, (1000,)),
                  _mask(0.5, 1, 1, 0, 0, (1000,)), _mask(0.5, 2, 0, 0, 0, (1000,))):
        assert not np.array_equal(base, other)
    assert np.array_equal(base, _mask(0.5, 1, 0, 0, 0, (1000,)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_is_the_same_on_any_team(dtype):
    # long enough for a team (CREG_ELEMENTWISE_PARALLEL_MIN), and not a
    # whole number of the hash's chunks or cache lines
    A = np.random.default_rng(4).random(3 * 65_536 + 37).astype(dtype)
    masks = []
    for n_threads in (1, 2, 3, 7):
        H, M = np.empty_like(A), np.empty_like(A)
        _core.dropout_forward(H, M, A, Noise(dropout=0.4, seed=11, epoch=2),
                              5, 1, n_threads)
        masks.append((H, M))
    for H, M in masks[1:]:
        assert np.array_equal(H, masks[0][0])
        assert np.array_equal(M, masks[0][1])
    assert 0.35 < np.mean(masks[0][1] == 0) < 0.45


@pytest.mark.parametrize("sigma", [0.1, 2.0])
def test_input_noise_has_mean_zero_and_std_sigma(sigma):
    N = 200_000
    z = _noise(sigma, seed=5, epoch=2, step=7, shape=(N,))
    assert abs(z.mean()) <= 3 * sigma / np.sqrt(N)
    assert abs(z.std() - sigma) <= 3 * sigma / np.sqrt(2 * N)
    assert not np.array_equal(z, _noise(sigma, 5, 2, 8, (N,)))  # fresh per step


def _reference_step(net0, X, Y, *, lr, dropout, input_noise, seed):
    """One full-batch step of the reference fed creg's mask and noise."""
    Ws = [w.astype(np.float64) for w in net0.weights]
    bs = [b.astype(np.float64) for b in net0.biases]
    L, m = len(Ws), len(X)
    hidden_f, hidden_df = reference.ACTIVATIONS[net0.hidden]
    out_f = reference.ACTIVATIONS[net0.output][0]
    inputs = [X + (_noise(input_noise, seed, 0, 0, X.shape)
                   if input_noise else 0)]
    Zs, masks = [], []
    for l in range(L):
        Zs.append(inputs[-1] @ Ws[l].T + bs[l])
        if l < L - 1:
            masks.append(_mask(dropout, seed, 0, 0, l, Zs[-1].shape)
                         if dropout else np.ones_like(Zs[-1]))
            inputs.append(hidden_f(Zs[-1]) * masks[-1])
    A_out = out_f(Zs[-1])
    delta = reference.output_delta(net0.cost_name, net0.output, Zs[-1], A_out, Y)
    for l in range(L - 1, -1, -1):
        dW, db = delta.T @ inputs[l] / m, delta.mean(axis=0)
        if l > 0:
            delta = (delta @ Ws[l]) * masks[l - 1] * hidden_df(Zs[l - 1])
        Ws[l], bs[l] = Ws[l] - lr * dW, bs[l] - lr * db
    return Ws, bs


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("dropout,input_noise", [(0.5, 0.0), (0.0, 0.3),
                                                 (0.3, 0.2)])
def test_training_step_equals_reference_fed_the_same_mask(hidden, dropout,
                                                          input_noise):
    rng = np.random.default_rng(0)
    X, y = rng.random((9, 6)), rng.integers(0, 3, 9)
    net = creg.Network([6, 5, 4, 3], hidden=hidden, output="softmax",
                       cost="log_likelihood", dtype="float64", seed=4,
                       init="normalized")
    Ws, bs = _reference_step(net, X, reference.one_hot(y, 3), lr=0.7,
                             dropout=dropout, input_noise=input_noise, seed=4)
    net.fit(X, y, epochs=1, batch_size=9, lr=0.7, shuffle=False,
            dropout=dropout, input_noise=input_noise)
    for got, want in zip(list(net.weights) + list(net.biases), Ws + bs):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_inference_ignores_dropout_and_noise():
    rng = np.random.default_rng(1)
    X, y = rng.random((50, 6)), rng.integers(0, 3, 50)
    net = creg.Network([6, 8, 3], output="softmax", cost="log_likelihood",
                       dtype="float64", hidden="sigmoid", init="normalized")
    net.fit(X, y, epochs=2, dropout=0.5, input_noise=0.5, lr=0.5)
    _, As = reference.forward([w.copy() for w in net.weights],
                              [b.copy() for b in net.biases], X, net.hidden,
                              net.output)
    np.testing.assert_allclose(net.predict_proba(X), As[-1], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_same_bits_other_seed_differs(dtype):
    rng = np.random.default_rng(2)
    X, y = rng.random((64, 6)), rng.integers(0, 3, 64)
    runs = {}
    for key, seed in (("a", 1), ("b", 1), ("c", 2)):
        net = creg.Network([6, 8, 8, 3], output="softmax", dtype=dtype,
                           cost="log_likelihood", seed=1,
                           hidden="sigmoid", init="normalized")
        net.seed = seed  # same initial weights, other random stream
        net.fit(X, y, epochs=2, dropout=0.4, input_noise=0.2, shuffle=False,
                lr=0.5)
        runs[key] = net.params
    assert np.array_equal(runs["a"], runs["b"])
    assert not np.array_equal(runs["a"], runs["c"])
