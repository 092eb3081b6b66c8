"""Network.sparsity() and Network.compress(): what the zeros leave unused,
and an equivalent smaller network without it."""
import json
import pickle
import warnings

import numpy as np
import pytest
from conftest import COST_OUTPUT, DTYPES, HIDDEN, rel_err

import creg
from creg import _persist

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Predictions of the compressed network against the original's.
TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


@st.composite
def sparse_networks(draw):
    """A network with whole inputs, dead neurons (zero rows), unread
    neurons (zero columns of the next layer) and scattered zeros."""
    sizes = draw(st.lists(st.integers(1, 7), min_size=2, max_size=5))
    cost, output = draw(st.sampled_from(COST_OUTPUT))
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    net = creg.Network(sizes, hidden=draw(st.sampled_from(HIDDEN)),
                       output=output, cost=cost, init="large",
                       dtype=draw(st.sampled_from(DTYPES)),
                       seed=draw(st.integers(0, 2**16)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    fraction = draw(st.sampled_from([0.0, 0.3, 0.6, 1.0]))
    for W in net.weights:
        W[rng.random(W.shape) < fraction / 2] = 0            # scattered
        W[rng.random(W.shape[0]) < fraction] = 0             # dead rows
        W[:, rng.random(W.shape[1]) < fraction] = 0          # unused columns
    return net


def _check_equivalent(net, small, X):
    ref = net.predict_proba(X)
    assert rel_err(small.predict_proba(small.select(X)), ref) <= \
        TOL[net.dtype]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(sparse_networks(), st.integers(1, 40))
def test_compressed_network_predicts_what_the_original_does(net, rows):
    X = np.random.default_rng(rows).normal(size=(rows, net.sizes[0]))
    small = net.compress()
    _check_equivalent(net, small, X.astype(net.dtype))
    assert small.dtype == net.dtype
    assert small.sizes[-1] == net.sizes[-1]
    assert small.params.size <= net.params.size


@settings(max_examples=100, deadline=None)
@given(sparse_networks())
def test_compression_leaves_nothing_to_remove(net):
    """Only a layer that would otherwise be empty keeps a removable unit
    (its first); compressing again changes nothing."""
    small = net.compress()
    report = small.sparsity()
    for l, layer in enumerate(report.layers[:-1]):
        removable = np.union1d(layer.dead, layer.unread)
        assert removable.size == 0 or small.sizes[l + 1] == 1
    assert report.unused_inputs.size == 0 or small.sizes[0] == 1
    again = small.compress()
    assert again.sizes == small.sizes
    assert np.array_equal(again.input_columns, small.input_columns)


def test_what_compress_removes_and_folds():
    net = creg.Network([6, 5, 4, 3], hidden="sigmoid", dtype="float64",
                       seed=1)
    net.weights[0][:, [1, 4]] = 0     # inputs 1 and 4 unused
    net.weights[0][2] = 0             # hidden-1 neuron 2 dead
    net.weights[1][:, 3] = 0          # hidden-1 neuron 3 unread
    net.weights[1][1] = 0             # hidden-2 neuron 1 dead
    report = net.sparsity()
    assert [l.dead.tolist() for l in report.layers] == [[2], [1], []]
    assert [l.unread.tolist() for l in report.layers] == [[3], [], []]
    assert report.unused_inputs.tolist() == [1, 4]
    assert report.layers[0].zero_fraction == pytest.approx(14 / 30)
    small = net.compress()
    assert small.sizes == (4, 3, 3, 3)
    assert small.input_columns.tolist() == [0, 2, 3, 5]
    assert small.input_width == 6
    # hidden-2 neuron 1's constant sigmoid(b) went into the output biases
    folded = net.biases[2] + net.weights[2][:, 1] / (1 + np.exp(
        -net.biases[1][1]))
    assert np.allclose(small.biases[2], folded, rtol=0, atol=1e-15)
    X = np.random.default_rng(0).normal(size=(9, 6))
    _check_equivalent(net, small, X)
    text = repr(report)
    assert "dead" in text and "2 of 6" in text


def test_all_dead_layer_keeps_one_unit():
    net = creg.Network([3, 4, 2], hidden="tanh", dtype="float64")
    net.weights[0][...] = 0
    small = net.compress()
    assert small.sizes == (1, 1, 2)
    X = np.random.default_rng(1).normal(size=(5, 3))
    _check_equivalent(net, small, X)


@pytest.mark.parametrize("attr, value", [
    ("hidden", "bogus"), ("hidden", "softmax"), ("output", "tanh")])
def test_compress_refuses_settings_changed_after_construction(attr, value):
    # the ValueError predict gives, not a KeyError or a different network
    net = creg.Network([3, 4, 2], output="sigmoid", seed=0)
    setattr(net, attr, value)
    with pytest.raises(ValueError, match=f"{attr} must be one of.*{value}"):
        net.compress()


def test_compress_refuses_non_finite_parameters():
    net = creg.Network([3, 4, 2], seed=0)
    net.biases[1][0] = np.nan
    with pytest.raises(ValueError, match=r"net.biases\[1\] contains NaN"):
        net.compress()


@pytest.mark.parametrize("hidden", HIDDEN)
def test_folded_biases_beyond_the_dtype_are_refused(hidden):
    # a dead neuron's constant output times 3e38 overflows float32 (sigmoid
    # and tanh give 1, relu gives b = 1); no overflow warning may leak
    net = creg.Network([1, 2, 1], hidden=hidden, output="linear", seed=0)
    net.weights[0][:] = [[0.0], [1.0]]   # hidden neuron 0 dead
    net.biases[0][:] = [1e30, 0.0]
    net.weights[1][:] = [[3e38, -1.0]]
    net.biases[1][:] = [3e38]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"net.biases\[1\] gives values "
                           "beyond the range of float32"):
            net.compress()


def test_dead_sigmoid_far_below_zero_folds_without_a_warning():
    # exp(1000) overflows to inf and sigmoid(-1000) is still exactly 0
    net = creg.Network([2, 2, 2], hidden="sigmoid", dtype="float64", seed=0)
    net.weights[0][0] = 0
    net.biases[0][0] = -1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small = net.compress()
    assert np.array_equal(small.biases[1], net.biases[1])


def test_wrong_width_names_the_width_and_select():
    net = creg.Network([5, 4, 3], seed=0)
    net.weights[0][:, :2] = 0
    small = net.compress()
    X = np.random.default_rng(0).random((4, 5)).astype(np.float32)
    for call in (small.predict, small.predict_proba):
        with pytest.raises(ValueError, match=r"expecting 3 features.*"
                           r"compressed from 5 inputs.*select"):
            call(X)
    with pytest.raises(ValueError, match="select takes the original 2-D X "
                       "of 5 columns"):
        small.select(X[:, :3])
    assert np.array_equal(small.select(X), X[:, 2:])
    assert small.select(X).flags.c_contiguous
    assert net.input_columns is None and net.select(X) is not None
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="Sparse data was passed for X"):
        small.select(sparse.csr_matrix(X))


def test_compressing_twice_keeps_the_original_columns():
    net = creg.Network([6, 4, 2], dtype="float64", seed=2)
    net.weights[0][:, [0, 3]] = 0
    small = net.compress()
    small.weights[0][:, 1] = 0        # its input 1 = original column 2
    smaller = small.compress()
    assert smaller.input_columns.tolist() == [1, 4, 5]
    assert smaller.input_width == 6
    X = np.random.default_rng(3).normal(size=(7, 6))
    assert rel_err(smaller.predict_proba(smaller.select(X)),
                   small.predict_proba(small.select(X))) <= 1e-12


def test_input_columns_survive_save_load_and_pickle(tmp_path):
    net = creg.Network([20, 4, 3], seed=0)
    net.weights[0][:, [0, 7, 8, 19]] = 0
    small = net.compress()
    back = creg.load(small.save(tmp_path / "small.creg"))
    assert np.array_equal(back.input_columns, small.input_columns)
    assert back.input_width == 20
    assert np.array_equal(back.params, small.params)
    unpickled = pickle.loads(pickle.dumps(small))
    assert np.array_equal(unpickled.input_columns, small.input_columns)
    assert not unpickled.input_columns.flags.writeable
    assert not small.input_columns.flags.writeable
    plain = creg.load(net.save(tmp_path / "plain.creg"))
    assert plain.input_columns is None


def test_a_network_compressed_from_a_wide_x_saves(tmp_path):
    """300,000 columns: a 75,000-byte mask, past the 64 KiB of JSON any
    other header field may take."""
    net = creg.Network([300_000, 2, 2], seed=0)
    net.weights[0][:, ::2] = 0
    small = net.compress()
    back = creg.load(small.save(tmp_path / "wide.creg"))
    assert back.input_width == 300_000
    assert np.array_equal(back.input_columns, np.arange(1, 300_000, 2))
    assert np.array_equal(back.params, small.params)


def test_a_long_header_must_be_mostly_the_mask(tmp_path):
    """Past 64 KiB, a header of JSON punctuation (a parse-memory bomb) is
    refused before it is parsed."""
    text = b"[" + b"[]," * 30_000 + b"[]]"
    data = (_persist.MAGIC + len(text).to_bytes(4, "little") + text
            + bytes(32))
    path = tmp_path / "bomb.creg"
    path.write_bytes(data)
    with pytest.raises(creg.ModelFileError,
                       match="must be mostly a compressed network's input "
                             "mask, but it holds 90004 brackets"):
        creg.load(path)


def test_save_names_an_x_too_wide_for_a_model_file(monkeypatch):
    net = creg.Network([20, 4, 3], seed=0)
    net.weights[0][:, [0, 7]] = 0
    monkeypatch.setattr(_persist, "MAX_MASK_COLUMNS", 16)
    with pytest.raises(ValueError, match="compressed from an X of 20 "
                       "columns, and a model file takes at most 16"):
        _persist._encode(net.compress())


@pytest.mark.parametrize("edit, message", [
    ({"input_width": 30}, "'input_mask' must be ceil"),
    ({"input_mask": "7eff7f"}, "must set sizes"),
    ({"input_mask": "7EFE07"}, "lowercase hex"),
    ({"input_mask": "7efe87"}, "must set sizes"),   # a padding bit
    ({"input_width": 2}, "from sizes"),
    ({"input_width": True}, "from sizes"),
])
def test_bad_input_mask_headers_are_refused(edit, message):
    net = creg.Network([20, 4, 3], seed=0)
    net.weights[0][:, [0, 7, 8, 19]] = 0
    header, _ = _persist._encode(net.compress())
    fields = json.loads(header[12:].decode())
    assert fields["input_mask"] == "7efe07"  # columns 1-6, 9-18
    assert _persist._check_header(fields) is None
    fields.update(edit)
    assert message in _persist._check_header(fields)
    del fields["input_mask"]
    assert "come together" in _persist._check_header(fields)


def test_l1_path_on_mnist_compresses_without_changing_accuracy():
    X, y = creg.datasets.load_mnist_sample()
    train, test = slice(0, 1000), slice(1000, 2000)
    path = creg.regularization_path(
        X[train], y[train], [784, 30, 10], l1=[1.0, 0.3], epochs=10, lr=0.5,
        hidden="sigmoid", init="normalized", seed=0)
    net = creg.Network([784, 30, 10], hidden="sigmoid")
    net.params[...] = path[-1].params
    small = net.compress()
    accuracy = net.accuracy(X[test], y[test])
    print(f"\nMNIST L1 path (l1=0.3): {net.params.size:,} -> "
          f"{small.params.size:,} parameters, sizes {small.sizes}, "
          f"test accuracy {accuracy:.4f}")
    assert accuracy > 0.8
    assert small.params.size < 0.75 * net.params.size
    assert small.accuracy(small.select(X[test]), y[test]) == accuracy
    assert np.array_equal(small.predict(small.select(X[test])),
                          net.predict(X[test]))
