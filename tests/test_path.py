"""Regularization paths (glmnet-style warm starts) and the history extras."""
import numpy as np
import pytest

import creg
from creg.path import regularization_path


@pytest.fixture(scope="module")
def digits():
    X, y = creg.datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(X))
    return (X[order[:600]], y[order[:600]]), (X[order[600:900]],
                                             y[order[600:900]])


def test_l1_path_runs_from_strongest_and_sparsifies(digits):
    (X, y), val = digits
    path = regularization_path(X, y, [64, 30, 10], l1=[0.01, 20.0, 2.0],
                               validation_data=val, epochs=5, lr=0.5,
                               hidden="relu", output="softmax",
                               cost="log_likelihood", init="normalized",
                               dtype="float64")
    assert [p.strength for p in path] == [20.0, 2.0, 0.01]
    assert path[0].zero_fraction > 0.9
    assert path[0].zero_fraction - path[-1].zero_fraction > 0.25
    assert path[-1].train_accuracy > path[0].train_accuracy + 0.5
    for p in path:
        zeros = sum(int((w == 0).sum()) for w in p.weights) / (64 * 30 + 300)
        assert p.zero_fraction == zeros
        assert 0 <= p.eval_accuracy <= 1


def test_each_point_is_warm_started_from_the_previous(digits):
    (X, y), val = digits
    kwargs = dict(epochs=2, lr=0.3, hidden="tanh", output="sigmoid",
                  init="normalized", dtype="float64", seed=3)
    path = regularization_path(X, y, [64, 20, 10], l2=[1.0, 10.0], **kwargs)
    net = creg.Network([64, 20, 10], hidden="tanh", dtype="float64", seed=3,
                       output="sigmoid", init="normalized")
    net.params[...] = path[0].params        # the strongest point's weights
    net.epochs_trained = 2                  # the shuffle continues where it was
    net.fit(X, y, epochs=2, lr=0.3, l2=1.0)
    assert np.array_equal(net.params, path[1].params)
    cold = creg.Network([64, 20, 10], hidden="tanh", dtype="float64", seed=3,
                        output="sigmoid", init="normalized")
    cold.fit(X, y, epochs=2, lr=0.3, l2=1.0)
    assert not np.array_equal(cold.params, path[1].params)


def test_path_refuses_both_or_neither_strength_lists(digits):
    (X, y), _ = digits
    with pytest.raises(ValueError, match="exactly one"):
        regularization_path(X, y, [64, 10], l1=[1.0], l2=[1.0])
    with pytest.raises(ValueError, match="exactly one"):
        regularization_path(X, y, [64, 10])
    with pytest.raises(ValueError, match="l1"):
        regularization_path(X, y, [64, 10], l1=[1.0, -2.0])


def test_history_layer_norms_sparsity_and_clamping(digits):
    (X, y), _ = digits
    net = creg.Network([64, 30, 10], dtype="float64", **creg.NIELSEN)
    hist = net.fit(X, y, epochs=2, l1=0.5, max_norm=0.5, lr=0.5)
    norms = [float(np.linalg.norm(w)) for w in net.weights]
    assert hist.layer_norms[-1] == pytest.approx(norms, rel=1e-12)
    zeros = [float((w == 0).mean()) for w in net.weights]
    assert hist.layer_zero_fraction[-1] == zeros
    rows = np.concatenate([np.linalg.norm(w, axis=1) for w in net.weights])
    assert np.all(rows <= 0.5 * (1 + 1e-9))
    assert hist.clamped_fraction[-1] == np.mean(rows >= 0.5 * (1 - 1e-5)) > 0
    plain = creg.Network([64, 10], **creg.NIELSEN)
    assert plain.fit(X, y, epochs=1, lr=0.5).clamped_fraction == [0.0]
